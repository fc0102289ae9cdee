//! `swar`: a fast path for the shape nearly every line has.
//!
//! The one change from `memchr-split`: before splitting a line with memchr, try
//! to read it as `DIGITS,METRIC,DIGITS\n` directly, eight bytes at a time in a
//! register (digit checks and the value's conversion are a few arithmetic
//! operations on a `u64`; the metric is compared as two `u128` words). The fast
//! path only accepts lines that are certainly records of the metric asked for;
//! everything else falls back to memchr-split's general path, so the answer is
//! the same on every input. This is the 1BRC habit: state the assumption, take
//! the fast path when it holds, fall back correctly when it does not.

use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;
use crate::profile::{Off, Probe, Stage};
use crate::scan::{self, Needle};

pub const STRATEGY: Strategy = Strategy {
    name: "swar",
    description: "a fixed-shape fast path (SWAR digit checks, 8-byte value parse) with memchr-split as fallback",
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
        |text, answer| probe.time(Stage::Scan, || scan::fold_lines_fast(text, &needle, answer)),
    )?;
    Ok(answer)
}
