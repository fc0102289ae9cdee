//! `parallel` on a bzip2 regular file: blocks decoded and scanned on every
//! core ([`bzip2_parallel::decode_blocks`]), and the lines that cross block
//! (and stream) boundaries stitched in order as the blocks come back.

use std::fs::File;

use crate::error::Result;
use crate::input::bzip2_parallel;
use crate::scan::LineFold;

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
    let mut stitch = Stitch {
        whole: fold.empty(),
        carry: Vec::new(),
    };
    let whole = bzip2_parallel::decode_blocks(
        file,
        name,
        pool,
        ahead,
        |text| Piece::split(text, fold),
        |piece| stitch.push(piece, fold),
    )?;
    Ok(whole.then(|| stitch.finish(fold)))
}

/// What a block contributes: its whole lines already folded, and the partial
/// lines at either end, which only the neighbouring blocks can complete.
enum Piece<P> {
    /// No `\n` at all: the block is the middle of one long line.
    Inside(Vec<u8>),
    Lines {
        /// Text before the first `\n` (ends the line the previous block began).
        head: Vec<u8>,
        /// The lines wholly inside the block.
        middle: P,
        /// Text after the last `\n` (begins a line the next block ends).
        tail: Vec<u8>,
    },
}

impl<P> Piece<P> {
    fn split<F: LineFold<Part = P>>(text: &[u8], fold: &F) -> Piece<P> {
        let (Some(first), Some(last)) = (memchr::memchr(b'\n', text), memchr::memrchr(b'\n', text))
        else {
            return Piece::Inside(text.to_vec());
        };
        Piece::Lines {
            head: text[..first].to_vec(),
            middle: fold.part(&text[first + 1..last + 1]),
            tail: text[last + 1..].to_vec(),
        }
    }
}

/// The answer so far and the unfinished line that the next piece continues.
struct Stitch<P> {
    whole: P,
    carry: Vec<u8>,
}

impl<P> Stitch<P> {
    fn push<F: LineFold<Part = P>>(&mut self, piece: Piece<P>, fold: &F) {
        match piece {
            Piece::Inside(text) => self.carry.extend_from_slice(&text),
            Piece::Lines { head, middle, tail } => {
                self.carry.extend_from_slice(&head);
                // The line ends here: with its `\n`, so even an empty one
                // counts as a line.
                self.carry.push(b'\n');
                self.fold_carry(fold);
                fold.merge(&mut self.whole, middle);
                self.carry = tail;
            }
        }
    }

    /// Fold the carried line (complete now, or the input's last) as one line.
    fn fold_carry<F: LineFold<Part = P>>(&mut self, fold: &F) {
        fold.merge(&mut self.whole, fold.part(&self.carry));
        self.carry.clear();
    }

    /// The answer, with the last line if the text did not end with `\n`.
    fn finish<F: LineFold<Part = P>>(mut self, fold: &F) -> P {
        if !self.carry.is_empty() {
            self.fold_carry(fold);
        }
        self.whole
    }
}
