//! The block decoder through its public API, against libbzip2: real files
//! of every kind of text, every bit flipped, blocks cut short, and blocks
//! built by hand that no bzip2 encoder writes.

mod common;

use bzip2_blocks::{
    BLOCK_MAGIC, BitWriter, BlockBits, BlockDecoder, BlockError, Magic, find_magics, wrap_block,
};
use common::bz2;
use proptest::prelude::*;

/// bzip2's CRC-32 (MSB first, polynomial 0x04C11DB7).
const BZIP2_CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_BZIP2);

/// The blocks of a one-stream file, as (start, end) bit offsets.
fn blocks(stream: &[u8]) -> Vec<(u64, u64)> {
    let magics = find_magics(stream);
    magics
        .windows(2)
        .filter(|pair| pair[0].1 == Magic::Block)
        .map(|pair| (pair[0].0, pair[1].0))
        .collect()
}

/// Decode every block of `stream` with our decoder, in order.
fn decode_all(stream: &[u8]) -> Result<Vec<u8>, BlockError> {
    let mut decoder = BlockDecoder::new();
    let mut text = Vec::new();
    for (start, end) in blocks(stream) {
        let block = BlockBits {
            data: stream,
            start,
            end,
            level: stream[3],
        };
        decoder.decode(block, &mut text)?;
    }
    Ok(text)
}

fn log_text(lines: u64) -> Vec<u8> {
    (0..lines)
        .flat_map(|i| {
            format!("{},cpu_usage,{}\n", 1_362_330_056 + i, (i * 7919) % 101).into_bytes()
        })
        .collect()
}

#[test]
fn log_text_of_several_blocks_round_trips_at_every_level() {
    let text = log_text(40_000); // ~960 kB: a full block at level 9
    for level in [1, 5, 9] {
        let stream = bz2(&text, level);
        let full_blocks = text.len() / (level as usize * 100_000);
        assert!(blocks(&stream).len() > full_blocks, "level {level}");
        assert_eq!(decode_all(&stream).unwrap(), text, "level {level}");
    }
}

#[test]
fn runs_of_every_length_round_trip() {
    // Runs of 1..600 bytes cover the count byte's 0..=255 and runs split
    // in several counted pieces; 4 equal bytes at the very end come too.
    let mut text = Vec::new();
    for length in 1..600usize {
        text.extend(std::iter::repeat_n(b"ab"[length % 2], length));
    }
    text.extend(b"xyzzzz");
    assert_eq!(decode_all(&bz2(&text, 1)).unwrap(), text);
}

#[test]
fn every_byte_value_and_odd_and_even_lengths_round_trip() {
    let all: Vec<u8> = (0..=255u8).cycle().take(256 * 7 + 1).collect();
    for text in [&b"x"[..], b"xy", b"\n", &all, &all[1..]] {
        assert_eq!(decode_all(&bz2(text, 9)).unwrap(), text);
    }
}

#[test]
fn long_codes_are_decoded_past_the_lookup_table() {
    // Byte frequencies falling off geometrically give Huffman codes much
    // longer than the lookup's 10 bits.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let text: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state | 1 << 40).trailing_zeros() as u8 * 3
        })
        .collect();
    assert_eq!(decode_all(&bz2(&text, 2)).unwrap(), text);
}

/// What libbzip2 makes of a block, wrapped as a one-block stream.
fn libbzip2(data: &[u8], start: u64, end: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut text = Vec::new();
    let wrapped = wrap_block(data, b'1', start, end);
    bzip2::read::BzDecoder::new(&wrapped[..])
        .read_to_end(&mut text)
        .ok()
        .map(|_| text)
}

#[test]
fn with_any_bit_flipped_we_accept_what_libbzip2_accepts_and_nothing_else() {
    // The second text is a fuzzer's find: a flipped bit gave a table
    // whose inverse BWT is no single cycle, whose two half walks still
    // gave the text (libbzip2's one walk did not). The walks must meet.
    let texts = [log_text(40), vec![43, 158, 39, 248, 248, 64, 18, 2]];
    let mut decoder = BlockDecoder::new();
    for text in texts {
        let stream = bz2(&text, 1);
        let (start, end) = blocks(&stream)[0];
        for bit in start..end {
            let mut bad = stream.clone();
            bad[(bit / 8) as usize] ^= 0x80 >> (bit % 8);
            // Text already there stays, whatever the verdict.
            let mut out = b"before".to_vec();
            let block = BlockBits {
                data: &bad,
                start,
                end,
                level: b'1',
            };
            let verdict = decoder.decode(block, &mut out);
            assert!(out.starts_with(b"before"));
            let out = out.split_off(b"before".len());
            match verdict {
                Ok(_) => assert_eq!(Some(out), libbzip2(&bad, start, end), "bit {bit}"),
                Err(_) => assert!(out.is_empty(), "bit {bit}: text left behind"),
            }
        }
    }
}

