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

use super::Needle;
use super::fast::{
    FAST_SLACK, LineCheck, LineEnds, SPLIT_AFTER_MISSES, check_lines, fold_missed_line,
};
use super::tally::FastRun;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use super::tally::LaneTally;
use crate::answer::Answer;
use crate::grammar;

use crate::scan::simd::swar::{load, parse_value_digits};

/// Bytes of a line the masks cover: a longer line is left to the caller.
pub const LANES: usize = 32;

/// What the check makes of one line. The value is an `i64`, or in the AVX2
/// scan a [`Lane`].
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

/// A value of at most 8 digits, signed, in the low lane of a vector: an
/// `i64` in the low 64 bits, and so also an `i32` in the low 32 (`|value| <
/// 2^27`). The AVX2 scan adds, compares and keeps values in vector
/// registers ([`Field::value4_lane_avx2`] leaves them there), not in the
/// general registers its loop has too few of.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub struct Lane(pub std::arch::x86_64::__m128i);

#[cfg(target_arch = "x86_64")]
impl Lane {
    /// The value, as an `i64`.
    #[inline(always)]
    #[allow(unused_unsafe)] // the intrinsic is safe from Rust 1.87, unsafe before
    pub fn get(self) -> i64 {
        // SAFETY: SSE2 is part of x86_64.
        unsafe { std::arch::x86_64::_mm_cvtsi128_si64(self.0) }
    }
}

#[cfg(target_arch = "x86_64")]
impl FromValue for Lane {
    #[inline(always)]
    #[allow(unused_unsafe)] // the intrinsic is safe from Rust 1.87, unsafe before
    fn from_value(value: i64) -> Lane {
        // SAFETY: SSE2 is part of x86_64.
        Lane(unsafe { std::arch::x86_64::_mm_cvtsi64_si128(value) })
    }
}

/// Lanes `0..n` of a mask (`n <= 63`).
#[inline(always)]
fn low_lanes(n: usize) -> u64 {
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
    /// [`Field::value4_lane_avx2`] does ([`weigh_bytes4`]).
    byte_bias: [i32; 4],
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
            *lanes = low_lanes(field.len()) << p;
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

    /// [`Field::value4`] in two vector multiply-adds
    /// ([`line_end_lane_avx2`]), left in its vector as a [`Lane`].
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn value4_lane_avx2(&self, word: u32, extra: usize) -> Lane {
        // SAFETY: the caller guarantees AVX2.
        unsafe { line_end_lane_avx2(word, self.byte_bias[extra]) }
    }

    /// `,METRIC,` placed at lane `p` (<= 32) of [`LANES`] bytes.
    #[inline(always)]
    fn placed(&self, p: usize) -> &[u8; LANES] {
        self.strip[LANES - p.min(LANES)..]
            .first_chunk()
            .expect("LANES bytes from at most LANES into the strip")
    }

    /// The lanes of the first [`LANES`] bytes of `window` equal to those of
    /// `,METRIC,` placed at `p` (<= 32): SSE2 on x86_64, SWAR words elsewhere.
    #[inline(always)]
    pub fn equal_lanes(&self, window: &[u8; 64], p: usize) -> u32 {
        let placed = self.placed(p);
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        {
            use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8};
            // SAFETY: SSE2 is enabled (the cfg above); the loads read 16 bytes
            // at offsets 0 and 16 of two arrays of at least 32 bytes.
            unsafe {
                let half = |at: usize| {
                    let text = _mm_loadu_si128(window.as_ptr().add(at).cast::<__m128i>());
                    let field = _mm_loadu_si128(placed.as_ptr().add(at).cast::<__m128i>());
                    _mm_movemask_epi8(_mm_cmpeq_epi8(text, field)) as u32
                };
                half(0) | half(16) << 16
            }
        }
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        {
            use crate::scan::simd::swar::{equal_lanes, movemask};
            (0..LANES / 8).fold(0, |mask, k| {
                let equal = equal_lanes(load(window, 8 * k), load(placed, 8 * k));
                mask | (movemask(equal) as u32) << (8 * k)
            })
        }
    }

    /// [`Field::equal_lanes`] in one AVX2 compare.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn equal_lanes_avx2(&self, window: &[u8; 64], p: usize) -> u32 {
        use std::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8,
        };
        let placed = self.placed(p);
        // SAFETY: the caller guarantees AVX2; the loads read 32 bytes at
        // offset 0 of a 64-byte and a 32-byte array.
        unsafe {
            let text = _mm256_loadu_si256(window.as_ptr().cast::<__m256i>());
            let field = _mm256_loadu_si256(placed.as_ptr().cast::<__m256i>());
            _mm256_movemask_epi8(_mm256_cmpeq_epi8(text, field)) as u32
        }
    }
}

