//! `swar`: a fast path for the shape nearly every line has.
//!
//! The one change from `mask-split`: before splitting a line,
//! check it against the layout the last record had (`template`): epoch
//! length, commas and metric fixed, 1 to 8 value digits. One 32-byte range
//! check per line (each lane a byte range: `'0'..='9'` or one byte) says
//! whether the whole line fits; the value is then parsed four or eight bytes
//! at a time in a register (SWAR), or with AVX2 as `mask-split` parses it
//! (up to 4 digits weighed in two vector multiply-adds, tallied in vector
//! registers). The loop is [`crate::scan::template::fold_lines`]; what each
//! step measured is in `docs/ladder.md`. The fast path only accepts lines that are
//! certainly records of the metric asked for; every other line goes to
//! mask-split's path (the masks' split, then the one-pass check and the
//! grammar), so the answer is the same on every input. This is the 1BRC
//! habit: state the assumption, take the fast path when it holds, fall back
//! correctly when it does not.

use super::shared::fold_buffers;
use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;
use crate::scan::{self, Checks};
use crate::tools::profile::{Off, Probe};

pub const STRATEGY: Strategy = Strategy {
    name: "swar",
    description: "a fixed-shape fast path (one 32-byte range check a line, SWAR value parse) with mask-split as fallback",
    run,
    profile: Some(run_probed),
};

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    run_probed(input, query, &Off)
}

/// The rung, its stages timed by `probe` (`Off` compiles to nothing).
pub fn run_probed<P: Probe>(input: Input, query: &Query, probe: &P) -> Result<Answer> {
    let checks = Checks::new(&query.metric);
    fold_buffers(input, query, probe, |text, answer| {
        scan::template::fold_lines(text, &checks, answer)
    })
}
