//! Helpers shared by the fuzz targets.

use logbench::{Input, Query, STRATEGIES};

/// The input as a regular file (in /dev/shm, one per process), so that
/// `parallel` takes its file paths: `pread` chunks for raw text, the sliding
/// block framing for bzip2.
pub fn file_input(bytes: &[u8]) -> Input {
    let path = std::env::temp_dir().join(format!("logbench-fuzz-{}", std::process::id()));
    let path = match std::path::Path::new("/dev/shm").is_dir() {
        true => std::path::Path::new("/dev/shm").join(path.file_name().unwrap()),
        false => path,
    };
    std::fs::write(&path, bytes).unwrap();
    Input::open(&path).unwrap()
}

/// Run one strategy by name; the answer's key, or `Err(())` for any error.
pub fn run(name: &str, input: Input, query: &Query) -> Result<(u64, i128, i64, i64, u64), ()> {
    let strategy = STRATEGIES.iter().find(|s| s.name == name).unwrap();
    (strategy.run)(input, query)
        .map(|answer| answer.key())
        .map_err(|_| ())
}
