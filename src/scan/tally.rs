//! What a fast loop folds values into before it hands them to the
//! [`Answer`]: counts, sums and bounds kept in registers (general or vector),
//! not behind a reference.

use crate::answer::Answer;

/// Records a fast path has taken and not yet handed to the `Answer`, kept in
/// registers rather than behind a reference. The sum's type is the one
/// difference between the two uses:
///
/// - [`ShortRun`], what [`super::simd::fast_lines`] takes in one call, sums in an `i64`:
///   an `i128` kept across the loop does not fit the registers left, and its
///   two halves went to the stack, so every line waited on a store and a load
///   of the line before. Fast-path values have at most 8 digits (|v| < 2^27),
///   and one call takes at most one record per 5 bytes of text below
///   the fast loop's limit, so the sum stays below 2^61.
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
/// hands them on as a [`ShortRun`]. (The loop is given the add: a vector
/// tally's is compiled for the loop's instruction set.)
pub(crate) trait Tally: Default {
    type Value;

    /// The run tallied, and `others` records of other metrics.
    fn into_run(self, others: u64) -> ShortRun;
}

impl Tally for ShortRun {
    type Value = i64;

    #[inline(always)]
    fn into_run(self, others: u64) -> ShortRun {
        ShortRun { others, ..self }
    }
}

impl ShortRun {
    /// No records, and `others` records of other metrics.
    #[inline(always)]
    pub(crate) fn empty(others: u64) -> ShortRun {
        ShortRun {
            others,
            ..ShortRun::default()
        }
    }

    /// `count` records (at least one) with these sum and bounds, and
    /// `others` records of other metrics.
    #[inline(always)]
    pub(crate) fn new(count: u64, sum: i64, min: i64, max: i64, others: u64) -> ShortRun {
        ShortRun {
            count,
            sum,
            min,
            max,
            others,
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
