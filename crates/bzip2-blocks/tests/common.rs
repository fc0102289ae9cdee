//! What the tests share: libbzip2 as the reference encoder, and a bit writer
//! to build streams by hand (the crate's own is private).
#![allow(dead_code)] // each test file uses part of it

use std::io::Write;

/// `text` compressed by libbzip2 at `level` (1-9).
pub fn bz2(text: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

/// Writes bits most significant first, as bzip2 does.
pub struct BitWriter {
    bytes: Vec<u8>,
    pending: u64,
    pending_bits: u32,
}

impl BitWriter {
    pub fn with_capacity(bytes: usize) -> Self {
        BitWriter {
            bytes: Vec::with_capacity(bytes),
            pending: 0,
            pending_bits: 0,
        }
    }

    /// Append the low `count` (<= 32) bits of `value`.
    pub fn put(&mut self, value: u64, count: u32) {
        debug_assert!(count <= 32);
        self.pending = (self.pending << count) | (value & ((1 << count) - 1));
        self.pending_bits += count;
        while self.pending_bits >= 8 {
            self.pending_bits -= 8;
            self.bytes.push((self.pending >> self.pending_bits) as u8);
        }
    }

    /// How many bits have been written.
    pub fn bits(&self) -> u64 {
        self.bytes.len() as u64 * 8 + u64::from(self.pending_bits)
    }

    /// Pad the last byte with zero bits and return the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        if self.pending_bits > 0 {
            let pad = 8 - self.pending_bits;
            self.put(0, pad);
        }
        self.bytes
    }
}
