//! `parallel` on a raw regular file: chunks of `buffer_size` bytes, cut at
//! line starts ([`LineRange`]), scanned on every core and merged in order.

use std::fs::File;

use rayon::prelude::*;

use crate::answer::Answer;
use crate::error::{Error, Result};
use crate::input::LineRange;
use crate::scan::{self, Checks};

/// Raw regular file: chunks scanned in parallel, answers merged in order.
/// Each worker reads its chunks through one buffer (`map_init`): a fresh
/// zeroed buffer per chunk is measurably slower (`docs/design.md`).
pub(super) fn scan_raw_file(
    file: &File,
    name: &str,
    chunk: usize,
    checks: &Checks,
) -> Result<Answer> {
    let len = file.metadata().map_err(|e| Error::read(name, e))?.len();
    let chunk = chunk.max(1) as u64;
    let chunks = len.div_ceil(chunk);
    let parts: Vec<Result<Answer>> = (0..chunks)
        .into_par_iter()
        .map_init(Vec::new, |buffer, i| {
            let mut range = LineRange::new(file, name, i * chunk, ((i + 1) * chunk).min(len), len)?;
            let mut answer = Answer::new();
            scan::fold_stream_in(
                buffer,
                |buf| range.fill(buf),
                chunk as usize,
                &mut answer,
                |text, answer| scan::template::fold_lines(text, checks, answer),
            )?;
            Ok(answer)
        })
        .collect();
    parts
        .into_iter()
        .try_fold(Answer::new(), |whole, part| Ok(whole.merge(part?)))
}
