//! The answer every strategy computes, and how partial answers combine.
//!
//! Two strategies agree when `count, sum, min, max, malformed` are equal (the
//! contract in `LOG-FORMAT.md`). The answer also counts lines and remembers the
//! first malformed line, so `--strict` can name it whichever strategy ran, and so
//! partial answers from chunks of a file can be merged in file order.

use serde::Serialize;

/// What a scan of one log yields for one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// Records of the metric asked for.
    pub count: u64,
    /// Exact sum of their values (i128 cannot overflow for any realistic file).
    pub sum: i128,
    /// Smallest value; `i64::MAX` while `count == 0`.
    pub min: i64,
    /// Largest value; `i64::MIN` while `count == 0`.
    pub max: i64,
    /// Malformed lines in the whole file, whatever their metric.
    pub malformed: u64,
    /// Lines seen, blank ones included (a last line without `\n` counts).
    pub lines: u64,
    /// 1-based number of the first malformed line, if any.
    pub first_malformed: Option<u64>,
}

impl Default for Answer {
    fn default() -> Self {
        Self::new()
    }
}

impl Answer {
    /// The answer for an empty input.
    pub const fn new() -> Self {
        Answer {
            count: 0,
            sum: 0,
            min: i64::MAX,
            max: i64::MIN,
            malformed: 0,
            lines: 0,
            first_malformed: None,
        }
    }

    /// Fold one value of the metric asked for (the caller counts the line).
    #[inline(always)]
    pub fn add_value(&mut self, value: i64) {
        self.count += 1;
        self.sum += i128::from(value);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// Fold `count` consecutive lines that were all records of the metric,
    /// summarised by the caller (`count > 0`).
    #[inline]
    pub fn add_run(&mut self, count: u64, sum: i128, min: i64, max: i64) {
        self.lines += count;
        self.count += count;
        self.sum += sum;
        self.min = self.min.min(min);
        self.max = self.max.max(max);
    }

    /// Count `lines` lines that are neither malformed nor records of the
    /// metric asked for (records of other metrics).
    #[inline]
    pub fn add_lines(&mut self, lines: u64) {
        self.lines += lines;
    }

    /// Count the line just seen (call before `add_malformed` for that line).
    #[inline(always)]
    pub fn add_line(&mut self) {
        self.lines += 1;
    }

    /// Count the current line (the `lines`-th) as malformed.
    #[inline(always)]
    pub fn add_malformed(&mut self) {
        self.malformed += 1;
        if self.first_malformed.is_none() {
            self.first_malformed = Some(self.lines);
        }
    }

    /// Combine with the answer of the input that directly follows this one.
    pub fn merge(self, later: Answer) -> Answer {
        Answer {
            count: self.count + later.count,
            sum: self.sum + later.sum,
            min: self.min.min(later.min),
            max: self.max.max(later.max),
            malformed: self.malformed + later.malformed,
            lines: self.lines + later.lines,
            first_malformed: self
                .first_malformed
                .or(later.first_malformed.map(|n| n + self.lines)),
        }
    }

    /// The arithmetic mean, or `None` when there is no record (never 0 or NaN).
    pub fn mean(&self) -> Option<f64> {
        // i128 -> f64 rounds once; the exact sum stays available in `sum`.
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// The contract's notion of agreement: the five fields every strategy must match.
    pub fn key(&self) -> (u64, i128, i64, i64, u64) {
        (self.count, self.sum, self.min, self.max, self.malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_of(lines: &[Option<i64>]) -> Answer {
        // None = malformed line, Some(v) = a record of the metric.
        let mut a = Answer::new();
        for line in lines {
            a.add_line();
            match line {
                Some(v) => a.add_value(*v),
                None => a.add_malformed(),
            }
        }
        a
    }

    #[test]
    fn empty_answer_has_no_mean() {
        assert_eq!(Answer::new().mean(), None);
    }

    #[test]
    fn mean_is_sum_over_count() {
        assert_eq!(answer_of(&[Some(1), Some(2), None]).mean(), Some(1.5));
    }

    #[test]
    fn sum_does_not_overflow_at_i64_bounds() {
        let a = answer_of(&[Some(i64::MAX), Some(i64::MAX), Some(i64::MIN)]);
        // 2 * MAX overflows i64; the exact sum 2 * MAX + MIN is MAX - 1.
        assert_eq!(a.sum, i128::from(i64::MAX) - 1);
        assert_eq!((a.min, a.max), (i64::MIN, i64::MAX));
    }

    #[test]
    fn merge_equals_scanning_the_concatenation() {
        let first = [Some(5), None, Some(-3)];
        let second = [None, Some(9), None];
        let whole: Vec<_> = first.iter().chain(&second).copied().collect();
        assert_eq!(
            answer_of(&first).merge(answer_of(&second)),
            answer_of(&whole)
        );
    }

    #[test]
    fn merge_renumbers_the_later_first_malformed_line() {
        let merged = answer_of(&[Some(1), Some(2)]).merge(answer_of(&[Some(3), None]));
        assert_eq!(merged.first_malformed, Some(4));
    }
}
