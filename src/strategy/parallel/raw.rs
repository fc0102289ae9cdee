//! `parallel` on a raw regular file: chunks of `buffer_size` bytes, cut at
//! line starts ([`LineRange`]), scanned on every core and merged in order;
//! what lies past the file's reported size is read as a stream.

use std::fs::File;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::input::{LineRange, read_from, whole_lines_end};
use crate::scan::{self, LineFold};

/// Raw regular file: the whole lines within the size the file reports,
/// scanned in chunks in parallel, then the rest read as a stream: the last
/// line if it has no `\n`, and anything past that size, since a size can be
/// wrong (0 for `/proc` and sysfs files, stale on some network and FUSE file
/// systems) and a file can grow while it is read. So `parallel` reads what a
/// serial rung reads: the file to the end it has when the scan gets there.
/// Parts merge in file order.
///
/// Each worker folds consecutive chunks into one accumulator through one
/// buffer (rayon's `fold`): a fresh zeroed buffer per chunk is measurably
/// slower (`docs/design.md`).
pub(crate) fn scan_raw_file<F: LineFold>(
    file: &File,
    name: &str,
    chunk: usize,
    fold: &F,
) -> Result<F::Part> {
    let size = file.metadata().map_err(|e| Error::read(name, e))?.len();
    let len = whole_lines_end(file, name, size)?;
    let chunk = chunk.max(1) as u64;
    let chunks = len.div_ceil(chunk);
    let whole_lines = (0..chunks)
        .into_par_iter()
        .try_fold(
            || (fold.start(), Vec::new()),
            |(mut acc, mut buffer), i| {
                let (start, end) = (i * chunk, ((i + 1) * chunk).min(len));
                let mut range = LineRange::new(file, name, start, end, len)?;
                scan::fold_stream_in(
                    &mut buffer,
                    |buf| range.fill(buf),
                    chunk as usize,
                    &mut acc,
                    |text, acc| fold.fold(text, acc),
                )?;
                Ok::<_, Error>((acc, buffer))
            },
        )
        .map(|folded| folded.map(|(acc, _)| fold.finish(acc)))
        .try_reduce(
            || fold.empty(),
            |mut earlier, later| {
                fold.merge(&mut earlier, later);
                Ok(earlier)
            },
        )?;
    // Usually there is nothing left: one byte's read says so, and spares a
    // stream buffer.
    if read_from(file, name, len)(&mut [0u8; 1])? == 0 {
        return Ok(whole_lines);
    }
    let mut rest = fold.start();
    scan::fold_stream(
        read_from(file, name, len),
        chunk as usize,
        &mut rest,
        |text, acc| fold.fold(text, acc),
    )?;
    let mut whole = whole_lines;
    fold.merge(&mut whole, fold.finish(rest));
    Ok(whole)
}
