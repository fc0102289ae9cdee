//! `report`: turn one `cargo bench` run into `results/`.
//!
//! Reads criterion's estimates (`target/criterion/<group>/<bench>/new/`),
//! measures peak RSS of each rung as a whole process (through [`crate::measure`]),
//! and writes `results/REPORT.md` (tables and findings in plain sentences) plus
//! `results/records/<date>.json`, the same numbers for programs and for later
//! comparison (memchr's habit of keeping every recorded run as data).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::Format;
use crate::strategy::STRATEGIES;

/// One benchmark as criterion recorded it.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub group: String,
    pub bench: String,
    /// Median time per iteration, seconds.
    pub median_s: f64,
    /// Bytes of uncompressed text per iteration (the benchmark's throughput).
    pub text_bytes: Option<u64>,
}

impl BenchResult {
    /// Decimal megabytes of text per second at the median.
    pub fn mb_per_s(&self) -> Option<f64> {
        self.text_bytes.map(|b| b as f64 / 1e6 / self.median_s)
    }
}

#[derive(Deserialize)]
struct BenchmarkJson {
    group_id: String,
    function_id: Option<String>,
    throughput: Option<ThroughputJson>,
}

#[derive(Deserialize)]
enum ThroughputJson {
    Bytes(u64),
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct EstimatesJson {
    median: PointJson,
}

#[derive(Deserialize)]
struct PointJson {
    point_estimate: f64,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::read(&path.display().to_string(), e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::read(&path.display().to_string(), std::io::Error::other(e)))
}

/// Every benchmark under criterion's output directory (`target/criterion`).
pub fn read_criterion(dir: &Path) -> Result<Vec<BenchResult>> {
    let mut results = Vec::new();
    let groups = std::fs::read_dir(dir).map_err(|e| Error::Open {
        file: dir.display().to_string(),
        action: "cannot list criterion results (run `cargo bench` first)",
        source: e,
    })?;
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for bench in benches.flatten() {
            let new = bench.path().join("new");
            if !new.join("estimates.json").is_file() {
                continue;
            }
            let meta: BenchmarkJson = read_json(&new.join("benchmark.json"))?;
            let estimates: EstimatesJson = read_json(&new.join("estimates.json"))?;
            results.push(BenchResult {
                group: meta.group_id,
                bench: meta.function_id.unwrap_or_default(),
                median_s: estimates.median.point_estimate / 1e9,
                text_bytes: match meta.throughput {
                    Some(ThroughputJson::Bytes(b)) => Some(b),
                    _ => None,
                },
            });
        }
    }
    results.sort_by(|a, b| (&a.group, &a.bench).cmp(&(&b.group, &b.bench)));
    Ok(results)
}

/// Peak RSS of one rung on one file, as a whole process.
#[derive(Debug, Clone, Serialize)]
pub struct RssResult {
    pub format: String,
    pub strategy: String,
    pub lines: u64,
    pub max_rss_kib: u64,
}

/// Run `exe mean FILE --strategy S --threads 1` once per rung and record its peak RSS.
pub fn measure_rss(exe: &Path, file: &Path, format: Format, lines: u64) -> Result<Vec<RssResult>> {
    STRATEGIES
        .iter()
        .map(|s| {
            let command: Vec<OsString> = vec![
                exe.into(),
                "mean".into(),
                file.into(),
                "--strategy".into(),
                s.name.into(),
                "--threads".into(),
                "1".into(),
            ];
            let sample = crate::measure::run_once(&command, false)?;
            Ok(RssResult {
                format: format.name().into(),
                strategy: s.name.into(),
                lines,
                max_rss_kib: sample.max_rss_kib,
            })
        })
        .collect()
}

/// Everything one report holds.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub date: String,
    pub machine: String,
    pub toolchain: String,
    pub benches: Vec<BenchResult>,
    pub rss: Vec<RssResult>,
}

fn find<'a>(benches: &'a [BenchResult], group: &str, bench: &str) -> Option<&'a BenchResult> {
    benches
        .iter()
        .find(|b| b.group == group && b.bench == bench)
}

/// The ladder table: rung × format, median, MB/s, speedup over `naive-regex`,
/// ratio to the floor, peak RSS.
pub fn ladder_table(record: &Record, prefix: &str) -> String {
    let mut out = String::from(
        "| format | rung | median | MB/s | × naive-regex | × floor (time) | peak RSS |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let rss: BTreeMap<(&str, &str), u64> = record
        .rss
        .iter()
        .map(|r| ((r.format.as_str(), r.strategy.as_str()), r.max_rss_kib))
        .collect();
    for format in Format::ALL {
        let group = format!("{prefix}{}", format.name());
        let naive = find(&record.benches, &group, "naive-regex");
        let floor = find(&record.benches, &group, "floor");
        let names = std::iter::once("floor").chain(STRATEGIES.iter().map(|s| s.name));
        for name in names {
            let Some(bench) = find(&record.benches, &group, name) else {
                continue;
            };
            let speedup = naive.map_or("".into(), |n| {
                format!("{:.1}×", n.median_s / bench.median_s)
            });
            let to_floor =
                floor.map_or("".into(), |f| format!("{:.2}", bench.median_s / f.median_s));
            let rss = if prefix.is_empty() {
                rss.get(&(format.name(), name))
                    .map_or("".into(), |k| format!("{:.1} MiB", *k as f64 / 1024.0))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {group} | {name} | {} | {:.0} | {speedup} | {to_floor} | {rss} |",
                human_time(bench.median_s),
                bench.mb_per_s().unwrap_or(f64::NAN),
            );
        }
    }
    out
}

/// Seconds with a unit that keeps three significant digits readable.
pub fn human_time(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{:.1} µs", seconds * 1e6)
    }
}

