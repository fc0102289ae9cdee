//! Thread scaling of the `parallel` rung: 1, 2, … all cores for each format.
//! The single-threaded floor to compare with is the `ladder` group's `floor`
//! of the same format (not re-measured here, to keep the suite within budget);
//! `logbench report` sets them side by side.
//!
//! Quick run: `LOGBENCH_LINES=200000 cargo bench -- 'scaling-bz2/'`.

use crate::common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use data_gen::Mix;
use logbench::strategy;
use logbench::{Format, Query};

/// 1, 2, 4, … up to the number of cores, and the number of cores itself.
fn thread_counts() -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut counts: Vec<usize> = std::iter::successors(Some(1), |n| Some(n * 2))
        .take_while(|&n| n < cores)
        .collect();
    counts.push(cores);
    counts
}

fn scaling(c: &mut Criterion) {
    let parallel = strategy::find("parallel").expect("the parallel rung is registered");
    for data in common::data_sets(Mix::Seed, &Format::ALL) {
        let mut group = c.benchmark_group(format!("scaling-{}", data.format));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(if data.format == Format::Bzip2 {
            5
        } else {
            3
        }));
        group.throughput(Throughput::Bytes(data.text_bytes));
        for threads in thread_counts() {
            let query = Query::default().with_threads(threads);
            group.bench_with_input(BenchmarkId::new("parallel", threads), &query, |b, query| {
                b.iter(|| black_box(data.run_checked(parallel, query)))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::flame::criterion();
    targets = scaling
}
