//! bzip2 framing for block-parallel decoding.
//!
//! A bzip2 stream is `BZh` + a level digit, then blocks, then an end-of-stream
//! marker; blocks are *bit*-aligned and each starts with the 48-bit magic
//! `0x314159265359` followed by its 32-bit CRC; the end-of-stream marker is the
//! 48-bit magic `0x177245385090`, the stream's combined CRC, and padding to a
//! byte. Files written by pbzip2, lbzip2 or `cat` hold several streams.
//!
//! Blocks are independent, so they can be decoded on different threads. This
//! module finds them and copies each out of the file ([`OwnedBlock`]). The
//! caller decodes it with [`BlockDecoder`](crate::BlockDecoder), or, for a
//! block that decoder refuses, re-wraps it as a one-block stream that any
//! bzip2 decoder accepts (the `bzip2recover` trick: for a single block the
//! stream's combined CRC equals the block's CRC) and hands it to the `bzip2`
//! crate. Both verify each block's CRC; the caller checks the stream's
//! combined CRC with [`combine_crc`].
//!
//! The magics can also occur by chance inside compressed data (about once per
//! 2^48 bit positions). A false block magic splits a block in two and both
//! halves fail to decode; a false end marker breaks the stream's framing. The
//! caller must then fall back to decoding the stream serially, which either
//! succeeds (it was a false match) or reports the real corruption.

use crate::bits::{BitWriter, read_bits};

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

/// The CRC of a stream from the CRCs of its blocks, in order.
pub fn combine_crc(block_crcs: impl IntoIterator<Item = u32>) -> u32 {
    block_crcs
        .into_iter()
        .fold(0, |combined, crc| combined.rotate_left(1) ^ crc)
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

/// The compressed bytes at hand: the file from byte `base` on (everything the
/// framer still needs, plus what was read ahead), and the magics in them.
///
/// The window slides: once the blocks before the one still open are decoded,
/// their bytes are dropped, so memory is bounded by the read-ahead and one
/// block, never by the file.
#[derive(Debug, Default)]
pub struct Window {
    data: Vec<u8>,
    base: u64,
    /// Magics wholly inside `data`, at absolute bit offsets, in order.
    magics: Vec<(u64, Magic)>,
    eof: bool,
}

impl Window {
    pub fn new() -> Window {
        Window::default()
    }

    /// A window whose first byte will be the file's byte `base`: for a
    /// framer that starts inside the file ([`Framer::at_magic`]).
    pub fn starting_at(base: u64) -> Window {
        Window {
            base,
            ..Window::default()
        }
    }

    /// Drop the bytes before `keep_from` (an absolute byte offset), then read
    /// up to `ahead` more bytes with `read_at(offset, buf)` (a `pread`: 0 means
    /// the end of the file) and find the magics again.
    pub fn advance(
        &mut self,
        keep_from: u64,
        ahead: usize,
        mut read_at: impl FnMut(u64, &mut [u8]) -> std::io::Result<usize>,
    ) -> std::io::Result<()> {
        let drop = (keep_from.saturating_sub(self.base) as usize).min(self.data.len());
        self.data.drain(..drop);
        self.base += drop as u64;
        let old = self.data.len();
        self.data.resize(old + ahead.max(1), 0);
        let mut filled = old;
        while filled < self.data.len() {
            match read_at(self.base + filled as u64, &mut self.data[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.data.truncate(filled);
        // Only the new bytes are searched, from a magic's length before them:
        // every magic wholly inside the old bytes was found already.
        let base_bit = self.base * 8;
        self.magics.retain(|&(bit, _)| bit >= base_bit);
        let last_found = self.magics.last().map(|&(bit, _)| bit);
        let from = old.saturating_sub(MAGIC_BITS as usize / 8 + 1);
        let found = find_magics(&self.data[from..])
            .into_iter()
            .map(|(bit, kind)| (bit + base_bit + from as u64 * 8, kind))
            .filter(|&(bit, _)| last_found.is_none_or(|last| bit > last));
        self.magics.extend(found);
        Ok(())
    }

    /// Whether the whole file has been read into the window.
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// How many bytes the window holds: what the framer still needs and the
    /// read-ahead, never the whole file (unless it is that small).
    pub fn held_bytes(&self) -> usize {
        self.data.len()
    }

    /// The absolute byte offset just past the bytes at hand.
    fn end(&self) -> u64 {
        self.base + self.data.len() as u64
    }

    /// `count` bits at absolute bit `at` (which must be at hand).
    fn bits(&self, at: u64, count: u32) -> u32 {
        read_bits(&self.data, at - self.base * 8, count)
    }

    /// The CRC stored in the block starting at absolute bit `start`.
    pub fn block_crc(&self, start: u64) -> u32 {
        self.bits(start + MAGIC_BITS, 32)
    }

    /// The bytes holding the block at absolute bits `[start, end)`, copied out
    /// so the window may slide on.
    pub fn copy_block(&self, level: u8, start: u64, end: u64) -> OwnedBlock {
        let first_byte = start / 8;
        let from = (first_byte - self.base) as usize;
        let to = (end.div_ceil(8) - self.base) as usize;
        OwnedBlock {
            bytes: self.data[from..to].to_vec(),
            start: start - first_byte * 8,
            end: end - first_byte * 8,
            level,
        }
    }
}

/// A block's bytes with its bits `[start, end)` in them, of a stream of level
/// `level`: what a worker thread decodes.
#[derive(Debug, Clone)]
pub struct OwnedBlock {
    pub bytes: Vec<u8>,
    pub start: u64,
    pub end: u64,
    pub level: u8,
}

impl OwnedBlock {
    /// The block as [`BlockDecoder`](crate::BlockDecoder) takes it.
    pub fn bits(&self) -> crate::BlockBits<'_> {
        crate::BlockBits {
            data: &self.bytes,
            start: self.start,
            end: self.end,
            level: self.level,
        }
    }

    /// The block as a one-block stream, for libbzip2.
    pub fn wrapped(&self) -> Vec<u8> {
        wrap_block(&self.bytes, self.level, self.start, self.end)
    }
}

/// What [`Framer::next`] found, at absolute bit offsets of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A block of a stream of this level (`b'1'..=b'9'`), from its magic up
    /// to the next magic.
    Block { level: u8, start: u64, end: u64 },
    /// The end of a stream (its magic at bit `at`), with the combined CRC
    /// it stores.
    StreamEnd { at: u64, stored_crc: u32 },
    /// The last stream ended exactly at the end of the file.
    Done,
    /// The next frame lies past the bytes at hand: advance the window.
    NeedMore,
}

/// The framing does not hold (not bzip2 where a stream must start, a first
/// block not right after the header, a truncated file, an implausibly long
/// block). The caller decodes serially instead, which either succeeds (a
/// false magic fooled the framing) or reports the real problem precisely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unframed;

/// The most compressed bytes one block may span before the framing gives up:
/// a real bzip2 block (at most 900 kB of text) never comes close, and the
/// bound keeps garbage behind a `BZh` header from growing the window.
const MAX_BLOCK_BYTES: u64 = 8 << 20;

/// Walks the streams and blocks of a bzip2 file as its bytes arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framer {
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A stream header must start at this byte (or the file must end).
    AtStream(u64),
    /// Inside a stream: the block magic still open (its end not yet seen), or
    /// none yet, in which case the first one must start at bit `first`.
    InStream {
        level: u8,
        open: Option<u64>,
        first: u64,
    },
    /// The end magic of a stream starts at this bit.
    Ending(u64),
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new()
    }
}

