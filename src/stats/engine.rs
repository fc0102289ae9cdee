//! The fast engine: one pass over whole lines, every metric at once.
//!
//! Line ends are found 64 bytes at a time with the ladder's own
//! [`simd::mask64`], apart from reading the lines, so no line waits for the
//! one before it to be parsed. Each line of up to 63 bytes is then read from
//! two masks of its bytes (commas, non-digits; [`simd::masks`], as
//! `mask-split` does): the commas give the fields, the masks check them, and
//! the metric is found in a small table by a hash of its bytes as one word
//! (as the fastest One Billion Row Challenge entries do: one multiply and one
//! compare, and no search that a mixed log would mispredict). Anything
//! unusual (a long line, epoch or value, a new metric, a malformed line)
//! takes the general path through [`crate::grammar`], the spec every fast
//! path is tested against.

use std::collections::HashMap;
use std::collections::btree_map::Entry;

use super::plan::{Place, StatsQuery};
use super::state::GroupState;
use super::summary::{Summary, Windows};
use crate::grammar;
use crate::scan::simd::{self, portable};

/// Metrics longer than a word compared in place before the hash map.
const IN_PLACE: usize = 8;
/// The bytes from a line's start that the fast path reads: two 32-lane
/// masks' worth for a line of up to 63 bytes, and a word past its end.
const LINE_WINDOW: usize = 96;
/// The longest line the fast path reads (the masks have 64 lanes).
const FAST_LINE_MAX: usize = 63;
/// The longest metric kept in the word table.
const WORD: usize = 16;
/// The word table's slots, and how many it fills (half: probes stay short).
const SLOTS: usize = 256;
const SLOTS_FILLED_MAX: usize = SLOTS / 2;

/// The low `len` bytes of a word, by `len` (a load, not a 128-bit shift).
const WORD_MASKS: [u128; WORD + 1] = {
    let mut masks = [0u128; WORD + 1];
    let mut len = 1;
    while len <= WORD {
        masks[len] = u128::MAX >> (8 * (WORD - len));
        len += 1;
    }
    masks
};

/// A metric of at most [`WORD`] bytes, as a zero-padded word.
#[derive(Clone, Copy, Default)]
struct Slot {
    word: u128,
    /// 0 for a free slot.
    len: u32,
    id: u32,
}

/// Metrics seen so far, by id. With `--metric`, the table holds only the
/// metrics asked for and one id for every other metric, so a log of
/// millions of distinct metrics costs no memory when they are not asked for.
struct MetricTable {
    /// Metrics of at most [`WORD`] bytes, open-addressed by a hash of the word.
    slots: Box<[Slot]>,
    filled: usize,
    /// The first few longer metrics, compared in place.
    long: Vec<(Box<[u8]>, u32)>,
    ids: HashMap<Box<[u8]>, u32>,
    names: Vec<Box<[u8]>>,
    /// With `--metric`: the id of every metric not asked for.
    other: Option<u32>,
}

impl Default for MetricTable {
    fn default() -> Self {
        MetricTable {
            slots: vec![Slot::default(); SLOTS].into_boxed_slice(),
            filled: 0,
            long: Vec::new(),
            ids: HashMap::new(),
            names: Vec::new(),
            other: None,
        }
    }
}

/// A scan's state while it folds lines: per metric id, the group of the
/// window it is in now, and the groups it has left; the run-wide counts.
/// [`Tally::into_summary`] names the groups by bytes.
///
/// A time-ordered log visits each metric's windows in order, so a record
/// almost always goes to its metric's open group. Leaving a window packs its
/// group ([`GroupState::take_compact`]) into `closed`; a record for an
/// earlier window (an unordered log) opens that window again, and the two
/// parts merge.
pub struct Tally<'q> {
    query: &'q StatsQuery,
    /// [`StatsQuery::needs_epoch`], asked once: the common case skips
    /// [`StatsQuery::place`].
    needs_epoch: bool,
    windowed: bool,
    /// Epochs placed in `span_window`, as the last placement found: an
    /// ordered log stays in it for a window's worth of records.
    span: std::ops::Range<u64>,
    span_window: u64,
    table: MetricTable,
    /// Per metric id: asked for or not.
    wanted: Vec<bool>,
    /// Per metric id: the window it is in (0 without `--every`) and its group there.
    open: Vec<(u64, GroupState)>,
    /// Per metric id: the groups of windows it has left.
    closed: Vec<Closed>,
    records: u64,
    malformed: u64,
    out_of_range: u64,
    lines: u64,
    first_malformed: Option<u64>,
}

