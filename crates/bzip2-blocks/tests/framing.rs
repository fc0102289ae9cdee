//! The framing through its public API: magics at every bit offset, blocks and
//! streams framed whatever the read size, and the files it must refuse.

mod common;

use bzip2_blocks::{
    BLOCK_MAGIC, BitWriter, END_MAGIC, Frame, Framer, Magic, Unframed, Window, combine_crc,
    find_magics, read_bits, wrap_block,
};
use common::bz2;
use std::io::Read;

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

/// What driving a framer over a file gave.
#[derive(Debug, PartialEq)]
struct Framed {
    text: Vec<u8>,
    blocks: usize,
    streams: usize,
    /// The most bytes the window ever held.
    widest: usize,
}

/// Drive a framer over `data`, reading `ahead` bytes at a time: the
/// decoded blocks, the stream CRCs checked, or the framing failure.
fn frame_all(data: &[u8], ahead: usize) -> Result<Framed, Unframed> {
    let read_at = |at: u64, buf: &mut [u8]| -> std::io::Result<usize> {
        let rest = data.get(at as usize..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    };
    let (mut window, mut framer) = (Window::new(), Framer::new());
    let (mut text, mut crcs, mut blocks, mut streams) = (Vec::new(), Vec::new(), 0, 0);
    let mut widest = 0;
    loop {
        match framer.next(&window)? {
            Frame::Block { level, start, end } => {
                text.extend(decode(&window.copy_block(level, start, end).wrapped()).unwrap());
                crcs.push(window.block_crc(start));
                blocks += 1;
            }
            Frame::StreamEnd { stored_crc, .. } => {
                assert_eq!(combine_crc(crcs.drain(..)), stored_crc);
                streams += 1;
            }
            Frame::Done => {
                return Ok(Framed {
                    text,
                    blocks,
                    streams,
                    widest,
                });
            }
            Frame::NeedMore => {
                window
                    .advance(framer.needed_from(), ahead, read_at)
                    .unwrap();
                widest = widest.max(window.held_bytes());
            }
        }
    }
}

#[test]
fn every_block_is_framed_whatever_the_read_size() {
    let text = text();
    let data = bz2(&text, 1);
    let largest_block = 100_000; // level 1: 100 kB of text, compressed smaller
    for ahead in [61, 4096, data.len()] {
        let framed = frame_all(&data, ahead).unwrap();
        assert_eq!(framed.text, text, "reading {ahead} bytes at a time");
        assert!(framed.blocks >= 5, "{} blocks", framed.blocks);
        assert_eq!(framed.streams, 1);
        // The window holds the open block and the read-ahead, not the file.
        assert!(framed.widest <= (largest_block + ahead).min(data.len()));
    }
}

#[test]
fn multi_stream_files_are_framed_stream_by_stream() {
    let text = text();
    let (a, b) = text.split_at(text.len() / 3);
    let data = [bz2(a, 1), bz2(b, 9), bz2(b"", 5)].concat();
    for ahead in [61, 100_000] {
        let framed = frame_all(&data, ahead).unwrap();
        assert_eq!(framed.text, text);
        assert_eq!(framed.streams, 3);
    }
}

#[test]
fn truncated_and_garbage_tailed_files_cannot_be_framed() {
    let data = bz2(&text(), 1);
    for cut in [1, 20, data.len() / 2] {
        assert_eq!(frame_all(&data[..data.len() - cut], 4096), Err(Unframed));
    }
    for tail in [&b"x"[..], b"\0\0\0\0", b"BZh"] {
        assert_eq!(frame_all(&[&data[..], tail].concat(), 4096), Err(Unframed));
    }
}

#[test]
fn a_header_without_blocks_cannot_grow_the_window() {
    let mut data = b"BZh9".to_vec();
    data.resize(10 << 20, 0x55); // no magic anywhere
    assert_eq!(frame_all(&data, 1 << 20), Err(Unframed));
}

#[test]
fn a_corrupt_block_fails_to_decode() {
    let mut data = bz2(&text(), 1);
    let mut window = Window::new();
    window
        .advance(0, data.len() + 1, |at, buf| {
            let rest = &data[at as usize..];
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            Ok(n)
        })
        .unwrap();
    let mut framer = Framer::new();
    let mut blocks = std::iter::from_fn(|| match framer.next(&window) {
        Ok(Frame::Block { start, end, .. }) => Some((start, end)),
        _ => None,
    });
    let (start, end) = blocks.nth(1).unwrap();
    let middle = ((start + end) / 16) as usize;
    data[middle] ^= 0x20;
    assert!(decode(&wrap_block(&data, b'1', start, end)).is_err());
}
