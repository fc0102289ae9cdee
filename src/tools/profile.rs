//! The stage probe and the cProfile-style table.
//!
//! Rungs are written once, generic over a [`Probe`]. The normal build passes
//! [`Off`], a zero-sized probe whose `time` is just a call of the closure, so
//! the benchmarked code carries no instrumentation at all; `logbench profile`
//! passes a [`Recorder`], which times every stage entry with a monotonic clock.
//! The profiled code is therefore the benchmarked code, and the difference
//! between the two runs is the observer effect, which the table reports (the
//! case study saw 24.7 s plain, 31.8 s under cProfile, 105 s under line_profiler).
//!
//! Stages nest (decompression happens inside line splitting), so each row has
//! `tottime` (its own time, nested stages excluded) and `cumtime` (included),
//! as cProfile does.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Read};
use std::time::{Duration, Instant};

/// A stage of a rung's pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Inside the decoder (or the read system call for raw text).
    Decompress,
    /// Finding line ends and making the line (allocation, UTF-8 check).
    SplitLines,
    /// The regex search with captures.
    Regex,
    /// Checking the captured fields, comparing the metric, parsing the value.
    ParseFilter,
    /// Pushing the value onto the `Vec`.
    Collect,
    /// Folding the collected values into the answer.
    Summarise,
    /// A regex-free scanner over a buffer of lines (split, parse and fold together).
    Scan,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Decompress => "decompress",
            Stage::SplitLines => "split lines",
            Stage::Regex => "regex match/captures",
            Stage::ParseFilter => "parse + filter",
            Stage::Collect => "collect (push)",
            Stage::Summarise => "summarise",
            Stage::Scan => "scan (split+parse+fold)",
        }
    }
}

/// Times stages of a rung. Implementations must be cheap to call per line.
pub trait Probe {
    /// Run `work` as (part of) `stage`.
    fn time<T>(&self, stage: Stage, work: impl FnOnce() -> T) -> T;
}

/// The probe of the normal build: zero-sized, compiles to nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Off;

impl Probe for Off {
    #[inline(always)]
    fn time<T>(&self, _stage: Stage, work: impl FnOnce() -> T) -> T {
        work()
    }
}

/// One row of the profile.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Row {
    pub ncalls: u64,
    /// Time in the stage, nested stages excluded.
    pub tottime: Duration,
    /// Time in the stage, nested stages included.
    pub cumtime: Duration,
}

/// The probe of `logbench profile`: records every stage entry.
#[derive(Debug, Default)]
pub struct Recorder {
    state: RefCell<RecorderState>,
}

#[derive(Debug, Default)]
struct RecorderState {
    /// Open stages: (stage, entered at, time spent in nested stages).
    open: Vec<(Stage, Instant, Duration)>,
    rows: BTreeMap<Stage, Row>,
}

impl Probe for Recorder {
    fn time<T>(&self, stage: Stage, work: impl FnOnce() -> T) -> T {
        self.state
            .borrow_mut()
            .open
            .push((stage, Instant::now(), Duration::ZERO));
        let result = work(); // no borrow held: `work` may enter nested stages
        let mut state = self.state.borrow_mut();
        let (stage, entered, nested) = state.open.pop().expect("entered above");
        let elapsed = entered.elapsed();
        let row = state.rows.entry(stage).or_default();
        row.ncalls += 1;
        row.cumtime += elapsed;
        row.tottime += elapsed.saturating_sub(nested);
        if let Some(parent) = state.open.last_mut() {
            parent.2 += elapsed;
        }
        result
    }
}

impl Recorder {
    /// The rows recorded so far, by stage.
    pub fn rows(&self) -> BTreeMap<Stage, Row> {
        self.state.borrow().rows.clone()
    }
}

/// A reader whose reads are timed as [`Stage::Decompress`].
pub struct Timed<'p, R, P> {
    inner: R,
    probe: &'p P,
}

impl<'p, R, P> Timed<'p, R, P> {
    pub fn new(inner: R, probe: &'p P) -> Self {
        Timed { inner, probe }
    }

    /// The reader it times.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }
}

impl<R: Read, P: Probe> Read for Timed<'_, R, P> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let inner = &mut self.inner;
        self.probe.time(Stage::Decompress, || inner.read(buf))
    }
}

/// A finished profile: the rows, the instrumented run's wall time, and the
/// plain (uninstrumented) run's wall time for the observer effect.
#[derive(Debug, Clone)]
pub struct Profile {
    pub strategy: String,
    pub rows: BTreeMap<Stage, Row>,
    pub profiled: Duration,
    pub plain: Duration,
}

impl Profile {
    /// Time not inside any stage (loop control, bookkeeping, start-up).
    pub fn unattributed(&self) -> Duration {
        let staged: Duration = self.rows.values().map(|r| r.tottime).sum();
        self.profiled.saturating_sub(staged)
    }

    /// Share of the instrumented run spent in `stage`'s own time, 0..=1.
    pub fn fraction(&self, stage: Stage) -> f64 {
        self.rows.get(&stage).map_or(0.0, |r| {
            r.tottime.as_secs_f64() / self.profiled.as_secs_f64()
        })
    }

    /// The observer effect: how much longer the instrumented run took, in %.
    pub fn overhead_percent(&self) -> f64 {
        100.0 * (self.profiled.as_secs_f64() / self.plain.as_secs_f64() - 1.0)
    }

