//! The answer as the user reads it: rows per group with their quantiles, and
//! text, JSON and CSV forms of it (`STATS.md`, "Output").
//!
//! Rows are made as they are written, never held as a table: a run of 83,000
//! one-minute windows has a quarter of a million of them, and a table of
//! strings would take more memory and time than the scan. Each metric's
//! display forms are made once, not once per window.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::plan::{Quantile, StatsQuery};
use super::state::GroupState;
use super::summary::Summary;
use crate::error::Error;

/// One group's line of the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub window_start: Option<u64>,
    pub metric: Vec<u8>,
    pub count: u64,
    /// `None` for a metric asked for with no record.
    pub sum: Option<i128>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub mean: Option<f64>,
    /// One per quantile asked, in order; empty when `count == 0`.
    pub quantiles: Vec<i64>,
    pub exact: bool,
}

/// A metric as the output shows it.
#[derive(Debug)]
struct Name<'a> {
    bytes: &'a [u8],
    /// Escaped for a terminal (control characters too).
    text: String,
    /// Escaped for JSON and CSV (non-UTF-8 bytes only).
    plain: String,
    utf8: bool,
}

/// One group: its window, its metric (an index into the names, which are in
/// byte order), and its state (`None` for a metric asked for without a record).
type Group<'a> = (Option<u64>, u32, Option<&'a GroupState>);

/// The whole answer.
#[derive(Debug)]
pub struct Report<'a> {
    names: Vec<Name<'a>>,
    /// In output order: by window, then metric.
    groups: Vec<Group<'a>>,
    asked: &'a [Quantile],
    pub windowed: bool,
    pub malformed: u64,
    pub out_of_range: u64,
    pub records: u64,
    pub files: u64,
    pub seconds: f64,
    /// Files left out under `--keep-going`: (file, why).
    pub skipped: Vec<(String, String)>,
}

/// The state of a group with no record.
static EMPTY: std::sync::LazyLock<GroupState> = std::sync::LazyLock::new(GroupState::default);

