//! Flamegraphs of any benchmark through criterion's `--profile-time`.
//!
//! pprof's own `criterion` feature is tied to an older criterion, so this is
//! criterion's `Profiler` trait implemented over pprof directly: sample the
//! process while criterion runs the benchmark, then write
//! `target/criterion/<group>/<bench>/profile/flamegraph.svg`.
//! Run: `cargo bench -- --profile-time 10 'raw/naive-regex'`.

use std::fs::File;
use std::path::Path;

use criterion::profiler::Profiler;
use pprof::ProfilerGuard;

/// Samples per second; a prime, so sampling does not beat with periodic work.
const FREQUENCY: i32 = 997;

#[derive(Default)]
pub struct Flamegraph {
    active: Option<ProfilerGuard<'static>>,
}

impl Profiler for Flamegraph {
    fn start_profiling(&mut self, _benchmark_id: &str, _benchmark_dir: &Path) {
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(FREQUENCY)
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build();
        match guard {
            Ok(guard) => self.active = Some(guard),
            Err(e) => eprintln!("flamegraph: cannot start the sampler: {e}"),
        }
    }

    fn stop_profiling(&mut self, _benchmark_id: &str, benchmark_dir: &Path) {
        let Some(guard) = self.active.take() else {
            return;
        };
        let path = benchmark_dir.join("flamegraph.svg");
        let written = std::fs::create_dir_all(benchmark_dir)
            .map_err(|e| e.to_string())
            .and_then(|()| guard.report().build().map_err(|e| e.to_string()))
            .and_then(|report| {
                let file = File::create(&path).map_err(|e| e.to_string())?;
                report.flamegraph(file).map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => eprintln!("flamegraph: wrote {}", path.display()),
            Err(e) => eprintln!("flamegraph: cannot write {}: {e}", path.display()),
        }
    }
}

/// Criterion with the flamegraph profiler attached (it only samples under
/// `--profile-time`; ordinary runs are not affected).
pub fn criterion() -> criterion::Criterion {
    criterion::Criterion::default().with_profiler(Flamegraph::default())
}
