//! The block's Huffman codes. libbzip2 reads a code a bit at a time; here a
//! code of up to `LOOKUP_BITS` (10) bits is decoded with one table lookup,
//! and a longer one (bzip2 allows 20) by canonical code ranges, as any
//! decoder does. Each table's code lengths are read here too.

use crate::bits::BitReader;
use crate::block::BlockError;

/// The longest Huffman code bzip2 allows.
const MAX_CODE_BITS: u32 = 20;
/// Codes up to this long are decoded with one lookup (6 tables of 1024 `u16`s:
/// 12 KiB, which stays in L1).
const LOOKUP_BITS: u32 = 10;

/// One table's code lengths, delta coded from a 5-bit start.
pub(crate) fn read_code_lengths(
    bits: &mut BitReader<'_>,
    alphabet: u16,
) -> Result<Vec<u8>, BlockError> {
    let mut length = bits.take(5);
    let mut lengths = Vec::with_capacity(usize::from(alphabet));
    for _ in 0..alphabet {
        loop {
            if !(1..=MAX_CODE_BITS).contains(&length) {
                return Err(BlockError::Corrupt("Huffman code length not 1-20"));
            }
            if bits.take(1) == 0 {
                break;
            }
            if bits.take(1) == 0 {
                length += 1;
            } else {
                length -= 1;
            }
            bits.check_in_bounds()?; // the loop must not spin on padding
        }
        lengths.push(length as u8);
    }
    Ok(lengths)
}

/// A canonical Huffman code: codes of each length are consecutive, shorter
/// codes first, and within a length in symbol order.
pub(crate) struct Code {
    /// For each `LOOKUP_BITS`-bit prefix: `symbol << 5 | length` of the code it
    /// starts with, or 0 if that code is longer.
    lookup: Box<[u16; 1 << LOOKUP_BITS]>,
    /// Per length: the first code, one past the last, and where its symbols
    /// start in `symbols`.
    first: [u32; MAX_CODE_BITS as usize + 1],
    end: [u32; MAX_CODE_BITS as usize + 1],
    offset: [u16; MAX_CODE_BITS as usize + 1],
    /// The symbols, by code.
    symbols: Vec<u16>,
}

impl Code {
    pub(crate) fn new(lengths: &[u8]) -> Result<Code, BlockError> {
        let mut count = [0u32; MAX_CODE_BITS as usize + 1];
        for &length in lengths {
            count[usize::from(length)] += 1;
        }
        let space: u64 = (1..=MAX_CODE_BITS)
            .map(|l| u64::from(count[l as usize]) << (MAX_CODE_BITS - l))
            .sum();
        if space > 1 << MAX_CODE_BITS {
            return Err(BlockError::Unsupported("over-subscribed Huffman code"));
        }
        let mut code = Code {
            lookup: Box::new([0; 1 << LOOKUP_BITS]),
            first: [0; MAX_CODE_BITS as usize + 1],
            end: [0; MAX_CODE_BITS as usize + 1],
            offset: [0; MAX_CODE_BITS as usize + 1],
            symbols: Vec::with_capacity(lengths.len()),
        };
        let (mut next, mut placed) = (0u32, 0u16);
        for (length, &count) in count.iter().enumerate().skip(1) {
            code.first[length] = next;
            code.end[length] = next + count;
            code.offset[length] = placed;
            next = (next + count) << 1;
            placed += count as u16;
        }
        for length in 1..=MAX_CODE_BITS as u8 {
            for (symbol, _) in lengths.iter().enumerate().filter(|&(_, &l)| l == length) {
                let value = code.first[usize::from(length)]
                    + (code.symbols.len() as u32 - u32::from(code.offset[usize::from(length)]));
                code.symbols.push(symbol as u16);
                if u32::from(length) <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - u32::from(length);
                    let entry = (symbol as u16) << 5 | u16::from(length);
                    let from = (value << shift) as usize;
                    code.lookup[from..from + (1 << shift)].fill(entry);
                }
            }
        }
        Ok(code)
    }

    #[inline(always)]
    pub(crate) fn decode(&self, bits: &mut BitReader<'_>) -> Result<u16, BlockError> {
        bits.ensure(MAX_CODE_BITS);
        let entry = self.lookup[bits.peek(LOOKUP_BITS) as usize];
        if entry != 0 {
            bits.skip(u32::from(entry & 31));
            return Ok(entry >> 5);
        }
        self.decode_long(bits)
    }

    #[inline(never)]
    fn decode_long(&self, bits: &mut BitReader<'_>) -> Result<u16, BlockError> {
        let prefix = bits.peek(MAX_CODE_BITS);
        for length in LOOKUP_BITS + 1..=MAX_CODE_BITS {
            let value = prefix >> (MAX_CODE_BITS - length);
            let l = length as usize;
            if value < self.end[l] && value >= self.first[l] {
                bits.skip(length);
                let at = usize::from(self.offset[l]) + (value - self.first[l]) as usize;
                return Ok(self.symbols[at]);
            }
        }
        Err(BlockError::Corrupt("bits that are no Huffman code"))
    }
}
