//! `parallel` on a stream: gzip files, and any input that is not a regular
//! file (stdin, pipes; bzip2 whose blocks could not be framed). The decoder
//! fills blocks of whole lines on one thread while the workers scan the
//! blocks already filled; at most `2 × threads` blocks exist at once, so
//! memory stays flat whatever the input's size.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::mpsc;

use crate::error::Result;
use crate::input::Decoder;
use crate::input::pool::receive_helping;
use crate::scan::LineFold;

/// A stream (compressed, or not a regular file): decode on this thread, scan
/// blocks of whole lines on the pool, merge in order as the parts come back.
pub(crate) fn scan_pipelined<F: LineFold>(
    mut decoder: Decoder,
    pool: &rayon::ThreadPool,
    block: usize,
    fold: &F,
) -> Result<F::Part> {
    let workers = pool.current_num_threads();
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    for _ in 0..2 * workers {
        free_tx.send(Vec::new()).expect("the receiver is alive");
    }
    let merged = Mutex::new(InOrder {
        next: 0,
        whole: fold.empty(),
        waiting: BTreeMap::new(),
    });
    let merged_ref = &merged;
    let mut blocks = LineBlocks::new(block);
    // `move`: the decoding closure runs on a pool thread and owns the receiver.
    // FIFO: with one thread, the decoder runs the scans itself while it
    // waits, and in LIFO order the first block would wait for all the others,
    // every part held in `waiting` until the end.
    pool.scope_fifo(move |scope| -> Result<()> {
        for sequence in 0.. {
            let mut buffer = receive_helping(&free_rx);
            if !blocks.fill(&mut decoder, &mut buffer)? {
                return Ok(());
            }
            let free_tx = free_tx.clone();
            scope.spawn_fifo(move |_| {
                let part = fold.part(&buffer);
                let _ = free_tx.send(buffer); // the pipeline may already be done
                merged_ref
                    .lock()
                    .expect("no scan panics")
                    .arrive(sequence, part, fold);
            });
        }
        unreachable!("the sequence is unbounded")
    })?;
    let merged = merged.into_inner().expect("no scan panics");
    debug_assert!(merged.waiting.is_empty(), "every block merged");
    Ok(merged.whole)
}

/// Parts merged in block order: at most the blocks in flight wait here.
struct InOrder<P> {
    next: u64,
    whole: P,
    waiting: BTreeMap<u64, P>,
}

impl<P> InOrder<P> {
    fn arrive<F: LineFold<Part = P>>(&mut self, sequence: u64, part: P, fold: &F) {
        self.waiting.insert(sequence, part);
        while let Some(part) = self.waiting.remove(&self.next) {
            fold.merge(&mut self.whole, part);
            self.next += 1;
        }
    }
}

/// Cuts decoded text into blocks of whole lines (the last may lack its `\n`).
struct LineBlocks {
    block: usize,
    carry: Vec<u8>,
    at_end: bool,
}

impl LineBlocks {
    fn new(block: usize) -> Self {
        LineBlocks {
            block: block.max(1),
            carry: Vec::new(),
            at_end: false,
        }
    }

    /// Fill `buffer` with the next block; `false` when the text is exhausted.
    fn fill(&mut self, decoder: &mut Decoder, buffer: &mut Vec<u8>) -> Result<bool> {
        buffer.clear();
        buffer.append(&mut self.carry);
        while !self.at_end {
            let old = buffer.len();
            buffer.resize(old + self.block, 0);
            let n = decoder.fill(&mut buffer[old..])?;
            buffer.truncate(old + n);
            if n == 0 {
                self.at_end = true;
            } else if let Some(last) = memchr::memrchr(b'\n', &buffer[old..]) {
                self.carry.extend_from_slice(&buffer[old + last + 1..]);
                buffer.truncate(old + last + 1);
                return Ok(true);
            }
        }
        Ok(!buffer.is_empty())
    }
}
