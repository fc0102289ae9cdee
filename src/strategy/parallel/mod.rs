//! `parallel`: every core on the scan, and decompression off the scanners' path.
//!
//! The one change from `swar`: the same fast-path scanner runs on a rayon pool
//! of `--threads` workers, and partial answers are merged in file order (so
//! even `--strict`'s line number is exact).
//!
//! - **Raw regular files** are cut into chunks of `buffer_size` bytes, read with
//!   `pread` (never `mmap`: a file truncated while mapped raises SIGBUS and kills
//!   the process; a short `pread` is a clean error). A chunk owns the lines that
//!   *start* inside it: it skips the tail of the line it begins in and reads past
//!   its end to finish its last line, however long.
//! - **bzip2 regular files** are decoded block-parallel: [`crate::bzip2_blocks`]
//!   frames every block at its bit offset over a sliding window of the file
//!   (read with `pread`, 16 scan buffers ahead) and copies each out; workers
//!   decode them with [`crate::bzip2_decode`] (libbzip2 for a block it
//!   refuses) and scan them, at most `4 × threads` in flight, and the lines
//!   that cross block (and stream) boundaries are stitched in order. Every
//!   block CRC is checked by the decoder and every stream's combined CRC here.
//!   Memory is the read-ahead, the blocks in flight and each worker's decoder
//!   tables and text (about 8 bytes a byte of block: 7.2 MiB at level 9),
//!   whatever the file size. If the framing does not hold (a
//!   false magic inside compressed data, a truncated or corrupt file), the file
//!   is decoded again from the start by the pipeline below, which gives the
//!   answer or the precise error.
//! - **gzip, stdin and pipes** (bzip2 ones too) go through a bounded pipeline: the decoder fills
//!   blocks of whole lines on one thread while the workers scan the blocks
//!   already filled. At most `2 × threads` blocks exist at once, so memory
//!   stays flat whatever the file size.

use std::cell::Cell;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::sync::mpsc::{self, TryRecvError};

use rayon::prelude::*;

use super::{Query, Strategy};
use crate::answer::Answer;
use crate::bzip2_blocks::{Frame, Framer, OwnedBlock, Window};
use crate::bzip2_decode::BlockDecoder;
use crate::error::{Error, Result};
use crate::grammar;
use crate::input::{Decoder, Format, Input};
use crate::scan::{self, Needle};

pub const STRATEGY: Strategy = Strategy {
    name: "parallel",
    description: "all cores: raw files cut at line starts (pread), bzip2 files decoded block-parallel, gzip and pipes decoded on one thread while the others scan",
    run,
    profile: None,
};

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(query.threads)
        .build()
        .map_err(|e| Error::read(input.name(), std::io::Error::other(e)))?;
    let needle = Needle::new(&query.metric);
    match (input.format(), input.file()) {
        (Format::Raw, Some(file)) => {
            let name = input.name();
            pool.install(|| scan_raw_file(file, name, query.buffer_size, &needle))
        }
        (Format::Bzip2, Some(file)) => {
            let ahead = READ_AHEAD_BUFFERS * query.buffer_size.max(1);
            match scan_bzip2_blocks(file, input.name(), &pool, ahead, &needle)? {
                Some(answer) => Ok(answer),
                None => scan_pipelined(input.into_decoder(), &pool, query.buffer_size, &needle),
            }
        }
        _ => scan_pipelined(input.into_decoder(), &pool, query.buffer_size, &needle),
    }
}

/// Raw regular file: chunks scanned in parallel, answers merged in order.
/// Each worker reads its chunks through one buffer (`map_init`): a fresh
/// zeroed buffer per chunk cost ~6% of the run (24 against 25.5 ms, 5M lines).
fn scan_raw_file(file: &File, name: &str, chunk: usize, needle: &Needle) -> Result<Answer> {
    let len = file.metadata().map_err(|e| Error::read(name, e))?.len();
    let chunk = chunk.max(1) as u64;
    let chunks = len.div_ceil(chunk);
    let parts: Vec<Result<Answer>> = (0..chunks)
        .into_par_iter()
        .map_init(Vec::new, |buffer, i| {
            let mut range =
                OwnedLines::new(file, name, i * chunk, ((i + 1) * chunk).min(len), len)?;
            let mut answer = Answer::new();
            scan::fold_stream_in(
                buffer,
                |buf| range.fill(buf),
                chunk as usize,
                &mut answer,
                |text, answer| scan::template::fold_lines(text, needle, answer),
            )?;
            Ok(answer)
        })
        .collect();
    parts
        .into_iter()
        .try_fold(Answer::new(), |whole, part| Ok(whole.merge(part?)))
}

/// The bytes of the lines that start in `[start, end)` of a file `len` bytes
/// long (as measured when the scan began), read with `pread`.
struct OwnedLines<'a> {
    file: &'a File,
    name: &'a str,
    /// Next byte to read.
    at: u64,
    /// Where the chunk ends; past it we read only to finish the current line.
    end: u64,
    len: u64,
    /// Whether the last byte handed out was `\n` (or nothing was handed out).
    at_line_start: bool,
    finished: bool,
}