impl<'a> Report<'a> {
    /// The answer to `query` from `summary`: its groups sorted by window,
    /// then metric, plus a `count 0` group for each metric asked for that has
    /// none (in every window that holds a record of another metric asked
    /// for). No record at all is an error.
    pub fn new(
        summary: &'a Summary,
        query: &'a StatsQuery,
        skipped: &[(String, impl std::fmt::Display)],
        seconds: f64,
    ) -> Result<Report<'a>, Error> {
        if !summary.has_records() {
            return Err(Error::NoStatsRecords {
                files: summary.files,
                malformed: summary.malformed,
            });
        }
        let metrics: BTreeSet<&[u8]> = summary
            .metrics
            .keys()
            .map(Vec::as_slice)
            .chain(query.metrics.iter().map(Vec::as_slice))
            .collect();
        let names: Vec<Name> = metrics
            .into_iter()
            .map(|bytes| Name {
                bytes,
                text: escape(bytes, true),
                plain: escape(bytes, false),
                utf8: std::str::from_utf8(bytes).is_ok(),
            })
            .collect();
        let index = |metric: &[u8]| {
            names
                .binary_search_by(|name| name.bytes.cmp(metric))
                .expect("every metric is named") as u32
        };
        let mut groups: Vec<Group> = Vec::new();
        for (metric, windows) in &summary.metrics {
            let at = index(metric);
            groups.extend(
                windows
                    .iter()
                    .map(|(&window, state)| (window, at, Some(state))),
            );
        }
        if !query.metrics.is_empty() {
            let windows: BTreeSet<Option<u64>> = groups.iter().map(|g| g.0).collect();
            let asked: BTreeSet<&[u8]> = query.metrics.iter().map(Vec::as_slice).collect();
            for metric in asked {
                let theirs = summary.metrics.get(metric);
                for &window in &windows {
                    if theirs.is_none_or(|w| !w.contains_key(&window)) {
                        groups.push((window, index(metric), None));
                    }
                }
            }
        }
        // One sorted run per metric: a stable sort merges runs.
        groups.sort_by_key(|&(window, name, _)| (window, name));
        Ok(Report {
            names,
            groups,
            asked: &query.quantiles,
            windowed: query.every.is_some(),
            malformed: summary.malformed,
            out_of_range: summary.out_of_range,
            records: summary.records,
            files: summary.files,
            seconds,
            skipped: skipped
                .iter()
                .map(|(file, e)| (file.clone(), e.to_string()))
                .collect(),
        })
    }

    /// How many groups (rows) the answer has.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The rows, in order.
    pub fn rows(&self) -> impl Iterator<Item = Row> + '_ {
        self.groups.iter().map(|&(window, name, state)| {
            let state = state.unwrap_or(&EMPTY);
            let some = state.count > 0;
            Row {
                window_start: window,
                metric: self.names[name as usize].bytes.to_vec(),
                count: state.count,
                sum: some.then_some(state.sum),
                min: some.then_some(state.min),
                max: some.then_some(state.max),
                mean: some.then(|| mean(state)),
                quantiles: state.quantiles(self.asked),
                exact: state.exact(),
            }
        })
    }

    /// The column names text and CSV share: the window's start (with
    /// `--every`), the metric, the numbers, then `q` and each quantile.
    fn columns(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.windowed {
            names.push("window_start".into());
        }
        names.extend(["metric", "count", "sum", "min", "max", "mean"].map(String::from));
        names.extend(self.asked.iter().map(|q| format!("q{q}")));
        names
    }

    /// One group's cells, as text or CSV shows them, into `cells`, given its
    /// `quantiles`.
    fn cells(
        &self,
        &(window, name, state): &Group,
        quantiles: &[i64],
        csv: bool,
        cells: &mut Cells,
    ) {
        cells.clear();
        let state = state.unwrap_or(&EMPTY);
        let mut number = itoa::Buffer::new();
        if let Some(w) = window {
            cells.push(number.format(w).as_bytes());
        }
        let name = &self.names[name as usize];
        cells.push(if csv { &name.plain } else { &name.text }.as_bytes());
        cells.push(number.format(state.count).as_bytes());
        let missing: &[u8] = if csv { b"" } else { b"-" };
        if state.count == 0 {
            (0..4 + self.asked.len()).for_each(|_| cells.push(missing));
            return;
        }
        match i64::try_from(state.sum) {
            Ok(sum) => cells.push(number.format(sum).as_bytes()),
            Err(_) => cells.push(number.format(state.sum).as_bytes()),
        }
        cells.push(number.format(state.min).as_bytes());
        cells.push(number.format(state.max).as_bytes());
        if csv {
            // CSV keeps the mean to the last bit, as JSON does.
            cells.push_with(|bytes| {
                let _ = write!(bytes, "{}", mean(state));
            });
        } else {
            cells.push_with(|bytes| write_mean(bytes, state.sum, state.count));
        }
        let mark: &[u8] = if state.exact() || csv { b"" } else { b"~" };
        for &value in quantiles {
            cells.push_with(|bytes| {
                bytes.extend_from_slice(mark);
                bytes.extend_from_slice(number.format(value).as_bytes());
            });
        }
    }

    /// Aligned rows, then a footer with the run-wide counts. Two passes over
    /// the groups: one for the columns' widths, one to write.
    pub fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        let header = self.columns();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        let metric_column = usize::from(self.windowed);
        // The characters a cell shows: only a metric can hold characters of
        // more than one byte.
        let shown = |c: usize, cell: &[u8]| {
            if c == metric_column {
                std::str::from_utf8(cell).map_or(cell.len(), |s| s.chars().count())
            } else {
                cell.len()
            }
        };
        let mut cells = Cells::default();
        // Each group's quantiles, found once for both passes.
        let mut quantiles = Vec::with_capacity(self.groups.len() * self.asked.len());
        let mut found = Vec::new();
        for group in &self.groups {
            group
                .2
                .unwrap_or(&EMPTY)
                .quantiles_into(self.asked, &mut found);
            found.resize(self.asked.len(), 0);
            quantiles.extend_from_slice(&found);
        }
        let each = self.asked.len();
        for (i, group) in self.groups.iter().enumerate() {
            self.cells(group, &quantiles[i * each..][..each], false, &mut cells);
            for (c, width) in widths.iter_mut().enumerate() {
                *width = (*width).max(shown(c, cells.get(c)));
            }
        }
        let mut line = Vec::new();
        let mut write_line = |cells: &mut dyn Iterator<Item = &[u8]>, out: &mut dyn Write| {
            line.clear();
            for (c, cell) in cells.enumerate() {
                if c > 0 {
                    line.extend_from_slice(b"  ");
                }
                let pad = std::iter::repeat_n(b' ', widths[c] - shown(c, cell));
                if c == metric_column {
                    line.extend_from_slice(cell);
                    line.extend(pad);
                } else {
                    line.extend(pad);
                    line.extend_from_slice(cell);
                }
            }
            let kept = line.trim_ascii_end().len();
            line.truncate(kept);
            line.push(b'\n');
            out.write_all(&line)
        };
        write_line(&mut header.iter().map(|h| h.as_bytes()), out)?;
        for (i, group) in self.groups.iter().enumerate() {
            self.cells(group, &quantiles[i * each..][..each], false, &mut cells);
            write_line(&mut cells.iter(), out)?;
        }
        writeln!(
            out,
            "{} groups from {} files: {} records, {} malformed lines, {} out of range; {:.3} s",
            self.len(),
            self.files,
            self.records,
            self.malformed,
            self.out_of_range,
            self.seconds
        )?;
        if self
            .groups
            .iter()
            .any(|(_, _, state)| state.is_some_and(|s| !s.exact()))
        {
            writeln!(
                out,
                "~ marks quantiles from the sketch (within 1% of the exact value)"
            )?;
        }
        for (file, why) in &self.skipped {
            writeln!(out, "skipped {file}: {why}")?;
        }
        Ok(())
    }

    /// [`Report::write_text`] into a string.
    pub fn to_text(&self) -> String {
        let mut out = Vec::new();
        self.write_text(&mut out).expect("writing to memory");
        String::from_utf8(out).expect("escaped metrics and numbers are UTF-8")
    }

    /// One JSON document, written as the rows are made.
    pub fn write_json(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self).map_err(io::Error::from)?;
        writeln!(out)
    }

    /// A header row and one row per group (RFC 4180 quoting).
    pub fn write_csv(&self, out: &mut impl Write) -> io::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        let mut header = self.columns();
        header.push("exact".into());
        writer.write_record(&header)?;
        let mut cells = Cells::default();
        let mut quantiles = Vec::new();
        for group in &self.groups {
            group
                .2
                .unwrap_or(&EMPTY)
                .quantiles_into(self.asked, &mut quantiles);
            self.cells(group, &quantiles, true, &mut cells);
            let exact = group.2.is_none_or(GroupState::exact);
            writer.write_record(cells.iter().chain([if exact {
                &b"true"[..]
            } else {
                b"false"
            }]))?;
        }
        writer.flush()
    }

    /// [`Report::write_csv`] into a string.
    pub fn to_csv(&self) -> String {
        let mut out = Vec::new();
        self.write_csv(&mut out).expect("writing to memory");
        String::from_utf8(out).expect("every cell is UTF-8")
    }
}

