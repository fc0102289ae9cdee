//! The subtraction view of `naive-regex`: the same code run up to each stage
//! (decode; + split lines; + regex; + parse and filter; + collect and
//! summarise, the whole rung), so criterion shows each stage's cost as the
//! difference between neighbours, with no instrumentation at all. Compare
//! with `logbench profile` (the probe view).
//!
//! Raw input only, on a fifth of the seed lines: on compressed input every row
//! just adds the decoder's time, and the shares do not depend on the size,
//! while the three regex prefixes at full size would cost the suite about a
//! minute more than its budget allows.
//! Quick run: `LOGBENCH_LINES=200000 cargo bench -- stages/`.

use crate::common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{AxisScale, Criterion, PlotConfiguration, Throughput, criterion_group};
use data_gen::Mix;
use logbench::strategy::naive_regex::{run_stages, upto};
use logbench::tools::profile::Off;
use logbench::{Format, Query};

fn stages(c: &mut Criterion) {
    let data = common::data_sets_of(common::short_lines(), Mix::Seed, &[Format::Raw]).remove(0);
    let query = Query::default().with_threads(1);
    let full = run_stages::<{ upto::FULL }, _>(data.open(), &query, &Off).unwrap();
    assert_eq!(full.key(), data.expected.key(), "the staged rung is wrong");

    let mut group = c.benchmark_group("stages");
    // From decoding alone to the whole baseline is more than 10x.
    group.plot_config(PlotConfiguration::default().summary_scale(AxisScale::Logarithmic));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Bytes(data.text_bytes));
    group.bench_function("1-decode", |b| {
        b.iter(|| black_box(run_stages::<{ upto::DECODE }, _>(data.open(), &query, &Off).unwrap()))
    });
    group.bench_function("2-split", |b| {
        b.iter(|| black_box(run_stages::<{ upto::SPLIT }, _>(data.open(), &query, &Off).unwrap()))
    });
    group.bench_function("3-regex", |b| {
        b.iter(|| black_box(run_stages::<{ upto::REGEX }, _>(data.open(), &query, &Off).unwrap()))
    });
    group.bench_function("4-parse", |b| {
        b.iter(|| black_box(run_stages::<{ upto::PARSE }, _>(data.open(), &query, &Off).unwrap()))
    });
    group.bench_function("5-full", |b| {
        b.iter(|| black_box(run_stages::<{ upto::FULL }, _>(data.open(), &query, &Off).unwrap()))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::flame::criterion();
    targets = stages
}
