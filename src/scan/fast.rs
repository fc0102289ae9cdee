//! The fast loop every fast rung shares: line ends found 64 bytes at a time,
//! independently of the check, so the CPU overlaps the work on consecutive
//! lines instead of waiting for one line's check to learn where the next
//! begins. A rung brings its line check ([`LineCheck`]); the loop hands back
//! the first line the check does not settle, which the caller reads in full.

use super::simd::swar;
use super::split::Verdict;
use super::tally::{FastRun, ShortRun, Tally};
use crate::answer::Answer;
use crate::grammar;

/// Lines a fast loop may leave in one buffer before the loop that takes more
/// kinds of line takes over: in `swar`, the template loop gives way to the one
/// that also splits lines ([`TemplateCheck`]); in `mask-split`, the
/// unsigned split to the one that also takes signed values
/// ([`split::fold_lines`]).
pub(crate) const SPLIT_AFTER_MISSES: u32 = 16;

/// The fast path stops here (64 GiB into one buffer; the rest is read as
/// [`fold_lines`] reads it), which bounds [`ShortRun`]'s sum.
pub(crate) const FAST_TEXT_MAX: usize = match 1usize.checked_shl(36) {
    Some(limit) => limit,
    None => usize::MAX, // 32-bit: a buffer cannot reach the bound
};

/// Bytes that must follow a line's start for the fast path to read it without
/// running off the text: epoch (16) + comma + needle (32) + sign + value word
/// (8) + `\r\n`, rounded up.
pub(crate) const FAST_SLACK: usize = 64;

/// One line check of a fast loop, in the two builds [`check_lines`] chooses
/// between: `verdict` with SSE2 (SWAR words elsewhere), and `verdict_avx2`,
/// which its implementations compile for the same features as
/// [`check_lines_avx2`]. (Without them its closures are not AVX2 code, and
/// the intrinsics they call stay out-of-line calls: `swar` on the mixed log
/// took 76.6 M instructions on 1M lines instead of 70.7 M.)
pub(crate) trait LineCheck: Copy {
    /// How the AVX2 loop tallies this check's values.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    type Avx2Tally: Tally;

    /// The verdict on the line of `length` bytes that starts `window`.
    fn verdict(self, window: &[u8; FAST_SLACK], length: usize) -> Verdict;

    /// # Safety
    /// The CPU must support AVX2, BMI1, BMI2, LZCNT and POPCNT.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    unsafe fn verdict_avx2(
        self,
        window: &[u8; FAST_SLACK],
        length: usize,
    ) -> Verdict<<Self::Avx2Tally as Tally>::Value>;
}

/// [`fast_lines`] with `check`'s verdicts, in AVX2 where the CPU has it.
#[inline(always)]
pub(crate) fn check_lines(
    text: &[u8],
    lines: &mut LineEnds,
    run: &mut FastRun,
    check: impl LineCheck,
) -> Option<usize> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if split_features_detected() {
        // SAFETY: the features were detected just above.
        return unsafe { check_lines_avx2(text, lines, run, check) };
    }
    fast_lines(
        text,
        lines,
        run,
        |block| swar::mask64(block, b'\n'),
        |window, length| check.verdict(window, length),
        |tally: &mut ShortRun, value| tally.add(value),
    )
}

/// [`check_lines`] compiled for AVX2, BMI1, BMI2, LZCNT and POPCNT.
///
/// # Safety
/// The CPU must support AVX2, BMI1, BMI2, LZCNT and POPCNT.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
pub(crate) unsafe fn check_lines_avx2<C: LineCheck>(
    text: &[u8],
    lines: &mut LineEnds,
    run: &mut FastRun,
    check: C,
) -> Option<usize> {
    fast_lines(
        text,
        lines,
        run,
        // SAFETY (all three): this function runs only where AVX2 is.
        |block| unsafe { swar::mask64_avx2(block, b'\n') },
        |window, length| unsafe { check.verdict_avx2(window, length) },
        |tally: &mut C::Avx2Tally, value| unsafe { tally.add(value) },
    )
}

/// Where the fast path stands: the next line's start, and the line ends not
/// yet taken in the current 64-byte block.
#[derive(Clone, Copy)]
pub(crate) struct LineEnds {
    pub(crate) line_start: usize,
    pub(crate) block: usize,
    pub(crate) newlines: u64,
    pub(crate) fast_end: usize,
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
            crate::scan::simd::swar::mask64(text[..64].try_into().expect("64 bytes"), b'\n')
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
}

/// Whether the AVX2 scans may run: the CPU has what they are compiled for,
/// and the environment variable `LOGBENCH_NO_AVX2` is not set (with it, an
/// AVX2 machine runs the SSE2 scans, as the tests do to check both).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn split_features_detected() -> bool {
    static USABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *USABLE.get_or_init(|| {
        std::env::var_os("LOGBENCH_NO_AVX2").is_none()
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("bmi1")
            && std::is_x86_feature_detected!("bmi2")
            && std::is_x86_feature_detected!("lzcnt")
            && std::is_x86_feature_detected!("popcnt")
    })
}

/// Fold the lines that `verdict` (given the 64 bytes from a line's start and
/// its length) settles, up to the first it does not, whose start is returned
/// (it ends where `lines` now starts, less its `\n`) and which is skipped;
/// `None` once no whole block is left before
/// `fast_end`. `mask64` finds the line ends in a 64-byte block, as
/// [`swar::mask64`] does.
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
    verdict: impl Fn(&[u8; FAST_SLACK], usize) -> Verdict<T::Value>,
    add: impl Fn(&mut T, T::Value),
) -> Option<usize> {
    let mut at = *lines;
    // The sums cannot wrap: `LineEnds`' fields are private to this module,
    // which makes them only in `LineEnds::new` (at offset 0) and below, where
    // they stay offsets into a slice, at most `isize::MAX`. (Written with
    // checked or saturating arithmetic, this check cost the loop 2 to 4 M
    // instructions on 1M lines: the compiler uses what it proves.)
    assert!(
        at.fast_end <= text.len().saturating_sub(FAST_SLACK)
            && (at.newlines == 0 || at.block + 64 <= at.fast_end)
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
            // SAFETY: start <= end < block + 64 <= fast_end, and FAST_SLACK
            // bytes of text follow fast_end (asserted on entry).
            let window = unsafe { &*text.as_ptr().add(start).cast::<[u8; FAST_SLACK]>() };
            match verdict(window, end - start) {
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
pub(crate) const NO_MISS: usize = usize::MAX;

/// A line the masks or the template did not settle, read in one pass as
/// [`fold_lines`] reads it (a record of another metric or epoch length; a
/// long, signed or CRLF value), and with the full grammar if that fails.
/// Returns whether it was a record of the metric asked for. Needs
/// `grammar::WINDOW` bytes of text after `start`.
#[inline(always)]
pub(crate) fn fold_missed_line(
    text: &[u8],
    start: usize,
    end: usize,
    wanted: grammar::Wanted<'_>,
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
