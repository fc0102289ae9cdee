//! bzip2 regular files decoded block-parallel: every block is framed at its
//! bit offset over a sliding window of the file (read with `pread`), copied
//! out, and decoded on a worker by our block decoder (libbzip2 for a block it
//! refuses), at most `4 × threads` in flight. The caller's `each` turns a
//! block's text into what it needs on that worker, and `accept` receives the
//! results in file order.
//!
//! Every block's CRC is checked by its decoder and every stream's combined CRC
//! here. Memory is the read-ahead, the blocks in flight and each worker's
//! decoder tables and text, whatever the file size. When the framing does not
//! hold (a false magic inside compressed data, a truncated or corrupt file) or
//! a block fails, the answer is `false`, and the caller decodes the file as a
//! stream, which gives the answer or the precise error.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::mpsc;

use bzip2_blocks::{BlockDecoder, Frame, Framer, Magic, OwnedBlock, Window};

use crate::error::{Error, Result};
use crate::input::pool::receive_helping;

/// Decode the bzip2 file `file` (called `name` in errors) on `pool`, reading
/// `ahead` compressed bytes per window advance: `each` runs on a worker with
/// each block's text, and `accept` gets its results in file order on the
/// calling thread. `Ok(false)` if the framing or a block failed, in which case
/// `accept` may have seen only some blocks; `Err` only for a failed read.
pub fn decode_blocks<T: Send>(
    file: &File,
    name: &str,
    pool: &rayon::ThreadPool,
    ahead: usize,
    each: impl Fn(&[u8]) -> T + Sync,
    accept: impl FnMut(T) + Send,
) -> Result<bool> {
    let each = &each;
    let (done_tx, done_rx) = mpsc::channel::<Decoded<T>>();
    let mut order = InOrder::new(accept);
    // `move`: the framing runs on a pool thread and owns the channel; it hands
    // the receiver back, and the last sender is gone once the scope has ended.
    // FIFO: with one thread, the framer runs the decodes itself while it
    // waits, and in LIFO order the first block would wait for all the
    // others, every decoded block held until the end.
    let (framed, done_rx, mut order) = pool.scope_fifo(move |scope| {
        let framed = frame_and_spawn(scope, file, ahead, each, &done_tx, &done_rx, &mut order)
            .map_err(|e| Error::read(name, e));
        (framed, done_rx, order)
    });
    for decoded in done_rx {
        order.accept(decoded);
    }
    Ok(framed? && !order.failed)
}

/// A decoded block's place in the file and what `each` made of it (`None`:
/// it failed to decode).
type Decoded<T> = (usize, Option<T>);

/// Frame the file's blocks and spawn a decode for each on `scope` (a pool
/// thread), keeping at most `4 × threads` in flight; `false` if the framing or
/// a stream CRC fails.
fn frame_and_spawn<'scope, T: Send + 'scope, F: Fn(&[u8]) -> T + Sync, A: FnMut(T)>(
    scope: &rayon::ScopeFifo<'scope>,
    file: &File,
    ahead: usize,
    each: &'scope F,
    done_tx: &mpsc::Sender<Decoded<T>>,
    done_rx: &mpsc::Receiver<Decoded<T>>,
    order: &mut InOrder<T, A>,
) -> std::io::Result<bool> {
    let limit = 4 * rayon::current_num_threads();
    let (mut window, mut framer) = (Window::new(), Framer::new());
    let (mut stream_crc, mut sent) = (0u32, 0usize);
    loop {
        let Ok(frame) = framer.next(&window) else {
            return Ok(false);
        };
        match frame {
            Frame::Block { level, start, end } => {
                while sent - order.received >= limit {
                    order.accept(receive_helping(done_rx));
                }
                if order.failed {
                    return Ok(false); // no use framing the rest
                }
                // The block is copied out, so the window may slide on.
                let block = window.copy_block(level, start, end);
                stream_crc = stream_crc.rotate_left(1) ^ window.block_crc(start);
                let (done, sequence) = (done_tx.clone(), sent);
                scope.spawn_fifo(move |_| {
                    let _ = done.send((sequence, decode_block(&block, each)));
                });
                sent += 1;
            }
            Frame::StreamEnd { stored_crc, .. } => {
                if std::mem::take(&mut stream_crc) != stored_crc {
                    return Ok(false);
                }
            }
            Frame::Done => return Ok(true),
            Frame::NeedMore => {
                window.advance(framer.needed_from(), ahead, |at, buf| file.read_at(buf, at))?
            }
        }
    }
}

/// Where one bzip2 block lies: bits `[start, end)` of the file, in a stream
/// of this level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockAt {
    pub level: u8,
    pub start: u64,
    pub end: u64,
}

/// The blocks and stream ends of a bzip2 file, one by one, found by framing
/// it (no block is decoded), from its start or from a magic inside it.
pub struct BlockFrames {
    file: File,
    window: Window,
    framer: Framer,
    ahead: usize,
}

/// What [`BlockFrames`] finds next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framed {
    /// A block, with the CRC its header stores (its decoder checks the text
    /// against it; the stream's combined CRC is made of these).
    Block { at: BlockAt, crc: u32 },
    /// A stream's end magic at bit `at`, with the combined CRC it stores.
    StreamEnd { at: u64, stored_crc: u32 },
}

