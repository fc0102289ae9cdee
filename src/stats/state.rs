//! One group's mergeable state: count, exact sum, min, max, and the values
//! themselves as counts, held in whichever form is smallest for the data.
//!
//! - a short list while the group is small (a window of a minute holds ~60);
//! - a dense array of counts when the values span at most 2^17 integers
//!   (the case study's 0–100, a memory metric's 0–16384);
//! - a hash map beyond that;
//! - the [`Sketch`] once the group holds more than [`EXACT_DISTINCT`]
//!   distinct values.
//!
//! The form never changes an answer: the quantiles come from the multiset,
//! and the switch to the sketch depends on the distinct count alone, which is
//! the same however the input was split and merged.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::plan::Quantile;
use super::sketch::Sketch;

/// Quantiles are exact while a group holds at most this many distinct values.
pub const EXACT_DISTINCT: usize = 1 << 20;
/// Values kept as a plain list before choosing a form.
const LIST_MAX: usize = 64;
/// The widest range of values kept as a dense array of counts.
const DENSE_MAX_WIDTH: i128 = 1 << 17;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    pub count: u64,
    pub sum: i128,
    /// `i64::MAX` while empty.
    pub min: i64,
    /// `i64::MIN` while empty.
    pub max: i64,
    values: Values,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Values {
    List(Vec<i64>),
    /// `counts[i]` is the count of `base + i`; `base + counts.len() - 1`
    /// fits in an i64.
    Dense {
        base: i64,
        counts: Vec<u64>,
    },
    Map(HashMap<i64, u64>),
    Sketch(Box<Sketch>),
}

impl Default for GroupState {
    fn default() -> Self {
        GroupState {
            count: 0,
            sum: 0,
            min: i64::MAX,
            max: i64::MIN,
            values: Values::List(Vec::new()),
        }
    }
}

impl GroupState {
    /// Fold one value.
    #[inline(always)]
    pub fn add(&mut self, value: i64) {
        self.count += 1;
        self.sum += i128::from(value);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.values.add(value, 1);
    }

    /// Fold in a state summarising other records.
    pub fn merge(&mut self, other: &GroupState) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        match &other.values {
            Values::Sketch(theirs) => {
                self.values.become_sketch();
                let Values::Sketch(mine) = &mut self.values else {
                    unreachable!("just made a sketch")
                };
                mine.merge(theirs);
            }
            theirs => {
                for (value, times) in theirs.counts() {
                    self.values.add(value, times);
                }
            }
        }
    }

    /// Whether the quantiles are exact (not from the sketch).
    pub fn exact(&self) -> bool {
        !matches!(self.values, Values::Sketch(_))
    }

    /// The value at each quantile's nearest rank, in the order asked.
    pub fn quantiles(&self, asked: &[Quantile]) -> Vec<i64> {
        if self.count == 0 {
            return Vec::new();
        }
        let ranks: Vec<u64> = asked.iter().map(|q| q.rank(self.count)).collect();
        let mut order: Vec<usize> = (0..ranks.len()).collect();
        order.sort_by_key(|&i| ranks[i]);
        let mut answers = vec![0; ranks.len()];
        let mut values = self.ascending();
        let (mut seen, mut current) = (0u64, (0i64, 0u64));
        for i in order {
            // The extremes are known exactly, sketch or not.
            if ranks[i] == 1 {
                answers[i] = self.min;
                continue;
            }
            if ranks[i] == self.count {
                answers[i] = self.max;
                continue;
            }
            while seen < ranks[i] {
                current = values.next().expect("ranks are at most the count");
                seen += current.1;
            }
            answers[i] = current.0.clamp(self.min, self.max);
        }
        answers
    }

    /// (value, count) in ascending order of value.
    fn ascending(&self) -> Box<dyn Iterator<Item = (i64, u64)> + '_> {
        match &self.values {
            Values::Sketch(sketch) => Box::new(sketch.ascending()),
            Values::Dense { .. } => Box::new(self.values.counts()),
            other => {
                let mut pairs: Vec<(i64, u64)> = other.counts().collect();
                pairs.sort_unstable();
                // A list holds repeats: merge them.
                pairs.dedup_by(|later, earlier| {
                    let same = later.0 == earlier.0;
                    if same {
                        earlier.1 += later.1;
                    }
                    same
                });
                Box::new(pairs.into_iter())
            }
        }
    }
}

