//! `mask-split`'s line check: a line split by hand, with bit masks.
//!
//! The scanner ([`crate::scan`]) finds line ends 64 bytes at a time and hands
//! this check the first 64 bytes from each line's start. Here the first 32 of
//! them are classified in one pass (SIMD where the CPU has it): which lanes
//! are not digits. The epoch runs to the first of them, which must be the
//! comma that starts `,METRIC,`: that is one compare, against the field
//! placed at that lane (loaded from a strip of zeros and the field, so no
//! shift and no bounds check). Where it matches, the value is the rest of the line, and the
//! non-digit mask says whether it is all digits; the digits are parsed from
//! the word that ends the line. Only a line of another metric needs its
//! commas found. No field is scanned byte by byte, and no step waits for the
//! one before it to find where a field ends, so the CPU overlaps the work on
//! consecutive lines.
//!
//! This is the split the rung always did, `DIGITS,METRIC,VALUE`, with no
//! assumption about where the commas are: unlike `swar`'s template, a line of
//! any epoch length or metric length is split here. A line the masks cannot
//! settle (longer than 32 bytes, a value of more than 8 digits for the
//! metric asked for or of more than 18 for another, CRLF, anything
//! malformed; a signed value, where the unsigned check is asked for)
//! is left to the caller's general path, so the answer never depends on
//! whether this check was used.

use super::Checks;
use super::fast::{SPLIT_AFTER_MISSES, fold_missed_line};
use super::simd::{self, LineCheck, LineEnds, LineWindow, check_lines};
use super::tally::FastRun;
use crate::answer::Answer;

use crate::scan::simd::portable::{load, parse_value_digits};

/// Bytes of a line the masks cover: a longer line is left to the caller.
pub const LANES: usize = 32;

/// What the check makes of one line. The value is an `i64`, or in the AVX2
/// scan a vector lane ([`simd::Lane`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict<V = i64> {
    /// A record of the metric asked for, with its value.
    Value(V),
    /// A well-formed record of another metric.
    Other,
    /// Not settled here: the caller judges the line in full.
    Miss,
}

impl<V> Verdict<V> {
    /// The same verdict, its value (if any) passed through `f`.
    #[inline(always)]
    pub fn map<W>(self, f: impl FnOnce(V) -> W) -> Verdict<W> {
        match self {
            Verdict::Value(value) => Verdict::Value(f(value)),
            Verdict::Other => Verdict::Other,
            Verdict::Miss => Verdict::Miss,
        }
    }
}

/// A value as a check hands it on: made from an `i64` where the check
/// parsed it in a general register.
pub trait FromValue: Copy {
    fn from_value(value: i64) -> Self;
}

impl FromValue for i64 {
    #[inline(always)]
    fn from_value(value: i64) -> i64 {
        value
    }
}

/// Lanes `0..n` of a mask (`n <= 63`).
#[inline(always)]
fn low_bits(n: usize) -> u64 {
    (1u64 << (n & 63)) - 1
}

/// `,METRIC,` for the metric asked for, as [`record`] compares it: placed at
/// every lane where a line's first non-digit can be, so that the compare is
/// one vector loaded from a strip of bytes, with no shift and no bounds to
/// check.
#[derive(Debug, Clone)]
pub struct Field {
    /// [`LANES`] zeros, then `,METRIC,` and zeros: its [`LANES`] bytes from
    /// `LANES - p` hold `,METRIC,` at lane `p` (cut at the last lane).
    strip: [u8; 2 * LANES],
    /// The lanes of `,METRIC,` at lane `p`, and none at 0: a line that starts
    /// with its comma has no epoch.
    lanes_at: [u64; LANES + 1],
    /// The length of a line whose `,METRIC,` is at lane `p` and whose value
    /// has one digit: a line `n` bytes longer has `n + 1` digits. (The
    /// value's start would need one more instruction a line to turn into a
    /// digit count.)
    one_digit_length: [usize; LANES + 1],
    /// For a value of `n` digits (1 to 8), what the last bytes of `,METRIC,`
    /// add to it when it is read from the 4 (or, past 4 digits, 8) bytes that
    /// end the line ([`parse_line_end`]).
    bias: [u64; 9],
    /// The same for 1 to 4 digits (at `n - 1`), weighed byte by byte as
    /// the AVX2 scan weighs them ([`weigh_bytes4`]).
    pub(crate) byte_bias: [i32; 4],
}

