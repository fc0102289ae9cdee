//! `logbench profile --heap`: the case study's memory question answered by
//! counting allocations. A list of values grows with the log; a running sum
//! does not.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// One row of the heap table, as printed.
#[derive(Debug)]
struct HeapRow {
    allocations: u64,
    per_line: f64,
    peak_bytes: f64,
}

fn log_of(dir: &TempDir, lines: u64) -> PathBuf {
    let text: String = (0..lines)
        .map(|i| format!("{},cpu_usage,{}\n", 1_362_330_056 + i, i % 100))
        .collect();
    let path = dir.path().join(format!("{lines}.log"));
    std::fs::write(&path, text).unwrap();
    path
}

fn bytes(number: &str, unit: &str) -> f64 {
    let scale = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unit {other:?}"),
    };
    number.parse::<f64>().unwrap() * scale
}

/// Run `profile --heap` with `args` on `path` and read the row named `run`.
fn heap_row(path: &Path, args: &[&str], run: &str) -> HeapRow {
    let out = Command::cargo_bin("logbench")
        .unwrap()
        .args(["profile", "--heap"])
        .args(args)
        .arg(path)
        .assert()
        .success();
    let table = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let line = table
        .lines()
        .find(|line| line.starts_with(&format!("{run} ")))
        .unwrap_or_else(|| panic!("no row {run:?} in\n{table}"));
    let cells: Vec<&str> = line[run.len()..].split_whitespace().collect();
    HeapRow {
        allocations: cells[0].parse().unwrap(),
        per_line: cells[1].parse().unwrap(),
        peak_bytes: bytes(cells[4], cells[5]),
    }
}

#[test]
fn the_baseline_allocates_per_line_and_its_list_grows_with_the_log() {
    let dir = TempDir::new().unwrap();
    let (small, large) = (log_of(&dir, 20_000), log_of(&dir, 200_000));
    let args = ["--strategy", "naive-regex"];
    let (small, large) = (
        heap_row(&small, &args, "naive-regex"),
        heap_row(&large, &args, "naive-regex"),
    );
    // A String per line, at least.
    assert!(
        small.per_line >= 1.0 && large.per_line >= 1.0,
        "{small:?} {large:?}"
    );
    assert!(large.allocations >= 200_000, "{large:?}");
    // The Vec of 200,000 i64 values alone is 1.6 MB.
    assert!(large.peak_bytes >= 1_600_000.0, "{large:?}");
    // Ten times the lines: the peak grows by at least the 180,000 values more.
    assert!(
        large.peak_bytes - small.peak_bytes >= 180_000.0 * 8.0,
        "{small:?} {large:?}"
    );
}

#[test]
fn the_running_sum_allocates_the_same_whatever_the_log_length() {
    let dir = TempDir::new().unwrap();
    let (small, large) = (log_of(&dir, 20_000), log_of(&dir, 200_000));
    let args = ["--strategy", "running-sum"];
    let (small, large) = (
        heap_row(&small, &args, "running-sum"),
        heap_row(&large, &args, "running-sum"),
    );
    assert_eq!(small.allocations, large.allocations, "{small:?} {large:?}");
    assert_eq!(small.peak_bytes, large.peak_bytes, "{small:?} {large:?}");
}

#[test]
fn without_a_strategy_every_rung_gets_a_row() {
    let dir = TempDir::new().unwrap();
    let path = log_of(&dir, 1000);
    for rung in logbench::STRATEGIES {
        let row = heap_row(&path, &[], rung.name);
        assert!(row.allocations > 0, "{}: {row:?}", rung.name);
    }
}

#[test]
fn the_stats_engines_are_counted_too() {
    let dir = TempDir::new().unwrap();
    let path = log_of(&dir, 50_000);
    // Exact quantiles keep every value: 50,000 i64 at least in the naive engine.
    let naive = heap_row(&path, &["--stats", "naive"], "stats --engine naive");
    assert!(naive.peak_bytes >= 400_000.0, "{naive:?}");
    let fast = heap_row(&path, &["--stats", "fast"], "stats --engine fast");
    assert!(fast.allocations > 0, "{fast:?}");
}

#[test]
fn a_heap_profile_of_a_missing_file_names_it() {
    Command::cargo_bin("logbench")
        .unwrap()
        .args(["profile", "--heap", "no-such.log"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no-such.log"));
}
