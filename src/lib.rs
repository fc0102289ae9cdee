//! logbench: where the time goes in a log pipeline.
//!
//! The "Going Faster with Python" (2013) case study asked for the mean of the
//! `cpu_usage` values in a bzip2-compressed log of `epoch,metric,value` lines,
//! then profiled and optimised its answer. logbench redoes it in Rust, with every
//! optimisation a separate strategy measured side by side.
//!
//! Data flows one way, and so do the modules:
//!
//! - [`input`]: bytes in. Open a path or stdin, recognise raw / gzip / bzip2 by
//!   content, decode every stream, fail loudly on truncation or corruption.
//! - [`bzip2_blocks`]: bzip2 framing (blocks at bit offsets, re-wrapped as
//!   one-block streams) for block-parallel decoding.
//! - [`line`](mod@line): the contract's record grammar, written once.
//! - [`scan`]: the regex-free scanner over large buffers, shared by the
//!   fastest rungs (one stream, or one chunk per core).
//! - [`split`]: `memchr-split`'s check: a line split at its first non-digit,
//!   where `,METRIC,` must follow, with bit masks.
//! - [`swar`]: eight-bytes-at-a-time digit checks and parsing for the fast path.
//! - [`template`]: `swar`'s fixed-shape check, a byte range per lane (SSE2 or
//!   AVX2).
//! - [`strategy`]: the rungs of the optimisation ladder, one per file, all with
//!   the same signature, listed in a registry.
//! - [`answer`]: what a scan folds lines into (count, exact sum, min, max,
//!   malformed), with the mean and a merge for partial results.
//! - [`floor`]: decode and count newlines only: the limit no rung can beat.
//! - [`error`]: the one error type, always naming the file.
//! - [`measure`]: whole-process runs with quartiles and exact peak RSS (the
//!   case study's `measureproc`, done right).
//! - [`profile`]: the zero-cost stage probe and the cProfile-style table.
//! - [`report`]: criterion's estimates and peak RSS into `results/`.
//!
//! The contract every strategy obeys is `LOG-FORMAT.md`, summarised in README.md.

pub mod answer;
pub mod bzip2_blocks;
pub mod bzip2_decode;
pub mod error;
pub mod floor;
pub mod input;
pub mod line;
pub mod measure;
pub mod profile;
pub mod report;
pub mod scan;
pub mod split;
pub mod strategy;
pub mod swar;
pub mod template;

pub use answer::Answer;
pub use error::{Error, Result};
pub use input::{Decoder, Format, Input};
pub use strategy::{Query, STRATEGIES, Strategy};

/// Marks the branch that calls it as rarely taken, for the scanners' hot
/// loops (`std::hint::cold_path` from Rust 1.95; this crate builds with 1.85).
#[cold]
#[inline(always)]
pub(crate) fn cold_path() {}
