//! SSE2, 16 bytes at a time: part of every x86_64 CPU, so these need no
//! detection. Each function has a SWAR twin in [`super::portable`] for other
//! CPUs, and property tests hold the two to the same answers.

use std::arch::x86_64::{
    __m128i, _mm_add_epi8, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cvtsi32_si128, _mm_cvtsi64_si128,
    _mm_cvtsi128_si32, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
    _mm_set1_epi8, _mm_set1_epi32, _mm_setzero_si128, _mm_sub_epi8,
};

use crate::scan::split::FromValue;
use crate::scan::tally::{ShortRun, Tally};

/// Added to every byte (wrapping), this moves `'0'..='9'` to the bottom of
/// the signed byte range, -128..=-119, and every other byte above it, so one
/// signed compare finds the non-digits.
pub(super) const DIGIT_SHIFT: i8 = (128 - b'0' as i16) as i8;

/// `'9'` after [`DIGIT_SHIFT`].
pub(super) const LAST_SHIFTED_DIGIT: i8 = -119;

// Every `unsafe` block below calls SSE2 intrinsics, which are compiled in
// (this module exists only where the build enables SSE2, as every x86_64
// build does) and so may run on any CPU this code runs on; loads go through
// `load`, which reads only inside its array.

/// 16 bytes of `bytes` from `at`.
#[inline(always)]
fn load<const N: usize>(bytes: &[u8; N], at: usize) -> __m128i {
    let lanes = &bytes[at..at + 16];
    // SAFETY: SSE2 is enabled (see above); `lanes` is 16 bytes long (the
    // slice is checked, and with constant offsets the check folds away); the
    // load is unaligned.
    unsafe { _mm_loadu_si128(lanes.as_ptr().cast::<__m128i>()) }
}

/// Bit `i` set where `block[i] == byte`.
#[inline(always)]
pub fn mask64(block: &[u8; 64], byte: u8) -> u64 {
    // SAFETY: SSE2 is enabled (see above).
    let wanted = unsafe { _mm_set1_epi8(byte as i8) };
    (0..4).fold(0, |mask, k| {
        let lanes = load(block, 16 * k);
        // SAFETY: SSE2 is enabled (see above).
        let equal = unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(lanes, wanted)) };
        mask | (equal as u32 as u64) << (16 * k)
    })
}

/// The comma and non-digit lanes of the first 32 bytes of `window`.
#[inline(always)]
pub fn masks(window: &[u8; 64]) -> (u32, u32) {
    let half = |at: usize| {
        let bytes = load(window, at);
        // SAFETY: SSE2 is enabled (see above).
        unsafe {
            let commas = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b',' as i8));
            let shifted = _mm_add_epi8(bytes, _mm_set1_epi8(DIGIT_SHIFT));
            let non_digits = _mm_cmpgt_epi8(shifted, _mm_set1_epi8(LAST_SHIFTED_DIGIT));
            (
                _mm_movemask_epi8(commas) as u32,
                _mm_movemask_epi8(non_digits) as u32,
            )
        }
    };
    let (low, high) = (half(0), half(16));
    (low.0 | high.0 << 16, low.1 | high.1 << 16)
}

/// The lanes of the first 32 bytes of `window` equal to those of `placed`.
#[inline(always)]
pub fn equal_lanes(window: &[u8; 64], placed: &[u8; 32]) -> u32 {
    let half = |at: usize| {
        let (text, field) = (load(window, at), load(placed, at));
        // SAFETY: SSE2 is enabled (see above).
        unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(text, field)) as u32 }
    };
    half(0) | half(16) << 16
}

/// The lanes of the first 32 bytes of `window` whose byte lies in
/// `low[i] ..= low[i] + span[i]` (bytes below `low` wrap to large values).
#[inline(always)]
pub fn range_lanes(window: &[u8; 64], low: &[u8; 32], span: &[u8; 32]) -> u32 {
    let half = |at: usize| {
        let (bytes, low, span) = (load(window, at), load(low, at), load(span, at));
        // SAFETY: SSE2 is enabled (see above).
        unsafe {
            let above_low = _mm_sub_epi8(bytes, low);
            let in_range = _mm_min_epu8(above_low, span);
            _mm_movemask_epi8(_mm_cmpeq_epi8(in_range, above_low)) as u32
        }
    };
    half(0) | half(16) << 16
}

/// A value of at most 8 digits, signed, in the low lane of a vector: an
/// `i64` in the low 64 bits, and so also an `i32` in the low 32 (`|value| <
/// 2^27`). The AVX2 scan adds, compares and keeps values in vector registers
/// ([`super::avx2`] leaves them there), not in the general registers its loop
/// has too few of.
#[derive(Debug, Clone, Copy)]
pub struct Lane(pub(super) __m128i);

impl Lane {
    /// The value, as an `i64`.
    #[inline(always)]
    pub fn get(self) -> i64 {
        // SAFETY: SSE2 is enabled (see above).
        unsafe { _mm_cvtsi128_si64(self.0) }
    }

    /// A vector of `value` in the low 32-bit lane, zeros above.
    #[inline(always)]
    pub(super) fn from_i32(value: i32) -> __m128i {
        // SAFETY: SSE2 is enabled (see above).
        unsafe { _mm_cvtsi32_si128(value) }
    }
}

impl FromValue for Lane {
    #[inline(always)]
    fn from_value(value: i64) -> Lane {
        // SAFETY: SSE2 is enabled (see above).
        Lane(unsafe { _mm_cvtsi64_si128(value) })
    }
}

/// The AVX2 loop's tally, in vector registers: the sum in the low 64-bit
/// lane, the minimum and maximum in the low 32-bit lanes (every fast-path
/// value fits, see [`Lane`]). A line's value stays where its multiply-adds
/// left it: an add, a minimum and a maximum, and no branch
/// ([`LaneTally::add`], in [`super::avx2`]).
#[derive(Clone, Copy)]
pub struct LaneTally {
    pub(super) count: u64,
    pub(super) sum: __m128i,
    pub(super) min: __m128i,
    pub(super) max: __m128i,
}

impl Default for LaneTally {
    fn default() -> LaneTally {
        // SAFETY: SSE2 is enabled (see above).
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

impl Tally for LaneTally {
    type Value = Lane;

    #[inline(always)]
    fn into_run(self, others: u64) -> ShortRun {
        if self.count == 0 {
            return ShortRun::empty(others);
        }
        // SAFETY: SSE2 is enabled (see above).
        let (sum, min, max) = unsafe {
            (
                _mm_cvtsi128_si64(self.sum),
                _mm_cvtsi128_si32(self.min),
                _mm_cvtsi128_si32(self.max),
            )
        };
        ShortRun::new(self.count, sum, i64::from(min), i64::from(max), others)
    }
}
