//! The optimisation ladder under criterion: every rung on the same data in
//! every format, beside the floor (decode + count newlines), with throughput in
//! bytes of uncompressed text so the report speaks MB/s.
//!
//! Quick runs: `LOGBENCH_LINES=200000 cargo bench -- bz2/`
//! (criterion's filter is a regex on `group/benchmark`).

use crate::common;

use std::hint::black_box;
use std::time::Duration;

use common::DataSet;
use criterion::{AxisScale, Criterion, PlotConfiguration, Throughput, criterion_group};
use data_gen::Mix;
use logbench::{Format, Query, STRATEGIES, Strategy};

/// Sample counts and times per format, chosen so the whole suite fits in its
/// budget on a 2-core machine: bzip2 decoding alone takes seconds per pass.
fn configure(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    format: Format,
) {
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    // Slow rungs get the minimum of 10 samples (one pass each) whatever the
    // time asked for; the fast ones fill it with more passes.
    group.measurement_time(Duration::from_secs(match format {
        Format::Raw | Format::Gzip => 3,
        Format::Bzip2 => 5,
    }));
}

fn bench_data_set(c: &mut Criterion, prefix: &str, data: &DataSet, rungs: &[&Strategy]) {
    let query = Query::default().with_threads(1);
    let mut group = c.benchmark_group(format!("{prefix}{}", data.format));
    configure(&mut group, data.format);
    // The rungs span two orders of magnitude: on a linear axis the fast ones
    // are dots at the left edge of the summary plots.
    group.plot_config(PlotConfiguration::default().summary_scale(AxisScale::Logarithmic));
    group.throughput(Throughput::Bytes(data.text_bytes));
    group.bench_function("floor", |b| b.iter(|| black_box(data.floor_checked())));
    for &strategy in rungs {
        group.bench_function(strategy.name, |b| {
            b.iter(|| black_box(data.run_checked(strategy, &query)))
        });
    }
    group.finish();
}

/// Every rung but `parallel`, whose thread scaling is the `scaling` target's
/// subject (at one thread it is `swar` plus a pipeline).
fn serial_rungs() -> Vec<&'static Strategy> {
    STRATEGIES.iter().filter(|s| s.name != "parallel").collect()
}

/// The case study's data set: every line `cpu_usage`.
fn ladder(c: &mut Criterion) {
    for data in common::data_sets(Mix::Seed, &Format::ALL) {
        bench_data_set(c, "", &data, &serial_rungs());
    }
}

/// A realistic mix of metrics, where filtering by metric starts to matter.
/// Raw only, on a fifth of the lines, and without the two middle regex rungs,
/// to keep the suite within its time budget: the formats' cost is the same
/// story as on the seed set, and MB/s and ratios do not depend on the size.
fn mixed(c: &mut Criterion) {
    let rungs: Vec<&Strategy> = serial_rungs()
        .into_iter()
        .filter(|s| !matches!(s.name, "bytes-regex" | "anchored-regex"))
        .collect();
    for data in &common::data_sets_of(common::short_lines(), Mix::Mixed, &[Format::Raw]) {
        bench_data_set(c, "mixed-", data, &rungs);
    }
}

criterion_group! {
    name = benches;
    config = common::flame::criterion();
    targets = ladder, mixed
}
