//! `swar`'s shape check: 32 lanes at a time (one AVX2 vector, or two SSE2).
//!
//! Nearly every record in a real log has the same layout: an epoch of fixed
//! length, a comma, the metric and its comma, then a short value. For one
//! epoch length and one metric that layout is a *template* over the first 32
//! bytes of a line: which lanes must be digits, which must equal a known byte
//! (the commas and the metric), and where the value begins. A line is checked
//! against it as a range of accepted bytes per lane (`'0'..='9'`, or one byte):
//! two loads, and per 16 lanes a subtraction, an unsigned minimum, a compare
//! and a movemask; the line fits when its length is at most the run of right
//! lanes from lane 0 and its value has 1-8 digits (fewer where a long prefix
//! leaves less room).
//!
//! The check is exact: it accepts a line only if it is `DIGITS{epoch},METRIC,`
//! then 1-8 digits (or fewer) up to the line's end, so the answer never depends on
//! whether the template was used. A signed value is a record the template
//! leaves to the caller (mask-split's masks, or its one-pass check): a sign
//! lane would need a set of bytes, not a range, and logs of signed values are
//! rare. It exists only where the lanes have a vector form (SSE2, on every
//! x86_64 CPU); elsewhere [`Template::new`] returns `None` and the caller
//! keeps its SWAR path.

use super::fast::{SPLIT_AFTER_MISSES, fold_missed_line};
use super::simd::{
    self, FAST_SLACK, LineCheck, LineEnds, LineWindow, check_lines, fast_lines, portable,
};
use super::split::{SplitCheck, Verdict};
use super::tally::{FastRun, ShortRun};
use super::{Checks, LITERAL_MAX};
use crate::answer::Answer;

/// Bytes of a line the template covers: the epoch, both commas, the metric
/// and the value's sign and digits must all lie within them.
pub const SPAN: usize = 32;

/// The longest value the template reads (one 8-byte word).
const VALUE_DIGITS: usize = 8;

/// The layout of a record of one metric with one epoch length, as a range
/// of accepted bytes per lane: lane `i` accepts `low[i] ..= low[i] +
/// span[i]` (a digit lane `'0'` + 9, an exact lane its byte + 0).
#[derive(Clone, Copy, Debug)]
pub struct Template {
    /// The smallest byte each lane accepts.
    pub(crate) low: [u8; SPAN],
    /// How far above `low` each lane's bytes may go.
    pub(crate) span: [u8; SPAN],
    /// Where the value's digits start: epoch + 1 + metric + 1. Every lane
    /// from here on is a digit lane.
    value_at: usize,
    /// For a value of `n` digits (1 to 4, at `n - 1`), what the bytes
    /// before it add in the 4 bytes that end the line, as the AVX2 scan
    /// weighs them ([`crate::scan::split::line_end_bias`]).
    pub(crate) byte_bias: [i32; 4],
    /// The most value digits the template takes: 8, or fewer when the
    /// prefix is long (a line and its `\n` must fit in [`SPAN`] lanes).
    digits: usize,
    epoch: usize,
}

impl Template {
    /// The template for `epoch` digits followed by `checks` (the comma,
    /// then `METRIC,` is `checks`), or `None` when a line of that shape
    /// with a 1-digit value and its `\n` would not fit in [`SPAN`] bytes,
    /// or the lanes have no vector form here.
    /// (A 13-digit epoch in milliseconds and `cpu_usage` leave room for
    /// 7 value digits.)
    pub fn new(epoch: usize, checks: &[u8]) -> Option<Template> {
        let value_at = epoch + 1 + checks.len();
        if !simd::VECTOR_TEMPLATE || epoch == 0 || value_at + 2 > SPAN {
            return None;
        }
        let digits = (SPAN - 1 - value_at).min(VALUE_DIGITS);
        let (mut low, mut span) = ([b'0'; SPAN], [9u8; SPAN]);
        low[epoch] = b',';
        low[epoch + 1..value_at].copy_from_slice(checks);
        span[epoch..value_at].fill(0);
        Some(Template {
            low,
            span,
            value_at,
            byte_bias: std::array::from_fn(|extra| {
                crate::scan::split::line_end_bias(&low[..value_at], extra + 1)
            }),
            digits,
            epoch,
        })
    }

    /// The epoch length the template expects.
    #[inline(always)]
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// The value of the line of `length` bytes (without its `\n`) that
    /// starts `window`, if the line fits the template exactly.
    #[inline(always)]
    pub fn value(&self, window: &[u8; 64], length: usize) -> Option<i64> {
        let right = simd::range_lanes(window, &self.low, &self.span);
        let count = self.digits(length, right)?;
        Some(self.parse(window, count))
    }

