//! The contract's record grammar, written once and shared by every rung that
//! does not use a regex (and by the regex rungs to validate what they captured).
//!
//! A line (without its `\n`) loses one trailing `\r`; if it is then empty it is
//! blank. Otherwise it is a record when it is exactly `EPOCH,METRIC,VALUE`:
//! EPOCH is ASCII digits, METRIC is one or more bytes other than `,`, VALUE is an
//! optional sign and ASCII digits that fit in an `i64` (leading zeros allowed).
//! Anything else is malformed. See `LOG-FORMAT.md` for the full text.

use crate::answer::Answer;

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
    let first = memchr::memchr(b',', line)?;
    let (epoch, rest) = (&line[..first], &line[first + 1..]);
    let second = memchr::memchr(b',', rest)?;
    let (metric, value) = (&rest[..second], &rest[second + 1..]);
    // A third comma lands in `value`, where parse_value rejects it.
    if !is_epoch(epoch) || metric.is_empty() {
        return None;
    }
    Some((metric, parse_value(value)?))
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

/// Whether any line can be a record of `metric` (non-empty, no comma). Fast
/// paths that match `,METRIC,` literally must check this first: a metric with a
/// comma would otherwise match lines that have too many fields.
pub fn metric_can_match(metric: &[u8]) -> bool {
    !metric.is_empty() && !metric.contains(&b',')
}

/// One or more ASCII digits.
#[inline]
pub fn is_epoch(field: &[u8]) -> bool {
    !field.is_empty() && field.iter().all(u8::is_ascii_digit)
}

/// Parse VALUE: `[+-]?[0-9]+` within the `i64` range. Leading zeros are allowed
/// and may be arbitrarily many, so the range is checked on the magnitude, never
/// on the number of digits.
#[inline]
pub fn parse_value(field: &[u8]) -> Option<i64> {
    let (negative, digits) = match field {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, field),
    };
    if digits.is_empty() {
        return None;
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

/// Fold one line (without `\n`) into `answer`: the step every byte-oriented rung shares.
#[inline]
pub fn fold_line(answer: &mut Answer, line: &[u8], metric: &[u8]) {
    answer.add_line();
    match classify(line) {
        Line::Blank => {}
        Line::Record { metric: m, value } => {
            if m == metric {
                answer.add_value(value);
            }
        }
        Line::Malformed => answer.add_malformed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            fold_line(&mut answer, line, b"m");
        }
        assert_eq!(answer.key(), (1, 5, 5, 5, 2));
        assert_eq!(answer.lines, 5);
        assert_eq!(answer.first_malformed, Some(3));
    }
}
