//! `logbench._logbench`: the CLI's `mean` and `stats` as Python functions, the
//! rung the case study reached with Cython and C + PCRE (the hot loop moved
//! out of Python).
//!
//! Each function answers with the CLI's own JSON document, built by the same
//! library code (`Strategy::answer_file`, `stats::Report`), and
//! `logbench/__init__.py` parses it: the dicts equal the CLI's `--json` field
//! for field, exact sums become Python ints, and there is one place where
//! the fields are defined. The scan runs with the GIL released.

use std::path::PathBuf;
use std::time::Instant;

use logbench::Query;
use logbench::stats::{self, Engine, Quantile, Report, StatsQuery};
use logbench::strategy::{self, DEFAULT_METRIC};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

create_exception!(
    logbench,
    Error,
    PyException,
    "A file that could not be answered; the message names it, as the CLI's does."
);

/// A usage error (the CLI's exit 2) is a `ValueError`; anything about the
/// input is a `logbench.Error` with the CLI's message.
fn to_python(error: logbench::Error) -> PyErr {
    if error.exit_code() == 2 {
        PyValueError::new_err(error.to_string())
    } else {
        Error::new_err(error.to_string())
    }
}

/// A metric as `str` or, for one that is not UTF-8, `bytes`.
#[derive(FromPyObject)]
enum Metric {
    Text(String),
    Bytes(Vec<u8>),
}

impl Metric {
    fn into_bytes(self) -> Vec<u8> {
        match self {
            Metric::Text(text) => text.into_bytes(),
            Metric::Bytes(bytes) => bytes,
        }
    }
}

/// `logbench mean PATH --json`: one file's record, as a JSON string.
#[pyfunction]
#[pyo3(signature = (path, metric = None, threads = None, strategy = None, strict = false))]
fn mean_json(
    py: Python<'_>,
    path: PathBuf,
    metric: Option<Metric>,
    threads: Option<usize>,
    strategy: Option<String>,
    strict: bool,
) -> PyResult<String> {
    let chosen = strategy::find_or_default(strategy.as_deref()).map_err(to_python)?;
    let metric = metric.map_or_else(|| DEFAULT_METRIC.as_bytes().to_vec(), Metric::into_bytes);
    let mut query = Query::new(metric);
    if let Some(threads) = threads {
        query = query.with_threads(threads);
    }
    let record = py
        .detach(|| chosen.answer_file(&path, &query, strict))
        .map_err(to_python)?;
    Ok(serde_json::to_string(&record).expect("plain data serialises"))
}

/// `logbench stats PATHS... --json`: the document, as a JSON string. The
/// options are `STATS.md`'s, as text (`logbench/__init__.py` converts).
#[pyfunction]
#[pyo3(signature = (
    paths, metrics = Vec::new(), every = None, since = None, until = None,
    quantiles = None, threads = None, strict = false, keep_going = false, engine = "fast"
))]
#[allow(clippy::too_many_arguments)]
fn stats_json(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    metrics: Vec<Metric>,
    every: Option<String>,
    since: Option<String>,
    until: Option<String>,
    quantiles: Option<Vec<String>>,
    threads: Option<usize>,
    strict: bool,
    keep_going: bool,
    engine: &str,
) -> PyResult<String> {
    let usage = |e: String| PyValueError::new_err(e);
    let mut query = StatsQuery {
        metrics: metrics.into_iter().map(Metric::into_bytes).collect(),
        every: every
            .as_deref()
            .map(stats::plan::parse_width)
            .transpose()
            .map_err(usage)?,
        since: since
            .as_deref()
            .map(stats::plan::parse_time)
            .transpose()
            .map_err(usage)?,
        until: until
            .as_deref()
            .map(stats::plan::parse_time)
            .transpose()
            .map_err(usage)?,
        strict,
        keep_going,
        ..StatsQuery::default()
    };
    if let Some(quantiles) = quantiles {
        query.quantiles = quantiles
            .iter()
            .map(|q| Quantile::parse(q))
            .collect::<Result<_, _>>()
            .map_err(usage)?;
    }
    if let Some(threads) = threads {
        query = query.with_threads(threads);
    }
    let engine = Engine::find(engine)
        .ok_or_else(|| usage(format!("engine {engine:?}: expected \"fast\" or \"naive\"")))?;
    let started = Instant::now();
    let document = py.detach(|| -> Result<Vec<u8>, logbench::Error> {
        let outcome = stats::summarise_files(&paths, &query, engine)?;
        let seconds = started.elapsed().as_secs_f64();
        let report = Report::new(&outcome.summary, &query, &outcome.skipped, seconds)?;
        let mut document = Vec::new();
        report.write_json(&mut document).expect("writing to memory");
        Ok(document)
    });
    let document = document.map_err(to_python)?;
    Ok(String::from_utf8(document).expect("serde_json writes UTF-8"))
}

#[pymodule]
fn _logbench(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(mean_json, module)?)?;
    module.add_function(wrap_pyfunction!(stats_json, module)?)?;
    module.add("Error", module.py().get_type::<Error>())?;
    module.add("DEFAULT_METRIC", DEFAULT_METRIC)?;
    Ok(())
}
