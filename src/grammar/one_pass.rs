//! The recognisers: the grammar's rules in the order that is fastest for
//! the common line, for the metric asked for. Each gives the same verdict as
//! [`super::classify`] on every line (unit and property tests hold them to
//! it), so a rung may use them in place of the spec.

use super::{SAFE_DIGITS, metric_can_match, parse_value, strip_cr};
use crate::answer::Answer;

/// `a == b` for slices of equal length, without a call to `memcmp` for the
/// short lengths metric names have (two overlapping word compares).
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4"));
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

/// The metric asked for: the one type every recogniser takes for it, with
/// the one fact about it they need besides its bytes, whether any line can
/// be a record of it at all. (The fast checks compile it further: see
/// `crate::scan::Checks`.)
#[derive(Debug, Clone, Copy)]
pub struct Metric<'a> {
    metric: &'a [u8],
    can_match: bool,
}

impl<'a> Metric<'a> {
    pub fn new(metric: &'a [u8]) -> Metric<'a> {
        Metric {
            metric,
            can_match: metric_can_match(metric),
        }
    }

    /// Its bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.metric
    }
}

/// What a non-blank line contributes, decided with the checks ordered for
/// speed; the same verdict as [`classify`] on every line (a unit test and the
/// property tests hold it to that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// A record of the metric asked for.
    Wanted(i64),
    /// A record of another metric.
    Other,
    Malformed,
}

/// Judge a non-blank, `\r`-stripped line. The epoch's digits are checked while
/// scanning to the first comma; then the metric asked for is compared in place
/// (two word compares and the comma after it), so a record of it never needs
/// the second comma searched for. Only other metrics take the `memchr`.
#[inline(always)]
pub fn judge(line: &[u8], wanted: Metric<'_>) -> Judgement {
    let Some(epoch) = line.iter().position(|byte| !byte.is_ascii_digit()) else {
        return Judgement::Malformed; // all digits: no comma at all
    };
    if epoch == 0 || line[epoch] != b',' {
        return Judgement::Malformed;
    }
    let rest = &line[epoch + 1..];
    let metric = wanted.metric;
    if wanted.can_match
        && rest.len() > metric.len()
        && rest[metric.len()] == b','
        && same_bytes(&rest[..metric.len()], metric)
    {
        return match parse_value(&rest[metric.len() + 1..]) {
            Some(value) => Judgement::Wanted(value),
            None => Judgement::Malformed,
        };
    }
    // Another metric (when `can_match` is false, no line's metric can equal it).
    match memchr::memchr(b',', rest) {
        Some(second) if second > 0 && parse_value(&rest[second + 1..]).is_some() => {
            Judgement::Other
        }
        _ => Judgement::Malformed,
    }
}

/// A well-formed record at the start of `text`, in its common shape,
/// recognised in one pass that also finds where the line ends: the epoch's
/// digits are scanned to the first comma; the metric asked for is compared in
/// place (and only when that fails is another metric scanned to its comma);
/// the value's digits are parsed up to the `\n` (or `\r\n`) that must follow
/// them. Returns the value if the metric is the one asked for (`None` for
/// another metric) and the line's length with its line end; or `None` when
/// the line is anything else (malformed, a long value, no line end yet...),
/// which the caller then judges in full.
#[inline(always)]
pub fn record_line(text: &[u8], wanted: Metric<'_>) -> Option<(Option<i64>, usize)> {
    one_pass_record(
        text,
        |i| text.get(i).copied(),
        usize::MAX,
        usize::MAX,
        wanted,
    )
}

/// Bytes [`record_line_in`] reads from: every line it accepts lies inside.
pub const WINDOW: usize = 128;

/// [`record_line`] for a line with at least [`WINDOW`] bytes of text after its
/// start, the case for all but the last lines of a buffer. The steps are the
/// same, byte by byte, but every index is inside one fixed-size array, so the
/// compiler drops the bounds checks and the slice bookkeeping that the
/// general version pays on every byte (callgrind: about a third of its
/// instructions). Fields longer than the window allows (an epoch over 40
/// digits, a metric over 32 bytes) give `None`, and the caller judges the line
/// in full, so the answer is the same.
#[inline(always)]
pub fn record_line_in(window: &[u8; WINDOW], wanted: Metric<'_>) -> Option<(Option<i64>, usize)> {
    // 40 + 1 + 32 + 1 + sign + 19 digits + `\r\n` < WINDOW: no index leaves it.
    if wanted.metric.len() > FIELD_MAX {
        return None;
    }
    one_pass_record(
        window,
        |i| Some(window[i & (WINDOW - 1)]),
        40,
        FIELD_MAX,
        wanted,
    )
}