impl Field {
    /// `None` where no line can be a record of `metric`, or where
    /// `,METRIC,` is longer than [`LANES`] bytes: the caller then takes the
    /// general path.
    pub fn new(metric: &[u8]) -> Option<Box<Field>> {
        let field = [b",", metric, b","].concat();
        if !crate::grammar::metric_can_match(metric) || field.len() > LANES {
            return None;
        }
        let mut strip = [0u8; 2 * LANES];
        strip[LANES..LANES + field.len()].copy_from_slice(&field);
        let mut lanes_at = [0u64; LANES + 1];
        for (p, lanes) in lanes_at.iter_mut().enumerate().skip(1) {
            *lanes = low_bits(field.len()) << p;
        }
        let mut bias = [0u64; 9];
        for (count, bias) in bias.iter_mut().enumerate().skip(1) {
            *bias = parse_line_end(zero_value_word(&field, count), count, &[0; 9]);
        }
        let byte_bias = std::array::from_fn(|extra| line_end_bias(&field, extra + 1));
        Some(Box::new(Field {
            strip,
            lanes_at,
            one_digit_length: std::array::from_fn(|p| p + field.len() + 1),
            bias,
            byte_bias,
        }))
    }

    /// The value of a line's last `extra + 1` digits (1 to 4), from `word`,
    /// the 4 bytes that end the line ([`parse_line_end`]).
    #[inline(always)]
    pub fn value4(&self, word: u32, extra: usize) -> u64 {
        parse_line_end(u64::from(word), extra + 1, &self.bias)
    }

    /// `,METRIC,` placed at lane `p` (<= 32) of [`LANES`] bytes.
    #[inline(always)]
    pub(crate) fn placed(&self, p: usize) -> &[u8; LANES] {
        self.strip[LANES - p.min(LANES)..]
            .first_chunk()
            .expect("LANES bytes from at most LANES into the strip")
    }

    /// The lanes of the first [`LANES`] bytes of `window` equal to those of
    /// `,METRIC,` placed at `p` (<= 32).
    #[inline(always)]
    pub fn equal_lanes(&self, window: &[u8; 64], p: usize) -> u32 {
        simd::equal_lanes(window, self.placed(p))
    }
}

/// The 4 bytes of `word` (the first at the low end) weighed 1000, 100, 10
/// and 1, as the AVX2 scan weighs them.
fn weigh_bytes4(word: u32) -> u32 {
    word.to_le_bytes()
        .iter()
        .fold(0, |sum, &byte| sum * 10 + u32::from(byte))
}

/// What the AVX2 scan must subtract for a value of `count` digits
/// (1 to 4) that follows `before` (at least `4 - count` bytes, the end of
/// `,METRIC,`): those bytes' weight, and that of the digits' `'0'`s.
pub fn line_end_bias(before: &[u8], count: usize) -> i32 {
    weigh_bytes4(zero_value_word(before, count) as u32) as i32
}

/// The word that ends a line whose value has `count` digits (1 to 8), all
/// of them `0`, after `before`: 4 bytes up to 4 digits, else 8 (the word a
/// parse reads), the bytes before the value taken from the end of `before`.
fn zero_value_word(before: &[u8], count: usize) -> u64 {
    let width = if count <= 4 { 4 } else { 8 };
    let tail = &before[before.len() - (width - count)..];
    let mut bytes = [b'0'; 8];
    bytes[..tail.len()].copy_from_slice(tail);
    u64::from_le_bytes(bytes)
}

/// The value of a line's last `count` bytes (1 to 8 digits), from `word`, the
/// 4 bytes (up to 4 digits, in its low half) or 8 bytes that end the line, the
/// bytes before the value included: `bias[count]` takes out what those add.
///
/// Each byte's low four bits are its weight (a digit's value; 0 to 15 for
/// the bytes before the value), and the three steps pair bytes, then pairs,
/// then quadruples, with no lane reaching the next: exact for any byte. So
/// the value's digits need no shift into place, and the bytes before it are
/// a constant of the metric, subtracted.
#[inline(always)]
fn parse_line_end(word: u64, count: usize, bias: &[u64; 9]) -> u64 {
    const NIBBLES: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    let weighted = if count <= 4 {
        // Bits 16..32 of the product: 100 * pair 0 + pair 1 (at most 16665).
        let nibbles = word as u32 & NIBBLES as u32;
        let pairs = nibbles.wrapping_mul(10).wrapping_add(nibbles >> 8) & 0x00ff_00ff;
        u64::from(pairs.wrapping_mul(1 + (100 << 16)) >> 16)
    } else {
        let nibbles = word & NIBBLES;
        let pairs = nibbles.wrapping_mul(10).wrapping_add(nibbles >> 8) & 0x00ff_00ff_00ff_00ff;
        let quads = pairs.wrapping_mul(100).wrapping_add(pairs >> 16) & 0x0000_ffff_0000_ffff;
        quads.wrapping_mul(10_000).wrapping_add(quads >> 32) & 0xffff_ffff
    };
    weighted.wrapping_sub(bias[count])
}

