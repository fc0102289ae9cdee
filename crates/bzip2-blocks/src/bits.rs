//! Bits, most significant first, as bzip2 stores them. Blocks start at any
//! bit, so the framing reads fields at bit offsets ([`read_bits`]) and
//! re-wraps blocks bit by bit ([`BitWriter`]); the decoder reads a whole
//! block through [`BitReader`], a 64-bit buffer refilled a word at a time.

use crate::block::BlockError;

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

/// Writes bits most significant first, as bzip2 does.
pub struct BitWriter {
    bytes: Vec<u8>,
    pending: u64,
    pending_bits: u32,
}

impl BitWriter {
    /// An empty writer with room for `bytes` bytes.
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

/// Reads bits most significant first from `[start, end)` of a byte slice.
/// Past the end of the slice it reads zeros; [`BitReader::check_in_bounds`]
/// then reports that the block ran past its end.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// The next byte to load (counting the zeros loaded past the slice).
    next: usize,
    /// Unread bits, left aligned; the bits below `count` are either zero or
    /// the next bits of the stream.
    buffer: u64,
    count: u32,
    end: u64,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8], start: u64, end: u64) -> Result<BitReader<'a>, BlockError> {
        if start > end || end > data.len() as u64 * 8 {
            return Err(BlockError::Corrupt("block bits outside the data"));
        }
        let mut reader = BitReader {
            data,
            next: (start / 8) as usize,
            buffer: 0,
            count: 0,
            end,
        };
        reader.skip_bits_before((start % 8) as u32);
        Ok(reader)
    }

    fn skip_bits_before(&mut self, bits: u32) {
        if bits > 0 {
            self.ensure(bits);
            self.skip(bits);
        }
    }

    /// The bit position of the next unread bit.
    pub(crate) fn position(&self) -> u64 {
        self.next as u64 * 8 - u64::from(self.count)
    }

    pub(crate) fn check_in_bounds(&self) -> Result<(), BlockError> {
        if self.position() > self.end {
            return Err(BlockError::Corrupt("block runs past its end"));
        }
        Ok(())
    }

    /// Make at least `n` (<= 56) bits available.
    #[inline(always)]
    pub(crate) fn ensure(&mut self, n: u32) {
        if self.count >= n {
            return;
        }
        if let Some(word) = self.data.get(self.next..self.next + 8) {
            let word = u64::from_be_bytes(word.try_into().expect("8 bytes"));
            self.buffer |= word >> self.count;
            let bytes = (63 - self.count) / 8;
            self.next += bytes as usize;
            self.count += bytes * 8;
        } else {
            self.ensure_near_the_end();
        }
    }

    #[inline(never)]
    fn ensure_near_the_end(&mut self) {
        while self.count <= 56 {
            let byte = self.data.get(self.next).copied().unwrap_or(0);
            self.buffer |= u64::from(byte) << (56 - self.count);
            self.next += 1;
            self.count += 8;
        }
    }

    /// The next `n` (1..=32) bits, not consumed; `ensure(n)` first.
    #[inline(always)]
    pub(crate) fn peek(&self, n: u32) -> u32 {
        (self.buffer >> (64 - n)) as u32
    }

    #[inline(always)]
    pub(crate) fn skip(&mut self, n: u32) {
        self.buffer <<= n;
        self.count -= n;
    }

    /// The next `n` (1..=32) bits.
    pub(crate) fn take(&mut self, n: u32) -> u32 {
        self.ensure(n);
        let value = self.peek(n);
        self.skip(n);
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_bits_reads_across_bytes() {
        let data = [0b1010_1010, 0b1111_0000, 0x0f];
        assert_eq!(read_bits(&data, 0, 4), 0b1010);
        assert_eq!(read_bits(&data, 6, 6), 0b10_1111);
        assert_eq!(read_bits(&data, 20, 8), 0b1111_0000); // past the end reads zeros
    }
}
