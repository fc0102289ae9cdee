//! `parallel` on a bzip2 regular file: blocks decoded and scanned on every
//! core ([`bzip2_parallel::decode_blocks`]), and the lines that cross block
//! (and stream) boundaries stitched in order as the blocks come back.

use std::fs::File;

use crate::answer::Answer;
use crate::error::Result;
use crate::grammar;
use crate::input::bzip2_parallel;
use crate::scan::{self, Checks};

/// Compressed bytes read ahead per window advance, in scan buffers (4 MiB at
/// the default buffer size): enough blocks for every worker several times over.
pub(super) const READ_AHEAD_BUFFERS: usize = 16;

/// bzip2 regular file: decode and scan its blocks on the pool as soon as each
/// is framed, and stitch the lines across blocks in order. `None` if the
/// framing does not hold or a block fails (the caller then decodes the file
/// as a stream, which gives the answer or the precise error).
pub(super) fn scan_bzip2_blocks(
    file: &File,
    name: &str,
    pool: &rayon::ThreadPool,
    ahead: usize,
    checks: &Checks,
) -> Result<Option<Answer>> {
    let mut stitch = Stitch::default();
    let whole = bzip2_parallel::decode_blocks(
        file,
        name,
        pool,
        ahead,
        |text| Piece::split(text, checks),
        |piece| stitch.push(piece, checks.metric()),
    )?;
    Ok(whole.then(|| stitch.finish(checks.metric())))
}

/// What a block contributes: its whole lines already folded, and the partial
/// lines at either end, which only the neighbouring blocks can complete.
enum Piece {
    /// No `\n` at all: the block is the middle of one long line.
    Inside(Vec<u8>),
    Lines {
        /// Text before the first `\n` (ends the line the previous block began).
        head: Vec<u8>,
        /// The lines wholly inside the block.
        middle: Answer,
        /// Text after the last `\n` (begins a line the next block ends).
        tail: Vec<u8>,
    },
}

impl Piece {
    fn split(text: &[u8], checks: &Checks) -> Piece {
        let (Some(first), Some(last)) = (memchr::memchr(b'\n', text), memchr::memrchr(b'\n', text))
        else {
            return Piece::Inside(text.to_vec());
        };
        let mut middle = Answer::new();
        scan::template::fold_lines(&text[first + 1..last + 1], checks, &mut middle);
        Piece::Lines {
            head: text[..first].to_vec(),
            middle,
            tail: text[last + 1..].to_vec(),
        }
    }
}

/// The answer so far and the unfinished line that the next piece continues.
#[derive(Default)]
struct Stitch {
    answer: Answer,
    carry: Vec<u8>,
}

impl Stitch {
    fn push(&mut self, piece: Piece, metric: grammar::Metric<'_>) {
        match piece {
            Piece::Inside(text) => self.carry.extend_from_slice(&text),
            Piece::Lines { head, middle, tail } => {
                self.carry.extend_from_slice(&head);
                self.fold_carry(metric);
                self.answer = self.answer.merge(middle);
                self.carry = tail;
            }
        }
    }

    fn fold_carry(&mut self, metric: grammar::Metric<'_>) {
        let mut one = Answer::new();
        grammar::fold_line(&mut one, &self.carry, metric);
        self.answer = self.answer.merge(one);
        self.carry.clear();
    }

    /// The answer, with the last line if the text did not end with `\n`.
    fn finish(mut self, metric: grammar::Metric<'_>) -> Answer {
        if !self.carry.is_empty() {
            self.fold_carry(metric);
        }
        self.answer
    }
}