/// The verdict on the line of `length` bytes (without its `\n`) that starts
/// `window`, given the non-digit lanes of its first [`LANES`] bytes
/// ([`simd::masks`], or its AVX2 form), its comma lanes (asked for only when
/// `,METRIC,` does not follow the epoch), the `field` asked for, and
/// `equal_lanes`, the lanes of the window equal to those of the field placed
/// at a given lane ([`Field::equal_lanes`], or its AVX2 form).
///
/// The line is split as a hand-written parser would: the epoch runs to the
/// first non-digit, which must be the comma of `,METRIC,`. Where that
/// matches, the second comma is known, and one test on the non-digits settles
/// the rest: outside `,METRIC,`, the first non-digit must be the line's end,
/// so the epoch and the value are all digits. Only a line of another metric
/// (or a malformed one) needs its commas found ([`other`]).
///
/// With `SIGNED` unset, a signed value is left to the caller: looking for a
/// sign keeps one more value live through the line, and the loop that has
/// no register to spare for it loses its accumulators to the stack. The
/// scanner runs the unsigned check until 16 lines of a buffer have missed
/// (for any reason: a sign, CRLF, a blank line), then the signed one.
#[inline(always)]
pub(crate) fn record<const SIGNED: bool, V: FromValue>(
    line: LineWindow<'_>,
    length: usize,
    non_digits: u32,
    commas: impl Fn() -> u32,
    field: &Field,
    equal_lanes: impl Fn(usize) -> u32,
    value4: impl Fn(u32, usize) -> V,
) -> Verdict<V> {
    let window = line.bytes();
    let first = non_digits.trailing_zeros() as usize; // 32 if there is none
    let field_lanes = field.lanes_at[first];
    if u64::from(equal_lanes(first)) & field_lanes != field_lanes {
        return other::<SIGNED, V>(window, length, commas(), non_digits, first);
    }
    // `,METRIC,` at `first` (or `first` is 0, and this fails below): the line
    // is a record of the metric asked for, or malformed. Outside those lanes
    // the first non-digit must be the line's end (lane `length`, its `\n`; for
    // a line of 32 bytes, none of the 32 lanes), so the epoch is not empty and
    // the value is all digits. A line longer than 32 bytes fails here.
    let one_digit_length = field.one_digit_length[first];
    let outside = u64::from(non_digits) & !field_lanes;
    if (outside as u32).trailing_zeros() as usize == length {
        let extra = length.wrapping_sub(one_digit_length); // huge if the value is empty
        return if extra < 4 {
            Verdict::Value(value4(line.line_end::<4>() as u32, extra))
        } else if extra < 8 {
            crate::cold_path();
            let value = parse_line_end(line.line_end::<8>(), extra + 1, &field.bias);
            Verdict::Value(V::from_value(value as i64))
        } else {
            Verdict::Miss
        };
    }
    // With `SIGNED`, the one other non-digit may be a sign before the value.
    let digits_at = one_digit_length - 1;
    let sign = window[digits_at & 63];
    if !SIGNED
        || !matches!(sign, b'+' | b'-')
        || ((outside & !(1 << (digits_at & 63))) as u32).trailing_zeros() as usize != length
    {
        return Verdict::Miss;
    }
    let count = length.wrapping_sub(digits_at + 1);
    if count.wrapping_sub(1) >= 8 {
        return Verdict::Miss;
    }
    // At most 8 digits, so `digits_at + 1` <= 31 (the mask changes nothing).
    let magnitude = parse_value_digits(load(window, (digits_at + 1) & 31), count) as i64;
    Verdict::Value(V::from_value(if sign == b'-' {
        -magnitude
    } else {
        magnitude
    }))
}

