//! Bytes in: open a path (or `-` for stdin), recognise raw / gzip / bzip2 by the
//! first bytes, never by the name, and hand out the decoded text as a stream.
//!
//! Guarantees every rung relies on:
//! - **Every stream, every member.** bzip2 files may hold several streams (pbzip2,
//!   lbzip2, `cat a.bz2 b.bz2`) and gzip files several members (pigz, `cat`). The
//!   multi-stream decoders read them all; trailing bytes that are not another
//!   stream are an error, not silently ignored.
//! - **Errors are sticky.** Decoders hand out data before they notice a bad CRC,
//!   and some report an error once and then return `Ok(0)` as if at the end.
//!   [`Decoder`] remembers the first error and returns it on every later read, so
//!   no loop can mistake a corrupt file for a short one.
//! - **Errors say where.** Each error names the format and roughly the compressed
//!   byte offset reached when it happened; [`Error::Read`] adds the file name.
//! - **Bounded memory.** Everything streams; nothing reads a whole file.

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bzip2::read::MultiBzDecoder;
use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};

/// How the bytes of a log are encoded, as recognised from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Raw,
    Gzip,
    Bzip2,
}

impl Format {
    /// All formats, in the order reports list them.
    pub const ALL: [Format; 3] = [Format::Raw, Format::Gzip, Format::Bzip2];

    /// Recognise the format from the first bytes of a file (at least 3 when the
    /// file has them). `BZh` is bzip2, `1F 8B` gzip, anything else raw text.
    pub fn detect(prefix: &[u8]) -> Format {
        match prefix {
            [b'B', b'Z', b'h', ..] => Format::Bzip2,
            [0x1f, 0x8b, ..] => Format::Gzip,
            _ => Format::Raw,
        }
    }

    /// Short lower-case name, as used in reports and file extensions.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Gzip => "gz",
            Format::Bzip2 => "bz2",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
        let consumed = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: self.bytes,
            consumed: Arc::clone(&consumed),
        };
        let text: Box<dyn Read + Send> = match self.format {
            Format::Raw => Box::new(counted),
            Format::Gzip => Box::new(MultiGzDecoder::new(io::BufReader::with_capacity(
                COMPRESSED_BUFFER,
                counted,
            ))),
            Format::Bzip2 => Box::new(MultiBzDecoder::new(io::BufReader::with_capacity(
                COMPRESSED_BUFFER,
                counted,
            ))),
        };
        Decoder {
            name: self.name,
            format: self.format,
            text,
            consumed,
            failure: None,
        }
    }
}

/// Read size for compressed input (the decoders' own buffer).
const COMPRESSED_BUFFER: usize = 128 * 1024;

/// A file shared between the stream and [`Input::file`].
struct SharedFile(Arc<File>);

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

/// Counts the compressed bytes handed to the decoder, so errors can say where.
struct Counted {
    inner: Box<dyn Read + Send>,
    consumed: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The decoded text of one log, read in whatever pieces the caller asks for.
///
/// Implements [`Read`] for adapters such as `BufReader`; its errors already say
/// what went wrong and where, and [`Decoder::error`] adds the file name.
pub struct Decoder {
    name: String,
    format: Format,
    text: Box<dyn Read + Send>,
    consumed: Arc<AtomicU64>,
    /// The first error seen; every later read returns it again.
    failure: Option<(io::ErrorKind, String)>,
}

impl Decoder {
    /// The input's display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The format being decoded.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Read decoded text into `buf`; `Ok(0)` only at the true end of the input.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.read(buf).map_err(|e| self.error(e))
    }

    /// Attach the file name to an error from this decoder (or an adapter over it).
    pub fn error(&self, source: io::Error) -> Error {
        Error::read(&self.name, source)
    }

    fn describe(&self, error: &io::Error) -> (io::ErrorKind, String) {
        let at = self.consumed.load(Ordering::Relaxed);
        let what = match (self.format, error.kind()) {
            (Format::Raw, _) => format!("read failed near byte {at}: {error}"),
            (format, io::ErrorKind::UnexpectedEof) => format!(
                "truncated {} data: the file ends inside a compressed stream (at byte {at})",
                format.describe()
            ),
            (format, _) => format!(
                "corrupt {} data near compressed byte {at}: {error}",
                format.describe()
            ),
        };
        (error.kind(), what)
    }
}

impl Format {
    fn describe(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Gzip => "gzip",
            Format::Bzip2 => "bzip2",
        }
    }
}

impl Read for Decoder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((kind, what)) = &self.failure {
            return Err(io::Error::new(*kind, what.clone()));
        }
        loop {
            match self.text.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let (kind, what) = self.describe(&e);
                    self.failure = Some((kind, what.clone()));
                    return Err(io::Error::new(kind, what));
                }
            }
        }
    }
}