impl<'q> Tally<'q> {
    pub fn new(query: &'q StatsQuery) -> Tally<'q> {
        let mut table = MetricTable::default();
        if !query.metrics.is_empty() {
            // A metric with `,` or `\n` can match no record: leave it out, or
            // the in-place compare would match a line with too many fields.
            for metric in query
                .metrics
                .iter()
                .filter(|m| grammar::metric_can_match(m))
            {
                table.find_or_add(metric);
            }
            let other = table.names.len() as u32;
            table.names.push(Box::default());
            table.other = Some(other);
        }
        Tally {
            query,
            needs_epoch: query.needs_epoch(),
            windowed: query.every.is_some(),
            span: 0..0,
            span_window: 0,
            table,
            wanted: Vec::new(),
            open: Vec::new(),
            closed: Vec::new(),
            records: 0,
            malformed: 0,
            out_of_range: 0,
            lines: 0,
            first_malformed: None,
        }
    }

    /// Fold whole lines (each ends with `\n`, except possibly the last piece
    /// of the input). Lines past the last whole 64-byte block, or with fewer
    /// than [`LINE_WINDOW`] bytes after their start, take the general path.
    #[inline]
    pub fn fold_lines(&mut self, text: &[u8]) {
        let mut start = 0;
        for (k, block) in text.chunks_exact(64).enumerate() {
            let block: &[u8; 64] = block.try_into().expect("64 bytes");
            let mut ends = simd::mask64(block, b'\n');
            while ends != 0 {
                let end = 64 * k + ends.trailing_zeros() as usize;
                ends &= ends - 1;
                let fast = text
                    .get(start..)
                    .and_then(|rest| rest.first_chunk::<LINE_WINDOW>());
                if !fast.is_some_and(|window| self.fast_line(window, end - start)) {
                    self.general_line(&text[start..end]);
                }
                start = end + 1;
            }
        }
        for line in text[start..].split_inclusive(|&b| b == b'\n') {
            self.general_line(line.strip_suffix(b"\n").unwrap_or(line));
        }
    }

    /// Fold the line of `length` bytes (without its `\n`) that starts `w`
    /// if it is a well-formed record of at most [`FAST_LINE_MAX`] bytes with
    /// an epoch of at most 19 digits, a metric the table holds, and a value
    /// of at most 18 digits. `false`: the general path decides, and nothing
    /// was counted. The epoch is parsed only when windows or filters need it.
    #[inline(always)]
    fn fast_line(&mut self, w: &[u8; LINE_WINDOW], length: usize) -> bool {
        if length > FAST_LINE_MAX {
            return false;
        }
        let (commas, non_digits) = simd::masks(w.first_chunk().expect("64 bytes"));
        let (commas, non_digits) = if length < 32 {
            (u64::from(commas), u64::from(non_digits))
        } else {
            let more = simd::masks(w[32..].first_chunk().expect("64 bytes"));
            (
                u64::from(commas) | u64::from(more.0) << 32,
                u64::from(non_digits) | u64::from(more.1) << 32,
            )
        };
        // Lanes below `n` (n < 64).
        let below = |n: usize| (1u64 << n) - 1;
        let commas = commas & below(length);
        if commas.count_ones() != 2 {
            return false;
        }
        let first = commas.trailing_zeros() as usize;
        let second = (commas & (commas - 1)).trailing_zeros() as usize;
        let metric_len = second - first - 1;
        if first == 0 || first > 19 || non_digits & below(first) != 0 || metric_len == 0 {
            return false;
        }
        let mut digits_at = second + 1;
        let negative = w[digits_at] == b'-';
        if negative || w[digits_at] == b'+' {
            digits_at += 1;
        }
        let value_end = length - usize::from(w[length - 1] == b'\r');
        let digits = value_end.wrapping_sub(digits_at);
        if digits.wrapping_sub(1) >= 18 || non_digits & below(value_end) & !below(digits_at) != 0 {
            return false;
        }
        let Some(id) = self.table.find_in_place(w, first + 1, metric_len) else {
            return false;
        };
        let epoch = self.needs_epoch.then(|| parse_run(w, 0, first));
        let value = parse_run(w, digits_at, digits) as i64;
        self.lines += 1;
        self.add_id(id, epoch, if negative { -value } else { value });
        true
    }

    /// Any line, judged by the spec.
    #[cold]
    fn general_line(&mut self, line: &[u8]) {
        self.lines += 1;
        let line = grammar::strip_cr(line);
        if line.is_empty() {
            return;
        }
        match grammar::parse_fields(line) {
            Some((epoch, metric, value)) => {
                let id = self.table.find_or_add(metric);
                self.add_id(id, grammar::epoch_value(epoch), value);
            }
            None => {
                self.malformed += 1;
                self.first_malformed.get_or_insert(self.lines);
            }
        }
    }

    /// Fold a record of metric `id` (`epoch` `None` when it does not fit in 64 bits).
    #[inline(always)]
    fn add_id(&mut self, id: u32, epoch: Option<u64>, value: i64) {
        self.records += 1;
        let id = id as usize;
        if id >= self.wanted.len() {
            self.learn(id);
        }
        if !self.needs_epoch {
            // One window (0) for the whole scan: the group is always open.
            if self.wanted[id] {
                self.open[id].1.add(value);
            }
            return;
        }
        let window = match epoch {
            Some(epoch) if self.span.contains(&epoch) => self.span_window,
            _ => match self.place(epoch) {
                Some(window) => window,
                None => return,
            },
        };
        if !self.wanted[id] {
            return;
        }
        if self.open[id].0 != window {
            self.move_to(id, window);
        }
        self.open[id].1.add(value);
    }

    /// Where a record goes when it is outside the last span: its window, or
    /// `None` when it is in none (counted here if out of range).
    #[cold]
    fn place(&mut self, epoch: Option<u64>) -> Option<u64> {
        let place = match epoch {
            Some(epoch) => {
                let (place, span) = self.query.place_with_span(epoch);
                if let (Place::Window(window), Some(span)) = (place, span) {
                    (self.span, self.span_window) = (span, window);
                }
                place
            }
            None => self.query.place(None),
        };
        match place {
            Place::Window(window) => Some(window),
            Place::Filtered => None,
            Place::OutOfRange => {
                self.out_of_range += 1;
                None
            }
        }
    }

    /// A new metric id: is it asked for?
    #[cold]
    fn learn(&mut self, id: usize) {
        while self.wanted.len() <= id {
            // Every metric but the "other" id is one asked for (or all are).
            let wanted = self.table.other != Some(self.wanted.len() as u32);
            self.wanted.push(wanted);
            self.open.push((0, GroupState::default()));
            self.closed.push(Closed::Ordered(Vec::new()));
        }
    }

    /// Metric `id` moves to `window`: keep the group it leaves.
    #[cold]
    fn move_to(&mut self, id: usize, window: u64) {
        self.close(id);
        self.open[id].0 = window;
    }

    fn close(&mut self, id: usize) {
        let (window, group) = &mut self.open[id];
        if group.count == 0 {
            return;
        }
        let done = group.take_compact();
        self.closed[id].keep(self.windowed.then_some(*window), done);
    }

    /// The groups named by their bytes, and the counts.
    pub fn into_summary(mut self) -> Summary {
        for id in 0..self.open.len() {
            self.close(id);
        }
        let names = self.table.names;
        let metrics = self
            .closed
            .into_iter()
            .map(Closed::into_windows)
            .enumerate()
            .filter(|(_, windows)| !windows.is_empty())
            .map(|(id, windows)| (names[id].to_vec(), windows))
            .collect();
        Summary {
            metrics,
            records: self.records,
            malformed: self.malformed,
            out_of_range: self.out_of_range,
            lines: self.lines,
            first_malformed: self.first_malformed,
            files: 0,
        }
    }
}

/// One metric's groups of the windows it has left: a list while they come
/// in ascending order (an ordered log; no search per window), a map once one
/// comes out of order.
enum Closed {
    Ordered(Vec<(Option<u64>, GroupState)>),
    Unordered(Windows),
}

impl Closed {
    fn keep(&mut self, window: Option<u64>, group: GroupState) {
        if let Closed::Ordered(list) = self {
            match list.last_mut() {
                Some((last, _)) if *last > window => {
                    *self = Closed::Unordered(std::mem::take(list).into_iter().collect());
                }
                Some((last, kept)) if *last == window => {
                    kept.merge(&group);
                    kept.compact();
                    return;
                }
                _ => {
                    list.push((window, group));
                    return;
                }
            }
        }
        let Closed::Unordered(map) = self else {
            unreachable!("an ordered list keeps or becomes a map above")
        };
        match map.entry(window) {
            Entry::Vacant(slot) => {
                slot.insert(group);
            }
            Entry::Occupied(mut slot) => {
                slot.get_mut().merge(&group);
                slot.get_mut().compact();
            }
        }
    }

