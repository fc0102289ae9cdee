//! Reading criterion's results: each benchmark's median from
//! `target/criterion/<group>/<bench>/new/estimates.json`, with the group's
//! throughput (bytes of uncompressed text) where it declared one.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One benchmark as criterion recorded it.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub group: String,
    pub bench: String,
    /// Median time per iteration, seconds.
    pub median_s: f64,
    /// Bytes of uncompressed text per iteration (the benchmark's throughput).
    pub text_bytes: Option<u64>,
}

impl BenchResult {
    /// Decimal megabytes of text per second at the median.
    pub fn mb_per_s(&self) -> Option<f64> {
        self.text_bytes.map(|b| b as f64 / 1e6 / self.median_s)
    }
}

#[derive(Deserialize)]
struct BenchmarkJson {
    group_id: String,
    function_id: Option<String>,
    /// The parameter of a `BenchmarkId::new(function, parameter)`.
    value_str: Option<String>,
    throughput: Option<ThroughputJson>,
}

#[derive(Deserialize)]
enum ThroughputJson {
    Bytes(u64),
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct EstimatesJson {
    median: PointJson,
}

#[derive(Deserialize)]
struct PointJson {
    point_estimate: f64,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::read(&path.display().to_string(), e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Parse {
        file: path.display().to_string(),
        problem: e.to_string(),
    })
}

/// Every benchmark under criterion's output directory (`target/criterion`):
/// each directory holding `new/benchmark.json`, at any depth (benchmarks with
/// a parameter, `group/function/parameter`, sit one level deeper).
pub fn read_criterion(dir: &Path) -> Result<Vec<BenchResult>> {
    std::fs::read_dir(dir).map_err(|e| Error::Open {
        file: dir.display().to_string(),
        action: "cannot list criterion results (run `cargo bench` first)",
        source: e,
    })?;
    let mut results = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let new = current.join("new");
        if new.join("benchmark.json").is_file() && new.join("estimates.json").is_file() {
            let meta: BenchmarkJson = read_json(&new.join("benchmark.json"))?;
            let estimates: EstimatesJson = read_json(&new.join("estimates.json"))?;
            results.push(BenchResult {
                group: meta.group_id,
                bench: match (meta.function_id, meta.value_str) {
                    (Some(function), Some(value)) => format!("{function}/{value}"),
                    (function, value) => function.or(value).unwrap_or_default(),
                },
                median_s: estimates.median.point_estimate / 1e9,
                text_bytes: match meta.throughput {
                    Some(ThroughputJson::Bytes(b)) => Some(b),
                    _ => None,
                },
            });
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        pending.extend(
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir() && !p.ends_with("report")),
        );
    }
    results.sort_by(|a, b| (&a.group, &a.bench).cmp(&(&b.group, &b.bench)));
    Ok(results)
}

/// The result of benchmark `bench` in `group`, if the run has it.
pub(super) fn find<'a>(
    benches: &'a [BenchResult],
    group: &str,
    bench: &str,
) -> Option<&'a BenchResult> {
    benches
        .iter()
        .find(|b| b.group == group && b.bench == bench)
}
