//! What a fast loop folds values into before it hands them to the
//! [`Answer`]: counts, sums and bounds kept in registers (general or vector),
//! not behind a reference.

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use super::split::Lane;
use crate::answer::Answer;

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
pub(crate) struct Run<Sum> {
    count: u64,
    sum: Sum,
    min: i64,
    max: i64,
    /// Records of other metrics the masks settled: lines, nothing more.
    others: u64,
}

pub(crate) type ShortRun = Run<i64>;
pub(crate) type FastRun = Run<i128>;

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
    pub(crate) fn add(&mut self, value: i64) {
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
pub(crate) trait Tally: Default {
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
pub(crate) struct LaneTally {
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

impl FastRun {
    /// A well-formed record from the one-pass check: its value if it is of
    /// the metric asked for, or (`None`) only a line for another metric's.
    /// That line goes straight to `answer`: its place among the run's lines
    /// does not matter, since nothing but the line count changes.
    #[inline(always)]
    pub(crate) fn add_record(&mut self, value: Option<i64>, answer: &mut Answer) {
        match value {
            Some(value) => self.add(value),
            None => answer.add_line(),
        }
    }

    /// Add the records a fast path took.
    #[inline(always)]
    pub(crate) fn absorb(&mut self, short: ShortRun) {
        self.count += short.count;
        self.sum += i128::from(short.sum);
        self.min = self.min.min(short.min);
        self.max = self.max.max(short.max);
        self.others += short.others;
    }

    #[inline(always)]
    pub(crate) fn flush_into(&mut self, answer: &mut Answer) {
        if self.count > 0 {
            answer.add_run(self.count, self.sum, self.min, self.max);
        }
        if self.others > 0 {
            answer.add_lines(self.others);
        }
        *self = FastRun::default();
    }
}
