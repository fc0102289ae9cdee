//! `parallel` on a bzip2 regular file: blocks decoded and scanned on every
//! core ([`bzip2_parallel::decode_blocks`]), and the lines that cross block
//! (and stream) boundaries stitched in order as the blocks come back
//! ([`Edges`]).

use std::fs::File;

use crate::error::Result;
use crate::input::bzip2_parallel;
use crate::scan::LineFold;
use crate::scan::edges::Edges;

/// Compressed bytes read ahead per window advance, in scan buffers (4 MiB at
/// the default buffer size): enough blocks for every worker several times over.
pub(super) const READ_AHEAD_BUFFERS: usize = 16;

/// bzip2 regular file: decode and scan its blocks on the pool as soon as each
/// is framed, and stitch the lines across blocks in order. `None` if the
/// framing does not hold or a block fails (the caller then decodes the file
/// as a stream, which gives the answer or the precise error).
pub(crate) fn scan_bzip2_blocks<F: LineFold>(
    file: &File,
    name: &str,
    pool: &rayon::ThreadPool,
    ahead: usize,
    fold: &F,
) -> Result<Option<F::Part>> {
    let mut whole = Edges::default();
    let decoded = bzip2_parallel::decode_blocks(
        file,
        name,
        pool,
        ahead,
        |text| Edges::of_text(text, fold),
        |piece| whole = std::mem::take(&mut whole).merge(piece, fold),
    )?;
    Ok(decoded.then(|| whole.finish(fold)))
}
