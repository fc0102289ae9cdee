//! The heap profile: what each rung asks of the allocator.
//!
//! The case study's memory question was whether to keep five million ints in
//! a list or fold them into a running sum; its memory profilers answered with
//! object counts. Here every allocation of a run is counted by
//! [`heap_count`]'s allocator, which the `logbench` binary installs: how many
//! allocations a rung makes, how many bytes it asks for in all, and the most
//! it holds at once (its peak heap). Peak RSS ([`crate::tools::measure`])
//! says what the process cost; this says which code asked for it.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use heap_count::Heap;

use crate::error::{Error, Result};
use crate::stats::{self, Engine, StatsQuery};
use crate::strategy::{Query, Strategy};
use crate::tools::profile::open_rereadable;

/// One measured run.
#[derive(Debug, Clone, Copy)]
pub struct HeapRow {
    /// The rung, or `stats --engine E`.
    pub name: &'static str,
    pub heap: Heap,
    /// Lines the run read.
    pub lines: u64,
    /// Its wall time, counting on (an allocation costs four atomic adds more).
    pub wall: Duration,
}

impl HeapRow {
    /// Allocations per line read.
    pub fn per_line(&self) -> f64 {
        self.heap.allocations as f64 / self.lines.max(1) as f64
    }
}

/// The heap profile of several runs over one file.
#[derive(Debug, Clone)]
pub struct HeapProfile {
    pub file: String,
    pub threads: usize,
    pub rows: Vec<HeapRow>,
}

/// Count the heap of `work`, which opens the file itself so that the
/// decoder's buffers are counted as the run's.
fn count(name: &'static str, work: impl FnOnce() -> Result<u64>) -> Result<HeapRow> {
    let started = Instant::now();
    let (lines, heap) = heap_count::measure(work).map_err(|refused| Error::HeapCount {
        problem: refused.to_string(),
    })?;
    Ok(HeapRow {
        name,
        heap,
        lines: lines?,
        wall: started.elapsed(),
    })
}

/// Run each of `strategies` on `path` in turn, counting its heap.
pub fn heap_profile(
    strategies: &[&'static Strategy],
    path: &Path,
    query: &Query,
) -> Result<HeapProfile> {
    let mut rows = Vec::with_capacity(strategies.len());
    for strategy in strategies {
        rows.push(count(strategy.name, || {
            let input = open_rereadable(path)?;
            Ok((strategy.run)(input, query)?.lines)
        })?);
    }
    Ok(HeapProfile {
        file: path.display().to_string(),
        threads: query.threads,
        rows,
    })
}

/// Run `stats` with `engine` on `path`, counting its heap.
pub fn stats_heap_profile(path: &Path, query: &StatsQuery, engine: Engine) -> Result<HeapProfile> {
    let name = match engine {
        Engine::Naive => "stats --engine naive",
        Engine::Fast => "stats --engine fast",
    };
    let row = count(name, || {
        Ok(stats::summarise_files(&[path], query, engine)?
            .summary
            .lines)
    })?;
    Ok(HeapProfile {
        file: path.display().to_string(),
        threads: query.threads,
        rows: vec![row],
    })
}

/// Bytes in binary units, one decimal.
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl HeapProfile {
    /// The table `logbench profile --heap` prints.
    pub fn table(&self) -> String {
        let mut out = format!(
            "heap of each run on {} ({} thread{}), every allocation counted\n\n\
             {:<22} {:>12} {:>10} {:>12} {:>11} {:>9}\n",
            self.file,
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            "run",
            "allocations",
            "per line",
            "allocated",
            "peak heap",
            "time",
        );
        for row in &self.rows {
            let _ = writeln!(
                out,
                "{:<22} {:>12} {:>10.2} {:>12} {:>11} {:>8.3}s",
                row.name,
                row.heap.allocations,
                row.per_line(),
                human_bytes(row.heap.bytes as f64),
                human_bytes(row.heap.peak as f64),
                row.wall.as_secs_f64(),
            );
        }
        out.push_str(
            "\nallocated: bytes asked for in all (a reallocation counts its new size); \
             peak heap: the most held at once.\n",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_in_binary_units() {
        assert_eq!(human_bytes(0.0), "0 B");
        assert_eq!(human_bytes(1023.0), "1023 B");
        assert_eq!(human_bytes(1536.0), "1.5 KiB");
        assert_eq!(human_bytes(64.0 * 1024.0 * 1024.0), "64.0 MiB");
    }

    #[test]
    fn without_the_counting_allocator_the_profile_is_an_error() {
        // The library's test binary does not install `heap_count::Counting`.
        let err = count("x", || Ok(1)).unwrap_err();
        assert!(err.to_string().contains("global allocator"), "{err}");
    }
}
