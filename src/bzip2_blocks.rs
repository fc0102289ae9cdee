//! bzip2 framing for block-parallel decoding.
//!
//! A bzip2 stream is `BZh` + a level digit, then blocks, then an end-of-stream
//! marker; blocks are *bit*-aligned and each starts with the 48-bit magic
//! `0x314159265359` followed by its 32-bit CRC; the end-of-stream marker is the
//! 48-bit magic `0x177245385090`, the stream's combined CRC, and padding to a
//! byte. Files written by pbzip2, lbzip2 or `cat` hold several streams.
//!
//! Blocks are independent, so they can be decoded on different threads. This
//! module finds them and re-wraps each as a one-block stream that any bzip2
//! decoder accepts (the `bzip2recover` trick: for a single block the stream's
//! combined CRC equals the block's CRC). The caller decodes the wrapped blocks
//! with the `bzip2` crate, which verifies each block's CRC, and checks the
//! original combined CRC with [`combine_crc`].
//!
//! The magics can also occur by chance inside compressed data (about once per
//! 2^48 bit positions). A false block magic splits a block in two and both
//! halves fail to decode; a false end marker breaks the stream's framing. The
//! caller must then fall back to decoding the stream serially, which either
//! succeeds (it was a false match) or reports the real corruption.

/// The magic that starts every block.
pub const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
/// The magic that ends every stream.
pub const END_MAGIC: u64 = 0x1772_4538_5090;
const MAGIC_BITS: u64 = 48;

/// Which magic was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    Block,
    End,
}

/// For each byte value, the bit shifts `r` (bit set `1 << r`, for the block
/// magic in the low byte and the end magic in the high byte) such that a magic
/// starting at bit `r` of some byte has this value as its second byte. Every
/// magic covers its second byte whole, so only bytes with an entry here can
/// follow a magic's first byte: a cheap filter before the 48-bit comparison.
const SECOND_BYTE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut r = 0;
    while r < 8 {
        let block = ((BLOCK_MAGIC >> (32 + r)) & 0xff) as usize;
        let end = ((END_MAGIC >> (32 + r)) & 0xff) as usize;
        table[block] |= 1 << r;
        table[end] |= 1 << (8 + r);
        r += 1;
    }
    table
};

/// Every block or end-of-stream magic in `data`, as (bit offset, kind), in
/// order. Searches 1 MiB pieces in parallel on the current rayon pool.
pub fn find_magics(data: &[u8]) -> Vec<(u64, Magic)> {
    use rayon::prelude::*;
    const PIECE: usize = 1 << 20;
    let pieces: Vec<Vec<(u64, Magic)>> = (0..data.len().div_ceil(PIECE))
        .into_par_iter()
        .map(|k| magics_starting_in(data, k * PIECE..((k + 1) * PIECE).min(data.len())))
        .collect();
    pieces.concat()
}

/// The magics whose first byte lies in `first_bytes`.
fn magics_starting_in(data: &[u8], first_bytes: std::ops::Range<usize>) -> Vec<(u64, Magic)> {
    let mut found = Vec::new();
    let seconds = data
        .get(first_bytes.start + 1..(first_bytes.end + 1).min(data.len()))
        .unwrap_or(&[]);
    for (offset, &second) in seconds.iter().enumerate() {
        let candidates = SECOND_BYTE[second as usize];
        if candidates == 0 {
            continue;
        }
        let first_byte = (first_bytes.start + offset) as u64;
        for r in 0..8u64 {
            let start = first_byte * 8 + r;
            if start + MAGIC_BITS > data.len() as u64 * 8 {
                break;
            }
            let bits = || {
                (u64::from(read_bits(data, start, 24)) << 24)
                    | u64::from(read_bits(data, start + 24, 24))
            };
            if candidates & (1 << r) != 0 && bits() == BLOCK_MAGIC {
                found.push((start, Magic::Block));
            } else if candidates & (1 << (8 + r)) != 0 && bits() == END_MAGIC {
                found.push((start, Magic::End));
            }
        }
    }
    found
}

/// `count` (<= 32) bits of `data` starting at bit `at`, most significant first;
/// bits past the end of `data` read as zero.
pub fn read_bits(data: &[u8], at: u64, count: u32) -> u32 {
    debug_assert!(count <= 32);
    let byte = (at / 8) as usize;
    let mut word = 0u64;
    for k in 0..8 {
        word = (word << 8) | u64::from(data.get(byte + k).copied().unwrap_or(0));
    }
    let word = word << (at % 8); // drop the bits before `at`
    (word >> (64 - count)) as u32
}

/// The CRC of a stream from the CRCs of its blocks, in order.
pub fn combine_crc(block_crcs: impl IntoIterator<Item = u32>) -> u32 {
    block_crcs
        .into_iter()
        .fold(0, |combined, crc| combined.rotate_left(1) ^ crc)
}