/// The framing of a file did not hold (a false magic, a truncated or corrupt
/// file, a failed read): such a file is decoded as a stream, which gives the
/// error or, if a false magic fooled the framing, the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramingFailed;

impl BlockFrames {
    /// Frame `file` from its start, reading `ahead` bytes at a time.
    pub fn new(file: File, ahead: usize) -> BlockFrames {
        BlockFrames {
            file,
            window: Window::new(),
            framer: Framer::new(),
            ahead,
        }
    }

    /// Frame `file` from the magic of kind `magic` at bit `at`, in a stream
    /// of level `level` (see [`Framer::at_magic`]).
    pub fn from_magic(file: File, magic: Magic, at: u64, level: u8, ahead: usize) -> BlockFrames {
        BlockFrames {
            file,
            window: Window::starting_at(at / 8),
            framer: Framer::at_magic(magic, at, level),
            ahead,
        }
    }

    /// The bytes of the block `at` that [`BlockFrames::next_frame`] has
    /// just returned, copied out of the bytes already read for framing
    /// (valid until the next call).
    pub fn copy_block(&self, at: BlockAt) -> OwnedBlock {
        self.window.copy_block(at.level, at.start, at.end)
    }

    /// The next block or stream end, or `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Framed>, FramingFailed> {
        loop {
            match self.framer.next(&self.window).map_err(|_| FramingFailed)? {
                Frame::Block { level, start, end } => {
                    let crc = self.window.block_crc(start);
                    let at = BlockAt { level, start, end };
                    return Ok(Some(Framed::Block { at, crc }));
                }
                Frame::StreamEnd { at, stored_crc } => {
                    return Ok(Some(Framed::StreamEnd { at, stored_crc }));
                }
                Frame::Done => return Ok(None),
                Frame::NeedMore => {
                    let file = &self.file;
                    self.window
                        .advance(self.framer.needed_from(), self.ahead, |at, buf| {
                            file.read_at(buf, at)
                        })
                        .map_err(|_| FramingFailed)?
                }
            }
        }
    }
}

/// The first block or end magic of `file` at or after bit `from` and before
/// bit `before`, reading `chunk` bytes at a time; `None` if there is none.
pub fn first_magic(
    file: &File,
    from: u64,
    before: u64,
    chunk: usize,
) -> std::io::Result<Option<(u64, Magic)>> {
    // Each read overlaps the next by a magic's length, so a magic across
    // two reads is seen whole in the first.
    const OVERLAP: usize = 8;
    let mut buf = vec![0u8; chunk + OVERLAP];
    let mut at = from / 8;
    while at * 8 < before {
        let mut filled = 0;
        while filled < buf.len() {
            match file.read_at(&mut buf[filled..], at + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let found = bzip2_blocks::find_magics(&buf[..filled])
            .into_iter()
            .map(|(bit, magic)| (at * 8 + bit, magic))
            .find(|&(bit, _)| bit >= from);
        if let Some((bit, magic)) = found {
            return Ok((bit < before).then_some((bit, magic)));
        }
        if filled < buf.len() {
            return Ok(None); // the end of the file
        }
        at += chunk as u64;
    }
    Ok(None)
}

/// Decoded blocks arrive in any order; `accept` sees them in file order.
struct InOrder<T, A> {
    accept: A,
    waiting: BTreeMap<usize, T>,
    received: usize,
    next: usize,
    failed: bool,
}

impl<T, A: FnMut(T)> InOrder<T, A> {
    fn new(accept: A) -> Self {
        InOrder {
            accept,
            waiting: BTreeMap::new(),
            received: 0,
            next: 0,
            failed: false,
        }
    }

    fn accept(&mut self, (sequence, result): Decoded<T>) {
        self.received += 1;
        let Some(result) = result else {
            self.failed = true;
            return;
        };
        self.waiting.insert(sequence, result);
        while let Some(result) = self.waiting.remove(&self.next) {
            (self.accept)(result);
            self.next += 1;
        }
    }
}

thread_local! {
    /// Each worker's block decoder and text buffer, reused block after block.
    /// A decode takes them out and puts them back, so no borrow is held while
    /// it runs (were rayon ever to run another decode on this thread inside
    /// one, that decode would start with empty ones rather than panic).
    static WORKSPACE: Cell<(BlockDecoder, Vec<u8>)> = Cell::default();
}

/// Text capacity a worker keeps between blocks: a block of long runs can
/// decode to ~46 MB, which is not worth holding on to.
const KEPT_TEXT_CAPACITY: usize = 4 << 20;

/// Decode one block and hand its text to `each`; `None` if it does not
/// decode. Our decoder goes first; a block it refuses goes to libbzip2 as a
/// one-block stream (its CRC checked there too), so a rare valid block our
/// decoder leaves alone costs time, never the answer.
pub fn decode_block<T>(block: &OwnedBlock, each: &impl Fn(&[u8]) -> T) -> Option<T> {
    let (mut decoder, mut text) = WORKSPACE.take();
    text.clear();
    let decoded = decoder.decode(block.bits(), &mut text).is_ok()
        || bzip2::read::BzDecoder::new(&block.wrapped()[..])
            .read_to_end(&mut text)
            .is_ok();
    let result = decoded.then(|| each(&text));
    if text.capacity() > KEPT_TEXT_CAPACITY {
        text = Vec::new();
    }
    WORKSPACE.set((decoder, text));
    result
}