/// [`record`] for a line whose first non-digit (at `first`) does not start
/// `,METRIC,`: `Other` if it is a well-formed record of another
/// metric that fits the masks (at most 32 bytes, a value of at most 18
/// digits, so that it is a valid `i64`), else `Miss`.
#[inline(always)]
fn other<const SIGNED: bool, V>(
    window: &[u8; 64],
    length: usize,
    commas: u32,
    non_digits: u32,
    first: usize,
) -> Verdict<V> {
    if length > LANES {
        return Verdict::Miss;
    }
    let line = low_bits(length);
    let commas = u64::from(commas) & line;
    let non_digits = u64::from(non_digits) & line;
    // The second comma's lane (63, wrapping, if there is none: then the
    // tests below fail).
    let second = 63usize.wrapping_sub(commas.leading_zeros() as usize);
    // Exactly two commas, the first of them the epoch's end, not side by side
    // (the metric is not empty). (`first` is not 0: there `record` found no
    // field lanes to compare, so it never comes here.)
    let split =
        commas.count_ones() == 2 && commas.trailing_zeros() as usize == first && second > first + 1;
    if !split {
        return Verdict::Miss;
    }
    // After the second comma: only digits, or (if `SIGNED`) a sign and then
    // only digits; 1 to 18 of them.
    let digits_at = if non_digits.leading_zeros() == commas.leading_zeros() {
        second + 1
    } else if SIGNED
        && non_digits >> second == 3
        && matches!(window[(second + 1) & 63], b'+' | b'-')
    {
        second + 2
    } else {
        return Verdict::Miss;
    };
    if length.wrapping_sub(digits_at).wrapping_sub(1) >= 18 {
        return Verdict::Miss;
    }
    Verdict::Other
}

/// `mask-split`'s scan: [`fold_lines`] with each line split by
/// [`record`], from a non-digit mask of its first 32 bytes (AVX2
/// where the CPU has it, else SSE2 or SWAR words).
///
/// Line ends are found 64 bytes at a time, independently of the split, so
/// the CPU can overlap the work on consecutive lines instead of waiting for
/// one line's split to learn where the next begins. A line the masks do not
/// settle (longer than 32 bytes, a value over 8 digits for the metric asked
/// for or over 18 for another, CRLF, malformed or blank; a signed value until 16 lines of the buffer have missed, when the
/// loop that looks for signs takes over) is read as [`fold_lines`] reads it,
/// and so are the last
/// [`grammar::WINDOW`] bytes and the rest of their 64-byte block, so the answer
/// is the same on every input.
#[inline]
pub fn fold_lines(text: &[u8], checks: &Checks, answer: &mut Answer) {
    let Some(field) = checks.field.as_deref() else {
        return super::fold_lines(text, checks.metric(), answer);
    };
    let wanted = checks.metric();
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
        let end = lines.line_start() - 1;
        missed_lines += 1;
        fold_missed_line(text, start, end, wanted, &mut run, answer);
    }
    run.flush_into(answer);
    super::fold_lines(&text[lines.line_start()..], checks.metric(), answer);
}

/// `mask-split`'s check ([`record`]), taking signed values if
/// `SIGNED` is set.
#[derive(Clone, Copy)]
pub(crate) struct SplitCheck<'a, const SIGNED: bool>(pub(crate) &'a Field);