    fn into_windows(self) -> Windows {
        match self {
            // Ascending and distinct: a bulk build.
            Closed::Ordered(list) => list.into_iter().collect(),
            Closed::Unordered(map) => map,
        }
    }
}

/// The value of the `count` digits (1 to 19) at `w[at..]`, eight at a time.
#[inline(always)]
fn parse_run(w: &[u8; LINE_WINDOW], at: usize, count: usize) -> u64 {
    if count <= 8 {
        // The usual value: one word, with no branch on its length.
        return portable::parse_digits(portable::load(w, at), count);
    }
    let first = (count - 1) % 8 + 1;
    let mut value = portable::parse_digits(portable::load(w, at), first);
    let mut next = at + first;
    while next < at + count {
        value = value * 100_000_000 + portable::parse_digits(portable::load(w, next), 8);
        next += 8;
    }
    value
}

impl MetricTable {
    /// The id of the metric of `len` bytes at `w[at..]`, if the table holds
    /// it where the fast path looks (`None`: the general path adds it).
    #[inline(always)]
    fn find_in_place(&self, w: &[u8; LINE_WINDOW], at: usize, len: usize) -> Option<u32> {
        if len <= WORD {
            let bytes = w[at..].first_chunk::<WORD>().expect("in the window");
            let word = u128::from_le_bytes(*bytes) & WORD_MASKS[len];
            return self.find_word(word, len);
        }
        let metric = &w[at..at + len];
        self.long
            .iter()
            .find(|(name, _)| **name == *metric)
            .map(|&(_, id)| id)
    }