/// Writes bits most significant first, as bzip2 does.
struct BitWriter {
    bytes: Vec<u8>,
    pending: u64,
    pending_bits: u32,
}

impl BitWriter {
    fn with_capacity(bytes: usize) -> Self {
        BitWriter {
            bytes: Vec::with_capacity(bytes),
            pending: 0,
            pending_bits: 0,
        }
    }

    /// Append the low `count` (<= 32) bits of `value`.
    fn put(&mut self, value: u64, count: u32) {
        debug_assert!(count <= 32);
        self.pending = (self.pending << count) | (value & ((1 << count) - 1));
        self.pending_bits += count;
        while self.pending_bits >= 8 {
            self.pending_bits -= 8;
            self.bytes.push((self.pending >> self.pending_bits) as u8);
        }
    }

    /// Pad the last byte with zero bits and return the bytes.
    fn finish(mut self) -> Vec<u8> {
        if self.pending_bits > 0 {
            let pad = 8 - self.pending_bits;
            self.put(0, pad);
        }
        self.bytes
    }
}

/// A one-block stream holding bits `[start, end)` of `data` (a block, from its
/// magic up to the next magic), for a decoder of level `level` (`b'1'..=b'9'`).
pub fn wrap_block(data: &[u8], level: u8, start: u64, end: u64) -> Vec<u8> {
    let block_crc = read_bits(data, start + MAGIC_BITS, 32);
    let mut out = BitWriter::with_capacity(((end - start) / 8) as usize + 16);
    for &b in b"BZh" {
        out.put(u64::from(b), 8);
    }
    out.put(u64::from(level), 8);
    let mut at = start;
    while at + 32 <= end {
        out.put(u64::from(read_bits(data, at, 32)), 32);
        at += 32;
    }
    if at < end {
        let rest = (end - at) as u32;
        out.put(u64::from(read_bits(data, at, rest)), rest);
    }
    out.put(END_MAGIC >> 24, 24);
    out.put(END_MAGIC & 0xff_ffff, 24);
    out.put(u64::from(block_crc), 32);
    out.finish()
}

/// One stream's layout: where its blocks are and what its CRC must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamLayout {
    /// Byte offset of `BZh`.
    pub start: usize,
    /// The level digit (`b'1'..=b'9'`).
    pub level: u8,
    /// Bit ranges of the blocks, from each block magic to the next magic.
    pub blocks: Vec<(u64, u64)>,
    /// The combined CRC stored after the end magic.
    pub stored_crc: u32,
    /// Byte offset just past the stream (where the next one must start).
    pub end: usize,
}

/// Why the fast framing gave up: the caller decodes serially from `start`
/// instead, which reports the real problem if there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unframed {
    pub start: usize,
}

