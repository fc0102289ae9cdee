//! Our bzip2 block decoder (`bzip2_blocks::BlockDecoder`) against libbzip2:
//! - arbitrary bytes after a block magic never make it panic or loop;
//! - every block of a real file of the fuzzed text decodes to that text;
//! - with a few bits of that file flipped, whatever our decoder accepts,
//!   libbzip2 accepts too, with the same text (a block that fails its CRC is
//!   never returned).
#![no_main]

use std::io::{Read, Write};

use libfuzzer_sys::fuzz_target;
use bzip2_blocks::{BlockBits, BlockDecoder, Magic, find_magics, wrap_block};

fn bz2(text: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(1));
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

/// Every block of `data` as (start, end) bit offsets.
fn blocks(data: &[u8]) -> Vec<(u64, u64)> {
    find_magics(data)
        .windows(2)
        .filter(|pair| pair[0].1 == Magic::Block)
        .map(|pair| (pair[0].0, pair[1].0))
        .collect()
}

fn ours(data: &[u8], start: u64, end: u64) -> Option<Vec<u8>> {
    let mut text = Vec::new();
    let block = BlockBits { data, start, end, level: b'1' };
    BlockDecoder::new().decode(block, &mut text).ok().map(|_| text)
}

fn libbzip2(data: &[u8], start: u64, end: u64) -> Option<Vec<u8>> {
    let mut text = Vec::new();
    bzip2::read::BzDecoder::new(&wrap_block(data, b'1', start, end)[..])
        .read_to_end(&mut text)
        .ok()
        .map(|_| text)
}

fuzz_target!(|data: &[u8]| {
    let garbage = [&[0x31, 0x41, 0x59, 0x26, 0x53, 0x59][..], data].concat();
    let _ = ours(&garbage, 0, garbage.len() as u64 * 8);

    let Some((&flips, text)) = data.split_first() else {
        return;
    };
    let file = bz2(text);
    let intact: Vec<u8> = blocks(&file)
        .into_iter()
        .flat_map(|(start, end)| ours(&file, start, end).expect("an intact block decodes"))
        .collect();
    assert_eq!(intact, text);

    let mut broken = file.clone();
    for k in 0..=u64::from(flips % 4) {
        let bit = (u64::from(flips) * 7919 + k * 104_729) % (broken.len() as u64 * 8);
        broken[(bit / 8) as usize] ^= 0x80 >> (bit % 8);
    }
    for (start, end) in blocks(&broken) {
        if let Some(text) = ours(&broken, start, end) {
            assert_eq!(Some(text), libbzip2(&broken, start, end), "block at bit {start}");
        }
    }
});
