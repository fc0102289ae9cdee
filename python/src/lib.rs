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
use logbench::stats::units::{self, Partial, Unit};
use logbench::stats::{self, Engine, Quantile, Report, StatsQuery, Summary};
use logbench::strategy::{self, DEFAULT_METRIC, MeanRecord};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

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
/// options are `STATS.md`'s, as a dict of text (`logbench/__init__.py`
/// makes it).
#[pyfunction]
#[pyo3(signature = (paths, options, threads = None, engine = "fast"))]
fn stats_json(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    options: StatsOptions,
    threads: Option<usize>,
    engine: &str,
) -> PyResult<String> {
    let mut query = options.query()?;
    if let Some(threads) = threads {
        query = query.with_threads(threads);
    }
    let engine = Engine::find(engine).ok_or_else(|| {
        PyValueError::new_err(format!("engine {engine:?}: expected \"fast\" or \"naive\""))
    })?;
    let started = Instant::now();
    let document = py.detach(|| -> Result<String, logbench::Error> {
        let outcome = stats::summarise_files(&paths, &query, engine)?;
        let seconds = started.elapsed().as_secs_f64();
        report_json(&outcome.summary, &query, &outcome.skipped, seconds)
    });
    document.map_err(to_python)
}

/// The options of `STATS.md` as text, from the dict that
/// `logbench._options` makes.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct StatsOptions {
    metrics: Vec<Metric>,
    every: Option<String>,
    since: Option<String>,
    until: Option<String>,
    quantiles: Option<Vec<String>>,
    strict: bool,
    keep_going: bool,
}

impl StatsOptions {
    /// The query, checked; a bad option is a `ValueError`.
    fn query(self) -> PyResult<StatsQuery> {
        fn parsed<T>(
            text: Option<String>,
            parse: fn(&str) -> Result<T, String>,
        ) -> PyResult<Option<T>> {
            text.as_deref()
                .map(parse)
                .transpose()
                .map_err(PyValueError::new_err)
        }
        let mut query = StatsQuery {
            metrics: self.metrics.into_iter().map(Metric::into_bytes).collect(),
            every: parsed(self.every, stats::plan::parse_width)?,
            since: parsed(self.since, stats::plan::parse_time)?,
            until: parsed(self.until, stats::plan::parse_time)?,
            strict: self.strict,
            keep_going: self.keep_going,
            ..StatsQuery::default()
        };
        if let Some(quantiles) = self.quantiles {
            query.quantiles = quantiles
                .iter()
                .map(|q| Quantile::parse(q))
                .collect::<Result<_, _>>()
                .map_err(PyValueError::new_err)?;
        }
        Ok(query)
    }
}

/// `stats --json`'s document for `summary`.
fn report_json(
    summary: &Summary,
    query: &StatsQuery,
    skipped: &[(String, impl std::fmt::Display)],
    seconds: f64,
) -> Result<String, logbench::Error> {
    let report = Report::new(summary, query, skipped, seconds)?;
    let mut document = Vec::new();
    report.write_json(&mut document).expect("writing to memory");
    Ok(String::from_utf8(document).expect("serde_json writes UTF-8"))
}

/// A damaged or foreign byte form from another process: a `ValueError`.
fn wire<T>(read: Result<T, String>) -> PyResult<T> {
    read.map_err(PyValueError::new_err)
}

/// The cluster's plan: `(file index, file name, unit)` for every unit of
/// `paths`, cut about every `split_bytes` bytes (compressed for bzip2;
/// `None`: each format's default).
#[pyfunction]
#[pyo3(signature = (paths, split_bytes = None))]
fn plan_units(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    split_bytes: Option<u64>,
) -> Vec<(u32, String, Py<PyBytes>)> {
    let units = py.detach(|| units::plan(&paths, split_bytes));
    units
        .iter()
        .map(|unit| {
            let bytes = PyBytes::new(py, &unit.to_bytes()).unbind();
            (unit.file, unit.name(), bytes)
        })
        .collect()
}

/// Scan one unit into its partial state.
#[pyfunction]
fn scan_unit(py: Python<'_>, unit: &[u8], options: StatsOptions) -> PyResult<Py<PyBytes>> {
    let (unit, query) = (wire(Unit::from_bytes(unit))?, options.query()?);
    let partial = py
        .detach(|| units::scan_unit(&unit, &query))
        .map_err(to_python)?;
    Ok(PyBytes::new(py, &partial.to_bytes()).unbind())
}