impl<const SIGNED: bool> LineCheck for SplitCheck<'_, SIGNED> {
    #[inline(always)]
    fn verdict(self, line: LineWindow<'_>, length: usize) -> Verdict {
        let window = line.bytes();
        record::<SIGNED, i64>(
            line,
            length,
            simd::masks(window).1,
            || simd::masks(window).0,
            self.0,
            |p| self.0.equal_lanes(window, p),
            |word, extra| self.0.value4(word, extra) as i64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::{Line, classify};
    use proptest::prelude::*;

    /// The line followed by `\n` and then `tail`, as the scanner's window
    /// (with `tail` in the bytes before the line too).
    fn padded(line: &[u8], tail: u8) -> [u8; simd::BEFORE + 64] {
        let mut padded = [tail; simd::BEFORE + 64];
        let shown = line.len().min(63);
        padded[simd::BEFORE..][..shown].copy_from_slice(&line[..shown]);
        padded[simd::BEFORE + shown] = b'\n';
        padded
    }

    /// The window the scanner hands a check for a line of `length` bytes
    /// in `padded`.
    fn line_window(padded: &[u8; simd::BEFORE + 64], length: usize) -> LineWindow<'_> {
        let end = simd::BEFORE + length.min(63);
        LineWindow::new(
            padded[simd::BEFORE..].try_into().unwrap(),
            padded[end - simd::TAIL..end].try_into().unwrap(),
        )
    }

    /// The verdict with every way of computing the masks and the field's
    /// compare, checked to agree.
    fn verdict(line: &[u8], metric: &[u8], tail: u8) -> Verdict {
        let padded = padded(line, tail);
        let (line_window, window) = (
            line_window(&padded, line.len()),
            padded[simd::BEFORE..].try_into().unwrap(),
        );
        let window: &[u8; 64] = window;
        let field = Field::new(metric).expect("a metric the check takes");
        let swar = simd::portable::masks(window);
        assert_eq!(simd::masks(window), swar, "SSE2 and SWAR masks differ");
        for p in 0..=LANES {
            let plain = (0..LANES).fold(0u32, |mask, i| {
                mask | u32::from(window[i] == field.placed(p)[i]) << i
            });
            assert_eq!(field.equal_lanes(window, p), plain, "field compare at {p}");
            if let Some(lanes) = simd::avx2_forms::equal_lanes(window, field.placed(p)) {
                assert_eq!(lanes, plain, "AVX2 field compare at {p}");
            }
        }
        if let Some(masks) = simd::avx2_forms::masks(window) {
            assert_eq!(masks, swar, "AVX2 and SWAR masks differ");
        }
        let (signed, unsigned) = signed_and_unsigned(
            line_window,
            line.len(),
            swar,
            &field,
            |p| field.equal_lanes(window, p),
            |word, extra| field.value4(word, extra) as i64,
        );
        let avx2 = (
            simd::avx2_forms::split_verdict(SplitCheck::<true>(&field), line_window, line.len()),
            simd::avx2_forms::split_verdict(SplitCheck::<false>(&field), line_window, line.len()),
        );
        if let (Some(avx2_signed), Some(avx2_unsigned)) = avx2 {
            assert_eq!(avx2_signed, signed, "the AVX2 check differs");
            assert_eq!(avx2_unsigned, unsigned, "the AVX2 check differs");
        }
        // The unsigned check settles what the signed one does, but signed values.
        let signed_value = line
            .iter()
            .skip_while(|&&b| b != b',')
            .skip(1)
            .skip_while(|&&b| b != b',')
            .nth(1)
            .is_some_and(|b| matches!(b, b'+' | b'-'));
        if signed_value {
            assert_eq!(
                unsigned,
                Verdict::Miss,
                "unsigned check settled a signed value"
            );
        } else {
            assert_eq!(unsigned, signed, "the checks differ on an unsigned value");
        }
        signed
    }

    proptest! {
        /// The AVX2 multiply-adds weigh the last 4 bytes as the scalar
        /// reference does, for any bytes (the field's and the digits'), and
        /// so give the same value as the nibble weighing for every count.
        #[test]
        fn weighs_line_ends_as_the_nibbles_do(
            metric in proptest::collection::vec(any::<u8>().prop_filter("no comma", |&b| b != b','), 1..20),
            digits in proptest::collection::vec(b'0'..=b'9', 1..=4),
        ) {
            let Some(field) = Field::new(&metric) else { return Ok(()) };
            let line = [b",", metric.as_slice(), b",", digits.as_slice()].concat();
            let word = u32::from_le_bytes(line[line.len() - 4..].try_into().unwrap());
            let extra = digits.len() - 1;
            let value = digits.iter().fold(0, |v, &d| v * 10 + u64::from(d - b'0'));
            prop_assert_eq!(field.value4(word, extra), value);
            if let Some(avx2) = simd::avx2_forms::line_end_value(word, field.byte_bias[extra]) {
                prop_assert_eq!(avx2, value as i64);
            }
        }
    }

    /// [`record`]'s signed and unsigned verdicts on one line, given its
    /// `(commas, non_digits)` masks and one build's compare and weighing.
    fn signed_and_unsigned<V: FromValue>(
        window: LineWindow<'_>,
        length: usize,
        (commas, non_digits): (u32, u32),
        field: &Field,
        equal: impl Fn(usize) -> u32 + Copy,
        value4: impl Fn(u32, usize) -> V + Copy,
    ) -> (Verdict<V>, Verdict<V>) {
        (
            record::<true, V>(window, length, non_digits, || commas, field, equal, value4),
            record::<false, V>(window, length, non_digits, || commas, field, equal, value4),
        )
    }

    /// What the contract allows: a verdict it settles must be the grammar's.
    fn agrees(line: &[u8], metric: &[u8], verdict: Verdict) -> bool {
        match (verdict, classify(line)) {
            (Verdict::Miss, _) => true,
            (Verdict::Value(v), Line::Record { metric: m, value }) => m == metric && v == value,
            (Verdict::Other, Line::Record { metric: m, .. }) => m != metric,
            _ => false,
        }
    }

    #[test]
    fn splits_records_of_any_layout() {
        assert_eq!(
            verdict(b"1362330056,cpu_usage,74", b"cpu_usage", b'9'),
            Verdict::Value(74)
        );
        assert_eq!(verdict(b"1,m,-7", b"m", b'9'), Verdict::Value(-7));
        assert_eq!(verdict(b"1,m,+00000007", b"m", b'9'), Verdict::Value(7));
        assert_eq!(verdict(b"1,x,-7", b"m", b'9'), Verdict::Other);
        assert_eq!(
            verdict(b"12,memory_usage,16384", b"cpu_usage", b','),
            Verdict::Other
        );
        assert_eq!(
            verdict(b"1,m,99999999", b"m", b'9'),
            Verdict::Value(99_999_999)
        );
        assert_eq!(
            verdict(b"123456789012345678,cpu,12345", b"cpu", b'9'),
            Verdict::Value(12345)
        );
    }

    #[test]
    fn leaves_what_it_cannot_settle() {
        for line in [
            &b""[..],
            b"1,m",
            b"1,m,",
            b"1,m,-",
            b",m,1",
            b"1,,1",
            b"1,m,1,",
            b"1,m,1,2",
            b"1x,m,1",
            b"1,m,1x",
            b"1,m,1\r",
            b"1,m,--1",
            b"1,m,123456789",
            b"1,m,0000000000000000000000000007",
        ] {
            assert_eq!(
                verdict(line, b"m", b'1'),
                Verdict::Miss,
                "{}",
                line.escape_ascii()
            );
        }
    }

    #[test]
    fn compares_the_metric_exactly() {
        for (line, verdict_wanted) in [
            (&b"1,cpu_usage,7"[..], Verdict::Value(7)),
            (b"1,cpu_usage_total,7", Verdict::Other),
            (b"1,xcpu_usage,7", Verdict::Other),
            (b"1,CPU_USAGE,7", Verdict::Other),
            (b"1,cpu_usag,7", Verdict::Other),
            (b"1,cpu_usage ,7", Verdict::Other),
        ] {
            assert_eq!(
                verdict(line, b"cpu_usage", b'1'),
                verdict_wanted,
                "{}",
                line.escape_ascii()
            );
        }
    }

    proptest! {
        /// Any line over a hostile alphabet, with any bytes after its `\n`:
        /// whatever the check settles, the grammar says the same.
        #[test]
        fn agrees_with_the_grammar(
            line in proptest::collection::vec(prop_oneof![
                4 => b'0'..=b'9', 2 => Just(b','), 1 => Just(b'-'), 1 => Just(b'+'),
                2 => Just(b'm'), 1 => Just(b'/'), 1 => Just(b':'), 1 => Just(b'\r'), 1 => any::<u8>()
            ], 0..40),
            tail in prop_oneof![Just(b','), Just(b'7'), any::<u8>()],
        ) {
            prop_assume!(!line.contains(&b'\n'));
            let verdict = verdict(&line, b"m", tail);
            prop_assert!(agrees(&line, b"m", verdict), "{} -> {:?}", line.escape_ascii(), verdict);
        }

        /// Records of every layout that fits: the check settles them all
        /// (the unsigned check, all but the signed ones).
        #[test]
        fn settles_every_record_that_fits(
            epoch in "[0-9]{1,12}",
            metric in prop_oneof![Just("m".to_owned()), Just("cpu_usage".to_owned()), "[a-z_0-9]{1,10}"],
            sign in prop_oneof![Just(""), Just("-"), Just("+")],
            value in "[0-9]{1,8}",
        ) {
            let line = format!("{epoch},{metric},{sign}{value}");
            prop_assume!(line.len() <= LANES);
            let verdict = verdict(line.as_bytes(), b"m", b'9');
            prop_assert_ne!(verdict, Verdict::Miss);
            prop_assert!(agrees(line.as_bytes(), b"m", verdict));
        }
    }
}
