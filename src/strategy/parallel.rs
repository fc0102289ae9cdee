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