/// Merge the partial states of two neighbouring pieces of one file.
#[pyfunction]
fn merge_partials(
    py: Python<'_>,
    earlier: &[u8],
    later: &[u8],
    options: StatsOptions,
) -> PyResult<Py<PyBytes>> {
    let (earlier, later) = (
        wire(Partial::from_bytes(earlier))?,
        wire(Partial::from_bytes(later))?,
    );
    let query = options.query()?;
    let merged = py
        .detach(|| earlier.merge(later, &query))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyBytes::new(py, &merged.to_bytes()).unbind())
}

/// The summary of the file at `path` from the merge of all its partial
/// states; the streams' CRCs are checked and `--strict` applies here.
#[pyfunction]
fn finish_file(
    py: Python<'_>,
    path: PathBuf,
    partial: &[u8],
    options: StatsOptions,
) -> PyResult<Py<PyBytes>> {
    let (partial, query) = (wire(Partial::from_bytes(partial))?, options.query()?);
    let summary = py
        .detach(|| partial.finish(&path, &query))
        .map_err(to_python)?;
    Ok(PyBytes::new(py, &summary.to_bytes()).unbind())
}

/// Merge the summaries of two sets of files.
#[pyfunction]
fn merge_summaries(py: Python<'_>, earlier: &[u8], later: &[u8]) -> PyResult<Py<PyBytes>> {
    let mut earlier = wire(Summary::from_bytes(earlier))?;
    earlier.merge(wire(Summary::from_bytes(later))?);
    Ok(PyBytes::new(py, &earlier.to_bytes()).unbind())
}

/// `stats --json`'s document for a merged summary (`None` when every file
/// was skipped); `skipped` lists the files left out under `keep_going`.
#[pyfunction]
fn stats_report_json(
    summary: Option<&[u8]>,
    skipped: Vec<(String, String)>,
    seconds: f64,
    options: StatsOptions,
) -> PyResult<String> {
    let summary = match summary {
        Some(bytes) => wire(Summary::from_bytes(bytes))?,
        None => Summary::default(), // every file was skipped
    };
    report_json(&summary, &options.query()?, &skipped, seconds).map_err(to_python)
}

/// `mean --json`'s record for one file's summary of one metric, answered
/// by the cluster (`strategy` is `"dask"`).
#[pyfunction]
fn mean_report_json(
    summary: &[u8],
    path: PathBuf,
    metric: Metric,
    seconds: f64,
) -> PyResult<String> {
    let summary = wire(Summary::from_bytes(summary))?;
    let file = path.display().to_string();
    let query = Query::new(metric.into_bytes());
    let format = logbench::Input::open(&path).map_err(to_python)?.format();
    let group = summary
        .metrics
        .get(&query.metric)
        .and_then(|windows| windows.get(&None))
        .filter(|group| group.count > 0);
    let Some(group) = group else {
        return Err(to_python(logbench::Error::NoRecords {
            file,
            metric: query.metric_lossy(),
            malformed: summary.malformed,
        }));
    };
    let record = MeanRecord {
        file,
        metric: query.metric_lossy(),
        strategy: "dask",
        format: format.name(),
        count: group.count,
        sum: group.sum,
        min: group.min,
        max: group.max,
        mean: group.sum as f64 / group.count as f64,
        malformed: summary.malformed,
        seconds,
    };
    Ok(serde_json::to_string(&record).expect("plain data serialises"))
}

#[pymodule]
fn _logbench(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(mean_json, module)?)?;
    module.add_function(wrap_pyfunction!(stats_json, module)?)?;
    for function in [
        wrap_pyfunction!(plan_units, module)?,
        wrap_pyfunction!(scan_unit, module)?,
        wrap_pyfunction!(merge_partials, module)?,
        wrap_pyfunction!(finish_file, module)?,
        wrap_pyfunction!(merge_summaries, module)?,
        wrap_pyfunction!(stats_report_json, module)?,
        wrap_pyfunction!(mean_report_json, module)?,
    ] {
        module.add_function(function)?;
    }
    module.add("Error", module.py().get_type::<Error>())?;
    module.add("DEFAULT_METRIC", DEFAULT_METRIC)?;
    Ok(())
}
