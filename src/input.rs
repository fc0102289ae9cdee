//! Bytes in: open a path (or `-` for stdin), recognise raw / gzip / bzip2 by the
//! first bytes, never by the name, and hand out the decoded text as a stream.
//!
//! Guarantees every rung relies on:
//! - **Every stream, every member.** bzip2 files may hold several streams (pbzip2,
//!   lbzip2, `cat a.bz2 b.bz2`) and gzip files several members (pigz, `cat`). The
//!   multi-stream decoders read them all; trailing bytes that are not another
//!   stream are an error, not silently ignored. gzip headers are read by
//!   [`gzip`] to the RFC, with fields of any length.
//! - **Errors are sticky.** Decoders hand out data before they notice a bad CRC,
//!   and some report an error once and then return `Ok(0)` as if at the end.
//!   [`Decoder`] remembers the first error and returns it on every later read, so
//!   no loop can mistake a corrupt file for a short one.
//! - **Errors say where.** Each error names the format and roughly the compressed
//!   byte offset reached when it happened; [`Error::Read`] adds the file name.
//! - **Bounded memory.** Everything streams; nothing reads a whole file.
//!
//! For the parallel rung: [`LineRange`] cuts a raw file into pieces at line
//! starts, and [`bzip2_parallel`] decodes a bzip2 file's blocks on every core.

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

pub mod bzip2_parallel;
mod decoder;
mod gzip;
mod line_range;
pub(crate) mod pool;

pub use decoder::Decoder;
pub use line_range::{LineRange, read_from, whole_lines_end};

use crate::error::{Error, Result};

pub use data_gen::Format;

/// The bytes of one log with its format already recognised; nothing decoded yet.
pub struct Input {
    name: String,
    format: Format,
    /// The whole byte stream again, the peeked prefix included.
    bytes: Box<dyn Read + Send>,
    /// The open file when the input is a regular file (for rungs that read at offsets).
    file: Option<Arc<File>>,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// Bytes read to recognise the format.
const MAGIC_LEN: usize = 3;

impl Input {
    /// Open a log by path; `-` means standard input.
    pub fn open(path: &Path) -> Result<Input> {
        let name = path.display().to_string();
        if path.as_os_str() == "-" {
            return Input::from_reader("<stdin>", io::stdin());
        }
        let open_error = |action, source| Error::Open {
            file: name.clone(),
            action,
            source,
        };
        let file = File::open(path).map_err(|e| open_error("cannot open", e))?;
        let meta = file.metadata().map_err(|e| open_error("cannot stat", e))?;
        if meta.is_dir() {
            let e = io::Error::new(
                io::ErrorKind::IsADirectory,
                "it is a directory, not a log file",
            );
            return Err(open_error("cannot read", e));
        }
        let file = Arc::new(file);
        let mut input = Input::from_reader(&name, SharedFile(Arc::clone(&file)))?;
        input.file = meta.is_file().then_some(file);
        Ok(input)
    }

    /// Wrap any byte stream (tests, benchmarks, pipes) under a display name.
    pub fn from_reader(name: &str, mut reader: impl Read + Send + 'static) -> Result<Input> {
        let mut prefix = Vec::with_capacity(MAGIC_LEN);
        (&mut reader)
            .take(MAGIC_LEN as u64)
            .read_to_end(&mut prefix)
            .map_err(|e| Error::read(name, e))?;
        Ok(Input {
            name: name.to_owned(),
            format: Format::detect(&prefix),
            bytes: Box::new(Cursor::new(prefix).chain(reader)),
            file: None,
        })
    }

    /// Wrap bytes held in memory.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Input {
        Input::from_reader(name, Cursor::new(bytes)).expect("reading from memory cannot fail")
    }

    /// The name errors and reports use for this input.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The format recognised from the content.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The underlying regular file, for rungs that read raw text at offsets
    /// (`pread`) instead of as a stream. `None` for stdin, pipes and memory.
    pub fn file(&self) -> Option<&File> {
        self.file.as_deref()
    }

    /// The input's bytes as they are, not decoded (the prefix read to recognise
    /// the format included), for rungs that frame compressed data themselves.
    pub fn into_bytes(self) -> Box<dyn Read + Send> {
        self.bytes
    }

    /// Start decoding: the text of the log, streamed.
    pub fn into_decoder(self) -> Decoder {
        Decoder::new(self.name, self.format, self.bytes)
    }
}

/// A file shared between the stream and [`Input::file`].
struct SharedFile(Arc<File>);

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}
