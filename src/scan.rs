//! The scanner: fold lines held in large buffers into an answer, with no regex
//! and no per-line allocation. `memchr-split` runs it on one stream; the
//! parallel rung runs it on every core.
//!
//! [`fold_stream`] owns the buffer discipline: it refills one large buffer from
//! the decoder and hands the fold only whole lines, carrying a partial last line
//! over to the next refill (the buffer grows only when one line is longer than
//! it, so memory is bounded by the buffer or the longest line).

use memchr::memchr;

use crate::answer::Answer;
use crate::error::Result;
use crate::line;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use crate::split::Lane;
use crate::split::{self, Verdict};
use crate::swar;
use crate::template::Template;

/// Fold every line of `text` into `answer`: lines end at `\n`, and a last piece
/// without one is a line too (the caller passes it only at the end of input).
///
/// A well-formed record, of the metric asked for or another, is recognised in
/// one pass that finds its line end too ([`line::record_line`]); any other
/// line is found with `memchr` and judged in full, so each byte is read about
/// once.
#[inline]
pub fn fold_lines(text: &[u8], metric: &[u8], answer: &mut Answer) {
    let wanted = line::Wanted::new(metric);
    let mut run = FastRun::default();
    let mut start = 0;
    while start < text.len() {
        let rest = &text[start..];
        let record = match rest.first_chunk::<{ line::WINDOW }>() {
            Some(window) => line::record_line_in(window, wanted),
            None => line::record_line(rest, wanted),
        };
        if let Some((value, length)) = record {
            run.add_record(value, answer);
            start += length;
            continue;
        }
        // Line numbers must stay in order for `first_malformed`.
        run.flush_into(answer);
        let end = memchr(b'\n', rest).unwrap_or(rest.len());
        line::fold_line(answer, &rest[..end], wanted);
        start += end + 1;
    }
    run.flush_into(answer);
}

/// Read text to the end through a buffer of `buffer_size` bytes (`read` fills
/// a slice and returns 0 only at the end, like [`crate::input::Decoder::fill`]), calling
/// `fold` with runs of whole lines (each run ends with `\n`) and finally with
/// the last line if it has no `\n`.
pub fn fold_stream(
    read: impl FnMut(&mut [u8]) -> Result<usize>,
    buffer_size: usize,
    answer: &mut Answer,
    fold: impl FnMut(&[u8], &mut Answer),
) -> Result<()> {
    fold_stream_in(&mut Vec::new(), read, buffer_size, answer, fold)
}

