//! The whole criterion suite in one binary, so `cargo bench` pays for one
//! whole-program (fat LTO) link instead of one per target:
//!
//! - `ladder`: every serial rung beside the floor, per input format, and on
//!   the mixed data set;
//! - `scaling`: the `parallel` rung at 1, 2, … all cores, per format;
//! - `stages`: the subtraction view of `naive-regex`;
//! - `stats-raw`: `logbench stats` on the mixed set, naive and fast.
//!
//! Pick groups with criterion's filter (a regex on `group/benchmark`), e.g.
//! `cargo bench -- 'raw/'` or `cargo bench -- 'scaling-bz2/'`.

mod common;
mod ladder;
mod scaling;
mod stages;
mod stats;

criterion::criterion_main!(
    ladder::benches,
    scaling::benches,
    stages::benches,
    stats::benches
);