impl Values {
    /// Add `times` of `value` (count, sum, min and max are the caller's).
    #[inline(always)]
    fn add(&mut self, value: i64, times: u64) {
        if let Values::Dense { base, counts } = self {
            // In range exactly when the wrapped difference is below the length
            // (the range ends within i64, so no other value wraps into it).
            if let Some(count) = counts.get_mut(value.wrapping_sub(*base) as u64 as usize) {
                *count += times;
                return;
            }
        }
        self.add_elsewhere(value, times);
    }

    /// [`Values::add`] for everything but a dense array's own range.
    fn add_elsewhere(&mut self, value: i64, times: u64) {
        match self {
            Values::List(list) if list.len() as u64 + times <= LIST_MAX as u64 => {
                list.extend(std::iter::repeat_n(value, times as usize));
            }
            Values::List(_) => {
                self.choose_form(value);
                self.add(value, times);
            }
            Values::Dense { base, counts } => {
                let low = i128::from(*base).min(i128::from(value));
                let high = (i128::from(*base) + counts.len() as i128 - 1).max(i128::from(value));
                if high - low < DENSE_MAX_WIDTH {
                    let mut wider = vec![0u64; (high - low + 1) as usize];
                    let shift = (i128::from(*base) - low) as usize;
                    wider[shift..shift + counts.len()].copy_from_slice(counts);
                    wider[(i128::from(value) - low) as usize] += times;
                    *base = low as i64;
                    *counts = wider;
                } else {
                    let mut map: HashMap<i64, u64> = self.counts().collect();
                    *map.entry(value).or_default() += times;
                    *self = Values::Map(map);
                }
            }
            Values::Map(map) => {
                *map.entry(value).or_default() += times;
                if map.len() > EXACT_DISTINCT {
                    self.become_sketch();
                }
            }
            Values::Sketch(sketch) => sketch.add(value, times),
        }
    }

    /// Leave the list for a dense array or a map, by the range of its
    /// values and the `incoming` one.
    fn choose_form(&mut self, incoming: i64) {
        let Values::List(list) = self else { return };
        let values = std::mem::take(list);
        let low = values.iter().copied().fold(incoming, i64::min);
        let high = values.iter().copied().fold(incoming, i64::max);
        *self = if i128::from(high) - i128::from(low) < DENSE_MAX_WIDTH {
            Values::Dense {
                base: low,
                counts: vec![0; (i128::from(high) - i128::from(low) + 1) as usize],
            }
        } else {
            Values::Map(HashMap::new())
        };
        // At most LIST_MAX values, all within the new form: no form changes.
        for v in values {
            self.add(v, 1);
        }
    }

    fn become_sketch(&mut self) {
        if matches!(self, Values::Sketch(_)) {
            return;
        }
        let mut sketch = Sketch::default();
        for (value, times) in self.counts() {
            sketch.add(value, times);
        }
        *self = Values::Sketch(Box::new(sketch));
    }

    /// Every value with its count (unordered for a map, repeats for a list;
    /// a sketch is never asked).
    fn counts(&self) -> Box<dyn Iterator<Item = (i64, u64)> + '_> {
        match self {
            Values::List(list) => Box::new(list.iter().map(|&v| (v, 1))),
            Values::Dense { base, counts } => Box::new(
                counts
                    .iter()
                    .enumerate()
                    .filter(|&(_, &n)| n > 0)
                    .map(move |(i, &n)| (base.wrapping_add(i as i64), n)),
            ),
            Values::Map(map) => Box::new(map.iter().map(|(&v, &n)| (v, n))),
            Values::Sketch(sketch) => Box::new(sketch.ascending()),
        }
    }
}
