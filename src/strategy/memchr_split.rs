//! `memchr-split`: no regex at all.
//!
//! The one change from `running-sum`: instead of a regex per line, the decoded
//! text is read in large buffers and split by hand. Line ends are found 64
//! bytes at a time with SIMD compares (what `memchr` does inside); each line
//! is then split from a bit mask of its first 32 bytes, which lanes are not
//! digits (`split::record`): the epoch ends at the first of them, where
//! `,METRIC,` is compared; the value must be digit lanes, parsed by hand
//! (another metric's line is split at its commas). A line the masks cannot
//! settle (long, CRLF, a long value, malformed; a signed value until a buffer
//! has shown 16 lines the masks missed) is read in one pass byte by byte,
//! then judged by the shared grammar in `line`. The answer is still folded as
//! lines go by.
//!
//! Measured, step by step:
//! - The first version cut every line with `memchr_iter` and then its fields
//!   with two more `memchr` calls: 167 ms (criterion, 5M seed lines, raw,
//!   2-core EPYC; floor 23 ms). A `memchr` call per 24-byte line costs more
//!   than the bytes it saves looking at.
//! - Reading each record in one pass that also finds its end: 81 ms.
//! - That pass from a fixed 128-byte window (`grammar::record_line_in`, no
//!   bounds checks): 178 → 123 instructions a line (callgrind, 1M lines), 62 →
//!   46 ms a process (2-core Xeon, medians of 9). Other metrics' records in the
//!   same pass: the mixed data set 239 → 168 M instructions (1M lines).
//! - Line ends found ahead of the split, and the split done on masks: the
//!   CPU no longer waits for one line's byte loop to learn where the next
//!   begins. The mixed data set 90 → 77 ms a process (5M lines, medians of
//!   15); the case study's, 51 ms before and after.
//! - The loop's count, sum, minimum and maximum had gone to the stack, each
//!   line adding to memory: the windows are now read without bounds checks
//!   (checked once per call), the minimum and maximum are branches that are
//!   never taken, BMI1 is enabled with the AVX2 loop, the checks are fewer
//!   (non-digits from one signed compare; the value's digits by comparing the
//!   highest non-digit with the second comma), and a sign is looked for only
//!   once a buffer has missed 16 lines. 115 → 77.5 instructions a line
//!   (callgrind, 1M lines); 54 → 48 ms raw, 112 → 106 ms gzip (5M lines,
//!   whole process, medians of 5, three rounds each).
//! - The split turned round, as a hand-written parser reads a line: the
//!   epoch ends at the first non-digit, `,METRIC,` is compared there (one
//!   vector, loaded from a strip of zeros and the field at the offset that
//!   places it at that lane), and only other metrics' lines look for their
//!   commas; the value is parsed from the bytes that end the line, less a
//!   constant for the field's bytes among them. 77.5 → 51.5 instructions a
//!   line; 44–46 → 36–37 ms raw, 103–104 → 94–95 ms gzip (whole process,
//!   medians of 11, two rounds).
//! - A value of up to 4 digits weighed in two vector multiply-adds
//!   (`pmaddubsw`, `pmaddwd`) instead of seven scalar steps, and the value's
//!   length read from a table of one-digit line lengths: 51.5 → 45.5
//!   instructions a line. The scan's cost over the floor, in memory (5M
//!   lines, medians of 31, three rounds): 11.2–12.4 → 10.8–11.4 ms.
//! - The value left in its vector, and the loop's sum, minimum and maximum
//!   kept in vector registers (`LaneTally`): four instructions and no branch
//!   a value, and three general registers freed. 45.5 → 44.5 instructions a
//!   line; over the floor, 11.4–11.95 → 10.5–10.7 ms (three rounds).

use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;
use crate::scan::{self, Needle};
use crate::tools::profile::{Off, Probe, Stage};

pub const STRATEGY: Strategy = Strategy {
    name: "memchr-split",
    description: "no regex: line ends found with SIMD in large buffers, each line split at its first non-digit by bit masks, digits parsed by hand",
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
                scan::split::fold_lines(text, &needle, answer)
            })
        },
    )?;
    Ok(answer)
}
