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
//!   content, decode every stream (bzip2 block-parallel too), fail loudly on
//!   truncation or corruption.
//! - [`grammar`]: the contract's record grammar as code, and the one-pass
//!   recognisers that every fast path is tested against.
//! - [`scan`]: the regex-free fold of large buffers into an answer: the buffer
//!   discipline, the fast loop, its tallies and line checks; every intrinsic in
//!   [`scan::simd`].
//! - [`strategy`]: the rungs of the optimisation ladder, one per file, all with
//!   the same signature, listed in a registry; the floor beside them.
//! - [`stats`]: every metric at once (count, sum, min, max, mean, exact
//!   quantiles, windows) in mergeable states, on `parallel`'s drivers.
//! - [`answer`]: what a scan folds lines into (count, exact sum, min, max,
//!   malformed), with the mean and a merge for partial results.
//! - [`tools`]: the case study's tools: a stage probe with a cProfile-style
//!   table, whole-process measurement, and the report written to `results/`.
//! - [`error`]: the one error type, always naming the file.
//!
//! The contract every strategy obeys is `LOG-FORMAT.md`, summarised in README.md.

pub mod answer;
pub mod error;
pub mod grammar;
pub mod input;
pub mod scan;
pub mod stats;
pub mod strategy;
pub mod tools;

pub use answer::Answer;
pub use error::{Error, Result};
pub use input::{Decoder, Format, Input};
pub use strategy::{Query, STRATEGIES, Strategy};

/// Marks the branch that calls it as rarely taken, for the scanners' hot
/// loops (`std::hint::cold_path` is newer than this crate's `rust-version`).
#[cold]
#[inline(always)]
pub(crate) fn cold_path() {}
