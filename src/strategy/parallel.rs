//! `parallel`: every core on the scan, and decompression off the scanners' path.
//!
//! The one change from `swar`: the same fast-path scanner runs on a rayon pool
//! of `--threads` workers, and partial answers are merged in file order (so
//! even `--strict`'s line number is exact). How the work is cut depends on
//! the input, one file each:
//!
//! - [`raw`]: a raw regular file, cut into chunks at line starts, read with
//!   `pread` (never `mmap`: a file truncated while mapped raises SIGBUS and
//!   kills the process; a short `pread` is a clean error);
//! - [`bzip2`]: a bzip2 regular file, decoded block-parallel;
//! - [`stream`]: gzip, stdin and pipes (and bzip2 whose blocks could not be
//!   framed), decoded on one thread while the others scan.
//!
//! The three paths are generic over [`LineFold`], so `stats` runs the same
//! machinery with its own fold ([`scan_input`]).

mod bzip2;
mod raw;
mod stream;

use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::{Error, Result};
use crate::input::{Format, Input};
use crate::scan::{Checks, LineFold};

pub const STRATEGY: Strategy = Strategy {
    name: "parallel",
    description: "all cores: raw files cut at line starts (pread), bzip2 files decoded block-parallel, gzip and pipes decoded on one thread while the others scan",
    run,
    profile: None,
};

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    let pool = pool(query.threads)?;
    scan_input(input, &pool, query.buffer_size, &Checks::new(&query.metric))
}

/// Build the pool for `threads` workers, or say why it could not start.
pub(crate) fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Threads {
            threads,
            problem: e.to_string(),
        })
}

/// Fold one input on `pool` by the path that suits it: raw files in chunks,
/// bzip2 files block-parallel, anything else pipelined.
pub(crate) fn scan_input<F: LineFold>(
    input: Input,
    pool: &rayon::ThreadPool,
    buffer_size: usize,
    fold: &F,
) -> Result<F::Part> {
    match (input.format(), input.file()) {
        (Format::Raw, Some(file)) => {
            let name = input.name();
            pool.install(|| raw::scan_raw_file(file, name, buffer_size, fold))
        }
        (Format::Bzip2, Some(file)) => {
            let ahead = bzip2::READ_AHEAD_BUFFERS * buffer_size.max(1);
            match bzip2::scan_bzip2_blocks(file, input.name(), pool, ahead, fold)? {
                Some(part) => Ok(part),
                None => stream::scan_pipelined(input.into_decoder(), pool, buffer_size, fold),
            }
        }
        _ => stream::scan_pipelined(input.into_decoder(), pool, buffer_size, fold),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// How many parts exist at once, at most.
    #[derive(Default)]
    struct Live {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    /// A fold that counts lines into parts that count themselves.
    struct Counting(Arc<Live>);

    struct Part {
        lines: u64,
        live: Arc<Live>,
    }

    impl Drop for Part {
        fn drop(&mut self) {
            self.live.now.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl LineFold for Counting {
        type Acc = u64;
        type Part = Part;

        fn start(&self) -> u64 {
            0
        }

        fn fold(&self, text: &[u8], acc: &mut u64) {
            *acc += memchr::memchr_iter(b'\n', text).count() as u64;
        }

        fn finish(&self, lines: u64) -> Part {
            let now = self.0.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.0.most.fetch_max(now, Ordering::SeqCst);
            Part {
                lines,
                live: Arc::clone(&self.0),
            }
        }

        fn merge(&self, earlier: &mut Part, later: Part) {
            earlier.lines += later.lines;
        }
    }

    /// Parts are merged as they come, at every thread count: with one
    /// thread, the decoding thread runs the scans while it waits, and it must
    /// run them oldest first, or every part waits for the first (memory
    /// grew with the input: 205 MiB for `stats` on 20M lines of gzip).
    #[test]
    fn streams_and_bzip2_blocks_hold_few_parts_at_once() {
        let lines = 400_000;
        let text: Vec<u8> = (0..lines)
            .flat_map(|i| format!("{i},cpu,{}\n", i % 97).into_bytes())
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        // Level 1: 100 kB blocks, about 60 of them.
        let mut bz = ::bzip2::write::BzEncoder::new(Vec::new(), ::bzip2::Compression::new(1));
        bz.write_all(&text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("log.gz", gz.finish().unwrap()),
            ("log.bz2", bz.finish().unwrap()),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            for threads in [1, 2] {
                let live = Arc::new(Live::default());
                let input = Input::open(&path).unwrap();
                let part = scan_input(
                    input,
                    &pool(threads).unwrap(),
                    64 << 10,
                    &Counting(live.clone()),
                )
                .unwrap();
                assert_eq!(part.lines, lines, "{name}, {threads} threads");
                let most = live.most.load(Ordering::SeqCst);
                assert!(
                    most <= 4 * threads + 4,
                    "{name}, {threads} threads: {most} parts at once"
                );
            }
        }
    }
}
