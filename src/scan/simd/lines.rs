//! The fast loop's walk over the lines of a buffer: line ends found 64 bytes
//! at a time, independently of the check, so the CPU overlaps the work on
//! consecutive lines instead of waiting for one line's check to learn where
//! the next begins. Each line is handed to the check as a 64-byte window read
//! without a bounds check, which is what puts this loop in the `simd` module:
//! the checks cost registers that the loop's accumulators then lost to the
//! stack. One assertion on entry makes every read sound.

use crate::grammar;
use crate::scan::split::Verdict;
use crate::scan::tally::{FastRun, Tally};

/// The fast path stops here (64 GiB into one buffer; the rest is read as
/// [`crate::scan::fold_lines`] reads it), which bounds
/// [`crate::scan::tally::ShortRun`]'s sum.
const FAST_TEXT_MAX: usize = match 1usize.checked_shl(36) {
    Some(limit) => limit,
    None => usize::MAX, // 32-bit: a buffer cannot reach the bound
};

/// Bytes that must follow a line's start for the fast path to read it without
/// running off the text: epoch (16) + comma + checks (32) + sign + value word
/// (8) + `\r\n`, rounded up.
pub(crate) const FAST_SLACK: usize = 64;

/// Where the fast path stands: the next line's start, and the line ends not
/// yet taken in the current 64-byte block.
#[derive(Clone, Copy)]
pub(crate) struct LineEnds {
    line_start: usize,
    block: usize,
    newlines: u64,
    fast_end: usize,
}

impl LineEnds {
    /// At the start of `text`. Lines that end before `fast_end` have
    /// FAST_SLACK bytes after their start, and the WINDOW bytes the one-pass
    /// check reads.
    pub(crate) fn new(text: &[u8]) -> LineEnds {
        let fast_end = text
            .len()
            .saturating_sub(FAST_SLACK.max(grammar::WINDOW))
            .min(FAST_TEXT_MAX);
        let newlines = if fast_end >= 64 {
            super::mask64(text[..64].try_into().expect("64 bytes"), b'\n')
        } else {
            0
        };
        LineEnds {
            line_start: 0,
            block: 0,
            newlines,
            fast_end,
        }
    }

    /// Where the next line starts: after the line [`fast_lines`] last
    /// handed back, or after the last line it took.
    #[inline(always)]
    pub(crate) fn line_start(&self) -> usize {
        self.line_start
    }
}

