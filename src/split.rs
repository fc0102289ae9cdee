//! `memchr-split`'s line check: a line cut at its commas with bit masks.
//!
//! The scanner ([`crate::scan`]) finds line ends 64 bytes at a time and hands
//! this check the first 64 bytes from each line's start. Here the first 32 of
//! them are classified in one pass (SIMD where the CPU has it): which lanes
//! are commas, which are not digits. The rest is arithmetic on the two masks: the
//! commas are the lowest set bits, the epoch and the value must be digit
//! lanes, the metric is compared in place. No field is scanned byte by byte,
//! and no step waits for the one before it to find where a field ends, so the
//! CPU overlaps the work on consecutive lines.
//!
//! This is the same split the rung always did, `DIGITS,METRIC,VALUE`, with no
//! assumption about where the commas are: unlike `swar`'s template, a line of
//! any epoch length or metric length is split here. A line the masks cannot
//! settle (longer than 32 bytes, a value of more than 8 digits, CRLF,
//! anything malformed; a signed value, where the unsigned check is asked for)
//! is left to the caller's general path, so the answer never depends on
//! whether this check was used.

use crate::swar::{load, parse_value_digits};

/// Bytes of a line the masks cover: a longer line is left to the caller.
pub const LANES: usize = 32;

/// What the check makes of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A record of the metric asked for, with its value.
    Value(i64),
    /// A well-formed record of another metric.
    Other,
    /// Not settled here: the caller judges the line in full.
    Miss,
}

/// Lanes `0..n` of a mask (`n <= 63`).
#[inline(always)]
fn low_lanes(n: usize) -> u64 {
    (1u64 << (n & 63)) - 1
}

/// The verdict on the line of `length` bytes (without its `\n`) that starts
/// `window`, given `masks`, the comma and non-digit lanes of its first [`LANES`]
/// bytes ([`masks`] or [`masks_avx2`]), and `is_wanted`, which says whether
/// the metric asked for and its comma start at a given offset.
///
/// With `SIGNED` unset, a signed value is left to the caller: looking for a
/// sign keeps one more value live through the line, and the loop that has
/// no register to spare for it loses its accumulators to the stack. The
/// scanner runs the unsigned check until 16 lines of a buffer have missed
/// (for any reason: a sign, CRLF, a blank line), then the signed one.
#[inline(always)]
pub fn record<const SIGNED: bool>(
    window: &[u8; 64],
    length: usize,
    masks: (u32, u32),
    is_wanted: impl Fn(usize) -> bool,
) -> Verdict {
    if length > LANES {
        return Verdict::Miss;
    }
    let line = low_lanes(length);
    let commas = u64::from(masks.0) & line;
    let non_digits = u64::from(masks.1) & line;
    let first_comma = commas & commas.wrapping_neg();
    // The second comma's lane, <= 31 once the check below has found two
    // commas (computed here, wrapping, it measured 3% fewer instructions).
    let second = 63usize.wrapping_sub(commas.leading_zeros() as usize);
    // Exactly two commas, not side by side (the metric is not empty); the
    // line's first non-digit is the first comma, and that is not lane 0 (the
    // epoch is all digits and not empty).
    let split = commas.count_ones() == 2
        && commas & (commas >> 1) == 0
        && non_digits & non_digits.wrapping_neg() == first_comma
        && first_comma > 1;
    if !split {
        return Verdict::Miss;
    }
    // After the second comma: only digits, or (if `SIGNED`) a sign and then
    // only digits.
    let (digits_at, negative) = if non_digits.leading_zeros() == commas.leading_zeros() {
        (second + 1, false)
    } else if SIGNED && non_digits >> second == 3 {
        match window[(second + 1) & 63] {
            b'-' => (second + 2, true),
            b'+' => (second + 2, false),
            _ => return Verdict::Miss,
        }
    } else {
        return Verdict::Miss;
    };
    let count = length.wrapping_sub(digits_at); // huge if the value is empty
    if count.wrapping_sub(1) >= 8 {
        return Verdict::Miss;
    }
    // At most 8 digits, so `digits_at` <= 31 (the mask changes nothing) and
    // the value cannot overflow.
    let magnitude = parse_value_digits(load(window, digits_at & 31), count) as i64;
    if !is_wanted(first_comma.trailing_zeros() as usize + 1) {
        Verdict::Other
    } else if negative {
        Verdict::Value(-magnitude)
    } else {
        Verdict::Value(magnitude)
    }
}

/// Added to every byte (wrapping), this moves `'0'..='9'` to the bottom of
/// the signed byte range, -128..=-119, and every other byte above it, so one
/// signed compare finds the non-digits.
#[cfg(target_arch = "x86_64")]
const DIGIT_SHIFT: i8 = (128 - b'0' as i16) as i8;