/// The longest metric [`record_line_in`] reads.
const FIELD_MAX: usize = 32;

/// The steps of [`record_line`], over bytes read through `byte` (`None` past
/// the end of `text`), with the epoch scan stopped after `epoch_max` digits
/// and another metric's after `metric_max` bytes.
#[inline(always)]
fn one_pass_record(
    text: &[u8],
    byte: impl Fn(usize) -> Option<u8>,
    epoch_max: usize,
    metric_max: usize,
    wanted: Metric<'_>,
) -> Option<(Option<i64>, usize)> {
    let mut epoch = 0;
    while epoch < epoch_max && byte(epoch).is_some_and(|b| b.is_ascii_digit()) {
        epoch += 1;
    }
    if epoch == 0 || byte(epoch) != Some(b',') {
        return None;
    }
    let metric = wanted.metric;
    let metric_end = epoch + 1 + metric.len();
    if wanted.can_match
        && byte(metric_end) == Some(b',')
        && same_bytes(&text[epoch + 1..metric_end], metric)
    {
        return value_to_line_end(&byte, metric_end + 1)
            .map(|(value, length)| (Some(value), length));
    }
    other_metric_record(&byte, epoch, metric_max).map(|length| (None, length))
}

/// The rest of [`one_pass_record`] for a line whose metric is not the one
/// asked for: one to `longest` bytes up to the next comma (a `\n` first means
/// the line ends inside the metric), then the value. The line's length, or
/// `None` if it is not a well-formed record. Out of line: on the case study's
/// data no line comes here, and inlined it costs the wanted path registers.
#[inline(never)]
fn other_metric_record(
    byte: &impl Fn(usize) -> Option<u8>,
    epoch: usize,
    longest: usize,
) -> Option<usize> {
    let mut end = epoch + 1;
    while end - epoch <= longest && byte(end).is_some_and(|b| b != b',' && b != b'\n') {
        end += 1;
    }
    if end == epoch + 1 || byte(end) != Some(b',') {
        return None;
    }
    value_to_line_end(byte, end + 1).map(|(_, length)| length)
}

/// A value starting at `start` (an optional sign and 1-18 digits) that ends
/// the line (`\n` or `\r\n`): the value and the line's length with its end.
#[inline(always)]
fn value_to_line_end(byte: &impl Fn(usize) -> Option<u8>, start: usize) -> Option<(i64, usize)> {
    let (negative, digits_start) = match byte(start) {
        Some(b'-') => (true, start + 1),
        Some(b'+') => (false, start + 1),
        _ => (false, start),
    };
    let (mut magnitude, mut end) = (0i64, digits_start);
    while end - digits_start <= SAFE_DIGITS {
        let Some(digit) = byte(end).map(|b| b.wrapping_sub(b'0')).filter(|&d| d <= 9) else {
            break;
        };
        // Wraps only on a 19th digit, and then the value is declined below.
        magnitude = magnitude.wrapping_mul(10).wrapping_add(i64::from(digit));
        end += 1;
    }
    // 1..=18 digits cannot overflow; longer values take the full parser.
    if end == digits_start || end - digits_start > SAFE_DIGITS {
        return None;
    }
    let length = match (byte(end), byte(end + 1)) {
        (Some(b'\n'), _) => end + 1,
        (Some(b'\r'), Some(b'\n')) => end + 2,
        _ => return None,
    };
    Some((if negative { -magnitude } else { magnitude }, length))
}

/// Fold one line (without `\n`) into `answer`: the step every byte-oriented rung shares.
#[inline(always)]
pub fn fold_line(answer: &mut Answer, line: &[u8], wanted: Metric<'_>) {
    answer.add_line();
    let line = strip_cr(line);
    if line.is_empty() {
        return;
    }
    match judge(line, wanted) {
        Judgement::Wanted(value) => answer.add_value(value),
        Judgement::Other => {}
        Judgement::Malformed => answer.add_malformed(),
    }
}