/// A few plain sentences drawn from the numbers.
pub fn findings(record: &Record) -> String {
    let mut out = String::new();
    let median = |group: &str, bench: &str| find(&record.benches, group, bench).map(|b| b.median_s);
    if let (Some(naive), Some(best), Some(floor)) = (
        median("raw", "naive-regex"),
        STRATEGIES
            .iter()
            .rev()
            .find_map(|s| median("raw", s.name).map(|m| (s.name, m))),
        median("raw", "floor"),
    ) {
        let _ = writeln!(
            out,
            "- On raw text the faithful baseline takes {}; the fastest rung (`{}`) takes {}, {:.0}× less, \
             and sits at {:.1}× the floor (reading and counting newlines).",
            human_time(naive),
            best.0,
            human_time(best.1),
            naive / best.1,
            best.1 / floor
        );
    }
    for format in ["gz", "bz2"] {
        if let (Some(floor), Some(naive), Some(fast)) = (
            median(format, "floor"),
            median(format, "naive-regex"),
            median(format, "swar"),
        ) {
            let _ = writeln!(
                out,
                "- On {format}, decoding alone takes {} of the baseline's {} ({:.0}%); once parsing is fast, \
                 `swar` needs only {:.2}× the floor: decompression is the wall.",
                human_time(floor),
                human_time(naive),
                100.0 * floor / naive,
                fast / floor
            );
        }
    }
    out
}

/// Write `REPORT.md` and `records/<date>.json` under `out`.
pub fn write(record: &Record, out: &Path) -> Result<PathBuf> {
    let io = |path: &Path, e| Error::read(&path.display().to_string(), e);
    let records = out.join("records");
    std::fs::create_dir_all(&records).map_err(|e| io(&records, e))?;
    let json_path = records.join(format!("{}.json", record.date));
    let json = serde_json::to_string_pretty(record).expect("plain data serialises");
    write_atomically(&json_path, json.as_bytes()).map_err(|e| io(&json_path, e))?;

    let mut md = String::new();
    let _ = writeln!(md, "# logbench results\n");
    let _ = writeln!(
        md,
        "Regenerate with `cargo bench` and then `cargo run --release --bin logbench -- report`.\n\
         This run: {} on {} ({}). Medians of criterion's samples; ratios are from this one run, \
         so they compare fairly while absolute times depend on the machine. Throughput is in \
         decimal MB of uncompressed text per second. Peak RSS is one whole-process run of \
         `logbench mean --strategy S --threads 1` (exact, from `wait4`). Machine-readable: \
         [`records/{}.json`](records/{}.json).\n",
        record.date, record.machine, record.toolchain, record.date, record.date
    );
    let _ = writeln!(md, "## Findings\n\n{}", findings(record));
    let _ = writeln!(
        md,
        "## The ladder (seed data set: every line `cpu_usage`)\n\n{}",
        ladder_table(record, "")
    );
    let _ = writeln!(
        md,
        "## Mixed metrics (50% `cpu_usage`, raw)\n\n{}",
        ladder_table(record, "mixed-")
    );
    let report = out.join("REPORT.md");
    write_atomically(&report, md.as_bytes()).map_err(|e| io(&report, e))?;
    Ok(report)
}

/// Write `bytes` to `path` through a temporary file in the same directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temp, bytes)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// "CPU model, N cores" from /proc/cpuinfo where available.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    format!("{model}, {cores} cores")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(group: &str, bench: &str, median_s: f64) -> BenchResult {
        BenchResult {
            group: group.into(),
            bench: bench.into(),
            median_s,
            text_bytes: Some(100_000_000),
        }
    }

    fn record() -> Record {
        Record {
            date: "2026-01-01".into(),
            machine: "test".into(),
            toolchain: "rustc".into(),
            benches: vec![
                bench("raw", "floor", 0.01),
                bench("raw", "naive-regex", 3.0),
                bench("raw", "swar", 0.05),
            ],
            rss: vec![RssResult {
                format: "raw".into(),
                strategy: "naive-regex".into(),
                lines: 5,
                max_rss_kib: 2048,
            }],
        }
    }

    #[test]
    fn ladder_table_has_speedups_ratios_and_rss() {
        let table = ladder_table(&record(), "");
        assert!(
            table.contains("| raw | naive-regex | 3.00 s | 33 | 1.0× | 300.00 | 2.0 MiB |"),
            "{table}"
        );
        assert!(
            table.contains("| raw | swar | 50.0 ms | 2000 | 60.0× | 5.00 |"),
            "{table}"
        );
    }

    #[test]
    fn findings_quote_the_numbers() {
        let text = findings(&record());
        assert!(
            text.contains("60× less") && text.contains("5.0× the floor"),
            "{text}"
        );
    }

    #[test]
    fn reads_what_criterion_writes() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("raw").join("swar").join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"group_id":"raw","function_id":"swar","value_str":null,"throughput":{"Bytes":1000},"full_id":"raw/swar"}"#,
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"mean":{"point_estimate":2.0e6},"median":{"point_estimate":1.0e6}}"#,
        )
        .unwrap();
        let results = read_criterion(dir.path()).unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(
            (results[0].median_s, results[0].text_bytes),
            (1e-3, Some(1000))
        );
        assert_eq!(results[0].mb_per_s(), Some(1.0));
    }
}
