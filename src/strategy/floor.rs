//! The floor: decode the input and count its newlines, nothing else.
//!
//! No rung can be faster than this on the same input, since every rung must at
//! least decode every byte and find every line. The ladder benchmark puts it
//! beside the rungs; once a rung is close to it, parsing is no longer the
//! bottleneck and decompression is (the case study's Amdahl point).

use crate::error::Result;
use crate::input::Input;

/// Decode all of `input` in `buffer_size` pieces and count its `\n` bytes.
pub fn count_newlines(input: Input, buffer_size: usize) -> Result<u64> {
    let mut decoder = input.into_decoder();
    let mut buffer = vec![0u8; buffer_size.max(1)];
    let mut newlines = 0u64;
    loop {
        match decoder.fill(&mut buffer)? {
            0 => return Ok(newlines),
            n => newlines += memchr::memchr_iter(b'\n', &buffer[..n]).count() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_newline_across_buffer_edges() {
        let text = b"a\nbb\n\nccc\nd".to_vec();
        for size in 1..=text.len() + 1 {
            assert_eq!(
                count_newlines(Input::from_bytes("t", text.clone()), size).unwrap(),
                4
            );
        }
    }
}
