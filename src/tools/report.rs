//! `report`: turn one `cargo bench` run into `results/`.
//!
//! Reads criterion's estimates (`target/criterion/<group>/<bench>/new/`),
//! measures peak RSS of each rung as a whole process (through [`crate::tools::measure`]),
//! and writes `results/REPORT.md` (tables and findings in plain sentences) plus
//! `results/records/<date>.json`, the same numbers for programs and for later
//! comparison (memchr's habit of keeping every recorded run as data).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::input::Format;
use crate::strategy::{self, Query, STRATEGIES};
use crate::tools::heap::heap_profile;
use crate::tools::profile::profile_file;

mod chart;
mod criterion;
mod findings;
mod ladders;
mod python;
mod tables;

pub use chart::throughput_svg;
pub use criterion::{BenchResult, read_criterion};
pub use findings::findings;
pub use tables::{
    amdahl_table, heap_table, human_time, ladder_table, scaling_table, stage_table, views_table,
};

/// What `logbench report` reads and measures.
#[derive(Debug, Clone)]
pub struct Options {
    /// Criterion's output directory (`target/criterion`).
    pub criterion: PathBuf,
    /// Where the benchmarks cached their data sets (`target/logbench-data`).
    pub data: PathBuf,
    /// Line count of the seed data sets to measure and profile.
    pub lines: u64,
    /// Measure each rung's peak RSS as a whole process.
    pub rss: bool,
    /// Profile the baseline and the fast path with the stage probe, and count
    /// every rung's heap.
    pub profile: bool,
}

/// Gather one run's record: criterion's estimates, then (as `options` asks)
/// each rung's peak RSS and the stage profiles, telling `progress` what it
/// is doing, since the RSS runs and the profiles take minutes.
pub fn collect(options: &Options, mut progress: impl FnMut(String)) -> Result<Record> {
    let benches = read_criterion(&options.criterion)?;
    let seed_files: Vec<(Format, PathBuf)> = Format::ALL
        .into_iter()
        .map(|format| (format, seed_file(&options.data, options.lines, format)))
        .collect();
    let mut rss = Vec::new();
    if options.rss {
        let exe = std::env::current_exe().map_err(Error::CurrentExe)?;
        for (format, file) in &seed_files {
            progress(format!("measuring peak RSS on {}", file.display()));
            rss.extend(measure_rss(&exe, file, *format, options.lines)?);
        }
    }
    let mut profiles = Vec::new();
    let mut heap = Vec::new();
    if options.profile {
        let (format, file) = &seed_files[Format::ALL.len() - 1];
        progress(format!("counting each rung's heap on {}", file.display()));
        let rungs: Vec<_> = STRATEGIES.iter().collect();
        let query = Query::default().with_threads(1);
        for row in heap_profile(&rungs, file, &query)?.rows {
            heap.push(HeapRecord {
                format: format.name().into(),
                strategy: row.name.into(),
                lines: row.lines,
                allocations: row.heap.allocations,
                bytes: row.heap.bytes,
                peak_bytes: row.heap.peak,
            });
        }
        for (format, file) in &seed_files {
            for name in PROFILED {
                progress(format!("profiling {name} on {}", file.display()));
                let query = Query::default().with_threads(1);
                let profile = profile_file(strategy::find(name)?, file, &query)?;
                profiles.push(ProfileRecord::from_profile(*format, &profile));
            }
        }
    }
    Ok(Record {
        date: jiff::Timestamp::now().strftime("%Y-%m-%d").to_string(),
        machine: machine(),
        toolchain: toolchain(),
        benches,
        rss,
        profiles,
        heap,
    })
}

/// The rungs the report profiles: the baseline and the fast path.
const PROFILED: [&str; 2] = ["naive-regex", "swar"];

/// Run one of the repository's measuring scripts (`report --python`,
/// `--pgo`), which leave their figures in `results/` for [`write`] to read.
pub fn run_script(script: &Path) -> Result<()> {
    let command = script.display().to_string();
    if !script.is_file() {
        return Err(Error::Command {
            command,
            problem: "not found; run `logbench report` from the repository's root".into(),
        });
    }
    let status = std::process::Command::new(script)
        .status()
        .map_err(|e| Error::Command {
            command: command.clone(),
            problem: e.to_string(),
        })?;
    if !status.success() {
        return Err(Error::Command {
            command,
            problem: format!("failed ({status})"),
        });
    }
    Ok(())
}

