//! The report's findings: what the tables say, in plain sentences, computed
//! from the same numbers so they never contradict them.

use std::fmt::Write as _;

use super::Record;
use super::criterion::find;
use super::tables::human_time;
use crate::strategy::STRATEGIES;

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
