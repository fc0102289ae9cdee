//! The contract's record grammar, written once and shared by every rung that
//! does not use a regex (and by the regex rungs to validate what they captured).
//!
//! A line (without its `\n`) loses one trailing `\r`; if it is then empty it is
//! blank. Otherwise it is a record when it is exactly `EPOCH,METRIC,VALUE`:
//! EPOCH is ASCII digits, METRIC is one or more bytes other than `,`, VALUE is an
//! optional sign and ASCII digits that fit in an `i64` (leading zeros allowed).
//! Anything else is malformed. See `LOG-FORMAT.md` for the full text.
//!
//! This file is the spec, written for reading ([`classify`]); [`one_pass`]
//! holds the same rules ordered for speed, tested against it.

pub mod one_pass;

pub use one_pass::{Judgement, Metric, WINDOW, fold_line, judge, record_line, record_line_in};

/// What one line of a log is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// Empty once the `\r` is gone: skipped, not malformed.
    Blank,
    /// A well-formed record.
    Record { metric: &'a [u8], value: i64 },
    /// Anything else.
    Malformed,
}

/// Remove the one `\r` the contract allows before the end of a line.
#[inline(always)]
pub fn strip_cr(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

/// Classify one line, given without its `\n` (a trailing `\r` is removed here).
#[inline]
pub fn classify(line: &[u8]) -> Line<'_> {
    let line = strip_cr(line);
    if line.is_empty() {
        return Line::Blank;
    }
    match parse_record(line) {
        Some((metric, value)) => Line::Record { metric, value },
        None => Line::Malformed,
    }
}

/// Split a non-blank, `\r`-stripped line into metric and value, or `None` if it
/// is not a record.
#[inline]
pub fn parse_record(line: &[u8]) -> Option<(&[u8], i64)> {
    parse_fields(line).map(|(_, metric, value)| (metric, value))
}

/// Split a non-blank, `\r`-stripped line into epoch, metric and value, or
/// `None` if it is not a record.
#[inline]
pub fn parse_fields(line: &[u8]) -> Option<(&[u8], &[u8], i64)> {
    let first = memchr::memchr(b',', line)?;
    let (epoch, rest) = (&line[..first], &line[first + 1..]);
    let second = memchr::memchr(b',', rest)?;
    let (metric, value) = (&rest[..second], &rest[second + 1..]);
    // A third comma lands in `value`, where parse_value rejects it.
    if !is_epoch(epoch) || metric.is_empty() {
        return None;
    }
    Some((epoch, metric, parse_value(value)?))
}

/// A record's EPOCH (ASCII digits) as a number, or `None` when it does not
/// fit in 64 bits. Leading zeros are allowed and may be many.
#[inline]
pub fn epoch_value(epoch: &[u8]) -> Option<u64> {
    let start = epoch.iter().position(|&b| b != b'0').unwrap_or(epoch.len());
    let digits = &epoch[start..];
    if digits.len() > 20 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        n.checked_mul(10)?
            .checked_add(u64::from(b.wrapping_sub(b'0')))
    })
}

/// Validate the three fields a regex captured (split at the first two commas)
/// and return the value, or `None` if the line is malformed.
#[inline]
pub fn check_fields(epoch: &[u8], metric: &[u8], value: &[u8]) -> Option<i64> {
    if is_epoch(epoch) && !metric.is_empty() && !metric.contains(&b',') {
        parse_value(value)
    } else {
        None
    }
}

/// Whether any line can be a record of `metric` (non-empty, no comma, no
/// newline). Fast paths that match `,METRIC,` literally must check this first:
/// a metric with a comma would otherwise match lines that have too many
/// fields, and one with a newline would match across two lines.
pub fn metric_can_match(metric: &[u8]) -> bool {
    !metric.is_empty() && !metric.contains(&b',') && !metric.contains(&b'\n')
}

/// One or more ASCII digits.
#[inline]
pub fn is_epoch(field: &[u8]) -> bool {
    !field.is_empty() && field.iter().all(u8::is_ascii_digit)
}

/// Parse VALUE: `[+-]?[0-9]+` within the `i64` range. Leading zeros are allowed
/// and may be arbitrarily many, so the range is checked on the magnitude, never
/// on the number of digits.
#[inline(always)]
pub fn parse_value(field: &[u8]) -> Option<i64> {
    let (negative, digits) = match field {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, field),
    };
    if digits.is_empty() {
        return None;
    }
    if digits.len() <= SAFE_DIGITS {
        // No overflow is possible: skip the checked arithmetic.
        let mut magnitude: i64 = 0;
        for &byte in digits {
            let digit = byte.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            magnitude = magnitude * 10 + i64::from(digit);
        }
        return Some(if negative { -magnitude } else { magnitude });
    }
    let mut magnitude: u64 = 0;
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    const MIN_MAGNITUDE: u64 = i64::MIN.unsigned_abs();
    match (negative, magnitude) {
        (true, m) if m <= MIN_MAGNITUDE => Some(0u64.wrapping_sub(m) as i64),
        (false, m) => i64::try_from(m).ok(),
        _ => None,
    }
}

