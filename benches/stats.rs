//! `stats` on the mixed data set: the naive group-by, the fast engine at one
//! thread and at every core, beside `mean`'s fastest serial rung and the
//! floor on the same file. Raw only: the suite must fit in 15 minutes, and
//! on gz and bz2 the question is how `stats` compares with `mean`'s
//! `parallel` rung, which `logbench measure` answers whole-process
//! (`results/records/2026-12-05-stats.md`).
//!
//! Quick run: `LOGBENCH_LINES=200000 cargo bench -- '^stats-'`.

use crate::common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use data_gen::Mix;
use logbench::stats::output::Row;
use logbench::stats::{self, Engine, Report, StatsQuery};
use logbench::strategy;
use logbench::{Format, Query};

fn rows(data: &common::DataSet, query: &StatsQuery, engine: Engine) -> Vec<Row> {
    let outcome = stats::summarise_files(&[&data.path], query, engine)
        .unwrap_or_else(|e| panic!("{}: {e}", engine.name()));
    Report::new(&outcome.summary, query, &outcome.skipped, 0.0)
        .expect("the data set has records")
        .rows()
        .collect()
}

fn stats_group(c: &mut Criterion) {
    let swar = strategy::find("swar").expect("the swar rung is registered");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for data in common::data_sets(Mix::Mixed, &[Format::Raw]) {
        // The naive engine's answer is the one every timed run must give.
        let one = StatsQuery::default().with_threads(1);
        let expected = rows(&data, &one, Engine::Naive);
        let mut group = c.benchmark_group(format!("stats-{}", data.format));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
        group.throughput(Throughput::Bytes(data.text_bytes));
        group.bench_function("floor", |b| b.iter(|| black_box(data.floor_checked())));
        let query = Query::default().with_threads(1);
        group.bench_function("mean-swar", |b| {
            b.iter(|| black_box(data.run_checked(swar, &query)))
        });
        group.bench_function("naive", |b| {
            b.iter(|| assert_eq!(black_box(rows(&data, &one, Engine::Naive)), expected))
        });
        for (name, threads) in [("fast-1", 1), ("fast-all", cores)] {
            let query = StatsQuery::default().with_threads(threads);
            group.bench_function(name, |b| {
                b.iter(|| assert_eq!(black_box(rows(&data, &query, Engine::Fast)), expected))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::flame::criterion();
    targets = stats_group
}