/// Fold the lines that `verdict` (given a line's window and its length)
/// settles, up to the first it does not, whose start is returned
/// (it ends where `lines` now starts, less its `\n`) and which is skipped;
/// `None` once no whole block is left before
/// `fast_end`. `mask64` finds the line ends in a 64-byte block, as
/// [`super::mask64`] does. A line that starts in the text's first [`BEFORE`]
/// bytes is handed back too, as if missed.
///
/// The loop reads its windows and blocks without bounds checks: they cost
/// registers that the loop's accumulators then lost to the stack. What makes
/// that sound is checked once, on entry: `fast_end` leaves `FAST_SLACK` bytes
/// of `text` after it, and the line ends in hand lie in a block that ends by
/// `fast_end`; the loop keeps both true.
#[inline(always)]
pub(crate) fn fast_lines<T: Tally>(
    text: &[u8],
    lines: &mut LineEnds,
    run: &mut FastRun,
    mask64: impl Fn(&[u8; 64]) -> u64,
    verdict: impl Fn(LineWindow<'_>, usize) -> Verdict<T::Value>,
    add: impl Fn(&mut T, T::Value),
) -> Option<usize> {
    let mut at = *lines;
    // A line that starts in the text's first BEFORE bytes has no BEFORE
    // bytes in front of it: it goes back to the caller, to be read in full.
    while at.line_start < BEFORE {
        if at.newlines == 0 {
            at.block += 64;
            if at.block + 64 > at.fast_end {
                *lines = at;
                return None;
            }
            at.newlines = mask64(text[at.block..][..64].try_into().expect("64 bytes"));
            continue;
        }
        let start = at.line_start;
        at.line_start = at.block + at.newlines.trailing_zeros() as usize + 1;
        at.newlines &= at.newlines - 1;
        *lines = at;
        return Some(start);
    }
    // The sums cannot wrap: `LineEnds`' fields are private to this module,
    // which makes them only in `LineEnds::new` (at offset 0) and below, where
    // they stay offsets into a slice, at most `isize::MAX`. (Written with
    // checked or saturating arithmetic, this check costs the loop: the
    // compiler uses what it proves.)
    assert!(
        at.fast_end <= text.len().saturating_sub(FAST_SLACK)
            && (at.newlines == 0 || at.block + 64 <= at.fast_end)
            && BEFORE <= at.line_start
            && at.line_start <= at.block + at.newlines.trailing_zeros() as usize,
        "the fast path's bounds"
    );
    let mut folded = T::default();
    let mut others = 0;
    let missed = 'lines: loop {
        while at.newlines != 0 {
            let end = at.block + at.newlines.trailing_zeros() as usize;
            let start = at.line_start;
            at.line_start = end + 1;
            at.newlines &= at.newlines - 1;
            // SAFETY: BEFORE (= TAIL) <= start <= end < block + 64 <=
            // fast_end, and FAST_SLACK bytes of text follow fast_end (asserted
            // on entry; line starts only grow). So both reads lie in `text`.
            let (bytes, tail) = unsafe {
                let at = text.as_ptr();
                (
                    &*at.add(start).cast::<[u8; FAST_SLACK]>(),
                    &*at.add(end - TAIL).cast::<[u8; TAIL]>(),
                )
            };
            match verdict(LineWindow::new(bytes, tail), end - start) {
                Verdict::Value(value) => add(&mut folded, value),
                Verdict::Other => others += 1,
                Verdict::Miss => break 'lines start,
            }
        }
        at.block += 64;
        if at.block + 64 > at.fast_end {
            break NO_MISS;
        }
        // SAFETY: block + 64 <= fast_end <= text.len() (asserted on entry).
        at.newlines = mask64(unsafe { &*text.as_ptr().add(at.block).cast::<[u8; 64]>() });
    };
    *lines = at;
    run.absorb(folded.into_run(others));
    (missed != NO_MISS).then_some(missed)
}

/// What [`fast_lines`]' loop yields when no line missed (a line's start is
/// always less). Not an `Option`: its discriminant cost an instruction on
/// every line, set ahead of each branch that can leave the loop.
const NO_MISS: usize = usize::MAX;

/// Bytes that end a line that its window also holds: enough for any value
/// the checks weigh from the line's end.
pub(crate) const TAIL: usize = 8;

/// A line's start in the text must be at least this, so that [`TAIL`] bytes
/// end it even when it is short (they then include bytes before it).
pub(crate) const BEFORE: usize = TAIL;

/// One line as the fast loop hands it to a check: the [`FAST_SLACK`] bytes
/// from its start, and the [`TAIL`] bytes that end it (the line's last bytes,
/// and before them, for a short line, the bytes before it).
#[derive(Clone, Copy)]
pub(crate) struct LineWindow<'a> {
    bytes: &'a [u8; FAST_SLACK],
    tail: &'a [u8; TAIL],
}

impl<'a> LineWindow<'a> {
    /// The window of a line whose first bytes are `bytes` and whose last
    /// are `tail`.
    #[inline(always)]
    pub(crate) fn new(bytes: &'a [u8; FAST_SLACK], tail: &'a [u8; TAIL]) -> LineWindow<'a> {
        LineWindow { bytes, tail }
    }

    /// The [`FAST_SLACK`] bytes from the line's start.
    #[inline(always)]
    pub(crate) fn bytes(self) -> &'a [u8; FAST_SLACK] {
        self.bytes
    }

    /// The `N` bytes (4 or 8) that end the line, as a little-endian word.
    #[inline(always)]
    pub(crate) fn line_end<const N: usize>(self) -> u64 {
        if N == 4 {
            let bytes = self.tail[TAIL - 4..].try_into().expect("4 bytes");
            u64::from(u32::from_le_bytes(bytes))
        } else {
            u64::from_le_bytes(*self.tail)
        }
    }
}
