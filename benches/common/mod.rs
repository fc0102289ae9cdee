//! Data sets shared by the benchmarks: generated once through the data-gen
//! library, cached under `target/logbench-data/`, and each paired with its
//! reference answer so every benchmark can verify itself before it is timed.
//!
//! `LOGBENCH_LINES` sets the line count (default 5,000,000, the case study's).
#![allow(dead_code)] // each bench target uses its own subset

#[path = "../../tests/common/mod.rs"]
mod reference_impl;

pub mod flame;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use data_gen::{Encoding, Mix, Spec};
use logbench::{Answer, Format, Input, Query, Strategy};

/// One cached input file and what the contract says its answer is.
pub struct DataSet {
    pub mix: Mix,
    pub format: Format,
    pub path: PathBuf,
    /// Uncompressed size: the `Throughput` of every benchmark on it.
    pub text_bytes: u64,
    pub expected: Answer,
}

/// Lines per data set: `LOGBENCH_LINES`, or the case study's 5,000,000.
pub fn lines() -> u64 {
    match std::env::var("LOGBENCH_LINES") {
        Ok(v) => v
            .trim()
            .parse()
            .expect("LOGBENCH_LINES must be a whole number"),
        Err(_) => data_gen::DEFAULT_LINES,
    }
}

/// The target directory cargo uses (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Lines for the groups that only need shares and ratios, not the case
/// study's full size (the mixed set, the stage subtraction view): a fifth of
/// [`lines`]. Their slowest benchmarks run the regex rung at least eleven
/// times, so this keeps `cargo bench` within its time budget.
pub fn short_lines() -> u64 {
    (lines() / 5).max(1)
}

/// The data set of `mix` in each of `formats` at [`lines`], made on first use.
pub fn data_sets(mix: Mix, formats: &[Format]) -> Vec<DataSet> {
    data_sets_of(lines(), mix, formats)
}

/// The data set of `lines` lines of `mix` in each of `formats`, made on first use.
pub fn data_sets_of(lines: u64, mix: Mix, formats: &[Format]) -> Vec<DataSet> {
    let spec = Spec {
        lines,
        mix,
        ..Spec::default()
    };
    let text = data_gen::text(spec);
    let expected = reference_impl::reference(&text, logbench::strategy::DEFAULT_METRIC.as_bytes());
    let text_bytes = text.len() as u64;
    drop(text);
    formats
        .iter()
        .map(|&format| DataSet {
            mix,
            format,
            path: cached_file(spec, format),
            text_bytes,
            expected,
        })
        .collect()
}

/// The file for `spec` in `format`, generated (single stream, like `bzip2 -9`
/// and `gzip -6`) if it is not cached yet.
fn cached_file(spec: Spec, format: Format) -> PathBuf {
    let path = target_dir()
        .join("logbench-data")
        .join(data_gen::file_name(spec, format));
    if !path.exists() {
        eprintln!(
            "generating {} (once; cached for later runs)",
            path.display()
        );
        data_gen::generate_file(
            &path,
            spec,
            Encoding::new(format),
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap_or_else(|e| panic!("cannot generate benchmark data: {e}"));
    }
    path
}

impl DataSet {
    pub fn open(&self) -> Input {
        Input::open(&self.path).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Run `strategy` and panic unless it gives the reference answer. The
    /// benchmarks call this on every iteration, so criterion's warm-up pass
    /// checks the answer before any sample is timed (and every timed pass is
    /// checked too, for a few nanoseconds, instead of paying an extra pass).
    pub fn run_checked(&self, strategy: &Strategy, query: &Query) -> Answer {
        let got =
            (strategy.run)(self.open(), query).unwrap_or_else(|e| panic!("{}: {e}", strategy.name));
        assert_eq!(
            got.key(),
            self.expected.key(),
            "{} is wrong on {}",
            strategy.name,
            self.path.display()
        );
        got
    }

    /// The floor, checked to count every line the reference saw (a last line
    /// without `\n` aside, which the generator never writes).
    pub fn floor_checked(&self) -> u64 {
        let newlines = logbench::strategy::floor::count_newlines(
            self.open(),
            logbench::strategy::DEFAULT_BUFFER_SIZE,
        )
        .unwrap();
        assert_eq!(
            newlines,
            self.expected.lines,
            "floor miscounts {}",
            self.path.display()
        );
        newlines
    }
}