/// A row's cells in one buffer, reused from row to row.
#[derive(Default)]
struct Cells {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Cells {
    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    fn push(&mut self, cell: &[u8]) {
        self.push_with(|bytes| bytes.extend_from_slice(cell));
    }

    fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.bytes);
        self.ends.push(self.bytes.len());
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.ends.len()).map(|i| self.get(i))
    }
}

/// A group's mean as JSON and CSV give it: the nearest f64.
fn mean(state: &GroupState) -> f64 {
    state.sum as f64 / state.count as f64
}

/// `sum / count` to 6 decimal places, rounded exactly (half to even) from
/// the exact sum, as the text output shows it.
fn write_mean(out: &mut Vec<u8>, sum: i128, count: u64) {
    if sum < 0 {
        out.push(b'-');
    }
    let magnitude = sum.unsigned_abs();
    // In 64-bit division where the numbers fit: the usual case.
    let (mut whole, rest) = match u64::try_from(magnitude) {
        Ok(small) => (u128::from(small / count), small % count),
        Err(_) => {
            let count = u128::from(count);
            (magnitude / count, (magnitude % count) as u64)
        }
    };
    // rest < count, so the fraction's digits and what is left fit in u64.
    let (mut fraction, left) = match rest.checked_mul(1_000_000) {
        Some(scaled) => (scaled / count, scaled % count),
        None => {
            let (scaled, count) = (u128::from(rest) * 1_000_000, u128::from(count));
            ((scaled / count) as u64, (scaled % count) as u64)
        }
    };
    // Half to even: compare `left` with `count - left`, not `2 * left` with `count`.
    let other = count - left;
    if left > other || (left == other && fraction % 2 == 1) {
        fraction += 1;
        if fraction == 1_000_000 {
            (whole, fraction) = (whole + 1, 0);
        }
    }
    out.extend_from_slice(itoa::Buffer::new().format(whole).as_bytes());
    out.push(b'.');
    // 10^6 + fraction has 7 digits: drop the leading 1 to zero-pad to 6.
    out.extend_from_slice(&itoa::Buffer::new().format(1_000_000 + fraction).as_bytes()[1..]);
}

