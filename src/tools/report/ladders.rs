//! The report's one ladder table: the case study's 2013 ladder as quoted,
//! beside every ladder measured here on the same question and file (the
//! Python baseline and the extension, the Rust rungs, PGO).
//!
//! The Rust rungs come from the criterion run in the record; the Python and
//! PGO rows from what `scripts/python/profile.sh` and `scripts/pgo.sh` left
//! in `results/`, whole processes. Each row says which.

use std::fmt::Write as _;
use std::path::Path;

use super::criterion::find;
use super::{Record, human_time};
use crate::strategy::STRATEGIES;

/// The slides' ladder (Python 2.7, 5M lines of bz2), in seconds.
const LADDER_2013: [(&str, f64); 6] = [
    ("the baseline, a `for` loop (timeit)", 29.2),
    ("`map` instead of the loop", 22.4),
    ("Cython", 17.3),
    ("C via CFFI + PCRE", 11.7),
    ("PCRE JIT", 6.9),
    ("+ gcc PGO", 6.4),
];

/// The Python rows of `results/python/measure.txt` for bz2: (label there, label here).
const PYTHON_ROWS: [(&str, &str); 3] = [
    (
        "baseline.py (list)",
        "`baseline.py`, the case study's script",
    ),
    (
        "baseline.py --running-sum",
        "the running sum instead of a list",
    ),
    (
        "baseline.py --logbench (extension)",
        "the loop moved out: `logbench.mean()`",
    ),
];

/// Seconds of a `measure.txt` row `bz2: LABEL   4.016 s   50.2 MiB`.
fn python_seconds(measure: &str, label: &str) -> Option<f64> {
    let rest = measure
        .lines()
        .find_map(|line| line.strip_prefix("bz2: ")?.strip_prefix(label))
        .filter(|rest| rest.starts_with(' '))?;
    rest.split_whitespace().next()?.parse().ok()
}

/// One case of `results/pgo.txt`: the median over its rounds of the plain
/// and the PGO build's whole-process medians, in ms.
#[derive(Debug, Clone, PartialEq)]
pub struct PgoCase {
    pub case: String,
    pub plain_ms: f64,
    pub pgo_ms: f64,
}

/// The bz2 cases of `results/pgo.txt`, in file order.
pub fn pgo_cases(text: &str, format: &str) -> Vec<PgoCase> {
    let mut cases: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let [f, rung, threads, round, plain, pgo, _] = cells[..] else {
            continue;
        };
        let (Ok(_), Ok(plain), Ok(pgo)) = (round.parse::<u32>(), plain.parse(), pgo.parse()) else {
            continue;
        };
        if f != format {
            continue;
        }
        let case = format!("{rung} {threads}");
        match cases.iter_mut().find(|c| c.0 == case) {
            Some(c) => {
                c.1.push(plain);
                c.2.push(pgo);
            }
            None => cases.push((case, vec![plain], vec![pgo])),
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[(v.len() - 1) / 2]
    };
    cases
        .into_iter()
        .map(|(case, plain, pgo)| PgoCase {
            case,
            plain_ms: median(plain),
            pgo_ms: median(pgo),
        })
        .collect()
}

/// The table and what it shows, reading the Python and PGO figures from
/// `results` (rows are left out where a script has not run).
pub fn ladders_section(record: &Record, results: &Path) -> String {
    let mut out = String::from(
        "The question and the file are the case study's: the mean of `cpu_usage` in 5M lines of \
         bzip2. Each ladder's speed-up is against its own first row, as machines and years \
         differ.\n\n| ladder | step | bz2, 5M lines | × its first row | how measured |\n\
         | --- | --- | ---: | ---: | --- |\n",
    );
    let mut row = |ladder: &str, step: &str, seconds: f64, base: f64, how: &str| {
        let _ = writeln!(
            out,
            "| {ladder} | {step} | {} | {:.2}× | {how} |",
            human_time(seconds),
            base / seconds
        );
    };
    for (step, seconds) in LADDER_2013 {
        row(
            "2013, Python 2.7",
            step,
            seconds,
            LADDER_2013[0].1,
            "as quoted",
        );
    }
    let measure = std::fs::read_to_string(results.join("python/measure.txt")).unwrap_or_default();
    let python: Vec<(&str, f64)> = PYTHON_ROWS
        .iter()
        .filter_map(|(label, step)| Some((*step, python_seconds(&measure, label)?)))
        .collect();
    if let Some(&(_, base)) = python.first() {
        for (step, seconds) in &python {
            row(
                "here, Python 3",
                step,
                *seconds,
                base,
                "whole process, `scripts/python/profile.sh`",
            );
        }
    }
    let rust_base = find(&record.benches, "bz2", "naive-regex").map(|b| b.median_s);
    for name in STRATEGIES.iter().map(|s| s.name).chain(["floor"]) {
        if let (Some(bench), Some(base)) = (find(&record.benches, "bz2", name), rust_base) {
            row(
                "here, Rust",
                &format!("`{name}`"),
                bench.median_s,
                base,
                "criterion median, 1 thread",
            );
        }
    }
    let threads = 2;
    if let (Some(bench), Some(base)) = (
        find(
            &record.benches,
            "scaling-bz2",
            &format!("parallel/{threads}"),
        ),
        rust_base,
    ) {
        row(
            "here, Rust",
            &format!("`parallel`, {threads} threads"),
            bench.median_s,
            base,
            "criterion median",
        );
    }
    let pgo = std::fs::read_to_string(results.join("pgo.txt")).unwrap_or_default();
    let cases = pgo_cases(&pgo, "bz2");
    for case in &cases {
        let (rung, threads) = case.case.split_once(' ').unwrap_or((&case.case, ""));
        let how = format!("whole process, {threads}, `scripts/pgo.sh`");
        row(
            "here, Rust + PGO",
            &format!("`{rung}`, plain build"),
            case.plain_ms / 1e3,
            case.plain_ms / 1e3,
            &how,
        );
        row(
            "here, Rust + PGO",
            &format!("`{rung}`, PGO build"),
            case.pgo_ms / 1e3,
            case.plain_ms / 1e3,
            &how,
        );
    }
    let _ = writeln!(out, "\n{}", reading(&python, rust_base, &cases));
    out
}

