//! One group's mergeable state: count, exact sum, min, max, and the values
//! themselves as counts, held in whichever form is smallest for the data.
//!
//! - a short list while the group is small (a window of a minute holds ~60),
//!   packed once the group is closed: sorted, as varint deltas, about a byte
//!   a value where the list took eight (a scan of 83,000 one-minute windows
//!   keeps a quarter of a million of them);
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
    /// fits in an i64. Counts are 32-bit, which halves the array a scan
    /// touches at random (0–16384 takes 64 KiB); a count that would pass
    /// 2^32 moves the group to a map.
    Dense {
        base: i64,
        counts: Vec<u32>,
    },
    Map(HashMap<i64, u64>),
    Sketch(Box<Sketch>),
    /// At most [`LIST_MAX`] values, ascending: the first as a zigzag varint,
    /// then each difference from the one before as a varint.
    Packed(Box<[u8]>),
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

    /// Pack a short list (see [`Values::Packed`]) for keeping: a group that
    /// will see few or no more values. The answer does not change.
    pub fn compact(&mut self) {
        if let Values::List(list) = &mut self.values {
            list.sort_unstable();
            self.values = Values::Packed(pack(list));
        }
    }

    /// This state, compacted, leaving this one empty but with its list's
    /// buffer: the next window's group starts without allocating.
    pub fn take_compact(&mut self) -> GroupState {
        let values = match &mut self.values {
            Values::List(list) => {
                list.sort_unstable();
                let packed = Values::Packed(pack(list));
                list.clear();
                packed
            }
            other => std::mem::replace(other, Values::List(Vec::new())),
        };
        let taken = GroupState {
            count: self.count,
            sum: self.sum,
            min: self.min,
            max: self.max,
            values,
        };
        let empty = GroupState::default();
        (self.count, self.sum, self.min, self.max) = (empty.count, empty.sum, empty.min, empty.max);
        taken
    }

    /// Whether the quantiles are exact (not from the sketch).
    pub fn exact(&self) -> bool {
        !matches!(self.values, Values::Sketch(_))
    }

    /// The value at each quantile's nearest rank, in the order asked.
    pub fn quantiles(&self, asked: &[Quantile]) -> Vec<i64> {
        let mut answers = Vec::new();
        self.quantiles_into(asked, &mut answers);
        answers
    }

    /// [`GroupState::quantiles`] into `answers` (cleared first), which a
    /// caller reuses from group to group.
    pub fn quantiles_into(&self, asked: &[Quantile], answers: &mut Vec<i64>) {
        answers.clear();
        if self.count == 0 {
            return;
        }
        answers.extend(asked.iter().map(|q| q.rank(self.count) as i64));
        // One walk up the values, taking the ranks in ascending order (the
        // order they are usually asked in).
        let mut order: Vec<usize> = Vec::new();
        let ascending = answers.is_sorted();
        if !ascending {
            order.extend(0..answers.len());
            order.sort_by_key(|&i| answers[i]);
        }
        let positions = (0..answers.len()).map(|k| if ascending { k } else { order[k] });
        match &self.values {
            // A packed group's values come ascending already: its own walk
            // skips the boxed iterator (3-10% of a `--every 60` run, measured).
            Values::Packed(bytes) => self.walk(answers, positions, unpack(bytes).map(|v| (v, 1))),
            _ => self.walk(answers, positions, self.ascending()),
        }
    }

    /// Replace each rank in `answers`, taken in the order `positions` gives
    /// (ascending rank), by the value at it in `values` ((value, count),
    /// ascending).
    fn walk(
        &self,
        answers: &mut [i64],
        positions: impl Iterator<Item = usize>,
        mut values: impl Iterator<Item = (i64, u64)>,
    ) {
        let (mut seen, mut current) = (0u64, 0i64);
        for i in positions {
            let rank = answers[i] as u64;
            // The extremes are known exactly, sketch or not.
            answers[i] = if rank == 1 {
                self.min
            } else if rank == self.count {
                self.max
            } else {
                while seen < rank {
                    let (value, times) = values.next().expect("ranks are at most the count");
                    (seen, current) = (seen + times, value);
                }
                current.clamp(self.min, self.max)
            };
        }
    }

    /// (value, count) in ascending order of value.
    fn ascending(&self) -> Box<dyn Iterator<Item = (i64, u64)> + '_> {
        match &self.values {
            Values::Sketch(sketch) => Box::new(sketch.ascending()),
            Values::Dense { .. } | Values::Packed(_) => Box::new(self.values.counts()),
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
        match self {
            Values::Dense { base, counts } => {
                // In range exactly when the wrapped difference is below the
                // length (the range ends within i64, so no other value wraps
                // into it).
                if let Some(count) = counts.get_mut(value.wrapping_sub(*base) as u64 as usize) {
                    if let Some(more) = u32::try_from(times).ok().and_then(|t| count.checked_add(t))
                    {
                        *count = more;
                        return;
                    }
                }
            }
            Values::List(list) if times == 1 && list.len() < LIST_MAX => {
                list.push(value);
                return;
            }
            _ => {}
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
            Values::Packed(bytes) => {
                *self = Values::List(unpack(bytes).collect());
                self.add(value, times);
            }
            Values::Dense { base, counts } => {
                let (start, end) = (i128::from(*base), i128::from(*base) + counts.len() as i128);
                let outside = !(start..end).contains(&i128::from(value));
                let low = start.min(i128::from(value));
                let high = (end - 1).max(i128::from(value));
                // Outside the range and narrow enough: widen. In range (a
                // count would pass 2^32), or too wide: a map.
                if let (true, true, Ok(times)) =
                    (outside, high - low < DENSE_MAX_WIDTH, u32::try_from(times))
                {
                    let mut wider = vec![0u32; (high - low + 1) as usize];
                    let shift = (start - low) as usize;
                    wider[shift..shift + counts.len()].copy_from_slice(counts);
                    wider[(i128::from(value) - low) as usize] = times;
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

    /// Every value with its count (unordered for a map, repeats for a list
    /// or packed values; a sketch is never asked).
    fn counts(&self) -> Box<dyn Iterator<Item = (i64, u64)> + '_> {
        match self {
            Values::List(list) => Box::new(list.iter().map(|&v| (v, 1))),
            Values::Dense { base, counts } => Box::new(
                counts
                    .iter()
                    .enumerate()
                    .filter(|&(_, &n)| n > 0)
                    .map(move |(i, &n)| (base.wrapping_add(i as i64), u64::from(n))),
            ),
            Values::Map(map) => Box::new(map.iter().map(|(&v, &n)| (v, n))),
            Values::Sketch(sketch) => Box::new(sketch.ascending()),
            Values::Packed(bytes) => Box::new(unpack(bytes).map(|v| (v, 1))),
        }
    }
}

/// [`Values::Packed`]'s bytes for `sorted` values.
fn pack(sorted: &[i64]) -> Box<[u8]> {
    // Built on the stack (a list's worst case is ten bytes a value), then
    // copied into one allocation of the exact size.
    let mut bytes = arrayvec::ArrayVec::<u8, { LIST_MAX * 10 }>::new();
    let mut previous = None;
    for &value in sorted {
        let word = match previous {
            // Zigzag: small magnitudes of either sign take few bytes.
            None => ((value << 1) ^ (value >> 63)) as u64,
            // Ascending, so the difference is below 2^64.
            Some(before) => value.wrapping_sub(before) as u64,
        };
        push_varint(&mut bytes, word);
        previous = Some(value);
    }
    Box::from(bytes.as_slice())
}

fn push_varint(bytes: &mut arrayvec::ArrayVec<u8, { LIST_MAX * 10 }>, mut word: u64) {
    while word >= 0x80 {
        bytes.push(word as u8 | 0x80);
        word >>= 7;
    }
    bytes.push(word as u8);
}

/// The values [`pack`] packed, ascending.
fn unpack(bytes: &[u8]) -> impl Iterator<Item = i64> + '_ {
    let mut words = bytes.iter();
    let mut next_word = move || {
        let mut word = 0u64;
        let mut shift = 0;
        loop {
            let byte = *words.next()?;
            word |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(word);
            }
            shift += 7;
        }
    };
    let first = next_word().map(|word| ((word >> 1) as i64) ^ -((word & 1) as i64));
    let mut previous = first;
    first.into_iter().chain(std::iter::from_fn(move || {
        previous = Some(previous?.wrapping_add(next_word()? as i64));
        previous
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_values_come_back() {
        let mut values = vec![
            i64::MIN,
            i64::MIN,
            -129,
            -1,
            0,
            0,
            1,
            63,
            64,
            127,
            128,
            1 << 40,
            i64::MAX,
        ];
        values.sort_unstable();
        assert_eq!(unpack(&pack(&values)).collect::<Vec<_>>(), values);
        assert_eq!(unpack(&pack(&[])).count(), 0);
    }

    #[test]
    fn a_count_past_32_bits_moves_to_a_map() {
        let q: Vec<Quantile> = ["0", "0.5", "1"]
            .iter()
            .map(|q| Quantile::parse(q).unwrap())
            .collect();
        let mut state = GroupState::default();
        for v in 0..100 {
            state.add(v);
        }
        assert!(matches!(state.values, Values::Dense { .. }));
        let mut many = GroupState {
            count: u64::from(u32::MAX) + 5,
            sum: 7 * (i128::from(u32::MAX) + 5),
            min: 7,
            max: 7,
            values: Values::Dense {
                base: 7,
                counts: vec![u32::MAX],
            },
        };
        many.values.add(7, 5);
        assert!(matches!(many.values, Values::Map(_)));
        state.merge(&many);
        assert_eq!(state.count, 100 + u64::from(u32::MAX) + 5);
        assert_eq!(state.quantiles(&q), [0, 7, 99]);
        assert_eq!(
            many.values.counts().collect::<Vec<_>>(),
            [(7, u64::from(u32::MAX) + 5)]
        );
    }

    #[test]
    fn compacting_changes_no_answer() {
        let q: Vec<Quantile> = ["0", "0.5", "0.9", "1"]
            .iter()
            .map(|q| Quantile::parse(q).unwrap())
            .collect();
        let mut state = GroupState::default();
        for v in [5, -3, 5, 1 << 50, 7] {
            state.add(v);
        }
        let before = state.quantiles(&q);
        state.compact();
        assert!(matches!(state.values, Values::Packed(_)));
        assert_eq!(state.quantiles(&q), before);
        // A packed group takes more values, and merges either way round.
        state.add(6);
        let mut other = GroupState::default();
        other.add(-3);
        other.compact();
        state.merge(&other);
        other.merge(&state);
        assert_eq!(state.count, 7);
        assert_eq!(other.count, 8);
        assert_eq!(state.quantiles(&q), [-3, 5, 1 << 50, 1 << 50]);
    }
}