impl Framer {
    /// A framer expecting a stream at the start of the file.
    pub fn new() -> Framer {
        Framer {
            state: State::AtStream(0),
        }
    }

    /// A framer that starts inside a file, at the magic of kind `magic` at
    /// bit `at` (found by [`find_magics`]), in a stream of level `level`:
    /// for a reader of one part of a file, as Hadoop's splittable bzip2
    /// reads. Whether the magic is a real one shows when its block decodes.
    pub fn at_magic(magic: Magic, at: u64, level: u8) -> Framer {
        Framer {
            state: match magic {
                Magic::Block => State::InStream {
                    level,
                    open: None,
                    first: at,
                },
                Magic::End => State::Ending(at),
            },
        }
    }

    /// The first byte the framer will look at again: everything before it
    /// (once the blocks already returned are decoded) can be dropped.
    pub fn needed_from(&self) -> u64 {
        match self.state {
            State::AtStream(byte) => byte,
            State::InStream { open, first, .. } => open.unwrap_or(first) / 8,
            State::Ending(bit) => bit / 8,
        }
    }

    /// The next frame in the window.
    pub fn next(&mut self, window: &Window) -> Result<Frame, Unframed> {
        loop {
            match self.state {
                State::AtStream(byte) => {
                    if byte == window.end() && window.eof {
                        return Ok(Frame::Done);
                    }
                    if byte + 4 > window.end() {
                        return self.need_more(window);
                    }
                    let at = (byte - window.base) as usize;
                    let [b'B', b'Z', b'h', level @ b'1'..=b'9'] = window.data[at..at + 4] else {
                        return Err(Unframed);
                    };
                    self.state = State::InStream {
                        level,
                        open: None,
                        first: (byte + 4) * 8,
                    };
                }
                State::InStream { level, open, first } => {
                    let after = open.map_or(first, |start| start + 1);
                    let next = window.magics.partition_point(|&(bit, _)| bit < after);
                    let Some(&(bit, kind)) = window.magics.get(next) else {
                        return self.need_more(window);
                    };
                    if open.is_none() && bit != first {
                        return Err(Unframed); // the first block must follow the header
                    }
                    self.state = match kind {
                        Magic::Block => State::InStream {
                            level,
                            open: Some(bit),
                            first,
                        },
                        Magic::End => State::Ending(bit),
                    };
                    if let Some(start) = open {
                        return Ok(Frame::Block {
                            level,
                            start,
                            end: bit,
                        });
                    }
                }
                State::Ending(bit) => {
                    let end = (bit + MAGIC_BITS + 32).div_ceil(8);
                    if end > window.end() {
                        return self.need_more(window);
                    }
                    let stored_crc = window.bits(bit + MAGIC_BITS, 32);
                    self.state = State::AtStream(end);
                    return Ok(Frame::StreamEnd {
                        at: bit,
                        stored_crc,
                    });
                }
            }
        }
    }

    /// More bytes are needed: fine unless the file has ended (truncated) or
    /// the open block is already longer than any real block.
    fn need_more(&self, window: &Window) -> Result<Frame, Unframed> {
        let pending = window.end() - self.needed_from().min(window.end());
        if window.eof || pending > MAX_BLOCK_BYTES {
            Err(Unframed)
        } else {
            Ok(Frame::NeedMore)
        }
    }
}