#[test]
fn a_block_cut_short_or_framed_too_long_is_an_error() {
    let stream = bz2(&log_text(100), 1);
    let (start, end) = blocks(&stream)[0];
    let mut decoder = BlockDecoder::new();
    for end in [start + 100, end - 1, end + 1] {
        let block = BlockBits {
            data: &stream,
            start,
            end,
            level: b'1',
        };
        assert!(decoder.decode(block, &mut Vec::new()).is_err(), "end {end}");
    }
    let wrong_level = BlockBits {
        data: &stream,
        start,
        end,
        level: b'0',
    };
    assert!(decoder.decode(wrong_level, &mut Vec::new()).is_err());
}

/// How a hand-built block departs from what bzip2 writes.
#[derive(Clone, Copy, Default)]
struct Quirks {
    randomised: bool,
    extra_selectors: u32,
}

/// A block of `text` (no four equal bytes in a row, at least one byte)
/// built by hand with Huffman code lengths `lengths(alphabet)` for both of
/// its two tables: what no bzip2 encoder writes (codes of 18-20 bits,
/// selectors past 18002) made to order. Returns the bytes and the block's
/// end bit.
fn hand_built_block(
    text: &[u8],
    lengths: impl Fn(usize) -> Vec<u8>,
    quirks: Quirks,
) -> (Vec<u8>, u64) {
    let n = text.len();
    let mut rows: Vec<usize> = (0..n).collect();
    let rotation = |r: usize| {
        text[r..]
            .iter()
            .chain(&text[..r])
            .copied()
            .collect::<Vec<u8>>()
    };
    rows.sort_by_key(|&r| rotation(r));
    let origin = rows.iter().position(|&r| r == 0).unwrap();
    let last: Vec<u8> = rows.iter().map(|&r| text[(r + n - 1) % n]).collect();
    let mut in_use: Vec<u8> = text.to_vec();
    in_use.sort_unstable();
    in_use.dedup();
    // Move-to-front, zero runs as RUNA/RUNB digits, then end of block.
    let mut order: Vec<u8> = in_use.clone();
    let (mut symbols, mut zeros) = (Vec::new(), 0usize);
    let flush = |zeros: &mut usize, symbols: &mut Vec<u16>| {
        while *zeros > 0 {
            *zeros -= 1;
            symbols.push((*zeros & 1) as u16);
            *zeros >>= 1;
        }
    };
    for byte in last {
        let rank = order.iter().position(|&b| b == byte).unwrap();
        if rank == 0 {
            zeros += 1;
            continue;
        }
        flush(&mut zeros, &mut symbols);
        order.remove(rank);
        order.insert(0, byte);
        symbols.push(rank as u16 + 1);
    }
    flush(&mut zeros, &mut symbols);
    let alphabet = in_use.len() + 2;
    symbols.push(alphabet as u16 - 1);
    let lengths = lengths(alphabet);
    // Canonical codes, as the decoder assigns them.
    let mut codes = vec![0u64; alphabet];
    let mut next = 0u64;
    for length in 1..=20u8 {
        for s in (0..alphabet).filter(|&s| lengths[s] == length) {
            codes[s] = next;
            next += 1;
        }
        next <<= 1;
    }
    let mut out = BitWriter::with_capacity(256);
    out.put(BLOCK_MAGIC >> 24, 24);
    out.put(BLOCK_MAGIC & 0xff_ffff, 24);
    out.put(u64::from(BZIP2_CRC.checksum(text)), 32);
    out.put(u64::from(quirks.randomised), 1);
    out.put(origin as u64, 24);
    let ranges: u64 = in_use.iter().fold(0, |m, &b| m | 0x8000 >> (b / 16));
    out.put(ranges, 16);
    for range in (0..16u8).filter(|r| ranges & (0x8000 >> r) != 0) {
        let values = in_use
            .iter()
            .filter(|&&b| b / 16 == range)
            .fold(0, |m, &b| m | 0x8000 >> (b % 16));
        out.put(values, 16);
    }
    out.put(2, 3); // two tables
    let selectors = symbols.len().div_ceil(50) as u32 + quirks.extra_selectors;
    out.put(u64::from(selectors), 15);
    for _ in 0..selectors {
        out.put(0, 1); // table 0 every time
    }
    for _ in 0..2 {
        let mut current = lengths[0];
        out.put(u64::from(current), 5);
        for &length in &lengths {
            while current < length {
                out.put(0b10, 2);
                current += 1;
            }
            while current > length {
                out.put(0b11, 2);
                current -= 1;
            }
            out.put(0, 1);
        }
    }
    for &symbol in &symbols {
        let s = usize::from(symbol);
        out.put(codes[s], u32::from(lengths[s]));
    }
    let end = out.bits();
    (out.finish(), end)
}

