//! What the tests share: libbzip2 as the reference encoder.

use std::io::Write;

/// `text` compressed by libbzip2 at `level` (1-9).
pub fn bz2(text: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}
