//! The answer as the user reads it: rows per group with their quantiles, and
//! text, JSON and CSV forms of it (`STATS.md`, "Output").

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::plan::StatsQuery;
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

/// The whole answer.
#[derive(Debug, Clone)]
pub struct Report {
    pub rows: Vec<Row>,
    pub quantiles: Vec<String>,
    pub windowed: bool,
    pub malformed: u64,
    pub out_of_range: u64,
    pub records: u64,
    pub files: u64,
    pub seconds: f64,
    /// Files left out under `--keep-going`: (file, why).
    pub skipped: Vec<(String, String)>,
}

impl Report {
    /// Rows from a summary: its groups in order, plus a `count 0` row for
    /// each metric asked for that has none (in every window that holds a
    /// record of another metric asked for). No record at all is an error.
    pub fn new(
        summary: &Summary,
        query: &StatsQuery,
        skipped: &[(String, Error)],
        seconds: f64,
    ) -> Result<Report, Error> {
        if summary.groups.values().all(|g| g.count == 0) {
            return Err(Error::NoStatsRecords {
                files: summary.files,
                malformed: summary.malformed,
            });
        }
        let empty = GroupState::default();
        let mut keys: Vec<(Option<u64>, &[u8])> = summary
            .groups
            .keys()
            .map(|(w, m)| (*w, m.as_slice()))
            .collect();
        let windows: std::collections::BTreeSet<Option<u64>> =
            keys.iter().map(|(w, _)| *w).collect();
        for metric in &query.metrics {
            for window in &windows {
                if !summary.groups.contains_key(&(*window, metric.clone())) {
                    keys.push((*window, metric));
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let rows = keys
            .into_iter()
            .map(|(window, metric)| {
                let state = summary
                    .groups
                    .get(&(window, metric.to_vec()))
                    .unwrap_or(&empty);
                let some = state.count > 0;
                Row {
                    window_start: window,
                    metric: metric.to_vec(),
                    count: state.count,
                    sum: some.then_some(state.sum),
                    min: some.then_some(state.min),
                    max: some.then_some(state.max),
                    mean: some.then(|| state.sum as f64 / state.count as f64),
                    quantiles: state.quantiles(&query.quantiles),
                    exact: state.exact(),
                }
            })
            .collect();
        Ok(Report {
            rows,
            quantiles: query.quantiles.iter().map(|q| q.text.clone()).collect(),
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

    /// The column names text and CSV share: the window's start (with
    /// `--every`), the metric, the numbers, then `q` and each quantile.
    fn columns(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.windowed {
            names.push("window_start".into());
        }
        names.extend(["metric", "count", "sum", "min", "max", "mean"].map(String::from));
        names.extend(self.quantiles.iter().map(|q| format!("q{q}")));
        names
    }

    /// Aligned rows, then a footer with the run-wide counts.
    pub fn to_text(&self) -> String {
        let mut table = vec![self.columns()];
        for row in &self.rows {
            let mut cells = Vec::new();
            if let Some(w) = row.window_start {
                cells.push(w.to_string());
            }
            cells.push(escape(&row.metric, true));
            cells.push(row.count.to_string());
            let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
            cells.push(or_dash(row.sum.map(|v| v.to_string())));
            cells.push(or_dash(row.min.map(|v| v.to_string())));
            cells.push(or_dash(row.max.map(|v| v.to_string())));
            cells.push(or_dash(row.mean.map(|v| format!("{v:.6}"))));
            let mark = if row.exact { "" } else { "~" };
            for i in 0..self.quantiles.len() {
                cells.push(or_dash(row.quantiles.get(i).map(|v| format!("{mark}{v}"))));
            }
            table.push(cells);
        }
        let columns = table[0].len();
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                table
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let metric_column = usize::from(self.windowed);
        let mut out = String::new();
        for cells in &table {
            let mut line = String::new();
            for (c, cell) in cells.iter().enumerate() {
                if c > 0 {
                    line.push_str("  ");
                }
                let pad = widths[c] - cell.chars().count();
                if c == metric_column {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                } else {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{} groups from {} files: {} records, {} malformed lines, {} out of range; {:.3} s",
            self.rows.len(),
            self.files,
            self.records,
            self.malformed,
            self.out_of_range,
            self.seconds
        );
        if self.rows.iter().any(|r| !r.exact) {
            out.push_str("~ marks quantiles from the sketch (within 1% of the exact value)\n");
        }
        for (file, why) in &self.skipped {
            let _ = writeln!(out, "skipped {file}: {why}");
        }
        out
    }

    /// One JSON document.
    pub fn to_json(&self) -> Value {
        let groups: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut group = Map::new();
                group.insert("metric".into(), json!(escape(&row.metric, false)));
                if std::str::from_utf8(&row.metric).is_err() {
                    group.insert("metric_bytes".into(), json!(row.metric));
                }
                if let Some(w) = row.window_start {
                    group.insert("window_start".into(), json!(w));
                }
                group.insert("count".into(), json!(row.count));
                group.insert("sum".into(), json!(row.sum));
                group.insert("min".into(), json!(row.min));
                group.insert("max".into(), json!(row.max));
                group.insert("mean".into(), json!(row.mean));
                let quantiles: Map<String, Value> = self
                    .quantiles
                    .iter()
                    .zip(&row.quantiles)
                    .map(|(q, v)| (q.clone(), json!(v)))
                    .collect();
                group.insert("quantiles".into(), Value::Object(quantiles));
                group.insert("exact".into(), json!(row.exact));
                Value::Object(group)
            })
            .collect();
        let mut document = json!({
            "groups": groups,
            "malformed": self.malformed,
            "out_of_range": self.out_of_range,
            "records": self.records,
            "files": self.files,
            "seconds": self.seconds,
        });
        if !self.skipped.is_empty() {
            document["skipped"] = self
                .skipped
                .iter()
                .map(|(file, why)| json!({"file": file, "error": why}))
                .collect();
        }
        document
    }

    /// A header row and one row per group (RFC 4180 quoting).
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut header = self.columns();
        header.push("exact".into());
        writer.write_record(&header).expect("writing to memory");
        for row in &self.rows {
            let mut cells: Vec<String> = Vec::new();
            if let Some(w) = row.window_start {
                cells.push(w.to_string());
            }
            cells.push(escape(&row.metric, false));
            cells.push(row.count.to_string());
            let or_empty = |v: Option<String>| v.unwrap_or_default();
            cells.push(or_empty(row.sum.map(|v| v.to_string())));
            cells.push(or_empty(row.min.map(|v| v.to_string())));
            cells.push(or_empty(row.max.map(|v| v.to_string())));
            cells.push(or_empty(row.mean.map(|v| v.to_string())));
            for i in 0..self.quantiles.len() {
                cells.push(or_empty(row.quantiles.get(i).map(|v| v.to_string())));
            }
            cells.push(row.exact.to_string());
            writer.write_record(&cells).expect("writing to memory");
        }
        String::from_utf8(writer.into_inner().expect("writing to memory"))
            .expect("every cell is UTF-8")
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