/// Bytes read per `pread` while looking for the end of a line.
const PROBE: usize = 4096;

impl<'a> OwnedLines<'a> {
    fn new(file: &'a File, name: &'a str, start: u64, end: u64, len: u64) -> Result<Self> {
        let mut range = OwnedLines {
            file,
            name,
            at: start,
            end,
            len,
            at_line_start: true,
            finished: false,
        };
        if start > 0 {
            range.skip_to_line_start()?;
        }
        Ok(range)
    }

    /// Move `at` to the first line start at or after it: the byte after the first
    /// `\n` at or after `at - 1`.
    fn skip_to_line_start(&mut self) -> Result<()> {
        let mut probe = [0u8; PROBE];
        let mut from = self.at - 1;
        while from < self.len {
            let n = self.pread(&mut probe, from)?;
            if let Some(i) = memchr::memchr(b'\n', &probe[..n]) {
                self.at = from + i as u64 + 1;
                self.finished = self.at >= self.end; // that line starts in a later chunk
                return Ok(());
            }
            from += n as u64;
        }
        self.finished = true;
        Ok(())
    }

    /// Read at `offset`, failing if the file ends before the length it had when
    /// the scan began (it was truncated while being read).
    fn pread(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let want = buf.len().min((self.len - offset) as usize);
        loop {
            match self.file.read_at(&mut buf[..want], offset) {
                Ok(0) if want > 0 => {
                    let e = std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!(
                            "the file shrank while being read (at byte {offset} of {})",
                            self.len
                        ),
                    );
                    return Err(Error::read(self.name, e));
                }
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::read(self.name, e)),
            }
        }
    }

    /// Hand out the next piece of owned text; `Ok(0)` when the last owned line is complete.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.finished || self.at >= self.len {
            return Ok(0);
        }
        if self.at < self.end {
            let want = buf.len().min((self.end - self.at) as usize);
            let n = self.pread(&mut buf[..want], self.at)?;
            self.hand_out(&buf[..n]);
            return Ok(n);
        }
        if self.at_line_start {
            self.finished = true; // the chunk ended exactly at a line end
            return Ok(0);
        }
        // Past the chunk: finish the line that started inside it.
        let want = buf.len().min(PROBE);
        let n = self.pread(&mut buf[..want], self.at)?;
        let n = match memchr::memchr(b'\n', &buf[..n]) {
            Some(i) => {
                self.finished = true;
                i + 1
            }
            None => n,
        };
        self.hand_out(&buf[..n]);
        Ok(n)
    }

    fn hand_out(&mut self, piece: &[u8]) {
        self.at += piece.len() as u64;
        if let Some(&last) = piece.last() {
            self.at_line_start = last == b'\n';
        }
    }
}

/// A stream (compressed, or not a regular file): decode on this thread, scan
/// blocks of whole lines on the pool, merge in order.
fn scan_pipelined(
    mut decoder: Decoder,
    pool: &rayon::ThreadPool,
    block: usize,
    needle: &Needle,
) -> Result<Answer> {
    let workers = pool.current_num_threads();
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    for _ in 0..2 * workers {
        free_tx.send(Vec::new()).expect("the receiver is alive");
    }
    let parts = Mutex::new(Vec::new());
    let parts_ref = &parts;
    let mut blocks = LineBlocks::new(block);
    // `move`: the decoding closure runs on a pool thread and owns the receiver.
    pool.scope(move |scope| -> Result<()> {
        for sequence in 0.. {
            let mut buffer = receive_helping(&free_rx);
            if !blocks.fill(&mut decoder, &mut buffer)? {
                return Ok(());
            }
            let (parts, free_tx) = (parts_ref, free_tx.clone());
            scope.spawn(move |_| {
                let mut answer = Answer::new();
                scan::template::fold_lines(&buffer, needle, &mut answer);
                parts
                    .lock()
                    .expect("no scan panics")
                    .push((sequence, answer));
                let _ = free_tx.send(buffer); // the pipeline may already be done
            });
        }
        unreachable!("the sequence is unbounded")
    })?;
    let mut parts = parts.into_inner().expect("no scan panics");
    parts.sort_unstable_by_key(|&(sequence, _)| sequence);
    Ok(parts
        .into_iter()
        .fold(Answer::new(), |whole, (_, part)| whole.merge(part)))
}

