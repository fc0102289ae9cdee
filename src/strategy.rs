//! The strategies ("rungs"): every way logbench knows to answer the question,
//! side by side, in ladder order, each in its own file with the same signature.
//!
//! A rung takes an opened [`Input`] and a [`Query`] and returns the [`Answer`].
//! Every rung must return the same `count, sum, min, max, malformed` for the
//! same bytes (the contract in `LOG-FORMAT.md`); the tests check each against a
//! plain reference implementation. A rung never calls into another rung.

use std::path::Path;
use std::time::Instant;

use crate::answer::Answer;
use crate::error::{Error, Result};
use crate::input::Input;

pub mod anchored_regex;
pub mod bytes_regex;
pub mod floor;
pub mod mask_split;
pub mod memchr_split;
pub mod naive_regex;
pub mod parallel;
pub mod running_sum;
mod shared;
pub mod swar;

/// What to compute, and with what resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The metric whose values are averaged, compared byte for byte.
    pub metric: Vec<u8>,
    /// Worker threads for parallel rungs; serial rungs ignore it.
    pub threads: usize,
    /// Read buffer size in bytes. Tests force tiny sizes so that every line
    /// boundary falls at every buffer position; the default suits real files.
    pub buffer_size: usize,
}

/// The metric of the case study.
pub const DEFAULT_METRIC: &str = "cpu_usage";

/// Default read buffer: large enough that refills cost nothing measurable.
pub const DEFAULT_BUFFER_SIZE: usize = 256 * 1024;

impl Query {
    /// Ask for `metric` with the default buffer and every available core.
    pub fn new(metric: impl Into<Vec<u8>>) -> Query {
        Query {
            metric: metric.into(),
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            buffer_size: DEFAULT_BUFFER_SIZE,
        }
    }

    /// The same query with `threads` workers (at least one).
    pub fn with_threads(mut self, threads: usize) -> Query {
        self.threads = threads.max(1);
        self
    }

    /// The same query with another read buffer size (at least one byte).
    pub fn with_buffer_size(mut self, bytes: usize) -> Query {
        self.buffer_size = bytes.max(1);
        self
    }

    /// The metric as text, for messages.
    pub fn metric_lossy(&self) -> String {
        String::from_utf8_lossy(&self.metric).into_owned()
    }
}

impl Default for Query {
    fn default() -> Self {
        Query::new(DEFAULT_METRIC)
    }
}

/// The signature every rung shares.
pub type RunFn = fn(Input, &Query) -> Result<Answer>;

/// A rung run with a stage recorder.
pub type ProfileFn = fn(Input, &Query, &crate::tools::profile::Recorder) -> Result<Answer>;

/// One rung of the ladder.
#[derive(Debug, Clone, Copy)]
pub struct Strategy {
    /// Kebab-case name used on the command line and in reports.
    pub name: &'static str,
    /// One line: what this rung changes from the one above.
    pub description: &'static str,
    /// Compute the answer.
    pub run: RunFn,
    /// The same code with its stages timed, for rungs instrumented with a
    /// [`crate::tools::profile::Probe`]; `None` for the others.
    pub profile: Option<ProfileFn>,
}

/// Every strategy, in ladder order (slowest, most naive first).
pub const STRATEGIES: &[Strategy] = &[
    naive_regex::STRATEGY,
    bytes_regex::STRATEGY,
    anchored_regex::STRATEGY,
    running_sum::STRATEGY,
    memchr_split::STRATEGY,
    mask_split::STRATEGY,
    swar::STRATEGY,
    parallel::STRATEGY,
];

/// The strategy `logbench mean` uses unless told otherwise: the fastest one.
pub fn default_strategy() -> &'static Strategy {
    STRATEGIES.last().expect("the registry is never empty")
}

/// Look a strategy up by name.
pub fn find(name: &str) -> Result<&'static Strategy> {
    STRATEGIES
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| Error::UnknownStrategy(name.to_owned()))
}

/// The strategy named, or the default when none is: what `mean` runs.
pub fn find_or_default(name: Option<&str>) -> Result<&'static Strategy> {
    name.map_or_else(|| Ok(default_strategy()), find)
}

impl Strategy {
    /// Open `path` (`-` for standard input) and answer it, as `mean` does:
    /// the record it prints, timed from the open.
    pub fn answer_file(&self, path: &Path, query: &Query, strict: bool) -> Result<MeanRecord> {
        let started = Instant::now();
        let input = Input::open(path)?;
        let format = input.format();
        let answer = self.answer(input, query, strict)?;
        Ok(MeanRecord {
            file: path.display().to_string(),
            metric: query.metric_lossy(),
            strategy: self.name,
            format: format.name(),
            count: answer.count,
            sum: answer.sum,
            min: answer.min,
            max: answer.max,
            mean: answer.mean().expect("answer() rejects count == 0"),
            malformed: answer.malformed,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Run the rung and apply the contract's rules about the result: no record
    /// of the metric is an error (never a mean of 0 or NaN), and in strict mode
    /// the first malformed line is an error naming its line number.
    pub fn answer(&self, input: Input, query: &Query, strict: bool) -> Result<Answer> {
        let file = input.name().to_owned();
        let answer = (self.run)(input, query)?;
        if let (true, Some(line)) = (strict, answer.first_malformed) {
            return Err(Error::Malformed { file, line });
        }
        if answer.count == 0 {
            return Err(Error::NoRecords {
                file,
                metric: query.metric_lossy(),
                malformed: answer.malformed,
            });
        }
        Ok(answer)
    }
}

/// One file's answer as `mean` reports it: `--json`'s fields, which the
/// Python extension returns too. `sum` is exact (JSON and Python integers).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MeanRecord {
    pub file: String,
    pub metric: String,
    pub strategy: &'static str,
    pub format: &'static str,
    pub count: u64,
    pub sum: i128,
    pub min: i64,
    pub max: i64,
    pub mean: f64,
    pub malformed: u64,
    pub seconds: f64,
}