/// `rustc --version`, or a note that it could not be run.
fn toolchain() -> String {
    std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "rustc (unknown version)".into())
}

/// The case study's data set of `lines` lines in `format`, as `cargo bench`
/// caches it under `data` (`target/logbench-data`): the generator's name for it.
pub fn seed_file(data: &Path, lines: u64, format: Format) -> PathBuf {
    let spec = data_gen::Spec {
        lines,
        ..data_gen::Spec::default()
    };
    data.join(data_gen::file_name(spec, format))
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
            let sample = crate::tools::measure::run_once(&command, false)?;
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
    /// Stage profiles (`logbench profile`) per format and rung.
    pub profiles: Vec<ProfileRecord>,
    /// Heap counts (`logbench profile --heap`) per rung, on the bz2 seed set.
    pub heap: Vec<HeapRecord>,
}

/// One rung's heap count, as data.
#[derive(Debug, Clone, Serialize)]
pub struct HeapRecord {
    pub format: String,
    pub strategy: String,
    pub lines: u64,
    pub allocations: u64,
    /// Bytes asked for in all.
    pub bytes: u64,
    /// The most held at once.
    pub peak_bytes: u64,
}

/// One stage profile, as data.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileRecord {
    pub format: String,
    pub strategy: String,
    pub plain_s: f64,
    pub profiled_s: f64,
    /// (stage, ncalls, tottime s, cumtime s), sorted by tottime.
    pub stages: Vec<(String, u64, f64, f64)>,
}

impl ProfileRecord {
    pub fn from_profile(format: Format, profile: &crate::tools::profile::Profile) -> Self {
        let mut stages: Vec<(String, u64, f64, f64)> = profile
            .rows
            .iter()
            .map(|(stage, row)| {
                (
                    stage.name().to_owned(),
                    row.ncalls,
                    row.tottime.as_secs_f64(),
                    row.cumtime.as_secs_f64(),
                )
            })
            .collect();
        stages.push((
            "(outside any stage)".into(),
            1,
            profile.unattributed().as_secs_f64(),
            profile.profiled.as_secs_f64(),
        ));
        stages.sort_by(|a, b| b.2.total_cmp(&a.2));
        ProfileRecord {
            format: format.name().into(),
            strategy: profile.strategy.clone(),
            plain_s: profile.plain.as_secs_f64(),
            profiled_s: profile.profiled.as_secs_f64(),
            stages,
        }
    }

    /// Own time of the stage called `name`, seconds (0 if absent).
    pub fn tottime(&self, name: &str) -> f64 {
        self.stages
            .iter()
            .find(|s| s.0 == name)
            .map_or(0.0, |s| s.2)
    }
}

