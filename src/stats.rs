//! `logbench stats`: every metric's count, exact sum, min, max, mean and
//! exact quantiles, per time window if asked, in one pass. The contract is
//! `STATS.md` in the project's shared folder.
//!
//! The answer is a [`Summary`]: one mergeable [`GroupState`] per (window,
//! metric) and the run-wide counts. Merging is associative and commutative,
//! so files, byte ranges, bzip2 blocks and threads are each summarised apart
//! and merged, and the answer does not depend on how the input was cut. The
//! fast engine ([`engine`]) runs on `parallel`'s drivers; [`naive`] is the
//! group-by a first version would write, kept as the ladder's first rung.
//! [`units`] cuts the same work into units for a cluster.

mod engine;
pub mod naive;
pub mod output;
pub mod plan;
mod sketch;
mod state;
mod summary;
pub mod units;
mod wire;

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

pub use engine::Tally;
pub use output::Report;
pub use plan::{Quantile, StatsQuery};
pub use state::{EXACT_DISTINCT, GroupState};
pub use summary::{Summary, Windows};

use crate::error::{Error, Result};
use crate::input::Input;
use crate::scan::LineFold;
use crate::strategy::parallel;
use crate::tools::profile::{Off, Probe, Profile, Recorder, Stage, Timed, open_rereadable};

/// The fast engine's fold, for `parallel`'s drivers.
pub struct StatsFold<'q> {
    pub query: &'q StatsQuery,
}

impl<'q> LineFold for StatsFold<'q> {
    type Acc = Tally<'q>;
    type Part = Summary;

    fn start(&self) -> Tally<'q> {
        Tally::new(self.query)
    }

    #[inline]
    fn fold(&self, text: &[u8], acc: &mut Tally<'q>) {
        acc.fold_lines(text);
    }

    fn finish(&self, acc: Tally<'q>) -> Summary {
        acc.into_summary()
    }

    fn merge(&self, earlier: &mut Summary, later: Summary) {
        earlier.merge(later);
    }
}

/// Which engine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A map from metric to a `Vec` of every value, sorted at the end.
    Naive,
    /// One pass into mergeable states, on `--threads` workers.
    Fast,
}

impl Engine {
    pub const ALL: [Engine; 2] = [Engine::Naive, Engine::Fast];

    pub fn name(self) -> &'static str {
        match self {
            Engine::Naive => "naive",
            Engine::Fast => "fast",
        }
    }

    pub fn find(name: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// Summarise one input (its `files` is 1), applying `--strict`.
pub fn summarise_input(
    input: Input,
    query: &StatsQuery,
    engine: Engine,
    pool: &rayon::ThreadPool,
) -> Result<Summary> {
    let file = input.name().to_owned();
    let mut summary = match engine {
        Engine::Naive => naive::summarise(input, query)?,
        Engine::Fast => parallel::scan_input(input, pool, query.buffer_size, &StatsFold { query })?,
    };
    if let (true, Some(line)) = (query.strict, summary.first_malformed) {
        return Err(Error::Malformed { file, line });
    }
    summary.files = 1;
    Ok(summary)
}

/// What a run over several files gives: the merged summary, and the files
/// left out under `--keep-going` with why.
#[derive(Debug, Default)]
pub struct Outcome {
    pub summary: Summary,
    pub skipped: Vec<(String, Error)>,
}

/// Summarise every file as one log. Without `--keep-going` the first file
/// that cannot be read to its end is the error; with it, such files are
/// listed in [`Outcome::skipped`].
pub fn summarise_files<P: AsRef<Path>>(
    paths: &[P],
    query: &StatsQuery,
    engine: Engine,
) -> Result<Outcome> {
    let pool = parallel::pool(query.threads)?;
    let mut outcome = Outcome::default();
    for path in paths {
        let path = path.as_ref();
        match Input::open(path).and_then(|input| summarise_input(input, query, engine, &pool)) {
            Ok(summary) => outcome.summary.merge(summary),
            Err(e) if query.keep_going => {
                outcome.skipped.push((path.display().to_string(), e));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(outcome)
}

/// `logbench profile` for `stats`: `engine` at one thread, once plain and
/// once with its stages timed, as [`crate::tools::profile::profile_file`]
/// does for `mean`'s rungs. The fast engine is run through the stream
/// driver both times (its fold is the benchmarked fold; a probe cannot
/// time the pread chunks' reads from inside rayon's workers).
pub fn profile_file(path: &Path, query: &StatsQuery, engine: Engine) -> Result<Profile> {
    let run = |probe: &dyn Fn(Input) -> Result<Summary>| -> Result<Duration> {
        let input = open_rereadable(path)?;
        let started = Instant::now();
        probe(input)?;
        Ok(started.elapsed())
    };
    let recorder = Recorder::default();
    let (plain, profiled) = match engine {
        Engine::Naive => (
            run(&|input| naive::summarise_probed(input, query, &Off))?,
            run(&|input| naive::summarise_probed(input, query, &recorder))?,
        ),
        Engine::Fast => (
            run(&|input| fast_probed(input, query, &Off))?,
            run(&|input| fast_probed(input, query, &recorder))?,
        ),
    };
    Ok(Profile {
        strategy: format!("stats --engine {}", engine.name()),
        rows: recorder.rows(),
        profiled,
        plain,
    })
}

/// The fast engine on one thread through the stream driver, its reads and
/// folds timed by `probe`.
fn fast_probed<P: Probe>(input: Input, query: &StatsQuery, probe: &P) -> Result<Summary> {
    let mut decoder = Timed::new(input.into_decoder(), probe);
    let fold = StatsFold { query };
    let mut tally = fold.start();
    crate::scan::fold_stream(
        |buf| decoder.read(buf).map_err(|e| decoder.get_ref().error(e)),
        query.buffer_size,
        &mut tally,
        |text, tally| probe.time(Stage::Scan, || fold.fold(text, tally)),
    )?;
    Ok(probe.time(Stage::Summarise, || fold.finish(tally)))
}
