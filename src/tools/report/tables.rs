//! The report's tables, in Markdown: the ladder per format, the stage
//! profile, the two views of where time goes, Amdahl's law, thread scaling,
//! the heap per rung.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::criterion::find;
use super::{BenchResult, Record};
use crate::input::Format;
use crate::strategy::STRATEGIES;

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

/// Allocations, bytes and peak heap of each rung (`logbench profile --heap`),
/// and the case study's memory question answered from them.
pub fn heap_table(record: &Record) -> String {
    use crate::tools::heap::human_bytes;
    let Some(first) = record.heap.first() else {
        return "Not measured in this run (`report --no-profile`).\n".into();
    };
    let mut out = format!(
        "`logbench profile --heap` on the {} seed set ({} lines, 1 thread) counts every \
         allocation of each run. *Allocated* is every byte asked for; *peak heap* is the most \
         held at once.\n\n\
         | rung | allocations | per line | allocated | peak heap |\n| --- | ---: | ---: | ---: | ---: |\n",
        first.format, first.lines
    );
    for row in &record.heap {
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {} | {} |",
            row.strategy,
            row.allocations,
            row.allocations as f64 / row.lines.max(1) as f64,
            human_bytes(row.bytes as f64),
            human_bytes(row.peak_bytes as f64),
        );
    }
    let find = |name: &str| record.heap.iter().find(|r| r.strategy == name);
    if let (Some(list), Some(sum)) = (find("naive-regex"), find("running-sum")) {
        let _ = writeln!(
            out,
            "\nThe case study's memory cure, counted: the baseline keeps every value in a \
             `Vec` and peaks at {}; the running sum peaks at {} ({:.1}× less), and that no \
             longer grows with the log. The baseline's {:.2} allocations per line are its \
             `String` per line and the regex's captures; they cost time, not memory, since each \
             is freed before the next line.",
            human_bytes(list.peak_bytes as f64),
            human_bytes(sum.peak_bytes as f64),
            list.peak_bytes as f64 / sum.peak_bytes.max(1) as f64,
            list.allocations as f64 / list.lines.max(1) as f64,
        );
    }
    out
}
