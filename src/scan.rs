//! The scanner: fold lines held in large buffers into an answer, with no regex
//! and no per-line allocation. `memchr-split` runs it on one stream; the
//! parallel rung runs it on every core.
//!
//! [`fold_stream`] owns the buffer discipline: it refills one large buffer from
//! the decoder and hands the fold only whole lines, carrying a partial last line
//! over to the next refill (the buffer grows only when one line is longer than
//! it, so memory is bounded by the buffer or the longest line).

use memchr::memchr_iter;

use crate::answer::Answer;
use crate::error::Result;
use crate::input::Decoder;
use crate::line;

/// Fold every line of `text` into `answer`: lines end at `\n`, and a last piece
/// without one is a line too (the caller passes it only at the end of input).
#[inline]
pub fn fold_lines(text: &[u8], metric: &[u8], answer: &mut Answer) {
    let mut start = 0;
    for newline in memchr_iter(b'\n', text) {
        line::fold_line(answer, &text[start..newline], metric);
        start = newline + 1;
    }
    if start < text.len() {
        line::fold_line(answer, &text[start..], metric);
    }
}

/// Read `decoder` to the end through a buffer of `buffer_size` bytes, calling
/// `fold` with runs of whole lines (each run ends with `\n`) and finally with
/// the last line if it has no `\n`.
pub fn fold_stream(
    decoder: &mut Decoder,
    buffer_size: usize,
    answer: &mut Answer,
    mut fold: impl FnMut(&[u8], &mut Answer),
) -> Result<()> {
    let mut buffer = vec![0u8; buffer_size.max(1)];
    let mut carried = 0; // bytes of an unfinished line at the front of `buffer`
    loop {
        if carried == buffer.len() {
            // One line is longer than the whole buffer: make room for more of it.
            buffer.resize(buffer.len() * 2, 0);
        }
        let read = decoder.fill(&mut buffer[carried..])?;
        if read == 0 {
            fold(&buffer[..carried], answer);
            return Ok(());
        }
        let filled = carried + read;
        // Only the newly read bytes can hold the newline that ends the carried line.
        match memchr::memrchr(b'\n', &buffer[carried..filled]) {
            Some(last) => {
                let whole = carried + last + 1;
                fold(&buffer[..whole], answer);
                buffer.copy_within(whole..filled, 0);
                carried = filled - whole;
            }
            None => carried = filled,
        }
    }
}