/// The layout of the stream starting at byte `start`, using the magics found
/// in `data` (`magics` from [`find_magics`], consulted from index `*next`).
pub fn stream_at(
    data: &[u8],
    start: usize,
    magics: &[(u64, Magic)],
    next: &mut usize,
) -> Result<StreamLayout, Unframed> {
    let unframed = Unframed { start };
    let header = data.get(start..start + 4).ok_or(unframed)?;
    let level = match header {
        [b'B', b'Z', b'h', level @ b'1'..=b'9'] => *level,
        _ => return Err(unframed),
    };
    let first = (start as u64 + 4) * 8;
    while magics.get(*next).is_some_and(|&(bit, _)| bit < first) {
        *next += 1;
    }
    let mut blocks = Vec::new();
    let mut expected = first;
    loop {
        let &(bit, kind) = magics.get(*next).ok_or(unframed)?; // no end marker: truncated
        if blocks.is_empty() && bit != expected {
            return Err(unframed); // the first block must follow the header directly
        }
        if let Some(last) = blocks.last_mut() {
            let (_, block_end): &mut (u64, u64) = last;
            *block_end = bit;
        }
        *next += 1;
        match kind {
            Magic::Block => {
                blocks.push((bit, bit));
                expected = bit;
            }
            Magic::End => {
                let stored_crc = read_bits(data, bit + MAGIC_BITS, 32);
                let end = (bit + MAGIC_BITS + 32).div_ceil(8) as usize;
                if end > data.len() {
                    return Err(unframed);
                }
                return Ok(StreamLayout {
                    start,
                    level,
                    blocks,
                    stored_crc,
                    end,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn bz2(text: &[u8], level: u32) -> Vec<u8> {
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    fn decode(stream: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut text = Vec::new();
        bzip2::read::BzDecoder::new(stream).read_to_end(&mut text)?;
        Ok(text)
    }

    /// Text that needs several 100k blocks at level 1.
    fn text() -> Vec<u8> {
        (0..40_000u64)
            .flat_map(|i| {
                format!("{},cpu_usage,{}\n", 1_362_330_056 + i, (i * 7919) % 101).into_bytes()
            })
            .collect()
    }

    #[test]
    fn read_bits_reads_across_bytes() {
        let data = [0b1010_1010, 0b1111_0000, 0x0f];
        assert_eq!(read_bits(&data, 0, 4), 0b1010);
        assert_eq!(read_bits(&data, 6, 6), 0b10_1111);
        assert_eq!(read_bits(&data, 20, 8), 0b1111_0000); // past the end reads zeros
    }

    #[test]
    fn magics_are_found_at_every_bit_offset() {
        for shift in 0..8u64 {
            let mut out = BitWriter::with_capacity(16);
            out.put(0b101, shift as u32);
            out.put(BLOCK_MAGIC >> 24, 24);
            out.put(BLOCK_MAGIC & 0xff_ffff, 24);
            out.put(END_MAGIC >> 24, 24);
            out.put(END_MAGIC & 0xff_ffff, 24);
            let data = out.finish();
            assert_eq!(
                find_magics(&data),
                vec![(shift, Magic::Block), (shift + 48, Magic::End)]
            );
        }
    }

    /// The plain definition: compare 48 bits at every bit offset.
    fn magics_bit_by_bit(data: &[u8]) -> Vec<(u64, Magic)> {
        (0..(data.len() as u64 * 8).saturating_sub(47))
            .filter_map(|at| {
                let bits = (u64::from(read_bits(data, at, 24)) << 24)
                    | u64::from(read_bits(data, at + 24, 24));
                match bits {
                    BLOCK_MAGIC => Some((at, Magic::Block)),
                    END_MAGIC => Some((at, Magic::End)),
                    _ => None,
                }
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn the_filtered_search_finds_what_the_plain_one_finds(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            shifts in proptest::collection::vec((0u32..8, proptest::prelude::any::<bool>()), 0..6),
        ) {
            let mut out = BitWriter::with_capacity(256);
            for (k, &(shift, end)) in shifts.iter().enumerate() {
                let magic = if end { END_MAGIC } else { BLOCK_MAGIC };
                out.put(u64::from(noise.get(k).copied().unwrap_or(0)), shift);
                out.put(magic >> 24, 24);
                out.put(magic & 0xff_ffff, 24);
            }
            let mut data = out.finish();
            data.extend(&noise);
            proptest::prop_assert_eq!(find_magics(&data), magics_bit_by_bit(&data));
        }
    }

    #[test]
    fn every_wrapped_block_decodes_and_the_pieces_make_the_text() {
        let text = text();
        let data = bz2(&text, 1);
        let magics = find_magics(&data);
        let layout = stream_at(&data, 0, &magics, &mut 0).unwrap();
        assert!(layout.blocks.len() >= 5, "{} blocks", layout.blocks.len());
        assert_eq!(layout.end, data.len());
        let mut joined = Vec::new();
        let mut crcs = Vec::new();
        for &(start, end) in &layout.blocks {
            joined.extend(decode(&wrap_block(&data, layout.level, start, end)).unwrap());
            crcs.push(read_bits(&data, start + 48, 32));
        }
        assert_eq!(joined, text);
        assert_eq!(combine_crc(crcs), layout.stored_crc);
    }

    #[test]
    fn multi_stream_files_have_one_layout_per_stream() {
        let text = text();
        let (a, b) = text.split_at(text.len() / 3);
        let data = [bz2(a, 1), bz2(b, 9)].concat();
        let magics = find_magics(&data);
        let mut next = 0;
        let first = stream_at(&data, 0, &magics, &mut next).unwrap();
        let second = stream_at(&data, first.end, &magics, &mut next).unwrap();
        assert_eq!((first.level, second.level), (b'1', b'9'));
        assert_eq!(second.end, data.len());
    }

    #[test]
    fn a_truncated_stream_cannot_be_framed() {
        let data = bz2(&text(), 1);
        let cut = &data[..data.len() - 20];
        assert_eq!(
            stream_at(cut, 0, &find_magics(cut), &mut 0),
            Err(Unframed { start: 0 })
        );
    }

    #[test]
    fn a_corrupt_block_fails_to_decode() {
        let mut data = bz2(&text(), 1);
        let magics = find_magics(&data);
        let layout = stream_at(&data, 0, &magics, &mut 0).unwrap();
        let (start, end) = layout.blocks[1];
        let middle = ((start + end) / 16) as usize;
        data[middle] ^= 0x20;
        assert!(decode(&wrap_block(&data, layout.level, start, end)).is_err());
    }
}