    /// The value's digit count, given `right`, the lanes whose bytes are in
    /// range: the line's lanes must all be right, and it must end 1-8 digits
    /// after `value_at` (an empty value, a short or a long line wrap `count`).
    #[inline(always)]
    pub(crate) fn digits(&self, length: usize, right: u32) -> Option<usize> {
        let count = length.wrapping_sub(self.value_at);
        if (right.trailing_ones() as usize) < length || count.wrapping_sub(1) >= self.digits {
            return None;
        }
        Some(count)
    }

    /// The value of the `count` digits (1 to 8) at `value_at`.
    #[inline(always)]
    pub(crate) fn parse(&self, window: &[u8; 64], count: usize) -> i64 {
        // At most 8 digits: no overflow is possible.
        portable::parse_value_digits(portable::load(window, self.value_at & (SPAN - 1)), count)
            as i64
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct LiteralWords {
    len: usize,
    lo: u128,
    lo_mask: u128,
    hi: u128,
    hi_mask: u128,
}

impl LiteralWords {
    /// `METRIC,` (`literal`, at most [`LITERAL_MAX`] bytes) in two words and masks.
    pub(crate) fn new(literal: &[u8]) -> LiteralWords {
        let mut padded = [0u8; LITERAL_MAX];
        padded[..literal.len()].copy_from_slice(literal);
        let mut mask = [0u8; LITERAL_MAX];
        mask[..literal.len()].fill(0xff);
        let word = |bytes: &[u8]| u128::from_le_bytes(bytes.try_into().expect("16 bytes"));
        LiteralWords {
            len: literal.len(),
            lo: word(&padded[..16]),
            lo_mask: word(&mask[..16]),
            hi: word(&padded[16..]),
            hi_mask: word(&mask[16..]),
        }
    }

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
/// `mask-split`'s check ([`split::record`]) once 16 have missed in the
/// buffer, and otherwise, or if that misses too, is read as [`fold_lines`]
/// reads it; so are the last [`grammar::WINDOW`] bytes and the rest of their
/// 64-byte block (128 to 191 bytes in all). The answer is the same on every
/// input.
#[inline]
pub fn fold_lines(text: &[u8], checks: &Checks, answer: &mut Answer) {
    let Some(words) = checks.words else {
        return super::fold_lines(text, checks.metric(), answer);
    };
    let wanted = checks.metric();
    let split = checks.field.as_deref();
    let mut lines = LineEnds::new(text);
    let mut run = FastRun::default();
    // The case study's epoch length; corrected by the first line that differs.
    let mut shape = Shape::new(10, &checks.literal);
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
                |block| simd::mask64(block, b'\n'),
                |line, length| {
                    shape_verdict(
                        record_with_epoch(line.bytes(), length, &words, shape.epoch),
                        missed_lines >= SPLIT_AFTER_MISSES,
                        shape.epoch,
                        line.bytes(),
                        || {
                            split.map_or(Verdict::Miss, |field| {
                                SplitCheck::<true>(field).verdict(line, length)
                            })
                        },
                    )
                },
                |tally: &mut ShortRun, value| tally.add(value),
            ),
        };
        let Some(start) = missed else { break };
        let end = lines.line_start() - 1;
        missed_lines += 1;
        if fold_missed_line(text, start, end, wanted, &mut run, answer) {
            shape.follow(&text[start..]);
        }
    }
    run.flush_into(answer);
    super::fold_lines(&text[lines.line_start()..], checks.metric(), answer);
}

/// `swar`'s check: the template's and, when `SPLIT` is set, `mask-split`'s
/// masks for a line the template misses (another metric's record, a signed
/// value). In AVX2: one 32-byte vector per line instead of two of 16, and
/// 64-byte blocks searched for `\n` two vectors at a time instead of four.
///
/// Two loops, because neither is best on every log. With the split inlined,
/// the loop needs more registers than there are, and its accumulators live
/// on the stack, which costs the case study's log (where the template takes
/// every line). Without it, each line of another metric leaves the loop,
/// which costs the mixed log. `docs/ladder.md` has the figures.
#[derive(Clone, Copy)]
pub(crate) struct TemplateCheck<'a, const SPLIT: bool> {
    pub(crate) template: &'a Template,
    /// `mask-split`'s check, where the metric allows it.
    pub(crate) split: Option<SplitCheck<'a, true>>,
}

impl<const SPLIT: bool> LineCheck for TemplateCheck<'_, SPLIT> {
    #[inline(always)]
    fn verdict(self, line: LineWindow<'_>, length: usize) -> Verdict {
        shape_verdict(
            self.template.value(line.bytes(), length),
            SPLIT,
            self.template.epoch(),
            line.bytes(),
            || {
                self.split
                    .map_or(Verdict::Miss, |split| split.verdict(line, length))
            },
        )
    }
}

