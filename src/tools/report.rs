//! `report`: turn one `cargo bench` run into `results/`.
//!
//! Reads criterion's estimates (`target/criterion/<group>/<bench>/new/`),
//! measures peak RSS of each rung as a whole process (through [`crate::tools::measure`]),
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

/// The case study's data set of `lines` lines in `format`, as `cargo bench`
/// caches it under `data` (`target/logbench-data`): the generator's name for it.
pub fn seed_file(data: &Path, lines: u64, format: Format) -> PathBuf {
    let spec = data_gen::Spec {
        lines,
        ..data_gen::Spec::default()
    };
    data.join(data_gen::file_name(spec, format))
}

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
    /// The parameter of a `BenchmarkId::new(function, parameter)`.
    value_str: Option<String>,
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

/// Every benchmark under criterion's output directory (`target/criterion`):
/// each directory holding `new/benchmark.json`, at any depth (benchmarks with
/// a parameter, `group/function/parameter`, sit one level deeper).
pub fn read_criterion(dir: &Path) -> Result<Vec<BenchResult>> {
    std::fs::read_dir(dir).map_err(|e| Error::Open {
        file: dir.display().to_string(),
        action: "cannot list criterion results (run `cargo bench` first)",
        source: e,
    })?;
    let mut results = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let new = current.join("new");
        if new.join("benchmark.json").is_file() && new.join("estimates.json").is_file() {
            let meta: BenchmarkJson = read_json(&new.join("benchmark.json"))?;
            let estimates: EstimatesJson = read_json(&new.join("estimates.json"))?;
            results.push(BenchResult {
                group: meta.group_id,
                bench: match (meta.function_id, meta.value_str) {
                    (Some(function), Some(value)) => format!("{function}/{value}"),
                    (function, value) => function.or(value).unwrap_or_default(),
                },
                median_s: estimates.median.point_estimate / 1e9,
                text_bytes: match meta.throughput {
                    Some(ThroughputJson::Bytes(b)) => Some(b),
                    _ => None,
                },
            });
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        pending.extend(
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir() && !p.ends_with("report")),
        );
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
    if let Some(naive) = record
        .profiles
        .iter()
        .find(|p| p.strategy == "naive-regex" && p.format == "bz2")
    {
        let share = |name: &str| 100.0 * naive.tottime(name) / naive.profiled_s;
        let _ = writeln!(
            out,
            "- The hot spot of the baseline on the case study's bz2 file is the regex with captures \
             ({:.0}% of the instrumented run) and then decompression ({:.0}%); splitting lines, parsing \
             and the `Vec` together are small. Python's table had the same two at the top, behind its \
             own interpreter overhead (`process_line` 40.7%).",
            share("regex match/captures"),
            share("decompress")
        );
    }
    let median = |group: &str, bench: &str| find(&record.benches, group, bench).map(|b| b.median_s);
    // The fastest rung measured in a group (the serial rungs: `parallel` is
    // only in the scaling groups).
    let fastest = |group: &str| {
        STRATEGIES
            .iter()
            .filter_map(|s| median(group, s.name).map(|m| (s.name, m)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    if let (Some(naive), Some(best), Some(floor)) = (
        median("raw", "naive-regex"),
        fastest("raw"),
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
        if let (Some(floor), Some(naive), Some((fast_name, fast))) = (
            median(format, "floor"),
            median(format, "naive-regex"),
            fastest(format),
        ) {
            let ratio = fast / floor;
            let to_floor = if ratio < 1.05 {
                format!("runs at the floor ({ratio:.2}×, within noise)")
            } else {
                format!("needs {ratio:.2}× the floor")
            };
            let _ = writeln!(
                out,
                "- On {format}, decoding alone takes {} of the baseline's {} ({:.0}%); once parsing is fast, \
                 the fastest rung (`{fast_name}`) {to_floor}: decompression is the wall, and only \
                 decoding in parallel (the `parallel` rung) moves it.",
                human_time(floor),
                human_time(naive),
                100.0 * floor / naive,
            );
        }
    }
    out
}

/// The naive-regex stage table beside the case study's cProfile table.
pub fn stage_table(record: &Record) -> String {
    let Some(naive) = record
        .profiles
        .iter()
        .find(|p| p.strategy == "naive-regex" && p.format == "bz2")
    else {
        return "(no stage profile recorded)\n".into();
    };
    let mut out = format!(
        "`logbench profile <seed>.log.bz2 --strategy naive-regex` ({} instrumented):\n\n\
         | stage | ncalls | tottime | cumtime | % of total |\n| --- | ---: | ---: | ---: | ---: |\n",
        human_time(naive.profiled_s)
    );
    for (stage, ncalls, tot, cum) in &naive.stages {
        let _ = writeln!(
            out,
            "| {stage} | {ncalls} | {tot:.3} s | {cum:.3} s | {:.1}% |",
            100.0 * tot / naive.profiled_s
        );
    }
    let _ = writeln!(
        out,
        "\nThe case study's cProfile table (Python 2.7, 31.8 s): `process_line` own time 40.7%, \
         `main` own time (bz2 decompression and line iteration) 27.2%, `re.search` 25%, `groups()` 5%, \
         `list.append` 1.8%, `summarise` negligible.\n\n\
         Observer effect: {} plain, {} instrumented ({:+.0}%); the case study: 24.7 s plain, \
         31.8 s under cProfile (+29%), 105 s under line_profiler (+325%).\n",
        human_time(naive.plain_s),
        human_time(naive.profiled_s),
        100.0 * (naive.profiled_s / naive.plain_s - 1.0)
    );
    out
}

/// The two views of the baseline on raw text side by side: criterion's
/// subtraction view (the `stages` bench: each stage's cost is the difference
/// between running up to it and up to the one before, on a fifth of the seed
/// lines) and the probe's view (`logbench profile`).
pub fn views_table(record: &Record) -> String {
    let median = |group: &str, bench: &str| find(&record.benches, group, bench).map(|b| b.median_s);
    let cumulative = [
        median("stages", "1-decode"),
        median("stages", "2-split"),
        median("stages", "3-regex"),
        median("stages", "4-parse"),
        median("stages", "5-full"),
    ];
    let Some(cumulative) = cumulative.into_iter().collect::<Option<Vec<f64>>>() else {
        return "(the stages benchmark has not run)\n".into();
    };
    let probe = record
        .profiles
        .iter()
        .find(|p| p.strategy == "naive-regex" && p.format == "raw");
    let probe_share = |names: &[&str]| {
        probe.map_or("".into(), |p| {
            format!(
                "{:.1}%",
                100.0 * names.iter().map(|n| p.tottime(n)).sum::<f64>() / p.profiled_s
            )
        })
    };
    let rows = [
        ("decompress (read)", vec!["decompress"]),
        ("split lines", vec!["split lines"]),
        ("regex match/captures", vec!["regex match/captures"]),
        ("parse + filter", vec!["parse + filter"]),
        ("collect + summarise", vec!["collect (push)", "summarise"]),
    ];
    let total = cumulative[4];
    let mut out = String::from(
        "| stage | subtraction view (criterion) | share | probe view (profile) share |\n| --- | ---: | ---: | ---: |\n",
    );
    for (i, (name, probe_names)) in rows.iter().enumerate() {
        let cost = cumulative[i] - if i == 0 { 0.0 } else { cumulative[i - 1] };
        let _ = writeln!(
            out,
            "| {name} | {} | {:.1}% | {} |",
            human_time(cost),
            100.0 * cost / total,
            probe_share(probe_names)
        );
    }
    let _ = writeln!(
        out,
        "\nThe subtraction view (criterion's `stages` group, on a fifth of the seed's lines) \
         times the uninstrumented code, so its shares are the true ones; \
         the probe adds two clock reads per stage entry (about 25 ns each), which inflates the \
         shares of the stages entered per line with little work inside (split, parse, collect), \
         and stops the compiler from fusing stages. A negative difference means two prefixes \
         cost the same within noise."
    );
    out
}

/// Amdahl's law checked: from `naive-regex`'s profile, the share of time that
/// `swar` changes (everything but decompression) and that part's own speedup
/// (from `swar`'s profile) predict the overall speedup; criterion measured it.
pub fn amdahl_table(record: &Record) -> String {
    let mut out = String::from(
        "| format | share not decompression (f) | that part's speedup (s) | bound 1/(1-f) | predicted 1/((1-f)+f/s) | measured (criterion) | prediction error |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let mut beyond_bound = false;
    for format in Format::ALL {
        let profile = |name: &str| {
            record
                .profiles
                .iter()
                .find(|p| p.strategy == name && p.format == format.name())
        };
        let (Some(naive), Some(fast)) = (profile("naive-regex"), profile("swar")) else {
            continue;
        };
        let median = |bench: &str| find(&record.benches, format.name(), bench).map(|b| b.median_s);
        let (Some(naive_s), Some(fast_s)) = (median("naive-regex"), median("swar")) else {
            continue;
        };
        let naive_decode = naive.tottime("decompress");
        let f = 1.0 - naive_decode / naive.profiled_s;
        let changed_before = naive.profiled_s - naive_decode;
        let changed_after = (fast.profiled_s - fast.tottime("decompress")).max(1e-9);
        let s = changed_before / changed_after;
        let predicted = 1.0 / ((1.0 - f) + f / s);
        let measured = naive_s / fast_s;
        beyond_bound |= measured > 1.0 / (1.0 - f);
        let _ = writeln!(
            out,
            "| {format} | {:.1}% | {s:.0}× | {:.1}× | {predicted:.1}× | {measured:.1}× | {:+.0}% |",
            100.0 * f,
            1.0 / (1.0 - f),
            100.0 * (predicted / measured - 1.0)
        );
    }
    out.push_str(
        "\nf and s come from the instrumented profiles of `naive-regex` and `swar`, as a profiler \
         user would take them. The probe costs a little on every line of the baseline (the observer \
         effect above) but almost nothing on `swar`, which it enters once per 256 KiB buffer, so the \
         baseline's parsing looks slower than it is and s is overstated: that pushes the prediction \
         up (a positive error), most where parsing dominates. The profiles and the benchmarks are \
         also separate runs, so the machine's run-to-run spread (criterion's confidence intervals) \
         enters the error too",
    );
    if beyond_bound {
        out.push_str(
            "; a measured speedup above the bound 1/(1-f) can only come from that spread: the \
             profile saw decompression take a larger share than the benchmarks did",
        );
    }
    out.push_str(
        ". The bound 1/(1-f) is the case study's lesson: with bzip2, no parser, however fast, can \
         make the whole job much faster on one core; only decoding in parallel can.\n",
    );
    out
}

/// The `parallel` rung at each thread count, beside the floor.
pub fn scaling_table(record: &Record) -> String {
    let mut out = String::from(
        "| format | floor (1 thread) | threads | median | MB/s | × 1 thread | × floor (speed) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for format in Format::ALL {
        let group = format!("scaling-{}", format.name());
        let floor = find(&record.benches, format.name(), "floor"); // the ladder's
        let mut runs: Vec<(usize, &BenchResult)> = record
            .benches
            .iter()
            .filter(|b| b.group == group)
            .filter_map(|b| Some((b.bench.strip_prefix("parallel/")?.parse().ok()?, b)))
            .collect();
        runs.sort_by_key(|r| r.0);
        let one = runs.first().map(|r| r.1.median_s);
        for (threads, bench) in &runs {
            let _ = writeln!(
                out,
                "| {format} | {} | {threads} | {} | {:.0} | {} | {} |",
                floor.map_or("".into(), |f| human_time(f.median_s)),
                human_time(bench.median_s),
                bench.mb_per_s().unwrap_or(f64::NAN),
                one.map_or("".into(), |o| format!("{:.2}×", o / bench.median_s)),
                floor.map_or("".into(), |f| format!(
                    "{:.2}×",
                    f.median_s / bench.median_s
                )),
            );
        }
    }
    out.push_str(
        "\nThe floors are the ladder's: libbzip2 and zlib-rs on one thread. On bz2, `parallel` \
         also changes the decoder: its blocks go to the block decoder of `crates/bzip2-blocks` \
         (table-driven Huffman decoding, the inverse BWT walked eight segments at a time), so one \
         thread of it can beat the libbzip2 floor. That is a faster decoder, not a parser \
         beating decompression. Ratios against the standard tools (`wc -l`, `pigz`, `bzip2`, \
         `lbzip2`) come from `scripts/versus-tools.sh`, as whole processes \
         ([`versus-tools.txt`](versus-tools.txt)).\n",
    );
    out
}

/// A horizontal bar chart of MB/s per rung, one panel per format, log scale.
/// Hand-written SVG: plotters needs system fonts (its `ttf` feature) to lay
/// out text, which a fresh machine may lack; this needs none.
pub fn throughput_svg(record: &Record) -> String {
    const BAR: f64 = 18.0;
    const LEFT: f64 = 150.0;
    const WIDTH: f64 = 560.0;
    let (low, high) = (10f64.log10(), 10_000f64.log10());
    let x = |mbps: f64| LEFT + WIDTH * ((mbps.max(10.0).log10() - low) / (high - low));
    let mut body = String::new();
    let mut y = 30.0;
    for format in Format::ALL {
        let _ = writeln!(
            body,
            r#"<text x="10" y="{y}" font-weight="bold">{}</text>"#,
            format.name()
        );
        y += 8.0;
        let names = std::iter::once("floor").chain(STRATEGIES.iter().map(|s| s.name));
        for name in names {
            let Some(mbps) =
                find(&record.benches, format.name(), name).and_then(BenchResult::mb_per_s)
            else {
                continue;
            };
            let colour = if name == "floor" { "#999" } else { "#4a7fb5" };
            let _ = writeln!(
                body,
                r#"<text x="{}" y="{}" text-anchor="end">{name}</text><rect x="{LEFT}" y="{y}" width="{:.1}" height="{}" fill="{colour}"/><text x="{:.1}" y="{}">{mbps:.0}</text>"#,
                LEFT - 6.0,
                y + BAR - 5.0,
                x(mbps) - LEFT,
                BAR - 4.0,
                x(mbps) + 4.0,
                y + BAR - 5.0
            );
            y += BAR;
        }
        y += 22.0;
    }
    let mut axis = String::new();
    for tick in [10.0, 100.0, 1000.0, 10_000.0] {
        let _ = writeln!(
            axis,
            r##"<line x1="{0:.1}" y1="20" x2="{0:.1}" y2="{1}" stroke="#ddd"/><text x="{0:.1}" y="{2}" text-anchor="middle">{tick}</text>"##,
            x(tick),
            y - 10.0,
            y + 4.0
        );
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
{axis}{body}<text x="{}" y="{}" text-anchor="middle">MB/s of uncompressed text (log scale), 1 thread, median</text>
</svg>
"#,
        LEFT + WIDTH + 60.0,
        y + 30.0,
        LEFT + WIDTH / 2.0,
        y + 22.0
    )
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
    ];
    for (title, body) in sections {
        let _ = writeln!(md, "## {title}\n\n{body}");
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
