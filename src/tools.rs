//! The case study's tools, redone: a stage probe and its cProfile-style table
//! ([`profile`]), a count of every allocation ([`heap`], its memory
//! profilers), whole-process runs with exact peak memory ([`measure`], the
//! case study's `measureproc`), and the report that turns a benchmark run into
//! `results/` ([`report`]).

pub mod heap;
pub mod measure;
pub mod profile;
pub mod report;
