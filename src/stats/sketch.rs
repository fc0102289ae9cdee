//! The relative-error sketch a group switches to past [`super::EXACT_DISTINCT`]
//! distinct values: DDSketch's logarithmic buckets, never collapsed.
//!
//! A value `v` with `|v| >= 1` falls in bucket `ceil(log_γ |v|)` of its sign,
//! with `γ = (1 + α) / (1 − α)`; the bucket's representative is within `α` of
//! every value in it. With α = 0.5% and rounding to an integer, every quantile
//! is within 1% of the exact one (values below 100 land one per bucket and come
//! back exactly). Buckets only count, so merging adds counts: the sketch of a
//! multiset is the same however its values arrived, which keeps the answer
//! independent of threads and partitioning.

use serde::{Deserialize, Serialize};

/// Relative accuracy of a bucket's representative.
const ALPHA: f64 = 0.005;

fn gamma() -> f64 {
    (1.0 + ALPHA) / (1.0 - ALPHA)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sketch {
    zeros: u64,
    /// Counts by bucket for values >= 1.
    positive: Vec<u64>,
    /// Counts by bucket for values <= -1 (by magnitude).
    negative: Vec<u64>,
}

fn bucket(magnitude: u64) -> usize {
    ((magnitude as f64).ln() / gamma().ln()).ceil().max(0.0) as usize
}

/// The representative magnitude of a bucket, as an integer of at least 1.
fn representative(bucket: usize) -> u64 {
    let gamma = gamma();
    let value = 2.0 * gamma.powi(bucket as i32) / (gamma + 1.0);
    // `as` saturates: the top bucket's representative may pass 2^63.
    (value.round() as u64).clamp(1, 1 << 63)
}

impl Sketch {
    pub fn add(&mut self, value: i64, times: u64) {
        let counts = match value {
            0 => {
                self.zeros += times;
                return;
            }
            1.. => &mut self.positive,
            _ => &mut self.negative,
        };
        let at = bucket(value.unsigned_abs());
        if counts.len() <= at {
            counts.resize(at + 1, 0);
        }
        counts[at] += times;
    }

    pub fn merge(&mut self, other: &Sketch) {
        self.zeros += other.zeros;
        for (mine, theirs) in [
            (&mut self.positive, &other.positive),
            (&mut self.negative, &other.negative),
        ] {
            if mine.len() < theirs.len() {
                mine.resize(theirs.len(), 0);
            }
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
    }

    /// The values in ascending order, one representative per non-empty
    /// bucket, with its count.
    pub fn ascending(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        let negative = self
            .negative
            .iter()
            .enumerate()
            .rev()
            .filter(|&(_, &n)| n > 0)
            .map(|(b, &n)| ((representative(b) as i128).wrapping_neg() as i64, n));
        let zero = (self.zeros > 0).then_some((0, self.zeros));
        let positive = self
            .positive
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(b, &n)| (representative(b).min(i64::MAX as u64) as i64, n));
        negative.chain(zero).chain(positive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_comes_back_within_one_percent() {
        let mut values: Vec<i64> = (1..2000).collect();
        values.extend([
            12_345,
            999_999,
            1 << 40,
            i64::MAX,
            -1,
            -7,
            -123_456,
            i64::MIN,
            0,
        ]);
        for v in values {
            let mut sketch = Sketch::default();
            sketch.add(v, 1);
            let (got, n) = sketch.ascending().next().unwrap();
            assert_eq!(n, 1);
            let error = (got as f64 - v as f64).abs();
            assert!(error <= 0.01 * (v as f64).abs(), "{v} came back as {got}");
            if v.unsigned_abs() < 100 {
                assert_eq!(got, v);
            }
        }
    }

    #[test]
    fn merging_is_adding() {
        let (mut a, mut b, mut both) = (Sketch::default(), Sketch::default(), Sketch::default());
        for v in -500..500 {
            if v % 3 == 0 {
                a.add(v * 1000, 2)
            } else {
                b.add(v * 1000, 2)
            }
            both.add(v * 1000, 2);
        }
        a.merge(&b);
        assert_eq!(a, both);
    }
}
