//! Memory, measured on the real binary: the peak RSS of a whole `logbench mean`
//! process (exact, from `wait4`, through `logbench measure`). Sizes, not times,
//! so these checks do not flake on a noisy machine.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{bz2, gz, reference};
use data_gen::{Mix, Spec};
use tempfile::TempDir;

const MIB: f64 = 1024.0 * 1024.0;

/// Run `logbench mean FILE --json` once under `logbench measure`: the answer
/// the child printed and its peak RSS in MiB.
fn answer_and_peak_rss(file: &Path, strategy: &str, threads: usize) -> (serde_json::Value, f64) {
    let exe = env!("CARGO_BIN_EXE_logbench");
    let out = Command::new(exe)
        .args([
            "measure",
            "-n",
            "1",
            "--warmup",
            "0",
            "--json",
            "--show-output",
        ])
        .arg("--")
        .arg(exe)
        .arg("mean")
        .arg(file)
        .args(["--json", "--strategy", strategy, "--threads"])
        .arg(threads.to_string())
        .assert()
        .success();
    // The child's JSON line comes first, then measure's summary.
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let mut values = serde_json::Deserializer::from_str(&stdout).into_iter::<serde_json::Value>();
    let answer = values.next().expect("the child's answer").unwrap();
    let summary = values.next().expect("measure's summary").unwrap();
    let rss_kib = summary["max_rss_kib"]["max"].as_f64().unwrap();
    (answer, rss_kib / 1024.0)
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn seed_text(lines: u64) -> Vec<u8> {
    data_gen::text(Spec {
        lines,
        mix: Mix::Seed,
        ..Spec::default()
    })
}

/// What a run holds besides the line: buffers, read-ahead, decoder state and
/// the binary itself. The README's bad-input table states this bound.
const OVERHEAD_MIB: f64 = 48.0;

/// The most text one bzip2 block can decode to: 900,000 bytes after the
/// run-length stage, where 5 bytes stand for up to 255 equal ones.
const BZIP2_BLOCK_TEXT_MIB: f64 = 900_000.0 * 51.0 / MIB;

#[test]
fn a_100_mb_line_is_held_once_in_every_strategy_and_format() {
    let line = 100 << 20;
    let mut text = b"1,cpu_usage,5\n".to_vec();
    text.resize(text.len() + line, b'x');
    text.extend_from_slice(b"\n2,cpu_usage,7\n");
    let expected = reference(&text, b"cpu_usage");
    let dir = TempDir::new().unwrap();
    let files = [
        write(&dir, "huge-line.log", &text),
        write(&dir, "huge-line.log.gz", &gz(&text)),
        write(&dir, "huge-line.log.bz2", &bz2(&text)),
    ];
    drop(text);
    let threads = 2;
    for file in &files {
        for s in logbench::STRATEGIES {
            let (answer, rss) = answer_and_peak_rss(file, s.name, threads);
            let name = file.file_name().unwrap().to_string_lossy();
            eprintln!("{} {name}: {rss:.1} MiB", s.name);
            assert_eq!(answer["count"], expected.count, "{}: {answer}", s.name);
            assert_eq!(answer["sum"], expected.sum as i64, "{}: {answer}", s.name);
            assert_eq!(answer["malformed"], 1, "{}: {answer}", s.name);
            // The line is held once: never a copy per buffer refill, per
            // thread or per regex capture, and never a buffer zeroed to twice
            // the line by doubling. `parallel` on bzip2 also holds, per
            // worker, the block it decodes and that block's text on its way
            // to the stitcher: this file's blocks are that maximum.
            let blocks_in_flight = match (s.name, file.extension()) {
                ("parallel", Some(ext)) if ext == "bz2" => {
                    threads as f64 * 2.0 * BZIP2_BLOCK_TEXT_MIB
                }
                _ => 0.0,
            };
            assert!(
                rss < (line >> 20) as f64 + OVERHEAD_MIB + blocks_in_flight,
                "{} on {name}: peak RSS {rss:.0} MiB for a {} MiB line",
                s.name,
                line >> 20
            );
        }
    }
}

#[test]
fn streaming_rungs_and_parallel_stay_flat_as_compressed_files_grow() {
    // Both sizes are past the steady state: the small file already fills the
    // block-parallel rung's 4 MiB compressed read-ahead (bzip2 -9 keeps these
    // logs at about 3.2 bytes a line). A file held whole would add 14 MiB.
    let dir = TempDir::new().unwrap();
    let (small, large) = (1_500_000, 6_000_000);
    let files = |lines: u64| {
        let text = seed_text(lines);
        [
            write(&dir, &format!("{lines}.log.gz"), &gz(&text)),
            write(&dir, &format!("{lines}.log.bz2"), &bz2(&text)),
        ]
    };
    let (smalls, larges) = (files(small), files(large));
    let peak = |path: &Path, strategy: &str| answer_and_peak_rss(path, strategy, 2).1;
    for (small_file, large_file) in smalls.iter().zip(&larges) {
        for strategy in ["running-sum", "memchr-split", "mask-split", "parallel"] {
            let (rss_small, rss_large) = (peak(small_file, strategy), peak(large_file, strategy));
            eprintln!(
                "{strategy} {}: {rss_small:.1} -> {rss_large:.1} MiB",
                large_file.display()
            );
            assert!(
                rss_large < rss_small + 8.0,
                "{strategy} on {}: {rss_small:.1} MiB at {small} lines, {rss_large:.1} MiB at {large}",
                large_file.display()
            );
        }
    }
    // The check can see growth: the baseline keeps every value (8 bytes each,
    // 4.5 M more of them here, 34 MiB and more with the Vec's doubling slack).
    let grown = peak(&larges[0], "naive-regex") - peak(&smalls[0], "naive-regex");
    assert!(grown > 30.0, "naive-regex grew only {grown:.1} MiB");
}