/// The verdict on the line starting `window`, from the shape's check
/// (`value`) and, where that missed and `use_split` is set, from
/// `mask-split`'s check (`split`). A record of the metric asked for with an
/// epoch length other than `epoch` is left to the caller, so that the shape
/// follows it.
#[inline(always)]
pub(crate) fn shape_verdict<V>(
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
    /// The checks's `METRIC,`, from which a template for another epoch length
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
    use crate::scan::simd::portable::{digit_run, load};
    let first = digit_run(load(text, start));
    if first == 8 {
        8 + digit_run(load(text, start + 8))
    } else {
        first
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
    checks: &LiteralWords,
    epoch: usize,
) -> Option<i64> {
    use crate::scan::simd::portable::{non_digits, parse_digits};
    let word = |at: usize| u64::from_le_bytes(window[at..at + 8].try_into().expect("8 bytes"));
    let epoch = epoch & 15;
    let needle_len = checks.len.min(LITERAL_MAX);
    let epoch_bad = if epoch <= 8 {
        non_digits(word(0)) & portable::low_bytes(epoch)
    } else {
        non_digits(word(0)) | (non_digits(word(8)) & portable::low_bytes(epoch - 8))
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
    if non_digits(value) & portable::low_bytes(digits) != 0 || !checks.matches(window, epoch + 1) {
        return None;
    }
    // At most 8 digits: no overflow is possible.
    let magnitude = parse_digits(value, digits) as i64;
    Some(if sign == b'-' { -magnitude } else { magnitude })
}

// The template exists only where its lanes have a vector form (x86_64).
#[cfg(all(test, target_arch = "x86_64", target_feature = "sse2"))]
mod tests {
    use super::*;
    use crate::grammar::{Line, classify};
    use proptest::prelude::*;

    /// The template's answer, checked to be the same in SSE2 and (where the
    /// CPU has it) AVX2: the scanner uses whichever the CPU supports.
    fn value(t: &Template, window: &[u8; 64], length: usize) -> Option<i64> {
        let sse2 = t.value(window, length);
        let mut padded = [b'\n'; simd::BEFORE + 64];
        padded[simd::BEFORE..].copy_from_slice(window);
        let end = simd::BEFORE + length.min(63);
        let line = LineWindow::new(
            padded[simd::BEFORE..].try_into().unwrap(),
            padded[end - simd::TAIL..end].try_into().unwrap(),
        );
        if let Some(avx2) = simd::avx2_forms::template_value(t, line, length) {
            assert_eq!(avx2, sse2, "SSE2 and AVX2 differ");
        }
        sse2
    }

    /// The line padded to the 64-byte window the scanner passes.
    fn window(line: &[u8]) -> [u8; 64] {
        let mut window = [b'\n'; 64];
        window[..line.len().min(64)].copy_from_slice(&line[..line.len().min(64)]);
        window
    }

    /// What the contract says the template may return for this line: the
    /// value if it is a record of `metric` with an epoch of `epoch` digits, an
    /// unsigned value of at most 8 digits and no `\r` (the scanner hands it the
    /// line up to its `\n`), nothing otherwise.
    fn expected(line: &[u8], metric: &[u8], epoch: usize) -> Option<i64> {
        let Line::Record { metric: m, value } = classify(line) else {
            return None;
        };
        let fields: Vec<&[u8]> = line.split(|&b| b == b',').collect();
        // A line and its `\n` fit in 32 lanes, with at most 8 value digits.
        let digits = (31 - (epoch + 1 + metric.len() + 1)).min(8);
        let fits = fields[0].len() == epoch
            && fields[2].len() <= digits
            && fields[2].iter().all(u8::is_ascii_digit);
        (m == metric && fits).then_some(value)
    }

    #[test]
    fn reads_the_case_study_line() {
        let t = Template::new(10, b"cpu_usage,").unwrap();
        let line = b"1362330056,cpu_usage,74";
        assert_eq!(value(&t, &window(line), line.len()), Some(74));
        let line = b"1362330056,cpu_usage,00000074";
        assert_eq!(value(&t, &window(line), line.len()), Some(74));
        let line = b"1,m,99999999";
        let t = Template::new(1, b"m,").unwrap();
        assert_eq!(value(&t, &window(line), line.len()), Some(99_999_999));
    }

    #[test]
    fn rejects_every_near_miss() {
        let t = Template::new(10, b"cpu_usage,").unwrap();
        for line in [
            &b"1362330056,cpu_usage,"[..],
            b"1362330056,cpu_usage,+",
            b"1362330056,cpu_usage,7 ",
            b"1362330056,cpu_usage,7\r",
            b"1362330056,cpu_usage,123456789",
            b"136233005x,cpu_usage,7",
            b"13623300566,cpu_usage,7",
            b"1362330056,cpu_usagE,7",
            b"1362330056,cpu_usage_,7",
            b"1362330056;cpu_usage,7",
            b"1362330056,cpu_usage,--7",
            // Signed values are records, but the template leaves them to the
            // caller's general path.
            b"1362330056,cpu_usage,-7",
            b"1362330056,cpu_usage,+7",
            b"1362330056,cpu_usage,\xd9\xa1",
        ] {
            assert_eq!(
                value(&t, &window(line), line.len()),
                None,
                "{}",
                line.escape_ascii()
            );
        }
    }

    #[test]
    fn declines_layouts_that_do_not_fit() {
        assert!(Template::new(0, b"m,").is_none());
        assert!(Template::new(10, b"a_much_longer_metric,").is_none());
        assert!(Template::new(12, b"cpu_usage,").is_some());
        // Epochs in milliseconds: room for 7 value digits, not 8.
        let t = Template::new(13, b"cpu_usage,").unwrap();
        let line = b"1362330056000,cpu_usage,1234567";
        assert_eq!(value(&t, &window(line), line.len()), Some(1_234_567));
        let line = b"1362330056000,cpu_usage,12345678";
        assert_eq!(value(&t, &window(line), line.len()), None);
    }

    /// Near-records: an epoch of 1-12 digits, a metric that is the one asked
    /// for or a near miss, and a value over digits, signs, `\r` and junk.
    fn near_record(metric: &'static str) -> impl Strategy<Value = Vec<u8>> {
        let near_misses = vec![
            format!("{metric}_"),
            metric[1..].to_owned(),
            metric.to_uppercase(),
        ];
        let digits = || proptest::collection::vec(b'0'..=b'9', 1..10);
        let value = prop_oneof![
            3 => digits(),
            1 => (prop_oneof![Just(b'-'), Just(b'+')], digits()).prop_map(|(sign, mut d)| { d.insert(0, sign); d }),
            1 => proptest::collection::vec(prop_oneof![
                4 => b'0'..=b'9',
                1 => Just(b'-'), 1 => Just(b'+'), 1 => Just(b'\r'), 1 => Just(b','), 1 => any::<u8>()
            ], 0..11),
        ];
        (
            1usize..=12,
            prop_oneof![3 => Just(metric.to_owned()), 1 => proptest::sample::select(near_misses)],
            value,
        )
            .prop_map(|(epoch, metric, value)| {
                let mut line = "7".repeat(epoch).into_bytes();
                line.push(b',');
                line.extend_from_slice(metric.as_bytes());
                line.push(b',');
                line.extend_from_slice(&value);
                line
            })
    }

    proptest! {
        /// Every layout up to the template's last lane (a prefix of up to 29
        /// bytes and its value end by lane 30, the `\n` in lane 31): the
        /// template answers exactly when the grammar says the line is such a
        /// record.
        #[test]
        fn agrees_with_the_grammar_on_near_records(
            (metric, line) in prop_oneof![Just("m"), Just("cpu_usage"), Just("abcdefghijk")]
                .prop_flat_map(|metric| (Just(metric), near_record(metric))),
            off_by in prop_oneof![4 => Just(0usize), 1 => Just(1), 1 => Just(2)],
        ) {
            prop_assume!(!line.contains(&b'\n'));
            // Mostly the line's own epoch length, sometimes one off either way.
            let epoch = (line.iter().take_while(|&&b| b == b'7').count() + off_by).saturating_sub(1).max(1);
            let checks = format!("{metric},");
            if let Some(t) = Template::new(epoch, checks.as_bytes()) {
                prop_assert_eq!(value(&t, &window(&line), line.len()), expected(&line, metric.as_bytes(), epoch));
            }
        }

        /// Any line over a hostile alphabet: the template answers exactly
        /// when the contract says the line is such a record.
        #[test]
        fn agrees_with_the_grammar(
            line in proptest::collection::vec(prop_oneof![
                Just(b'0'), Just(b'7'), Just(b'9'), Just(b','), Just(b'-'), Just(b'+'),
                Just(b'm'), Just(b'/'), Just(b':'), Just(b'\r'), Just(0x80u8), any::<u8>()
            ], 1..30),
            epoch in 1usize..6,
        ) {
            prop_assume!(!line.contains(&b'\n'));
            let t = Template::new(epoch, b"m,").unwrap();
            prop_assert_eq!(value(&t, &window(&line), line.len()), expected(&line, b"m", epoch));
        }
    }
}

#[cfg(test)]
mod words_tests {

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
            let checks = Checks::new(&metric);
            let words = checks.words.expect("a metric of 1-31 bytes without a comma");
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