    /// The table, sorted by tottime like `pstats.sort_stats('time')`.
    pub fn table(&self) -> String {
        let mut rows: Vec<(&str, Row)> = self.rows.iter().map(|(s, r)| (s.name(), *r)).collect();
        rows.push((
            "(outside any stage)",
            Row {
                ncalls: 1,
                tottime: self.unattributed(),
                cumtime: self.profiled,
            },
        ));
        rows.sort_by_key(|row| std::cmp::Reverse(row.1.tottime));
        let total = self.profiled.as_secs_f64();
        let mut out = format!(
            "{} in {:.3} seconds (instrumented)\n\n{:>10} {:>9} {:>9} {:>9} {:>9} {:>7}  stage\n",
            self.strategy, total, "ncalls", "tottime", "percall", "cumtime", "percall", "% tot"
        );
        for (name, row) in rows {
            let per_call = |t: Duration| t.as_secs_f64() / row.ncalls.max(1) as f64;
            let _ = writeln!(
                out,
                "{:>10} {:>9.3} {:>9.2e} {:>9.3} {:>9.2e} {:>6.1}%  {name}",
                row.ncalls,
                row.tottime.as_secs_f64(),
                per_call(row.tottime),
                row.cumtime.as_secs_f64(),
                per_call(row.cumtime),
                100.0 * row.tottime.as_secs_f64() / total,
            );
        }
        let _ = writeln!(
            out,
            "\nobserver effect: {:.3} s plain, {:.3} s instrumented: {:+.0}% \
             (case study: 24.7 s plain, 31.8 s cProfile +29%, 105 s line_profiler +325%)",
            self.plain.as_secs_f64(),
            total,
            self.overhead_percent()
        );
        out
    }
}

/// Profile `strategy` on the file at `path`: one plain run, then one
/// instrumented run of the same code, so the table can show the observer effect.
pub fn profile_file(
    strategy: &crate::Strategy,
    path: &std::path::Path,
    query: &crate::Query,
) -> crate::Result<Profile> {
    let Some(instrumented) = strategy.profile else {
        let instrumented: Vec<&str> = crate::STRATEGIES
            .iter()
            .filter(|s| s.profile.is_some())
            .map(|s| s.name)
            .collect();
        return Err(crate::Error::NotInstrumented {
            strategy: strategy.name.to_owned(),
            instrumented: instrumented.join(", "),
        });
    };
    let started = Instant::now();
    (strategy.run)(open_rereadable(path)?, query)?;
    let plain = started.elapsed();
    let recorder = Recorder::default();
    let started = Instant::now();
    instrumented(crate::Input::open(path)?, query, &recorder)?;
    let profiled = started.elapsed();
    Ok(Profile {
        strategy: strategy.name.to_owned(),
        rows: recorder.rows(),
        profiled,
        plain,
    })
}

/// Open `path` for a profile, which runs the code twice (plain, then
/// instrumented): a stream cannot be read twice, so it is refused.
pub fn open_rereadable(path: &std::path::Path) -> crate::Result<crate::Input> {
    let input = crate::Input::open(path)?;
    if input.file().is_none() {
        return Err(crate::Error::NotRereadable {
            file: input.name().to_owned(),
        });
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(d: Duration) {
        let start = Instant::now();
        while start.elapsed() < d {}
    }

    #[test]
    fn off_is_zero_sized_and_just_runs_the_work() {
        assert_eq!(std::mem::size_of::<Off>(), 0);
        assert_eq!(Off.time(Stage::Regex, || 41 + 1), 42);
    }

    #[test]
    fn nested_time_is_excluded_from_the_parents_tottime() {
        let recorder = Recorder::default();
        recorder.time(Stage::SplitLines, || {
            spin(Duration::from_millis(5));
            recorder.time(Stage::Decompress, || spin(Duration::from_millis(20)));
        });
        let rows = recorder.rows();
        let (split, decompress) = (rows[&Stage::SplitLines], rows[&Stage::Decompress]);
        assert_eq!((split.ncalls, decompress.ncalls), (1, 1));
        assert!(split.cumtime >= split.tottime + decompress.cumtime);
        assert!(
            split.tottime < decompress.tottime,
            "{split:?} {decompress:?}"
        );
    }

    #[test]
    fn the_table_is_sorted_by_own_time_and_reports_the_overhead() {
        let mut rows = BTreeMap::new();
        let row = |ms| Row {
            ncalls: 10,
            tottime: Duration::from_millis(ms),
            cumtime: Duration::from_millis(ms),
        };
        rows.insert(Stage::Regex, row(300));
        rows.insert(Stage::Decompress, row(500));
        let profile = Profile {
            strategy: "x".into(),
            rows,
            profiled: Duration::from_millis(1000),
            plain: Duration::from_millis(800),
        };
        let table = profile.table();
        let decompress = table.find("decompress").unwrap();
        let regex = table.find("regex").unwrap();
        assert!(decompress < regex, "{table}");
        assert!(table.contains("+25%"), "{table}");
        assert_eq!(profile.unattributed(), Duration::from_millis(200));
        assert!((profile.fraction(Stage::Decompress) - 0.5).abs() < 1e-9);
    }
}