/// `'9'` after [`DIGIT_SHIFT`].
#[cfg(target_arch = "x86_64")]
const LAST_SHIFTED_DIGIT: i8 = -119;

/// The comma and non-digit lanes of the first [`LANES`] bytes of `window`:
/// SSE2 on x86_64, SWAR words elsewhere.
#[inline(always)]
pub fn masks(window: &[u8; 64]) -> (u32, u32) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use std::arch::x86_64::{
            __m128i, _mm_add_epi8, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128,
            _mm_movemask_epi8, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is enabled (the cfg above); the loads read 16 bytes at
        // offsets 0 and 16 of a 64-byte array.
        unsafe {
            let half = |at: usize| {
                let bytes = _mm_loadu_si128(window.as_ptr().add(at).cast::<__m128i>());
                let commas = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b',' as i8));
                let shifted = _mm_add_epi8(bytes, _mm_set1_epi8(DIGIT_SHIFT));
                let non_digits = _mm_cmpgt_epi8(shifted, _mm_set1_epi8(LAST_SHIFTED_DIGIT));
                (
                    _mm_movemask_epi8(commas) as u32,
                    _mm_movemask_epi8(non_digits) as u32,
                )
            };
            let (low, high) = (half(0), half(16));
            (low.0 | high.0 << 16, low.1 | high.1 << 16)
        }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    masks_swar(window)
}

/// [`masks`] in one AVX2 vector.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub unsafe fn masks_avx2(window: &[u8; 64]) -> (u32, u32) {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi8, _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_loadu_si256,
        _mm256_movemask_epi8, _mm256_set1_epi8,
    };
    // SAFETY: the caller guarantees AVX2; the load reads 32 bytes at offset 0
    // of a 64-byte array.
    unsafe {
        let bytes = _mm256_loadu_si256(window.as_ptr().cast::<__m256i>());
        let commas = _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8(b',' as i8));
        let shifted = _mm256_add_epi8(bytes, _mm256_set1_epi8(DIGIT_SHIFT));
        let non_digits = _mm256_cmpgt_epi8(shifted, _mm256_set1_epi8(LAST_SHIFTED_DIGIT));
        (
            _mm256_movemask_epi8(commas) as u32,
            _mm256_movemask_epi8(non_digits) as u32,
        )
    }
}

/// Whether the `lanes` of `needle` (the metric asked for and its comma,
/// padded to 32 bytes) start at `at` (< 32) in `window`: one AVX2 compare, in
/// vector registers, which the scalar work on the masks needs all of.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub unsafe fn needle_at_avx2(window: &[u8; 64], at: usize, needle: &[u8; 32], lanes: u32) -> bool {
    use std::arch::x86_64::{__m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8};
    // SAFETY: the caller guarantees AVX2; the loads read 32 bytes at offset
    // `at & 31` (<= 31) of a 64-byte array and at offset 0 of a 32-byte one.
    let equal = unsafe {
        let bytes = _mm256_loadu_si256(window.as_ptr().add(at & 31).cast::<__m256i>());
        let needle = _mm256_loadu_si256(needle.as_ptr().cast::<__m256i>());
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, needle)) as u32
    };
    equal & lanes == lanes
}

/// [`masks`] with SWAR words, for CPUs without SSE2 (and as the tests'
/// second opinion).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn masks_swar(window: &[u8; 64]) -> (u32, u32) {
    use crate::swar::{digit_lanes, lanes_equal_to, movemask};
    (0..LANES / 8).fold((0, 0), |(commas, non_digits), k| {
        let word = load(window, 8 * k);
        let digits = movemask(digit_lanes(word)) as u32;
        (
            commas | (movemask(lanes_equal_to(word, b',')) as u32) << (8 * k),
            non_digits | (!digits & 0xff) << (8 * k),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::{Line, classify};
    use proptest::prelude::*;

    /// The line followed by `\n` and then `tail`, as the scanner's 64-byte window.
    fn window(line: &[u8], tail: u8) -> [u8; 64] {
        let mut window = [tail; 64];
        let shown = line.len().min(63);
        window[..shown].copy_from_slice(&line[..shown]);
        window[shown] = b'\n';
        window
    }

    /// The verdict with every way of computing the masks, checked to agree.
    fn verdict(line: &[u8], metric: &[u8], tail: u8) -> Verdict {
        let window = window(line, tail);
        let is_wanted = |at: usize| {
            window[at..].starts_with(metric) && window.get(at + metric.len()) == Some(&b',')
        };
        let swar = masks_swar(&window);
        assert_eq!(masks(&window), swar, "SSE2 and SWAR masks differ");
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was detected just above.
            assert_eq!(
                unsafe { masks_avx2(&window) },
                swar,
                "AVX2 and SWAR masks differ"
            );
        }
        let signed = record::<true>(&window, line.len(), swar, is_wanted);
        let unsigned = record::<false>(&window, line.len(), swar, is_wanted);
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
