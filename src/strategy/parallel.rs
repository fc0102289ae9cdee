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
//! - **bzip2** is decoded block-parallel: [`crate::bzip2_blocks`] finds every
//!   block at its bit offset and re-wraps it as a one-block stream; workers
//!   decode and scan blocks, and the lines that cross block (and stream)
//!   boundaries are stitched in order. Every block CRC is checked by the decoder
//!   and every stream's combined CRC here. If the framing does not hold (a false
//!   magic inside compressed data, a truncated or corrupt file), the file is
//!   decoded serially instead, which gives the answer or the precise error.
//!   The compressed bytes are held in memory (about 1/7 of the text for these
//!   logs); decoded text is bounded by `4 × threads` blocks.
//! - **gzip, stdin and pipes** go through a bounded pipeline: the decoder fills
//!   blocks of whole lines on one thread while the workers scan the blocks
//!   already filled. At most `2 × threads` blocks exist at once, so memory
//!   stays flat whatever the file size.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::sync::mpsc::{self, TryRecvError};

use rayon::prelude::*;

use super::{Query, Strategy};
use crate::answer::Answer;
use crate::bzip2_blocks::{self, StreamLayout};
use crate::error::{Error, Result};
use crate::input::{Decoder, Format, Input};
use crate::line;
use crate::scan::{self, Needle};

pub const STRATEGY: Strategy = Strategy {
    name: "parallel",
    description: "all cores: raw files cut at line starts and read with pread; compressed input decoded on one thread while the others scan",
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
        (Format::Bzip2, _) => {
            let name = input.name().to_owned();
            let mut data = Vec::new();
            input
                .into_bytes()
                .read_to_end(&mut data)
                .map_err(|e| Error::read(&name, e))?;
            scan_bzip2_blocks(&name, data, &pool, query.buffer_size, &needle)
        }
        _ => scan_pipelined(input.into_decoder(), &pool, query.buffer_size, &needle),
    }
}

/// Raw regular file: chunks scanned in parallel, answers merged in order.
fn scan_raw_file(file: &File, name: &str, chunk: usize, needle: &Needle) -> Result<Answer> {
    let len = file.metadata().map_err(|e| Error::read(name, e))?.len();
    let chunk = chunk.max(1) as u64;
    let chunks = len.div_ceil(chunk);
    let parts: Vec<Result<Answer>> = (0..chunks)
        .into_par_iter()
        .map(|i| {
            let mut range =
                OwnedLines::new(file, name, i * chunk, ((i + 1) * chunk).min(len), len)?;
            scan_stream(|buf| range.fill(buf), chunk as usize, needle)
        })
        .collect();
    parts
        .into_iter()
        .try_fold(Answer::new(), |whole, part| Ok(whole.merge(part?)))
}

/// Fold a stream of text (`read` fills a slice, 0 at the end) with the fast scanner.
fn scan_stream(
    read: impl FnMut(&mut [u8]) -> Result<usize>,
    buffer_size: usize,
    needle: &Needle,
) -> Result<Answer> {
    let mut answer = Answer::new();
    scan::fold_stream(read, buffer_size, &mut answer, |text, answer| {
        scan::fold_lines_fast(text, needle, answer)
    })?;
    Ok(answer)
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
            let mut buffer = next_free(&free_rx);
            if !blocks.fill(&mut decoder, &mut buffer)? {
                return Ok(());
            }
            let (parts, free_tx) = (parts_ref, free_tx.clone());
            scope.spawn(move |_| {
                let mut answer = Answer::new();
                scan::fold_lines_fast(&buffer, needle, &mut answer);
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

/// Wait for a recycled buffer, running queued scans meanwhile (with one thread,
/// the decoder's thread is the only one that can run them).
fn next_free(free: &mpsc::Receiver<Vec<u8>>) -> Vec<u8> {
    loop {
        match free.try_recv() {
            Ok(buffer) => return buffer,
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

/// bzip2: decode blocks in parallel, stitch lines across blocks in order; fall
/// back to a serial decode of the whole file if the framing does not hold.
fn scan_bzip2_blocks(
    name: &str,
    data: Vec<u8>,
    pool: &rayon::ThreadPool,
    buffer_size: usize,
    needle: &Needle,
) -> Result<Answer> {
    let magics = pool.install(|| bzip2_blocks::find_magics(&data));
    let window = 4 * pool.current_num_threads();
    let mut stitch = Stitch::default();
    let (mut start, mut next) = (0, 0);
    while start < data.len() {
        let framed = bzip2_blocks::stream_at(&data, start, &magics, &mut next)
            .ok()
            .and_then(|layout| {
                decode_stream(&data, &layout, pool, window, needle, &mut stitch)
                    .map(|()| layout.end)
            });
        match framed {
            Some(end) => start = end,
            None => return scan_serially(name, data, buffer_size, needle),
        }
    }
    Ok(stitch.finish(needle.metric()))
}

/// Decode one stream's blocks `window` at a time and fold them into `stitch`;
/// `None` if a block fails to decode or the combined CRC is wrong.
fn decode_stream(
    data: &[u8],
    layout: &StreamLayout,
    pool: &rayon::ThreadPool,
    window: usize,
    needle: &Needle,
    stitch: &mut Stitch,
) -> Option<()> {
    let mut crcs = Vec::with_capacity(layout.blocks.len());
    for blocks in layout.blocks.chunks(window) {
        let pieces: Vec<Option<(u32, Piece)>> = pool.install(|| {
            blocks
                .par_iter()
                .map(|&(start, end)| decode_block(data, layout.level, start, end, needle))
                .collect()
        });
        for (crc, piece) in pieces.into_iter().collect::<Option<Vec<_>>>()? {
            crcs.push(crc);
            stitch.push(piece, needle.metric());
        }
    }
    (bzip2_blocks::combine_crc(crcs) == layout.stored_crc).then_some(())
}

/// Decode one block (its CRC is checked by the decoder) and scan its whole lines.
fn decode_block(
    data: &[u8],
    level: u8,
    start: u64,
    end: u64,
    needle: &Needle,
) -> Option<(u32, Piece)> {
    let wrapped = bzip2_blocks::wrap_block(data, level, start, end);
    let mut text = Vec::new();
    bzip2::read::BzDecoder::new(&wrapped[..])
        .read_to_end(&mut text)
        .ok()?;
    let crc = bzip2_blocks::read_bits(data, start + 48, 32);
    Some((crc, Piece::split(text, needle)))
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
    fn split(text: Vec<u8>, needle: &Needle) -> Piece {
        let (Some(first), Some(last)) =
            (memchr::memchr(b'\n', &text), memchr::memrchr(b'\n', &text))
        else {
            return Piece::Inside(text);
        };
        let mut middle = Answer::new();
        scan::fold_lines_fast(&text[first + 1..last + 1], needle, &mut middle);
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
        line::fold_line(&mut one, &self.carry, line::Wanted::new(metric));
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

/// The serial path for input the block framing cannot handle.
fn scan_serially(name: &str, data: Vec<u8>, buffer_size: usize, needle: &Needle) -> Result<Answer> {
    let mut decoder = Input::from_bytes(name, data).into_decoder();
    scan_stream(|buf| decoder.fill(buf), buffer_size, needle)
}