fn decode_hand_built(data: &[u8], end: u64) -> Result<Vec<u8>, BlockError> {
    let mut text = Vec::new();
    let block = BlockBits {
        data,
        start: 0,
        end,
        level: b'1',
    };
    BlockDecoder::new().decode(block, &mut text).map(|_| text)
}

/// Lengths 1, 2, 3 ... and then 20 for the rest: a prefix code (as many
/// steps as leave room for the rest) whose last symbols take the longest
/// code bzip2 allows.
fn up_to_twenty(alphabet: usize) -> Vec<u8> {
    let steps = (1..20)
        .rev()
        .find(|&steps| alphabet - steps <= 1 << (20 - steps))
        .unwrap();
    (0..alphabet)
        .map(|s| if s < steps { s as u8 + 1 } else { 20 })
        .collect()
}

#[test]
fn twenty_bit_codes_decode_as_libbzip2_decodes_them() {
    let text = b"the quick brown fox jumps over a lazy dog, 0123456789!";
    let (data, end) = hand_built_block(text, up_to_twenty, Quirks::default());
    assert_eq!(decode_hand_built(&data, end).unwrap(), text);
    assert_eq!(libbzip2(&data, 0, end).unwrap(), text);
}

#[test]
fn selectors_past_what_a_block_needs_are_read_and_ignored() {
    // lbzip2 may round the selector count up; libbzip2 1.0.8 reads the
    // surplus and ignores it, and so do we.
    let text = b"abcdefghijklmnopqrstuvwxyz";
    let quirks = Quirks {
        extra_selectors: 20_000,
        ..Quirks::default()
    };
    let (data, end) = hand_built_block(text, up_to_twenty, quirks);
    assert_eq!(decode_hand_built(&data, end).unwrap(), text);
    assert_eq!(libbzip2(&data, 0, end).unwrap(), text);
}

#[test]
fn blocks_this_decoder_leaves_to_libbzip2_are_refused() {
    let text = b"abcdefghijklmnopqrstuvwxyz";
    let randomised = Quirks {
        randomised: true,
        ..Quirks::default()
    };
    let (data, end) = hand_built_block(text, up_to_twenty, randomised);
    assert_eq!(
        decode_hand_built(&data, end),
        Err(BlockError::Unsupported("randomised block"))
    );
    let (data, end) = hand_built_block(text, |alphabet| vec![2; alphabet], Quirks::default());
    assert_eq!(
        decode_hand_built(&data, end),
        Err(BlockError::Unsupported("over-subscribed Huffman code"))
    );
}

proptest! {
    #[test]
    fn any_text_round_trips(
        pieces in proptest::collection::vec((any::<u8>(), 1usize..300), 0..400),
        level in 1u32..=9,
    ) {
        // Bytes repeated a random number of times: runs of every length
        // and every byte value.
        let text: Vec<u8> = pieces
            .iter()
            .flat_map(|&(byte, times)| std::iter::repeat_n(byte, times))
            .collect();
        prop_assert_eq!(decode_all(&bz2(&text, level)).unwrap(), text);
    }

    #[test]
    fn garbage_is_an_error_never_a_panic(
        body in proptest::collection::vec(any::<u8>(), 0..2000),
        level in b'0'..=b'9',
    ) {
        // A real block magic and CRC in front, noise after.
        let mut data = vec![0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 1, 2, 3, 4];
        data.extend(&body);
        let block = BlockBits { data: &data, start: 0, end: data.len() as u64 * 8, level };
        let mut text = Vec::new();
        if BlockDecoder::new().decode(block, &mut text).is_err() {
            prop_assert!(text.is_empty());
        }
    }
}