/// [`fold_stream`] through `buffer`, grown to `buffer_size` bytes if it is
/// shorter: a caller folding many short streams (`parallel`'s chunks) keeps
/// one buffer instead of allocating and zeroing one per stream.
pub fn fold_stream_in(
    buffer: &mut Vec<u8>,
    mut read: impl FnMut(&mut [u8]) -> Result<usize>,
    buffer_size: usize,
    answer: &mut Answer,
    mut fold: impl FnMut(&[u8], &mut Answer),
) -> Result<()> {
    if buffer.len() < buffer_size.max(1) {
        buffer.resize(buffer_size.max(1), 0);
    }
    let mut carried = 0; // bytes of an unfinished line at the front of `buffer`
    loop {
        if carried == buffer.len() {
            // One line is longer than the whole buffer: make room for more of it.
            buffer.resize(buffer.len() * 2, 0);
        }
        let read = read(&mut buffer[carried..])?;
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

/// The literal `METRIC,` that follows the epoch's comma in a record of the
/// metric asked for, prepared for comparison in two 16-byte words.
#[derive(Debug, Clone)]
pub struct Needle {
    /// `METRIC,`: the metric is all but its last byte.
    literal: Vec<u8>,
    /// `None` when the fast path cannot be used for this metric (too long, or
    /// no line can be a record of it): every line takes the general path.
    words: Option<NeedleWords>,
    /// `,METRIC,` for `memchr-split`'s check; `None` where that cannot be
    /// used (a metric of more than 30 bytes, or one no line can match).
    field: Option<Box<split::Field>>,
}

#[derive(Debug, Clone, Copy)]
struct NeedleWords {
    len: usize,
    lo: u128,
    lo_mask: u128,
    hi: u128,
    hi_mask: u128,
}

/// The longest `METRIC,` the fast path compares in registers.
const NEEDLE_MAX: usize = 32;

/// Lines a fast loop may leave in one buffer before the loop that takes more
/// kinds of line takes over: in `swar`, the template loop gives way to the one
/// that also splits lines ([`TemplateCheck`]); in `memchr-split`, the
/// unsigned split to the one that also takes signed values
/// ([`fold_lines_split`]).
const SPLIT_AFTER_MISSES: u32 = 16;

/// The fast path stops here (64 GiB into one buffer; the rest is read as
/// [`fold_lines`] reads it), which bounds [`ShortRun`]'s sum.
const FAST_TEXT_MAX: usize = match 1usize.checked_shl(36) {
    Some(limit) => limit,
    None => usize::MAX, // 32-bit: a buffer cannot reach the bound
};

/// Bytes that must follow a line's start for the fast path to read it without
/// running off the text: epoch (16) + comma + needle (32) + sign + value word
/// (8) + `\r\n`, rounded up.
const FAST_SLACK: usize = 64;

impl Needle {
    pub fn new(metric: &[u8]) -> Needle {
        let mut literal = metric.to_vec();
        literal.push(b',');
        let usable = line::metric_can_match(metric) && literal.len() <= NEEDLE_MAX;
        let words = usable.then(|| {
            let mut padded = [0u8; NEEDLE_MAX];
            padded[..literal.len()].copy_from_slice(&literal);
            let mut mask = [0u8; NEEDLE_MAX];
            mask[..literal.len()].fill(0xff);
            let word = |bytes: &[u8]| u128::from_le_bytes(bytes.try_into().expect("16 bytes"));
            NeedleWords {
                len: literal.len(),
                lo: word(&padded[..16]),
                lo_mask: word(&mask[..16]),
                hi: word(&padded[16..]),
                hi_mask: word(&mask[16..]),
            }
        });
        Needle {
            field: split::Field::new(metric),
            literal,
            words,
        }
    }

    /// The metric asked for.
    pub fn metric(&self) -> &[u8] {
        &self.literal[..self.literal.len() - 1]
    }
}

impl NeedleWords {
    /// Whether `METRIC,` starts at `at` (< 32) in the window.
    #[inline(always)]
    fn matches(&self, window: &[u8; FAST_SLACK], at: usize) -> bool {
        let at = at & 31;
        let load =
            |at: usize| u128::from_le_bytes(window[at..at + 16].try_into().expect("16 bytes"));
        (load(at) & self.lo_mask) == self.lo
            && (self.len <= 16 || (load(at + 16) & self.hi_mask) == self.hi)
    }
}

/// [`fold_lines`] with a fast path for the common shape of a record of the
/// metric asked for: `DIGITS,METRIC,DIGITS\n` with the epoch length seen
/// last and a short value, checked against a [`Template`] (AVX2 or SSE2;
/// SWAR words where none fits, which also take a signed value) and the value
/// parsed four or eight bytes at a time.
///
/// Line ends are found 64 bytes at a time, independently of parsing, so the CPU
/// can overlap the work on consecutive lines instead of waiting for one line's
/// parse to learn where the next begins. A line the fast path does not take
/// (another metric, another epoch length, a long field, a signed value where
/// the template is used, CRLF, a malformed or blank line) goes to
/// `memchr-split`'s check ([`split::record`]) once 16 have missed in the
/// buffer, and otherwise, or if that misses too, is read as [`fold_lines`]
/// reads it; so are the last [`line::WINDOW`] bytes and the rest of their
/// 64-byte block (128 to 191 bytes in all). The answer is the same on every
/// input.
#[inline]
pub fn fold_lines_fast(text: &[u8], needle: &Needle, answer: &mut Answer) {
    let Some(words) = needle.words else {
        return fold_lines(text, needle.metric(), answer);
    };
    let wanted = line::Wanted::new(needle.metric());
    let split = needle.field.as_deref();
    let mut lines = LineEnds::new(text);
    let mut run = FastRun::default();
    // The case study's epoch length; corrected by the first line that differs.
    let mut shape = Shape::new(10, &needle.literal);
    // Lines the template loop left so far: past a few, the log has other
    // metrics (or signed values), and the loop that splits them takes over.
    let mut missed_lines = 0;
    loop {
        // The shape is fixed for one call, so the check's constants stay in
        // registers, and so does the run: nothing in the loop is called.
        let missed = match shape.template {
            Some(ref template) if missed_lines < SPLIT_AFTER_MISSES => {
                let check = TemplateCheck::<false> {
                    template,
                    split: None,
                };
                check_lines(text, &mut lines, &mut run, check)
            }
            Some(ref template) => {
                let check = TemplateCheck::<true> {
                    template,
                    split: split.map(SplitCheck),
                };
                check_lines(text, &mut lines, &mut run, check)
            }
            None => fast_lines(
                text,
                &mut lines,
                &mut run,
                |block| swar::mask64(block, b'\n'),
                |window, length| {
                    shape_verdict(
                        record_with_epoch(window, length, &words, shape.epoch),
                        missed_lines >= SPLIT_AFTER_MISSES,
                        shape.epoch,
                        window,
                        || {
                            split.map_or(Verdict::Miss, |field| {
                                SplitCheck::<true>(field).verdict(window, length)
                            })
                        },
                    )
                },
                |tally: &mut ShortRun, value| tally.add(value),
            ),
        };
        let Some(start) = missed else { break };
        let end = lines.line_start - 1;
        missed_lines += 1;
        if fold_missed_line(text, start, end, wanted, &mut run, answer) {
            shape.follow(&text[start..]);
        }
    }
    run.flush_into(answer);
    fold_lines(&text[lines.line_start..], needle.metric(), answer);
}

/// `memchr-split`'s scan: [`fold_lines`] with each line split by
/// [`split::record`], from a non-digit mask of its first 32 bytes (AVX2
/// where the CPU has it, else SSE2 or SWAR words).
///
/// Line ends are found 64 bytes at a time, independently of the split, so
/// the CPU can overlap the work on consecutive lines instead of waiting for
/// one line's split to learn where the next begins. A line the masks do not
/// settle (longer than 32 bytes, a value over 8 digits for the metric asked
/// for or over 18 for another, CRLF, malformed or blank; a signed value until 16 lines of the buffer have missed, when the
/// loop that looks for signs takes over) is read as [`fold_lines`] reads it,
/// and so are the last
/// [`line::WINDOW`] bytes and the rest of their 64-byte block, so the answer
/// is the same on every input.
#[inline]
pub fn fold_lines_split(text: &[u8], needle: &Needle, answer: &mut Answer) {
    let Some(field) = needle.field.as_deref() else {
        return fold_lines(text, needle.metric(), answer);
    };
    let wanted = line::Wanted::new(needle.metric());
    let mut lines = LineEnds::new(text);
    let mut run = FastRun::default();
    // Lines the unsigned loop left so far: past a few, the log has signed
    // values (or other lines the masks miss), and the loop that takes signs
    // takes over.
    let mut missed_lines = 0;
    loop {
        let missed = if missed_lines < SPLIT_AFTER_MISSES {
            check_lines(text, &mut lines, &mut run, SplitCheck::<false>(field))
        } else {
            check_lines(text, &mut lines, &mut run, SplitCheck::<true>(field))
        };
        let Some(start) = missed else { break };
        let end = lines.line_start - 1;
        missed_lines += 1;
        fold_missed_line(text, start, end, wanted, &mut run, answer);
    }
    run.flush_into(answer);
    fold_lines(&text[lines.line_start..], needle.metric(), answer);
}

/// One line check of a fast loop, in the two builds [`check_lines`] chooses
/// between: `verdict` with SSE2 (SWAR words elsewhere), and `verdict_avx2`,
/// which its implementations compile for the same features as
/// [`check_lines_avx2`]. (Without them its closures are not AVX2 code, and
/// the intrinsics they call stay out-of-line calls: `swar` on the mixed log
/// took 76.6 M instructions on 1M lines instead of 70.7 M.)
trait LineCheck: Copy {
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
fn check_lines(
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
unsafe fn check_lines_avx2<C: LineCheck>(
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

/// `memchr-split`'s check ([`split::record`]), taking signed values if
/// `SIGNED` is set.
#[derive(Clone, Copy)]
struct SplitCheck<'a, const SIGNED: bool>(&'a split::Field);

impl<const SIGNED: bool> LineCheck for SplitCheck<'_, SIGNED> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    type Avx2Tally = LaneTally;

    #[inline(always)]
    fn verdict(self, window: &[u8; FAST_SLACK], length: usize) -> Verdict {
        split::record::<SIGNED, i64>(
            window,
            length,
            split::masks(window).1,
            || split::masks(window).0,
            self.0,
            |p| self.0.equal_lanes(window, p),
            |word, extra| self.0.value4(word, extra) as i64,
        )
    }

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
    #[inline]
    unsafe fn verdict_avx2(self, window: &[u8; FAST_SLACK], length: usize) -> Verdict<Lane> {
        // SAFETY (all): this function is compiled for AVX2, and the caller
        // guarantees the CPU has it.
        let field = self.0;
        split::record::<SIGNED, Lane>(
            window,
            length,
            unsafe { split::masks_avx2(window).1 },
            || unsafe { split::masks_avx2(window).0 },
            field,
            |p| unsafe { field.equal_lanes_avx2(window, p) },
            |word, extra| unsafe { field.value4_lane_avx2(word, extra) },
        )
    }
}

/// Where the fast path stands: the next line's start, and the line ends not
/// yet taken in the current 64-byte block.
#[derive(Clone, Copy)]
struct LineEnds {
    line_start: usize,
    block: usize,
    newlines: u64,
    fast_end: usize,
}

impl LineEnds {
    /// At the start of `text`. Lines that end before `fast_end` have
    /// FAST_SLACK bytes after their start, and the WINDOW bytes the one-pass
    /// check reads.
    fn new(text: &[u8]) -> LineEnds {
        let fast_end = text
            .len()
            .saturating_sub(FAST_SLACK.max(line::WINDOW))
            .min(FAST_TEXT_MAX);
        let newlines = if fast_end >= 64 {
            crate::swar::mask64(text[..64].try_into().expect("64 bytes"), b'\n')
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

/// `swar`'s check: the template's and, when `SPLIT` is set, `memchr-split`'s
/// masks for a line the template misses (another metric's record, a signed
/// value). In AVX2: one 32-byte vector per line instead of two of 16, and
/// 64-byte blocks searched for `\n` two vectors at a time instead of four.
///
/// Two loops, because neither is best on every log. With the split inlined,
/// the loop needs more registers than there are, and its accumulators live
/// on the stack: on the case study's log, where the template takes every
/// line, that costs 14 instructions a line (60 -> 74 M on 1M lines) and 36 ->
/// 38 ms a 5M-line file. Without it, each line of another metric leaves the
/// loop: the mixed log takes 112 ms instead of 73.
#[derive(Clone, Copy)]
struct TemplateCheck<'a, const SPLIT: bool> {
    template: &'a Template,
    /// `memchr-split`'s check, where the metric allows it.
    split: Option<SplitCheck<'a, true>>,
}

impl<const SPLIT: bool> LineCheck for TemplateCheck<'_, SPLIT> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    type Avx2Tally = LaneTally;

    #[inline(always)]
    fn verdict(self, window: &[u8; FAST_SLACK], length: usize) -> Verdict {
        shape_verdict(
            self.template.value(window, length),
            SPLIT,
            self.template.epoch(),
            window,
            || {
                self.split
                    .map_or(Verdict::Miss, |split| split.verdict(window, length))
            },
        )
    }

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
    #[inline]
    unsafe fn verdict_avx2(self, window: &[u8; FAST_SLACK], length: usize) -> Verdict<Lane> {
        shape_verdict(
            // SAFETY (both): this function is compiled for AVX2, and the
            // caller guarantees the CPU has it.
            unsafe { self.template.value_avx2(window, length) },
            SPLIT,
            self.template.epoch(),
            window,
            || match self.split {
                Some(split) => unsafe { split.verdict_avx2(window, length) },
                None => Verdict::Miss,
            },
        )
    }
}

/// The verdict on the line starting `window`, from the shape's check
/// (`value`) and, where that missed and `use_split` is set, from
/// `memchr-split`'s check (`split`). A record of the metric asked for with an
/// epoch length other than `epoch` is left to the caller, so that the shape
/// follows it.
#[inline(always)]
fn shape_verdict<V>(
    value: Option<V>,
    use_split: bool,
    epoch: usize,
    window: &[u8; FAST_SLACK],
    split: impl FnOnce() -> Verdict<V>,
) -> Verdict<V> {
    match value {
        Some(value) => Verdict::Value(value),
        None if use_split => match split() {
            Verdict::Value(_) if window[epoch & 63] != b',' => Verdict::Miss,
            verdict => verdict,
        },
        None => Verdict::Miss,
    }
}

/// Whether the AVX2 scans may run: the CPU has what they are compiled for,
/// and the environment variable `LOGBENCH_NO_AVX2` is not set (with it, an
/// AVX2 machine runs the SSE2 scans, as the tests do to check both).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn split_features_detected() -> bool {
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
fn fast_lines<T: Tally>(
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
const NO_MISS: usize = usize::MAX;

/// Records a fast path has taken and not yet handed to the `Answer`, kept in
/// registers rather than behind a reference. The sum's type is the one
/// difference between the two uses:
///
/// - [`ShortRun`], what [`fast_lines`] takes in one call, sums in an `i64`:
///   an `i128` kept across the loop does not fit the registers left, and its
///   two halves went to the stack, so every line waited on a store and a load
///   of the line before. Fast-path values have at most 8 digits (|v| < 2^27),
///   and one call takes at most one record per 5 bytes of text below
///   [`FAST_TEXT_MAX`], so the sum stays below 2^61.
/// - [`FastRun`], the records since the last flush (any values), in an `i128`.
#[derive(Clone, Copy)]
struct Run<Sum> {
    count: u64,
    sum: Sum,
    min: i64,
    max: i64,
    /// Records of other metrics the masks settled: lines, nothing more.
    others: u64,
}

type ShortRun = Run<i64>;
type FastRun = Run<i128>;

impl<Sum: Default> Default for Run<Sum> {
    /// Empty: `min` and `max` start at the far ends so the first value sets both.
    fn default() -> Self {
        Run {
            count: 0,
            sum: Sum::default(),
            min: i64::MAX,
            max: i64::MIN,
            others: 0,
        }
    }
}

impl<Sum: std::ops::AddAssign + From<i64>> Run<Sum> {
    #[inline(always)]
    fn add(&mut self, value: i64) {
        self.count += 1;
        self.sum += Sum::from(value);
        // Branches, not conditional moves: after the first few records they
        // are never taken, and the loop keeps no chain through the bounds.
        if value < self.min {
            crate::cold_path();
            self.min = value;
        }
        if value > self.max {
            crate::cold_path();
            self.max = value;
        }
    }
}

/// How a fast loop tallies the values of the records it takes, until it
/// hands them on as a [`ShortRun`].
trait Tally: Default {
    type Value;

    /// Tally one value.
    ///
    /// # Safety
    /// For a [`LaneTally`], the CPU must support AVX2.
    unsafe fn add(&mut self, value: Self::Value);

    /// The run tallied, and `others` records of other metrics.
    fn into_run(self, others: u64) -> ShortRun;
}

impl Tally for ShortRun {
    type Value = i64;

    #[inline(always)]
    unsafe fn add(&mut self, value: i64) {
        Run::add(self, value);
    }

    #[inline(always)]
    fn into_run(self, others: u64) -> ShortRun {
        ShortRun { others, ..self }
    }
}

/// The AVX2 loop's tally, in vector registers: the sum in the low 64-bit
/// lane, the minimum and maximum in the low 32-bit lanes (every fast-path
/// value fits, see [`Lane`]). A line's value stays where its multiply-adds
/// left it: a subtraction, an add, a minimum and a maximum, and no branch,
/// where a general-register tally took a move out of the vector and six
/// instructions, and the loop kept its sum, minimum and maximum on the
/// stack.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[derive(Clone, Copy)]
struct LaneTally {
    count: u64,
    sum: std::arch::x86_64::__m128i,
    min: std::arch::x86_64::__m128i,
    max: std::arch::x86_64::__m128i,
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
impl Default for LaneTally {
    #[allow(unused_unsafe)] // the intrinsics are safe from Rust 1.87, unsafe before
    fn default() -> LaneTally {
        use std::arch::x86_64::{_mm_set1_epi32, _mm_setzero_si128};
        // SAFETY: SSE2 is part of x86_64.
        unsafe {
            LaneTally {
                count: 0,
                sum: _mm_setzero_si128(),
                min: _mm_set1_epi32(i32::MAX),
                max: _mm_set1_epi32(i32::MIN),
            }
        }
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
impl Tally for LaneTally {
    type Value = Lane;

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn add(&mut self, value: Lane) {
        use std::arch::x86_64::{_mm_add_epi64, _mm_max_epi32, _mm_min_epi32};
        self.count += 1;
        self.sum = _mm_add_epi64(self.sum, value.0);
        self.min = _mm_min_epi32(self.min, value.0);
        self.max = _mm_max_epi32(self.max, value.0);
    }

    #[inline(always)]
    #[allow(unused_unsafe)] // the intrinsics are safe from Rust 1.87, unsafe before
    fn into_run(self, others: u64) -> ShortRun {
        use std::arch::x86_64::{_mm_cvtsi128_si32, _mm_cvtsi128_si64};
        if self.count == 0 {
            return ShortRun {
                others,
                ..ShortRun::default()
            };
        }
        // SAFETY: SSE2 is part of x86_64.
        unsafe {
            ShortRun {
                count: self.count,
                sum: _mm_cvtsi128_si64(self.sum),
                min: i64::from(_mm_cvtsi128_si32(self.min)),
                max: i64::from(_mm_cvtsi128_si32(self.max)),
                others,
            }
        }
    }
}

/// A line the masks or the template did not settle, read in one pass as
/// [`fold_lines`] reads it (a record of another metric or epoch length; a
/// long, signed or CRLF value), and with the full grammar if that fails.
/// Returns whether it was a record of the metric asked for. Needs
/// `line::WINDOW` bytes of text after `start`.
#[inline(always)]
fn fold_missed_line(
    text: &[u8],
    start: usize,
    end: usize,
    wanted: line::Wanted<'_>,
    run: &mut FastRun,
    answer: &mut Answer,
) -> bool {
    let window = text[start..]
        .first_chunk::<{ line::WINDOW }>()
        .expect("WINDOW bytes before the fast path's end");
    match line::record_line_in(window, wanted) {
        Some((value, _)) => {
            run.add_record(value, answer);
            value.is_some()
        }
        None => {
            // Line numbers must stay in order for `first_malformed`.
            run.flush_into(answer);
            line::fold_line(answer, &text[start..end], wanted);
            false
        }
    }
}

impl FastRun {
    /// A well-formed record from the one-pass check: its value if it is of
    /// the metric asked for, or (`None`) only a line for another metric's.
    /// That line goes straight to `answer`: its place among the run's lines
    /// does not matter, since nothing but the line count changes.
    #[inline(always)]
    fn add_record(&mut self, value: Option<i64>, answer: &mut Answer) {
        match value {
            Some(value) => self.add(value),
            None => answer.add_line(),
        }
    }

    /// Add the records a fast path took.
    #[inline(always)]
    fn absorb(&mut self, short: ShortRun) {
        self.count += short.count;
        self.sum += i128::from(short.sum);
        self.min = self.min.min(short.min);
        self.max = self.max.max(short.max);
        self.others += short.others;
    }

    #[inline(always)]
    fn flush_into(&mut self, answer: &mut Answer) {
        if self.count > 0 {
            answer.add_run(self.count, self.sum, self.min, self.max);
        }
        if self.others > 0 {
            answer.add_lines(self.others);
        }
        *self = FastRun::default();
    }
}

/// The layout the fast path expects next: the epoch length seen last and, where
/// it fits, the SSE2 [`Template`] for that length and the metric asked for.
///
/// Consecutive lines nearly always have the same epoch length, so the length
/// seen last is assumed: with it known, every load address is known before
/// any byte is examined, and the checks are a handful of independent vector or
/// word operations. A line of another length takes the slow path, which then
/// changes the shape ([`Shape::follow`]).
struct Shape<'a> {
    epoch: usize,
    template: Option<Template>,
    /// The needle's `METRIC,`, from which a template for another epoch length
    /// is built.
    literal: &'a [u8],
}

impl<'a> Shape<'a> {
    fn new(epoch: usize, literal: &'a [u8]) -> Shape<'a> {
        Shape {
            epoch,
            template: Template::new(epoch, literal),
            literal,
        }
    }

    /// A record of the metric that the shape missed starts `window`: if its
    /// epoch has another length, expect that length from now on.
    #[inline(never)]
    fn follow(&mut self, window: &[u8]) {
        let measured = epoch_length(window, 0);
        if measured != self.epoch && (1..=15).contains(&measured) {
            self.epoch = measured;
            self.template = Template::new(measured, self.literal);
        }
    }
}

/// Leading ASCII digits at `start`, up to 16.
#[inline(always)]
fn epoch_length(text: &[u8], start: usize) -> usize {
    use crate::swar::{digit_run, load};
    let first = digit_run(load(text, start));
    if first == 8 {
        8 + digit_run(load(text, start + 8))
    } else {
        first
    }
}

/// Lanes `0..n` of a word (`n` <= 8).
#[inline(always)]
fn low_lanes(n: usize) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    }
}

/// The value if the line of `length` bytes at the start of `window` is exactly
/// `DIGITS{epoch},METRIC,[+-]DIGITS{1,8}`: the SWAR check, for layouts too long
/// for a [`Template`] and for machines without SSE2.
///
/// All reads come from the 64-byte window (one bounds check, by the caller); the
/// offsets are clamped to their valid ranges (epoch <= 15, `METRIC,` <= 32
/// bytes, so the last read ends at byte 57 at most), which lets the compiler
/// drop the per-read checks. The clamps never change a valid offset.
#[inline(always)]
fn record_with_epoch(
    window: &[u8; FAST_SLACK],
    length: usize,
    needle: &NeedleWords,
    epoch: usize,
) -> Option<i64> {
    use crate::swar::{non_digits, parse_digits};
    let word = |at: usize| u64::from_le_bytes(window[at..at + 8].try_into().expect("8 bytes"));
    let epoch = epoch & 15;
    let needle_len = needle.len.min(NEEDLE_MAX);
    let epoch_bad = if epoch <= 8 {
        non_digits(word(0)) & low_lanes(epoch)
    } else {
        non_digits(word(0)) | (non_digits(word(8)) & low_lanes(epoch - 8))
    };
    let sign_at = epoch + 1 + needle_len;
    let sign = window[sign_at];
    let signed = usize::from(sign == b'-' || sign == b'+');
    let digits_at = sign_at + signed;
    let digits = length.wrapping_sub(digits_at); // huge if the line is too short
    if epoch_bad != 0 || window[epoch] != b',' || !(1..=8).contains(&digits) {
        return None;
    }
    let value = word(digits_at);
    if non_digits(value) & low_lanes(digits) != 0 || !needle.matches(window, epoch + 1) {
        return None;
    }
    // At most 8 digits: no overflow is possible.
    let magnitude = parse_digits(value, digits) as i64;
    Some(if sign == b'-' { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The template's fallback compares `METRIC,` at every offset it can
        /// be asked for: the words and a plain comparison agree.
        #[test]
        fn metric_compares_agree_at_every_offset(
            metric in prop_oneof![Just(b"cpu_usage".to_vec()), Just(b"m".to_vec()), proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'_')], 1..31)],
            noise in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b','), Just(b'_'), any::<u8>()], 64),
            planted in 0usize..32,
        ) {
            let needle = Needle::new(&metric);
            let words = needle.words.expect("a metric of 1-31 bytes without a comma");
            let mut window = [0u8; 64];
            window.copy_from_slice(&noise);
            // Plant `METRIC,` (where it fits) so that matches happen.
            let literal = [&metric[..], b","].concat();
            if planted + literal.len() <= 64 {
                window[planted..planted + literal.len()].copy_from_slice(&literal);
            }
            for at in 0..32 {
                let plain = window[at..].starts_with(&literal);
                prop_assert_eq!(words.matches(&window, at), plain, "words at {}", at);
            }
        }
    }
}