    /// The slot a metric's word hashes to.
    #[inline(always)]
    fn slot_of(word: u128, len: usize) -> usize {
        let mixed =
            (word as u64 ^ (word >> 64) as u64 ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (mixed >> 56) as usize % SLOTS
    }

    #[inline(always)]
    fn find_word(&self, word: u128, len: usize) -> Option<u32> {
        let mut at = Self::slot_of(word, len);
        // At most half the slots are filled: a free one ends every probe.
        loop {
            let slot = self.slots[at];
            if slot.word == word && slot.len as usize == len {
                return Some(slot.id);
            }
            if slot.len == 0 {
                return None;
            }
            at = (at + 1) % SLOTS;
        }
    }

    /// Keep a metric where [`MetricTable::find_in_place`] looks, while there
    /// is room.
    fn remember(&mut self, metric: &[u8], id: u32) {
        let len = metric.len();
        if len > WORD {
            if self.long.len() < IN_PLACE && !self.long.iter().any(|(name, _)| **name == *metric) {
                self.long.push((metric.into(), id));
            }
            return;
        }
        let mut bytes = [0u8; WORD];
        bytes[..len].copy_from_slice(metric);
        let word = u128::from_le_bytes(bytes);
        if self.filled >= SLOTS_FILLED_MAX || self.find_word(word, len).is_some() {
            return;
        }
        let mut at = Self::slot_of(word, len);
        while self.slots[at].len != 0 {
            at = (at + 1) % SLOTS;
        }
        self.slots[at] = Slot {
            word,
            len: len as u32,
            id,
        };
        self.filled += 1;
    }

    fn find_or_add(&mut self, metric: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(metric) {
            return id;
        }
        if let Some(other) = self.other {
            // Not in `ids`: metrics not asked for cost no memory past the
            // table's room, however many there are.
            self.remember(metric, other);
            return other;
        }
        let id = self.names.len() as u32;
        self.names.push(metric.into());
        self.ids.insert(metric.into(), id);
        self.remember(metric, id);
        id
    }
}