impl Serialize for Report<'_> {
    /// `--json`'s document: `STATS.md`, "Output".
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut document = serializer.serialize_map(None)?;
        let groups = self.groups.iter().map(|group| JsonGroup {
            report: self,
            group,
        });
        document.serialize_entry("groups", &Once(std::cell::Cell::new(Some(groups))))?;
        document.serialize_entry("malformed", &self.malformed)?;
        document.serialize_entry("out_of_range", &self.out_of_range)?;
        document.serialize_entry("records", &self.records)?;
        document.serialize_entry("files", &self.files)?;
        document.serialize_entry("seconds", &self.seconds)?;
        if !self.skipped.is_empty() {
            let skipped: Vec<_> = self
                .skipped
                .iter()
                .map(|(file, error)| [("file", file), ("error", error)])
                .map(|pairs| Pairs(pairs.to_vec()))
                .collect();
            document.serialize_entry("skipped", &skipped)?;
        }
        document.end()
    }
}

/// A sequence serialised straight from an iterator, once.
struct Once<I>(std::cell::Cell<Option<I>>);

impl<I: Iterator<Item = T>, T: Serialize> Serialize for Once<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.take().expect("serialised once"))
    }
}

/// An object from (key, value) pairs, in their order.
struct Pairs<K, V>(Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for Pairs<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// One group's JSON object.
struct JsonGroup<'r, 'a> {
    report: &'r Report<'a>,
    group: &'r Group<'a>,
}

impl Serialize for JsonGroup<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let &(window, name, state) = self.group;
        let name = &self.report.names[name as usize];
        let state = state.unwrap_or(&EMPTY);
        let some = state.count > 0;
        let mut group = serializer.serialize_map(None)?;
        group.serialize_entry("metric", &name.plain)?;
        if !name.utf8 {
            group.serialize_entry("metric_bytes", name.bytes)?;
        }
        if let Some(w) = window {
            group.serialize_entry("window_start", &w)?;
        }
        group.serialize_entry("count", &state.count)?;
        group.serialize_entry("sum", &some.then_some(state.sum))?;
        group.serialize_entry("min", &some.then_some(state.min))?;
        group.serialize_entry("max", &some.then_some(state.max))?;
        group.serialize_entry("mean", &some.then(|| mean(state)))?;
        let values = state.quantiles(self.report.asked);
        let quantiles = self
            .report
            .asked
            .iter()
            .map(|q| q.text.as_str())
            .zip(values);
        group.serialize_entry("quantiles", &Pairs(quantiles.collect()))?;
        group.serialize_entry("exact", &state.exact())?;
        group.end()
    }
}

/// A metric for display: UTF-8 as it is, other bytes as `\xNN` (and, for a
/// terminal, control characters too), never lossily.
pub fn escape(metric: &[u8], controls: bool) -> String {
    let mut out = String::with_capacity(metric.len());
    for chunk in metric.utf8_chunks() {
        for c in chunk.valid().chars() {
            if controls && (c.is_control()) && c.is_ascii() {
                let _ = write!(out, "\\x{:02x}", c as u32);
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_text(sum: i128, count: u64) -> String {
        let mut out = Vec::new();
        write_mean(&mut out, sum, count);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn means_round_exactly_half_to_even() {
        assert_eq!(mean_text(1, 3), "0.333333");
        assert_eq!(mean_text(2, 3), "0.666667");
        assert_eq!(mean_text(-2, 3), "-0.666667");
        assert_eq!(mean_text(74, 1), "74.000000");
        // Ties: 0.0000005 goes down to even, 0.0000015 up to even.
        assert_eq!(mean_text(1, 2_000_000), "0.000000");
        assert_eq!(mean_text(3, 2_000_000), "0.000002");
        assert_eq!(mean_text(1_999_999, 2_000_000), "1.000000");
        // Past 64 bits, in the sum and in the remainder's digits.
        assert_eq!(
            mean_text(i128::from(i64::MAX) * 4, 2),
            "18446744073709551614.000000"
        );
        assert_eq!(
            mean_text(i128::MIN + 1, u64::MAX),
            "-9223372036854775808.500000"
        );
        assert_eq!(mean_text(u64::MAX as i128 - 1, u64::MAX), "1.000000");
        // Agrees with f64's rounding wherever f64 is exact enough to tell.
        for (sum, count) in [(123_456_789, 7), (-5, 9), (1 << 20, 3), (99, 100)] {
            assert_eq!(
                mean_text(sum, count),
                format!("{:.6}", sum as f64 / count as f64)
            );
        }
    }
}
