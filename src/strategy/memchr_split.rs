//! `memchr-split`: no regex at all.
//!
//! The one change from `running-sum`: instead of a regex per line, the decoded
//! text is read in large buffers, `memchr` finds each `\n` and each `,` with
//! SIMD, and digits are parsed by hand (the shared grammar in `line`). The
//! answer is still folded as lines go by.

use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;
use crate::profile::{Off, Probe, Stage};
use crate::scan;

pub const STRATEGY: Strategy = Strategy {
    name: "memchr-split",
    description: "no regex: memchr finds ',' and '\\n' in large buffers, digits parsed by hand",
    run,
    profile: Some(run_probed),
};

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    run_probed(input, query, &Off)
}

/// The rung, its stages timed by `probe` (`Off` compiles to nothing).
pub fn run_probed<P: Probe>(input: Input, query: &Query, probe: &P) -> Result<Answer> {
    let mut decoder = input.into_decoder();
    let mut answer = Answer::new();
    scan::fold_stream(
        |buf| probe.time(Stage::Decompress, || decoder.fill(buf)),
        query.buffer_size,
        &mut answer,
        |text, answer| {
            probe.time(Stage::Scan, || {
                scan::fold_lines(text, &query.metric, answer)
            })
        },
    )?;
    Ok(answer)
}
