//! The fast engine: one pass over whole lines, every metric at once.
//!
//! Each line is read front to back once. The epoch's digits are summed as
//! they go by, the metric is looked up in a small table of the metrics seen
//! so far by comparing its bytes in place (as the fastest One Billion Row
//! Challenge entries do, with no general hash per line), and the value is
//! parsed up to the line's end, which is thereby found too. Anything unusual
//! (a long epoch, a new metric, a long value, a malformed line) takes the
//! general path through [`crate::grammar`], the spec every fast path is
//! tested against.

use std::collections::HashMap;
use std::collections::btree_map::Entry;

use memchr::memchr;

use super::plan::{Place, StatsQuery};
use super::state::GroupState;
use super::summary::{Summary, Windows};
use crate::grammar;

/// Metrics compared in place before falling back to the hash map.
const IN_PLACE: usize = 8;
/// The bytes from a line's start that the windowed fast path reads: enough
/// for a 19-digit epoch, a 15-byte metric and an 18-digit value with `\r\n`.
const LINE_WINDOW: usize = 64;

/// A metric of at most 15 bytes and its comma as one 16-byte word, compared
/// with the bytes after the epoch's comma in one masked compare.
struct Packed {
    pattern: u128,
    mask: u128,
    len: usize,
    id: u32,
}

/// Metrics seen so far, by id. With `--metric`, the table holds only the
/// metrics asked for and one id for every other metric, so a log of
/// millions of distinct metrics costs no memory when they are not asked for.
#[derive(Default)]
struct MetricTable {
    /// The first few metrics, compared in place: those of at most 15 bytes
    /// as one word, longer ones as (bytes, id).
    packed: Vec<Packed>,
    long: Vec<(Box<[u8]>, u32)>,
    ids: HashMap<Box<[u8]>, u32>,
    names: Vec<Box<[u8]>>,
    /// With `--metric`: the id of every metric not asked for.
    other: Option<u32>,
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
    /// of the input).
    #[inline]
    pub fn fold_lines(&mut self, text: &[u8]) {
        let mut at = 0;
        while at < text.len() {
            let rest = &text[at..];
            let fast = rest.first_chunk::<LINE_WINDOW>();
            if let Some(length) = fast.and_then(|window| self.fast_line(window)) {
                at += length;
                continue;
            }
            let end = memchr(b'\n', rest).unwrap_or(rest.len());
            self.general_line(&rest[..end]);
            at += end + 1;
        }
    }

    /// A well-formed record with an epoch of at most 19 digits, a metric
    /// the table finds (in place, or new), and a value of at most 18 digits,
    /// folded; its length with the `\n`. `None`: the general path decides,
    /// and nothing was counted. `w` is the [`LINE_WINDOW`] bytes from the
    /// line's start, so there are no bounds checks; the last lines of a
    /// buffer, with fewer bytes left, take the general path.
    #[inline(always)]
    fn fast_line(&mut self, w: &[u8; LINE_WINDOW]) -> Option<usize> {
        let (epoch, i) = leading_digits(w, 20);
        if i == 0 || i > 19 || w[i] != b',' {
            return None;
        }
        let at = i + 1;
        let (id, metric_len) = self.table.find(&w[at..])?;
        let mut j = at + metric_len + 1;
        // Room for a sign, 18 digits and `\r\n` inside the window.
        if j + 21 > LINE_WINDOW {
            return None;
        }
        let negative = w[j] == b'-';
        if negative || w[j] == b'+' {
            j += 1;
        }
        let (value, digits) = leading_digits(&w[j..], 19);
        if digits == 0 || digits > 18 {
            return None;
        }
        let (value, j) = (value as i64, j + digits);
        let length = match w[j] {
            b'\n' => j + 1,
            b'\r' if w[j + 1] == b'\n' => j + 2,
            _ => return None,
        };
        let value = if negative { -value } else { value };
        self.lines += 1;
        self.add_id(id, Some(epoch), value);
        Some(length)
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
        let window = match epoch {
            _ if !self.needs_epoch => 0,
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

/// The ASCII digits that start `bytes`, at most `limit` of them: their value
/// (wrapping past 64 bits, which callers rule out by the count) and count.
#[inline(always)]
fn leading_digits(bytes: &[u8], limit: usize) -> (u64, usize) {
    let mut value = 0u64;
    for (count, &byte) in bytes.iter().take(limit).enumerate() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return (value, count);
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
    }
    (value, limit.min(bytes.len()))
}

impl MetricTable {
    /// The metric at the start of `rest` (up to its `,`): its id and length.
    /// `None` if the line has no `,` after it (the general path decides).
    #[inline(always)]
    fn find(&mut self, rest: &[u8]) -> Option<(u32, usize)> {
        if let Some(word) = rest.first_chunk::<16>() {
            let word = u128::from_le_bytes(*word);
            if let Some(p) = self.packed.iter().find(|p| word & p.mask == p.pattern) {
                return Some((p.id, p.len));
            }
        }
        for (name, id) in &self.long {
            let n = name.len();
            if rest.get(n) == Some(&b',') && rest.starts_with(name) {
                return Some((*id, n));
            }
        }
        self.find_slow(rest)
    }

    /// Keep one of the first [`IN_PLACE`] metrics for comparing in place.
    fn remember(&mut self, metric: &[u8], id: u32) {
        if self.packed.len() + self.long.len() >= IN_PLACE {
            return;
        }
        let len = metric.len();
        if len >= 16 {
            self.long.push((metric.into(), id));
            return;
        }
        let mut bytes = [0u8; 16];
        bytes[..len].copy_from_slice(metric);
        bytes[len] = b',';
        self.packed.push(Packed {
            pattern: u128::from_le_bytes(bytes),
            mask: u128::MAX >> (8 * (15 - len)),
            len,
            id,
        });
    }

    #[cold]
    fn find_slow(&mut self, rest: &[u8]) -> Option<(u32, usize)> {
        let end = memchr::memchr2(b',', b'\n', rest)?;
        if rest[end] != b',' || end == 0 {
            return None;
        }
        Some((self.find_or_add(&rest[..end]), end))
    }

    fn find_or_add(&mut self, metric: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(metric) {
            return id;
        }
        if let Some(other) = self.other {
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
