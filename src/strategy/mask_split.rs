//! `mask-split`: the split done on bit masks, so the CPU never waits on a
//! byte loop.
//!
//! The one change from `memchr-split`: line ends are found 64 bytes at a time
//! ahead of the split, and each line is split from a bit mask of its first 32
//! bytes, which lanes are not digits (`scan::split`): the epoch ends at the
//! first of them, where `,METRIC,` is compared in one vector; the value is
//! weighed from the bytes that end the line. No `memchr` call per line, and no
//! step waits for a byte loop to learn where a field or the next line starts.
//! A line the masks cannot settle (long, CRLF, a long value, malformed; a
//! signed value until a buffer has shown 16 lines the masks missed) is read
//! in one pass, then judged by the grammar, so the answer is the same on every
//! input. The loop is [`crate::scan::split::fold_lines`].

use super::shared::fold_buffers;
use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;
use crate::scan::{self, Checks};
use crate::tools::profile::{Off, Probe};

pub const STRATEGY: Strategy = Strategy {
    name: "mask-split",
    description: "no memchr per line: line ends found 64 bytes at a time, each line split at its first non-digit by bit masks, the value weighed from its last bytes",
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
        scan::split::fold_lines(text, &checks, answer)
    })
}
