//! The block decoder: one block, from its magic to the next magic, given as
//! bits of a byte slice (the framing finds them), decoded to its text. Once
//! blocks are decoded on every core, the block decoder is all the time there
//! is, and libbzip2's decoder reads each Huffman code a bit at a time and
//! walks the inverse BWT as one chain of cache misses. This one decodes codes
//! with a table lookup ([`crate::huffman`]), walks the inverse BWT in
//! independent segments ([`crate::bwt`]) and checks the CRC with the `crc`
//! crate's slicing tables.
//!
//! Anything it does not accept comes back as an error: a corrupt block, and
//! also the valid but long-obsolete randomised blocks (bzip2 0.9.0 wrote them)
//! and Huffman tables no bzip2 encoder writes. The caller then hands that block
//! to libbzip2, which decodes it or names the corruption. A block whose text
//! does not match its CRC is never returned.
//!
//! Every index into a table comes from the stream, so each is checked (a
//! hostile block is an error, never a panic); the tables themselves are
//! permutations by construction, so the walk stays in bounds.

use crate::bits::BitReader;
use crate::bwt::LANES;
use crate::framing::BLOCK_MAGIC;
use crate::huffman::{Code, read_code_lengths};
use crate::mtf::undo_initial_runs;

/// Symbols per Huffman table selector.
pub(crate) const GROUP_SIZE: u32 = 50;
const MIN_GROUPS: u32 = 2;
const MAX_GROUPS: u32 = 6;

/// Why a block was not decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockError {
    /// The bits break the format or the CRC does not match.
    Corrupt(&'static str),
    /// Valid bzip2 this decoder leaves to libbzip2.
    Unsupported(&'static str),
}

/// One block: bits `[start, end)` of `data`, from its magic up to the next
/// magic, of a stream of level `level` (`b'1'..=b'9'`).
#[derive(Debug, Clone, Copy)]
pub struct BlockBits<'a> {
    pub data: &'a [u8],
    pub start: u64,
    pub end: u64,
    pub level: u8,
}

/// The tables one block needs, kept between blocks (about 7 bytes a byte of
/// block: 6.3 MiB at level 9), so a thread decoding many blocks allocates once.
#[derive(Debug, Default)]
pub struct BlockDecoder {
    /// Per row of the BWT's last column: its byte, the row that follows it
    /// in the text, and [`MARK`](crate::bwt::MARK) if that row starts a
    /// segment of the walk.
    pub(crate) forward: Vec<u32>,
    /// The last column as decoded, then the text before the run-length step.
    pub(crate) column: Vec<u8>,
    /// Each lane's walked segments.
    pub(crate) lanes: [Vec<u8>; LANES],
}

impl BlockDecoder {
    pub fn new() -> BlockDecoder {
        BlockDecoder::default()
    }

    /// Decode `block`, appending its text to `text` (which is left as it was
    /// if the block fails), and return the block's CRC.
    pub fn decode(&mut self, block: BlockBits<'_>, text: &mut Vec<u8>) -> Result<u32, BlockError> {
        let max_len = match block.level {
            b'1'..=b'9' => usize::from(block.level - b'0') * 100_000,
            _ => return Err(BlockError::Corrupt("stream level is not 1-9")),
        };
        let mut bits = BitReader::new(block.data, block.start, block.end)?;
        let header = read_header(&mut bits)?;
        let tables = read_tables(&mut bits)?;
        let counts = self.read_column(&mut bits, &tables, max_len)?;
        if bits.position() != block.end {
            // Blocks are contiguous: the next magic follows the end-of-block code.
            return Err(BlockError::Corrupt(
                "block does not end where the next magic starts",
            ));
        }
        let len = self.column.len();
        if header.origin as usize >= len {
            return Err(BlockError::Corrupt("origin pointer past the block"));
        }
        self.link_columns(&counts);
        if !self.walk(header.origin as usize) {
            return Err(BlockError::Corrupt(
                "the inverse BWT's two walks do not meet",
            ));
        }
        let before = text.len();
        let crc =
            undo_initial_runs(&self.column, text).map(|()| BZIP2_CRC.checksum(&text[before..]));
        if crc != Ok(header.crc) {
            text.truncate(before);
            return Err(crc
                .err()
                .unwrap_or(BlockError::Corrupt("block CRC does not match its text")));
        }
        Ok(header.crc)
    }
}

/// bzip2's CRC-32 (MSB first, polynomial 0x04C11DB7), 16 bytes a step.
const BZIP2_CRC: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_BZIP2);

struct Header {
    crc: u32,
    origin: u32,
}

fn read_header(bits: &mut BitReader<'_>) -> Result<Header, BlockError> {
    let magic = (u64::from(bits.take(24)) << 24) | u64::from(bits.take(24));
    if magic != BLOCK_MAGIC {
        return Err(BlockError::Corrupt("no block magic"));
    }
    let crc = bits.take(32);
    if bits.take(1) == 1 {
        return Err(BlockError::Unsupported("randomised block"));
    }
    let origin = bits.take(24);
    Ok(Header { crc, origin })
}

/// What the block says before its symbols: which bytes occur, the Huffman
/// tables and which table codes each group of 50 symbols.
pub(crate) struct Tables {
    pub(crate) byte_of: [u8; 256],
    pub(crate) alphabet: u16,
    pub(crate) codes: Vec<Code>,
    pub(crate) selectors: Vec<u8>,
}

fn read_tables(bits: &mut BitReader<'_>) -> Result<Tables, BlockError> {
    let (byte_of, in_use) = read_bytes_in_use(bits);
    if in_use == 0 {
        return Err(BlockError::Corrupt("no byte value in use"));
    }
    let alphabet = in_use + 2;
    let groups = bits.take(3);
    if !(MIN_GROUPS..=MAX_GROUPS).contains(&groups) {
        return Err(BlockError::Corrupt("Huffman table count not 2-6"));
    }
    let selectors = read_selectors(bits, groups)?;
    let codes = (0..groups)
        .map(|_| Code::new(&read_code_lengths(bits, alphabet)?))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Tables {
        byte_of,
        alphabet,
        codes,
        selectors,
    })
}

/// The byte values in use, in order (a 16-bit map of 16-value ranges, then a
/// 16-bit map for each range used), and how many there are.
fn read_bytes_in_use(bits: &mut BitReader<'_>) -> ([u8; 256], u16) {
    let ranges = bits.take(16);
    let mut byte_of = [0u8; 256];
    let mut in_use = 0u16;
    for range in 0..16u32 {
        if ranges & (0x8000 >> range) == 0 {
            continue;
        }
        let values = bits.take(16);
        for value in 0..16u32 {
            if values & (0x8000 >> value) != 0 {
                byte_of[usize::from(in_use)] = (range * 16 + value) as u8;
                in_use += 1;
            }
        }
    }
    (byte_of, in_use)
}

/// The table number of each group, move-to-front coded in unary.
fn read_selectors(bits: &mut BitReader<'_>, groups: u32) -> Result<Vec<u8>, BlockError> {
    let count = bits.take(15);
    if count == 0 {
        return Err(BlockError::Corrupt("no Huffman table selector"));
    }
    let mut order: Vec<u8> = (0..groups as u8).collect();
    let mut selectors = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let mut rank = 0;
        while bits.take(1) == 1 {
            rank += 1;
            if rank >= groups as usize {
                return Err(BlockError::Corrupt("selector past the table count"));
            }
        }
        let table = order.remove(rank);
        order.insert(0, table);
        selectors.push(table);
    }
    Ok(selectors)
}