/// The 4 bytes of `word` (the first at the low end) weighed 1000, 100, 10
/// and 1, as [`line_end_lane_avx2`] weighs them.
fn weigh_bytes4(word: u32) -> u32 {
    word.to_le_bytes()
        .iter()
        .fold(0, |sum, &byte| sum * 10 + u32::from(byte))
}

/// What [`line_end_lane_avx2`] must subtract for a value of `count` digits
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

/// The value of up to 4 digits that ends `word`, the 4 bytes that end a
/// line, in two vector multiply-adds where scalar steps take seven: each
/// byte is weighed in full (1000, 100, 10, 1), the digits and the bytes
/// before them alike, and `bias` ([`line_end_bias`]) takes out what the
/// bytes before them and the `'0'`s add. The weighed bytes are in the low
/// 32-bit lane with zeros above, and the value is not negative, so the
/// result is a [`Lane`].
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub unsafe fn line_end_lane_avx2(word: u32, bias: i32) -> Lane {
    use std::arch::x86_64::{
        _mm_cvtsi32_si128, _mm_madd_epi16, _mm_maddubs_epi16, _mm_setr_epi8, _mm_setr_epi16,
        _mm_sub_epi32,
    };
    let bytes = _mm_cvtsi32_si128(word as i32);
    // Byte pairs, the first (the higher digit) times 10: at most 255 * 11,
    // no saturation. Then the pairs, the first times 100.
    let pairs = _mm_maddubs_epi16(
        bytes,
        _mm_setr_epi8(10, 1, 10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    );
    let weighed = _mm_madd_epi16(pairs, _mm_setr_epi16(100, 1, 0, 0, 0, 0, 0, 0));
    Lane(_mm_sub_epi32(weighed, _mm_cvtsi32_si128(bias)))
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
/// ([`masks`] or [`masks_avx2`]), its comma lanes (asked for only when
/// `,METRIC,` does not follow the epoch), the `field` asked for, and
/// `equal_lanes`, the lanes of the window equal to those of the field placed
/// at a given lane ([`Field::equal_lanes`] or [`Field::equal_lanes_avx2`]).
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
pub fn record<const SIGNED: bool, V: FromValue>(
    window: &[u8; 64],
    length: usize,
    non_digits: u32,
    commas: impl Fn() -> u32,
    field: &Field,
    equal_lanes: impl Fn(usize) -> u32,
    value4: impl Fn(u32, usize) -> V,
) -> Verdict<V> {
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
        // Where there are 1 to 8 digits (the two branches that read),
        // 4 <= 3 + `count` <= `length` <= 32: the word that ends the line
        // lies in the window.
        let extra = length.wrapping_sub(one_digit_length); // huge if the value is empty
        return if extra < 4 {
            Verdict::Value(value4(line_end::<4>(window, length) as u32, extra))
        } else if extra < 8 {
            crate::cold_path();
            let value = parse_line_end(line_end::<8>(window, length), extra + 1, &field.bias);
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

/// The `N` bytes (4 or 8) of `window` that end at `length`, little-endian.
/// The caller has checked that `N <= length <= 32`.
#[inline(always)]
fn line_end<const N: usize>(window: &[u8; 64], length: usize) -> u64 {
    debug_assert!(N <= length && length <= LANES);
    // SAFETY: `N <= length <= 32`, so the bytes read, `length - N ..
    // length`, lie in the 64-byte window. (Checked indexing here cost a
    // mask or a compare on every line.)
    unsafe {
        let at = window.as_ptr().add(length - N);
        if N == 4 {
            u64::from(at.cast::<u32>().read_unaligned().to_le())
        } else {
            at.cast::<u64>().read_unaligned().to_le()
        }
    }
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
    let line = low_lanes(length);
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

/// [`masks`] with SWAR words, for CPUs without SSE2 (and as the tests'
/// second opinion).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn masks_swar(window: &[u8; 64]) -> (u32, u32) {
    use crate::scan::simd::swar::{digit_lanes, lanes_equal_to, movemask};
    (0..LANES / 8).fold((0, 0), |(commas, non_digits), k| {
        let word = load(window, 8 * k);
        let digits = movemask(digit_lanes(word)) as u32;
        (
            commas | (movemask(lanes_equal_to(word, b',')) as u32) << (8 * k),
            non_digits | (!digits & 0xff) << (8 * k),
        )
    })
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
pub fn fold_lines(text: &[u8], needle: &Needle, answer: &mut Answer) {
    let Some(field) = needle.field.as_deref() else {
        return super::fold_lines(text, needle.metric(), answer);
    };
    let wanted = grammar::Wanted::new(needle.metric());
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
    super::fold_lines(&text[lines.line_start..], needle.metric(), answer);
}

/// `mask-split`'s check ([`record`]), taking signed values if
/// `SIGNED` is set.
#[derive(Clone, Copy)]
pub(crate) struct SplitCheck<'a, const SIGNED: bool>(pub(crate) &'a Field);

impl<const SIGNED: bool> LineCheck for SplitCheck<'_, SIGNED> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    type Avx2Tally = LaneTally;

    #[inline(always)]
    fn verdict(self, window: &[u8; FAST_SLACK], length: usize) -> Verdict {
        record::<SIGNED, i64>(
            window,
            length,
            masks(window).1,
            || masks(window).0,
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
        record::<SIGNED, Lane>(
            window,
            length,
            unsafe { masks_avx2(window).1 },
            || unsafe { masks_avx2(window).0 },
            field,
            |p| unsafe { field.equal_lanes_avx2(window, p) },
            |word, extra| unsafe { field.value4_lane_avx2(word, extra) },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::{Line, classify};
    use proptest::prelude::*;

    /// The line followed by `\n` and then `tail`, as the scanner's 64-byte window.
    fn window(line: &[u8], tail: u8) -> [u8; 64] {
        let mut window = [tail; 64];
        let shown = line.len().min(63);
        window[..shown].copy_from_slice(&line[..shown]);
        window[shown] = b'\n';
        window
    }

    /// The verdict with every way of computing the masks and the field's
    /// compare, checked to agree.
    fn verdict(line: &[u8], metric: &[u8], tail: u8) -> Verdict {
        let window = window(line, tail);
        let field = Field::new(metric).expect("a metric the check takes");
        let swar = masks_swar(&window);
        assert_eq!(masks(&window), swar, "SSE2 and SWAR masks differ");
        for p in 0..=LANES {
            let plain = (0..LANES).fold(0u32, |mask, i| {
                mask | u32::from(window[i] == field.placed(p)[i]) << i
            });
            assert_eq!(field.equal_lanes(&window, p), plain, "field compare at {p}");
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was detected just above.
                let avx2 = unsafe { field.equal_lanes_avx2(&window, p) };
                assert_eq!(avx2, plain, "AVX2 field compare at {p}");
            }
        }
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was detected just above.
            assert_eq!(
                unsafe { masks_avx2(&window) },
                swar,
                "AVX2 and SWAR masks differ"
            );
        }
        let (signed, unsigned) = signed_and_unsigned(
            &window,
            line.len(),
            swar,
            &field,
            |p| field.equal_lanes(&window, p),
            |word, extra| field.value4(word, extra) as i64,
        );
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY (all three): AVX2 was detected just above.
            let (avx2_signed, avx2_unsigned) = signed_and_unsigned(
                &window,
                line.len(),
                unsafe { masks_avx2(&window) },
                &field,
                |p| unsafe { field.equal_lanes_avx2(&window, p) },
                |word, extra| unsafe { field.value4_lane_avx2(word, extra) },
            );
            assert_eq!(avx2_signed.map(Lane::get), signed, "the AVX2 check differs");
            assert_eq!(
                avx2_unsigned.map(Lane::get),
                unsigned,
                "the AVX2 check differs"
            );
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
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was detected just above.
                let lane = unsafe { field.value4_lane_avx2(word, extra) };
                prop_assert_eq!(lane.get(), value as i64);
            }
        }
    }

    /// [`record`]'s signed and unsigned verdicts on one line, given its
    /// `(commas, non_digits)` masks and one build's compare and weighing.
    fn signed_and_unsigned<V: FromValue>(
        window: &[u8; 64],
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