/// Wait for a message (a recycled buffer, a decoded block), running queued
/// pool work meanwhile: with one thread, the waiting thread is the only one
/// that can run it.
fn receive_helping<T>(channel: &mpsc::Receiver<T>) -> T {
    loop {
        match channel.try_recv() {
            Ok(message) => return message,
            Err(TryRecvError::Empty) => {
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::thread::yield_now();
                }
            }
            Err(TryRecvError::Disconnected) => unreachable!("the pipeline holds a sender"),
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

/// Compressed bytes read ahead per window advance, in scan buffers (4 MiB at
/// the default buffer size): enough blocks for every worker several times over.
const READ_AHEAD_BUFFERS: usize = 16;

/// bzip2 regular file: frame its blocks over a sliding window on this thread,
/// decode and scan each on the pool as soon as it is framed (at most
/// `4 × threads` in flight, so no worker waits for a batch to finish), and
/// stitch lines across blocks in order as the pieces come back. Each block's
/// CRC is checked by its decoder; the stream's combined CRC is checked here
/// from the CRCs the blocks store. `None` if the framing does not hold or a
/// block fails (the caller then decodes serially, which gives the answer or
/// the precise error); `Err` only for a failed read.
fn scan_bzip2_blocks(
    file: &File,
    name: &str,
    pool: &rayon::ThreadPool,
    ahead: usize,
    needle: &Needle,
) -> Result<Option<Answer>> {
    let (done_tx, done_rx) = mpsc::channel::<Decoded>();
    // `move`: the framing runs on a pool thread and owns the channel; it hands
    // the receiver back, and the last sender is gone once the scope has ended.
    let (framed, done_rx, mut order) = pool.scope(move |scope| {
        let mut order = InOrder::default();
        let framed = frame_and_spawn(scope, file, ahead, needle, &done_tx, &done_rx, &mut order)
            .map_err(|e| Error::read(name, e));
        (framed, done_rx, order)
    });
    for decoded in done_rx {
        order.accept(decoded, needle);
    }
    Ok((framed? && !order.failed).then(|| order.stitch.finish(needle.metric())))
}

/// A decoded block's place in the file and what it contributes (`None`: it
/// failed to decode).
type Decoded = (usize, Option<Piece>);

/// Frame the file's blocks and spawn a decode for each on `scope` (a pool
/// thread), keeping at most `4 × threads` in flight; `false` if the framing or
/// a stream CRC fails.
fn frame_and_spawn<'scope>(
    scope: &rayon::Scope<'scope>,
    file: &File,
    ahead: usize,
    needle: &'scope Needle,
    done_tx: &mpsc::Sender<Decoded>,
    done_rx: &mpsc::Receiver<Decoded>,
    order: &mut InOrder,
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
                    order.accept(receive_helping(done_rx), needle);
                }
                if order.failed {
                    return Ok(false); // no use framing the rest
                }
                // The block is copied out, so the window may slide on.
                let block = window.copy_block(level, start, end);
                stream_crc = stream_crc.rotate_left(1) ^ window.block_crc(start);
                let (done, sequence) = (done_tx.clone(), sent);
                scope.spawn(move |_| {
                    let _ = done.send((sequence, decode_block(&block, needle)));
                });
                sent += 1;
            }
            Frame::StreamEnd { stored_crc } => {
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

/// Decoded blocks arrive in any order; they are stitched in file order.
#[derive(Default)]
struct InOrder {
    stitch: Stitch,
    waiting: std::collections::BTreeMap<usize, Piece>,
    received: usize,
    next: usize,
    failed: bool,
}

impl InOrder {
    fn accept(&mut self, (sequence, piece): Decoded, needle: &Needle) {
        self.received += 1;
        let Some(piece) = piece else {
            self.failed = true;
            return;
        };
        self.waiting.insert(sequence, piece);
        while let Some(piece) = self.waiting.remove(&self.next) {
            self.stitch.push(piece, needle.metric());
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

/// Decode one block and scan its whole lines; `None` if it does not decode.
/// Our decoder ([`crate::bzip2_decode`]) goes first; a block it refuses goes
/// to libbzip2 as a one-block stream (its CRC checked there too), so a rare
/// valid block our decoder leaves alone costs time, never the answer.
fn decode_block(block: &OwnedBlock, needle: &Needle) -> Option<Piece> {
    let (mut decoder, mut text) = WORKSPACE.take();
    text.clear();
    let decoded = decoder.decode(block.bits(), &mut text).is_ok()
        || bzip2::read::BzDecoder::new(&block.wrapped()[..])
            .read_to_end(&mut text)
            .is_ok();
    let piece = decoded.then(|| Piece::split(&text, needle));
    if text.capacity() > KEPT_TEXT_CAPACITY {
        text = Vec::new();
    }
    WORKSPACE.set((decoder, text));
    piece
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
    fn split(text: &[u8], needle: &Needle) -> Piece {
        let (Some(first), Some(last)) = (memchr::memchr(b'\n', text), memchr::memrchr(b'\n', text))
        else {
            return Piece::Inside(text.to_vec());
        };
        let mut middle = Answer::new();
        scan::template::fold_lines(&text[first + 1..last + 1], needle, &mut middle);
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
    fn push(&mut self, piece: Piece, metric: &[u8]) {
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

    fn fold_carry(&mut self, metric: &[u8]) {
        let mut one = Answer::new();
        grammar::fold_line(&mut one, &self.carry, grammar::Wanted::new(metric));
        self.answer = self.answer.merge(one);
        self.carry.clear();
    }

    /// The answer, with the last line if the text did not end with `\n`.
    fn finish(mut self, metric: &[u8]) -> Answer {
        if !self.carry.is_empty() {
            self.fold_carry(metric);
        }
        self.answer
    }
}