/// Digits that always fit in an `i64` (`10^18 - 1 < i64::MAX`).
pub(crate) const SAFE_DIGITS: usize = 18;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Answer;

    fn record(metric: &str, value: i64) -> Line<'_> {
        Line::Record {
            metric: metric.as_bytes(),
            value,
        }
    }

    #[test]
    fn a_plain_record_parses() {
        assert_eq!(
            classify(b"1362330056,cpu_usage,74"),
            record("cpu_usage", 74)
        );
    }

    #[test]
    fn one_trailing_cr_is_removed_and_only_one() {
        assert_eq!(classify(b"1,m,5\r"), record("m", 5));
        assert_eq!(classify(b"1,m,5\r\r"), Line::Malformed);
    }

    #[test]
    fn empty_and_lone_cr_lines_are_blank() {
        assert_eq!(classify(b""), Line::Blank);
        assert_eq!(classify(b"\r"), Line::Blank);
    }

    #[test]
    fn whitespace_is_not_trimmed() {
        assert_eq!(classify(b" "), Line::Malformed);
        assert_eq!(classify(b"1,m,5 "), Line::Malformed);
        assert_eq!(classify(b"1,m ,5"), record("m ", 5));
    }

    #[test]
    fn field_count_must_be_three() {
        for line in [
            &b"1,m"[..],
            b"1",
            b"1,m,5,6",
            b",,",
            b"1,,5",
            b",m,5",
            b"1,m,",
        ] {
            assert_eq!(classify(line), Line::Malformed, "{:?}", line);
        }
    }

    #[test]
    fn metric_is_any_bytes_but_comma() {
        let expected = Line::Record {
            metric: b"\xff\x00 x",
            value: 5,
        };
        assert_eq!(classify(b"1,\xff\x00 x,5"), expected);
    }

    #[test]
    fn epoch_must_be_ascii_digits() {
        for line in [
            &b"-1,m,5"[..],
            b"+1,m,5",
            b"1a,m,5",
            b" 1,m,5",
            "١,m,5".as_bytes(),
        ] {
            assert_eq!(classify(line), Line::Malformed, "{:?}", line);
        }
        assert_eq!(
            classify(b"0000000000000000000000000000001,m,5"),
            record("m", 5)
        );
    }

    #[test]
    fn value_sign_and_leading_zeros() {
        assert_eq!(parse_value(b"+7"), Some(7));
        assert_eq!(parse_value(b"-0"), Some(0));
        assert_eq!(parse_value(b"007"), Some(7));
        assert_eq!(parse_value(b"000000000000000000000000000000042"), Some(42));
        for bad in [
            &b""[..],
            b"+",
            b"-",
            b"+-1",
            b"--1",
            b"1-",
            b"1.0",
            b"1e3",
            b" 1",
            "５".as_bytes(),
        ] {
            assert_eq!(parse_value(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn value_range_is_exactly_i64() {
        assert_eq!(parse_value(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_value(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_value(b"-0009223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_value(b"9223372036854775808"), None);
        assert_eq!(parse_value(b"-9223372036854775809"), None);
        assert_eq!(parse_value(b"18446744073709551616"), None);
        assert_eq!(parse_value(b"99999999999999999999999"), None);
    }

    #[test]
    fn value_parser_agrees_with_std_on_ascii() {
        for text in [
            "0",
            "-1",
            "+12",
            "0012",
            "-",
            "",
            "9223372036854775807",
            "9223372036854775808",
        ] {
            assert_eq!(
                parse_value(text.as_bytes()),
                text.parse::<i64>().ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn fold_counts_lines_and_first_malformed() {
        let mut answer = Answer::new();
        for line in [&b"1,m,5"[..], b"", b"oops", b"2,other,9", b"bad"] {
            fold_line(&mut answer, line, Metric::new(b"m"));
        }
        assert_eq!(answer.key(), (1, 5, 5, 5, 2));
        assert_eq!(answer.lines, 5);
        assert_eq!(answer.first_malformed, Some(3));
    }

    /// Call `check` with every string of 1 to `max_len` bytes over `alphabet`.
    fn every_string(alphabet: &[u8], max_len: u32, mut check: impl FnMut(&[u8])) {
        let mut text = Vec::new();
        for len in 1..=max_len {
            for mut code in 0..alphabet.len().pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                check(&text);
            }
        }
    }

    #[test]
    fn judge_agrees_with_classify_on_every_short_line() {
        // Every line of up to 5 bytes over an alphabet that hits each branch,
        // for metrics that can and cannot match.
        let alphabet = b"01,m-+\xff";
        for metric in [&b"m"[..], b"m0", b"", b"m,", b"0"] {
            let wanted = Metric::new(metric);
            every_string(alphabet, 5, |line| {
                let expected = match classify(line) {
                    Line::Blank => unreachable!("no blank line is generated"),
                    Line::Record { metric: m, value } if m == metric => Judgement::Wanted(value),
                    Line::Record { .. } => Judgement::Other,
                    Line::Malformed => Judgement::Malformed,
                };
                assert_eq!(judge(line, wanted), expected, "{line:?} for {metric:?}");
            });
        }
    }

    #[test]
    fn record_line_is_certain_or_declines() {
        // Whatever record_line accepts must be, by the full grammar, a record
        // of the metric with that value (or of another metric when it says
        // so), ending exactly where it says.
        let alphabet = b"01,mn-+\r\n";
        let wanted = Metric::new(b"m");
        let (mut accepted, mut others) = (0, 0);
        every_string(alphabet, 7, |text| {
            let Some((value, length)) = record_line(text, wanted) else {
                return;
            };
            accepted += 1;
            assert_eq!(text[length - 1], b'\n', "{text:?}");
            let line = &text[..length - 1];
            assert!(!line.contains(&b'\n'), "{text:?}");
            match (value, classify(line)) {
                (Some(value), got) => assert_eq!(got, record("m", value), "{text:?}"),
                (None, Line::Record { metric, .. }) if metric != b"m" => others += 1,
                (None, got) => panic!("{text:?}: another metric, but the grammar says {got:?}"),
            }
        });
        // And it does accept the common shapes (with and without CRLF, signs).
        assert!(
            accepted > 30 && others > 30,
            "only {accepted} accepted, {others} others"
        );
        assert_eq!(record_line(b"1,m,5\n", wanted), Some((Some(5), 6)));
        assert_eq!(record_line(b"1,m,-5\r\nx", wanted), Some((Some(-5), 8)));
        assert_eq!(record_line(b"1,mm,-5\r\nx", wanted), Some((None, 9)));
        assert_eq!(record_line(b"1,m,5", wanted), None);
        assert_eq!(record_line(b"1,m,5\r", wanted), None);
        assert_eq!(record_line(b"1,,5\n", wanted), None);
        // A metric that no line can carry: every record is another metric's.
        assert_eq!(
            record_line(b"1,m,5\n", Metric::new(b"m,5")),
            Some((None, 6))
        );
    }

    #[test]
    fn the_windowed_check_agrees_with_the_general_one() {
        // Every short text over the hostile alphabet, at the start of a full
        // window (the rest of it another line), and the long fields the
        // window gives up on.
        let alphabet = b"01,mn-+\r\n";
        let wanted = Metric::new(b"m");
        let in_window = |text: &[u8]| {
            let mut window = [b'7'; WINDOW];
            window[..text.len()].copy_from_slice(text);
            window[text.len()] = b'\n';
            (
                record_line_in(&window, wanted),
                record_line(&window, wanted),
            )
        };
        every_string(alphabet, 7, |text| {
            let (windowed, general) = in_window(text);
            assert_eq!(windowed, general, "{text:?}");
        });
        let long_value = format!("1,m,{}\n", "9".repeat(18));
        assert_eq!(
            in_window(long_value.as_bytes()).0,
            Some((Some(999_999_999_999_999_999), long_value.len()))
        );
        // 19 digits: both leave it to the full parser; a 41-digit epoch or a
        // 33-byte other metric: only the window gives up.
        let too_long = format!("1,m,{}\n", "9".repeat(19));
        assert_eq!(in_window(too_long.as_bytes()), (None, None));
        let long_epoch = format!("{},m,1\n", "1".repeat(41));
        assert_eq!(
            in_window(long_epoch.as_bytes()),
            (None, Some((Some(1), long_epoch.len())))
        );
        let long_other = format!("1,{},1\n", "n".repeat(33));
        assert_eq!(
            in_window(long_other.as_bytes()),
            (None, Some((None, long_other.len())))
        );
        let fits_other = format!("1,{},1\n", "n".repeat(32));
        assert_eq!(
            in_window(fits_other.as_bytes()).0,
            Some((None, fits_other.len()))
        );
        let long_metric = "m".repeat(33);
        let line = format!("1,{long_metric},5\n");
        let mut window = [b'\n'; WINDOW];
        window[..line.len()].copy_from_slice(line.as_bytes());
        assert_eq!(
            record_line_in(&window, Metric::new(long_metric.as_bytes())),
            None
        );
    }
}