/// Write `REPORT.md` and `records/<date>.json` under `out`.
pub fn write(record: &Record, out: &Path) -> Result<PathBuf> {
    let io = |path: &Path, source| Error::Write {
        file: path.display().to_string(),
        source,
    };
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
         so they compare fairly while absolute times depend on the machine. On a shared machine \
         a ratio to the floor still moves from run to run, as each benchmark runs in a block of \
         its own: `scripts/floor-ratios.sh` alternates a format's floor and the fast rungs for \
         several rounds ([`floor-ratios.txt`](floor-ratios.txt)). Throughput is in \
         decimal MB of uncompressed text per second. Peak RSS is one whole-process run of \
         `logbench mean --strategy S --threads 1` (exact, from `wait4`). Machine-readable: \
         [`records/{}.json`](records/{}.json).\n",
        record.date, record.machine, record.toolchain, record.date, record.date
    );
    let _ = writeln!(md, "## Findings\n\n{}", findings(record));
    let sections = [
        (
            "The ladder (seed data set: every line `cpu_usage`)",
            ladder_table(record, ""),
        ),
        (
            "Throughput chart",
            "![MB/s per rung and format](throughput.svg)\n".to_owned(),
        ),
        (
            "Mixed metrics (50% `cpu_usage`, raw, a fifth of the seed's lines)",
            ladder_table(record, "mixed-"),
        ),
        ("Where the time goes in the baseline", stage_table(record)),
        ("Two views of the baseline on raw text", views_table(record)),
        ("Amdahl's law, checked", amdahl_table(record)),
        ("Scaling of `parallel`", scaling_table(record)),
        (
            "The heap of each rung: a list of values against a running sum",
            heap_table(record),
        ),
    ];
    for (title, body) in sections {
        let _ = writeln!(md, "## {title}\n\n{body}");
    }
    if let Some(body) = python::python_section(out) {
        let _ = writeln!(
            md,
            "## The case study in its own language (Python 3, here)\n\n{body}"
        );
    }
    let _ = writeln!(
        md,
        "## One ladder: 2013's and ours\n\n{}",
        ladders::ladders_section(record, out)
    );
    if let Ok(cluster) = std::fs::read_to_string(out.join("cluster.txt")) {
        let _ = writeln!(
            md,
            "## On a Dask cluster\n\n`scripts/python/cluster.sh`: `logbench.dask.stats` on a \
             local cluster of 1 and of 2 worker processes against the in-process `stats`, and \
             the constants of the model for N machines in \
             [`docs/cluster.md`](../docs/cluster.md), where adding machines stops paying \
             (Amdahl's law again: the scheduler is the serial part).\n\n```\n{cluster}```\n"
        );
    }
    let chart = out.join("throughput.svg");
    write_atomically(&chart, throughput_svg(record).as_bytes()).map_err(|e| io(&chart, e))?;
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
            profiles: vec![
                ProfileRecord {
                    format: "raw".into(),
                    strategy: "naive-regex".into(),
                    plain_s: 2.5,
                    profiled_s: 3.0,
                    stages: vec![
                        ("regex match/captures".into(), 5, 2.0, 2.0),
                        ("decompress".into(), 3, 0.6, 0.6),
                    ],
                },
                ProfileRecord {
                    format: "raw".into(),
                    strategy: "swar".into(),
                    plain_s: 0.05,
                    profiled_s: 0.05,
                    stages: vec![
                        ("decompress".into(), 3, 0.01, 0.01),
                        ("scan (split+parse+fold)".into(), 3, 0.04, 0.04),
                    ],
                },
            ],
            heap: ["naive-regex", "running-sum"]
                .into_iter()
                .zip([(10_000_000, 64 << 20), (300, 4 << 20)])
                .map(|(strategy, (allocations, peak_bytes))| HeapRecord {
                    format: "bz2".into(),
                    strategy: strategy.into(),
                    lines: 5_000_000,
                    allocations,
                    bytes: 2 * peak_bytes,
                    peak_bytes,
                })
                .collect(),
        }
    }

    #[test]
    fn the_heap_table_compares_the_list_with_the_running_sum() {
        let table = heap_table(&record());
        assert!(
            table.contains("| naive-regex | 10000000 | 2.00 | 128.0 MiB | 64.0 MiB |"),
            "{table}"
        );
        assert!(table.contains("16.0× less"), "{table}");
    }

    #[test]
    fn a_results_folder_that_cannot_be_made_is_a_write_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("results");
        std::fs::write(&blocker, b"a file where the folder should go").unwrap();
        let error = write(&record(), &blocker).unwrap_err();
        assert!(matches!(error, Error::Write { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("results") && message.contains("cannot write"),
            "{message}"
        );
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
    fn amdahl_predicts_from_the_profiles() {
        // f = 1 - 0.6/3.0 = 0.8; s = (3.0-0.6)/(0.05-0.01) = 60; predicted = 1/(0.2+0.8/60) = 4.69;
        // measured = 3.0/0.05 = 60: the instrumented naive run decodes slower than criterion's.
        let table = amdahl_table(&record());
        assert!(
            table.contains("| raw | 80.0% | 60× | 5.0× | 4.7× | 60.0× |"),
            "{table}"
        );
    }

    #[test]
    fn the_chart_has_a_bar_per_benchmark() {
        let svg = throughput_svg(&record());
        assert_eq!(svg.matches("<rect x=").count(), 3, "{svg}");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn reads_parameterised_benchmarks_one_level_deeper() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir
            .path()
            .join("scaling-gz")
            .join("parallel")
            .join("2")
            .join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"group_id":"scaling-gz","function_id":"parallel","value_str":"2","throughput":{"Bytes":10}}"#,
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"median":{"point_estimate":5.0e8}}"#,
        )
        .unwrap();
        let results = read_criterion(dir.path()).unwrap();
        assert_eq!(
            (results[0].group.as_str(), results[0].bench.as_str()),
            ("scaling-gz", "parallel/2")
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
