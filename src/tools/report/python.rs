//! The report's section on the case study in its own language: what
//! `scripts/python/profile.sh` left in `results/python/` (the Python 3
//! baseline measured here, its cProfile and line_profiler tables, what
//! tracemalloc saw, the extension against the CLI), set beside the 2013
//! figures.

use std::fmt::Write as _;
use std::path::Path;

use regex::Regex;

/// 2013's cProfile shares of the run (Python 2.7, 31.8 s), by row.
const CPROFILE_2013: [(&str, f64); 5] = [
    ("`process_line`, own time", 40.7),
    ("reading and decompressing (`main` own in 2013)", 27.2),
    ("regex `search`", 25.0),
    ("`groups()`", 5.0),
    ("list `append`", 1.8),
];

/// 2013's line_profiler shares of `process_line`, by line.
const LINES_2013: [(&str, f64); 5] = [
    ("regex `search`", 33.0),
    ("`try`", 10.0),
    ("`groups()`", 15.0),
    ("metric compare", 13.0),
    ("`int()` + `append`", 28.0),
];

/// The section, or `None` when `results/python/` holds no profile yet.
pub fn python_section(results: &Path) -> Option<String> {
    let dir = results.join("python");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let cprofile = read("cprofile.txt")?;
    let lines = read("line_profiler.txt")?;
    let mut out = String::from(
        "`scripts/python/baseline.py` is the case study's script in Python 3 (our code, its \
         behaviour); `scripts/python/profile.sh` measures it and runs the case study's own \
         profilers on the 5M-line bz2 set. Their output is in [`python/`](python/).\n\n",
    );
    if let Some(measure) = read("measure.txt") {
        let _ = writeln!(out, "Whole processes:\n\n```\n{}```\n", measure);
    }
    let here = cprofile_shares(&cprofile);
    let _ = writeln!(
        out,
        "cProfile, share of the run by own time:\n\n| row | 2013 (Python 2.7) | here (Python 3) |\n| --- | ---: | ---: |"
    );
    for ((row, then), now) in CPROFILE_2013.iter().zip(&here) {
        let _ = writeln!(out, "| {row} | {then:.1}% | {} |", percent(*now));
    }
    let by_line = line_shares(&lines);
    let _ = writeln!(
        out,
        "\nline_profiler, share of `process_line`:\n\n| line | 2013 | here |\n| --- | ---: | ---: |"
    );
    for ((row, then), now) in LINES_2013.iter().zip(&by_line) {
        let _ = writeln!(out, "| {row} | {then:.0}% | {} |", percent(*now));
    }
    let _ = writeln!(
        out,
        "\nWhere they agree: the regex and its groups are the largest line items in both \
         profilers, and the interpreter's own work in `process_line` is a large share of \
         cProfile's table. Where they differ, and why: Python 3's `bz2` module reads lines in \
         Python (`readline`, `_compression`'s checks), where 2.7's file object did it in C inside \
         `main`, so reading takes a larger share and `process_line`'s own time a smaller one; \
         3.11's faster interpreter shrinks the per-line bytecode cost (compare, `try`), which \
         leaves the regex calls a larger share of `process_line`. The Rust probe's table above \
         makes the same split without the interpreter: decompression and the regex are all \
         that is left."
    );
    if let Some(memory) = read("tracemalloc.txt") {
        let _ = writeln!(
            out,
            "\ntracemalloc (the list of values, then the running sum):\n\n```\n{memory}```\n"
        );
    }
    if let Some(extension) = read("extension.txt") {
        let _ = writeln!(
            out,
            "The extension (`import logbench`): the call in-process against the CLI's whole \
             process. This is the rung the case study reached with Cython and C + PCRE.\n\n```\n{extension}```\n"
        );
    }
    Some(out)
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".into(), |s| format!("{s:.1}%"))
}

