//! A byte range of a regular file, cut at line starts: the lines that *start*
//! inside `[start, end)`, read with `pread`. Consecutive ranges hand out every
//! line exactly once, so a file can be scanned in pieces by any number of
//! workers. A file that shrinks while read is an error, never a short answer.

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::error::{Error, Result};

/// The bytes of the lines that start in `[start, end)` of a file `len` bytes
/// long (as measured when the scan began), read with `pread`.
pub struct LineRange<'a> {
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

impl<'a> LineRange<'a> {
    /// The lines that start in `[start, end)` of `file` (`len` bytes long when
    /// the scan began; `name` for errors).
    pub fn new(file: &'a File, name: &'a str, start: u64, end: u64, len: u64) -> Result<Self> {
        let mut range = LineRange {
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
                Ok(0) if want > 0 => return Err(shrank(self.name, offset, self.len)),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::read(self.name, e)),
            }
        }
    }

    /// Hand out the next piece of owned text; `Ok(0)` when the last owned line is complete.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
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

/// Where the whole lines of the first `size` bytes of `file` end: just past
/// the last `\n` before `size` (0 if there is none). Read backwards with
/// `pread`; a file shorter than `size` is an error, as in [`LineRange`].
pub fn whole_lines_end(file: &File, name: &str, size: u64) -> Result<u64> {
    let mut probe = [0u8; PROBE];
    let mut end = size;
    while end > 0 {
        let from = end.saturating_sub(PROBE as u64);
        let piece = &mut probe[..(end - from) as usize];
        file.read_exact_at(piece, from)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => shrank(name, from, size),
                _ => Error::read(name, e),
            })?;
        if let Some(i) = memchr::memrchr(b'\n', piece) {
            return Ok(from + i as u64 + 1);
        }
        end = from;
    }
    Ok(0)
}

/// The bytes of `file` from `offset` to whatever end it has when they are
/// read, as a `fill` function for [`crate::scan::fold_stream`]: what a
/// stream would see, whatever size the file reported.
pub fn read_from<'a>(
    file: &'a File,
    name: &'a str,
    mut offset: u64,
) -> impl FnMut(&mut [u8]) -> Result<usize> + 'a {
    move |buf| loop {
        match file.read_at(buf, offset) {
            Ok(n) => {
                offset += n as u64;
                return Ok(n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::read(name, e)),
        }
    }
}

/// The error for a file that ended before byte `offset` of the `len` it had
/// when the scan began: it was truncated while being read.
fn shrank(name: &str, offset: u64, len: u64) -> Error {
    let e = std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        format!("the file shrank while being read (at byte {offset} of {len})"),
    );
    Error::read(name, e)
}
