//! What the fast rungs share around the fast loop ([`super::simd::check_lines`]):
//! when a loop gives way to one that takes more kinds of line, and how a line
//! it hands back is read in full.

use super::tally::FastRun;
use crate::answer::Answer;
use crate::grammar;

/// Lines a fast loop may leave in one buffer before the loop that takes more
/// kinds of line takes over: in `swar`, the template loop gives way to the one
/// that also splits lines; in `mask-split`, the unsigned split to the one that
/// also takes signed values.
pub(crate) const SPLIT_AFTER_MISSES: u32 = 16;

/// A line the masks or the template did not settle, read in one pass as
/// [`super::fold_lines`] reads it (a record of another metric or epoch length; a
/// long, signed or CRLF value), and with the full grammar if that fails.
/// Returns whether it was a record of the metric asked for. Needs
/// `grammar::WINDOW` bytes of text after `start`.
#[inline(always)]
pub(crate) fn fold_missed_line(
    text: &[u8],
    start: usize,
    end: usize,
    wanted: grammar::Metric<'_>,
    run: &mut FastRun,
    answer: &mut Answer,
) -> bool {
    let window = text[start..]
        .first_chunk::<{ grammar::WINDOW }>()
        .expect("WINDOW bytes before the fast path's end");
    match grammar::record_line_in(window, wanted) {
        Some((value, _)) => {
            run.add_record(value, answer);
            value.is_some()
        }
        None => {
            // Line numbers must stay in order for `first_malformed`.
            run.flush_into(answer);
            grammar::fold_line(answer, &text[start..end], wanted);
            false
        }
    }
}
