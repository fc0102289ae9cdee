//! Block-parallel bzip2 decoding.
//!
//! bzip2 blocks are independent but bit-aligned. [`find_magics`] and the
//! [`Framer`] find them at their bit offsets, and [`BlockDecoder`] decodes one
//! block alone, faster than libbzip2 decodes it, so the blocks of a file can
//! be decoded on every core.
//!
//! Whatever the decoder accepts decodes to the text libbzip2 would give, its
//! CRC checked. A block it refuses ([`BlockError`]) is left to the caller,
//! which hands it to libbzip2 as a one-block stream ([`OwnedBlock::wrapped`]).
#![forbid(unsafe_code)]

mod bits;
mod block;
mod bwt;
mod framing;
mod huffman;
mod mtf;

pub use bits::{BitWriter, read_bits};
pub use block::{BlockBits, BlockDecoder, BlockError};
pub use framing::{
    BLOCK_MAGIC, END_MAGIC, Frame, Framer, Magic, OwnedBlock, Unframed, Window, combine_crc,
    find_magics, wrap_block,
};
