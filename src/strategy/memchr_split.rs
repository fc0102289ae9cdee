//! `memchr-split`: no regex at all.
//!
//! The one change from `running-sum`: instead of a regex per line, the decoded
//! text is read in large buffers and split by hand (`scan::fold_lines`). A
//! well-formed record is recognised in one pass that also finds its end:
//! epoch digits up to the comma, the metric asked for compared in place (or,
//! failing that, another metric scanned to its comma), value digits parsed up
//! to the `\n`. Every other line is cut with `memchr` (SIMD) at its `\n` and
//! `,` and judged by the shared grammar in `line`. The answer is still folded
//! as lines go by.
//!
//! Measured (criterion, 5M seed lines, raw, 2-core EPYC): the first version,
//! which cut every line with `memchr_iter` and then its fields with two more
//! `memchr` calls, took 167 ms; this one takes 81 ms (floor 23 ms). A `memchr`
//! call per 24-byte line costs more than the bytes it saves looking at.
//! Reading each line from a fixed 128-byte window (`line::record_line_in`, no
//! bounds checks) then cut 178 → 123 instructions a line (callgrind, 1M
//! lines) and 62 → 46 ms a process (2-core Xeon, medians of 9). Reading other
//! metrics' records in the same pass, instead of `memchr` and the full
//! grammar, cut the mixed data set 239 → 168 M instructions (1M lines) and
//! 27 → 23.5 ms a process, for 123 → 134 M (58 → 59 ms) on the case study's
//! data, where no line is another metric's.

use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;
use crate::profile::{Off, Probe, Stage};
use crate::scan::{self, Needle};

pub const STRATEGY: Strategy = Strategy {
    name: "memchr-split",
    description: "no regex: hand-split lines in large buffers (memchr for malformed ones), digits parsed by hand",
    run,
    profile: Some(run_probed),
};

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    run_probed(input, query, &Off)
}

/// The rung, its stages timed by `probe` (`Off` compiles to nothing).
pub fn run_probed<P: Probe>(input: Input, query: &Query, probe: &P) -> Result<Answer> {
    let needle = Needle::new(&query.metric);
    let mut decoder = input.into_decoder();
    let mut answer = Answer::new();
    scan::fold_stream(
        |buf| probe.time(Stage::Decompress, || decoder.fill(buf)),
        query.buffer_size,
        &mut answer,
        |text, answer| {
            probe.time(Stage::Scan, || {
                scan::fold_lines_split(text, &needle, answer)
            })
        },
    )?;
    Ok(answer)
}