/// What the table says, in sentences built from its own numbers.
fn reading(python: &[(&str, f64)], rust_base: Option<f64>, pgo: &[PgoCase]) -> String {
    let seconds_2013 = |i: usize| LADDER_2013[i].1;
    let mut text = format!(
        "2013's ladder is one program made faster step by step; most of its gain came from \
         leaving the interpreter (Cython, then C with PCRE: {} to {}, {:.1}×), and a regex JIT \
         and PGO then took it to {} ({:.1}× in all).",
        human_time(seconds_2013(0)),
        human_time(seconds_2013(3)),
        seconds_2013(0) / seconds_2013(3),
        human_time(seconds_2013(5)),
        seconds_2013(0) / seconds_2013(5),
    );
    if let (Some(&(_, base)), Some(&(_, extension))) = (python.first(), python.last()) {
        let _ = write!(
            text,
            " Here the same move, the loop out of Python into the extension, is {:.0}× \
             ({} to {}), because decompression, splitting and parsing all leave the interpreter, \
             not only the regex.",
            base / extension,
            human_time(base),
            human_time(extension)
        );
    }
    if let (Some(&(_, base)), Some(naive)) = (python.first(), rust_base) {
        let _ = write!(
            text,
            " The faithful Rust port (`naive-regex`: a string per line, the same lazy regex, a \
             list) is the counterpart of 2013's C + PCRE, and takes {} against the Python \
             script's {} ({:.1}×).",
            human_time(naive),
            human_time(base),
            base / naive
        );
    }
    if !pgo.is_empty() {
        let ratios: Vec<String> = pgo
            .iter()
            .map(|c| format!("`{}` {:.2}", c.case, c.pgo_ms / c.plain_ms))
            .collect();
        let _ = write!(
            text,
            " PGO, the last rung in 2013 ({:.0}% off), gives PGO/plain time ratios of {} on bz2 \
             ([`pgo.txt`](pgo.txt) has raw and gz).",
            100.0 * (1.0 - seconds_2013(5) / seconds_2013(4)),
            ratios.join(", ")
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_rows_are_read_by_label() {
        let measure = "# header\nraw: baseline.py (list)     4.016 s  50.2 MiB\n\
                       bz2: baseline.py (list)     8.861 s  53.7 MiB\n\
                       bz2: baseline.py --logbench (extension)  0.527 s  31.9 MiB\n";
        assert_eq!(python_seconds(measure, "baseline.py (list)"), Some(8.861));
        assert_eq!(
            python_seconds(measure, "baseline.py --logbench (extension)"),
            Some(0.527)
        );
        assert_eq!(python_seconds(measure, "baseline.py --running-sum"), None);
    }

    #[test]
    fn pgo_cases_take_the_median_round_of_each_build() {
        let text = "# header\ncase round plain ms PGO ms PGO/plain\n\
                    bz2 naive-regex t1 1 5000.0 4000.0 0.800\n\
                    bz2 naive-regex t1 2 5200.0 4500.0 0.865\n\
                    bz2 naive-regex t1 3 4900.0 4100.0 0.837\n\
                    bz2 naive-regex t1 median 0.837\n\
                    raw swar t1 1 30.0 29.0 0.967\n";
        assert_eq!(
            pgo_cases(text, "bz2"),
            vec![PgoCase {
                case: "naive-regex t1".into(),
                plain_ms: 5000.0,
                pgo_ms: 4100.0
            }]
        );
        assert_eq!(pgo_cases(text, "raw").len(), 1);
    }
}
