//! `parallel` on a raw regular file: chunks of `buffer_size` bytes, cut at
//! line starts ([`LineRange`]), scanned on every core and merged in order;
//! what lies past the file's reported size is read as a stream.

use std::fs::File;

use rayon::prelude::*;

use crate::answer::Answer;
use crate::error::{Error, Result};
use crate::input::{LineRange, read_from, whole_lines_end};
use crate::scan::{self, Checks};

/// Raw regular file: the whole lines within the size the file reports,
/// scanned in chunks in parallel, then the rest read as a stream: the last
/// line if it has no `\n`, and anything past that size, since a size can be
/// wrong (0 for `/proc` and sysfs files, stale on some network and FUSE file
/// systems) and a file can grow while it is read. So `parallel` reads what a
/// serial rung reads: the file to the end it has when the scan gets there.
/// Answers merge in file order.
///
/// Each worker reads its chunks through one buffer (`map_init`): a fresh
/// zeroed buffer per chunk is measurably slower (`docs/design.md`).
pub(super) fn scan_raw_file(
    file: &File,
    name: &str,
    chunk: usize,
    checks: &Checks,
) -> Result<Answer> {
    let size = file.metadata().map_err(|e| Error::read(name, e))?.len();
    let len = whole_lines_end(file, name, size)?;
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
    let whole_lines = parts
        .into_iter()
        .try_fold(Answer::new(), |whole, part| Ok(whole.merge(part?)))?;
    // Usually there is nothing left: one byte's read says so, and spares a
    // stream buffer.
    if read_from(file, name, len)(&mut [0u8; 1])? == 0 {
        return Ok(whole_lines);
    }
    let mut rest = Answer::new();
    scan::fold_stream(
        read_from(file, name, len),
        chunk as usize,
        &mut rest,
        |text, answer| scan::template::fold_lines(text, checks, answer),
    )?;
    Ok(whole_lines.merge(rest))
}