/// cProfile's rows as shares of the run, in [`CPROFILE_2013`]'s order:
/// reading is what is left of the run after the other four.
fn cprofile_shares(table: &str) -> Vec<Option<f64>> {
    let total = Regex::new(r"in ([\d.]+) seconds")
        .expect("valid")
        .captures(table)
        .and_then(|c| c[1].parse::<f64>().ok());
    let row =
        Regex::new(r"(?m)^\s*[\d/]+\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(.*)$").expect("valid");
    let own = |pattern: &str| -> Option<f64> {
        row.captures_iter(table)
            .find(|c| c[2].contains(pattern))
            .and_then(|c| c[1].parse().ok())
    };
    let Some(total) = total else {
        return vec![None; CPROFILE_2013.len()];
    };
    let process = own("(process_line)");
    let search = own("'search' of 're.Pattern'");
    let groups = own("'groups' of 're.Match'");
    let append = own("'append' of 'list'");
    let named: f64 = [process, search, groups, append].iter().flatten().sum();
    [process, Some(total - named), search, groups, append]
        .into_iter()
        .map(|t| t.map(|t| 100.0 * t / total))
        .collect()
}

/// line_profiler's `% Time` for `process_line`'s lines, in [`LINES_2013`]'s order.
fn line_shares(table: &str) -> Vec<Option<f64>> {
    let row = Regex::new(r"(?m)^\s*\d+\s+\d+\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+(.*)$").expect("valid");
    let share = |test: &dyn Fn(&str) -> bool| -> Option<f64> {
        row.captures_iter(table)
            .find(|c| test(c[2].trim()))
            .and_then(|c| c[1].parse().ok())
    };
    vec![
        share(&|l| l.contains(".search(")),
        share(&|l| l == "try:"),
        share(&|l| l.contains(".groups()")),
        share(&|l| l.contains("== metric")),
        share(&|l| l.contains(".append(")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPROFILE: &str = "         55157482 function calls in 20.000 seconds

   Ordered by: internal time

   ncalls  tottime  percall  cumtime  percall filename:lineno(function)
  5000000    4.000    0.000    8.394    0.000 baseline.py:46(process_line)
  5000001    3.000    0.000   12.509    0.000 bz2.py:186(readline)
  5000000    2.000    0.000    2.697    0.000 {method 'search' of 're.Pattern' objects}
  5000001    1.000    0.000    0.801    0.000 {method 'groups' of 're.Match' objects}
  5000312    0.400    0.000    0.466    0.000 {method 'append' of 'list' objects}
";

    const LINES: &str = "Line #      Hits         Time  Per Hit   % Time  Line Contents
    48   5000000       3687.7      0.0     42.4      match = LINE.search(line)
    49   5000000        457.5      0.0      5.3      try:
    50   5000000       1945.7      0.0     22.4          epoch, name, value = match.groups()
    53   5000000        669.3      0.0      7.7      if name == metric:
    54   5000000       1936.3      0.0     22.3          values.append(int(value))
    76   5000001      13800.0      0.0     41.2          for line in log:
";

    #[test]
    fn cprofile_rows_become_shares_of_the_run() {
        let shares: Vec<f64> = cprofile_shares(CPROFILE).into_iter().flatten().collect();
        assert_eq!(shares.len(), 5);
        let expected = [20.0, 63.0, 10.0, 5.0, 2.0];
        for (got, want) in shares.iter().zip(expected) {
            assert!((got - want).abs() < 1e-9, "{shares:?}");
        }
        assert!(cprofile_shares("no table").iter().all(Option::is_none));
    }

    #[test]
    fn line_profiler_lines_are_found_by_what_they_do() {
        let shares: Vec<Option<f64>> = line_shares(LINES);
        assert_eq!(
            shares,
            [Some(42.4), Some(5.3), Some(22.4), Some(7.7), Some(22.3)]
        );
    }

    #[test]
    fn the_section_needs_the_profiles_and_quotes_2013() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(python_section(dir.path()), None);
        std::fs::create_dir(dir.path().join("python")).unwrap();
        std::fs::write(dir.path().join("python/cprofile.txt"), CPROFILE).unwrap();
        std::fs::write(dir.path().join("python/line_profiler.txt"), LINES).unwrap();
        let section = python_section(dir.path()).unwrap();
        assert!(
            section.contains("| `process_line`, own time | 40.7% | 20.0% |"),
            "{section}"
        );
        assert!(
            section.contains("| regex `search` | 33% | 42.4% |"),
            "{section}"
        );
    }
}
