//! The decoded text of one log as a stream, with errors that stay and say
//! where: see [`Decoder`].

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bzip2::read::MultiBzDecoder;

use super::Format;
use super::gzip::GzipMembers;
use crate::error::{Error, Result};

/// Read size for compressed input (the decoders' own buffer).
const COMPRESSED_BUFFER: usize = 128 * 1024;

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
    /// Start decoding `bytes`, encoded as `format`, of the log called `name`.
    pub(super) fn new(name: String, format: Format, bytes: Box<dyn Read + Send>) -> Decoder {
        let consumed = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: bytes,
            consumed: Arc::clone(&consumed),
        };
        let text: Box<dyn Read + Send> = match format {
            Format::Raw => Box::new(counted),
            Format::Gzip => Box::new(GzipMembers::new(io::BufReader::with_capacity(
                COMPRESSED_BUFFER,
                counted,
            ))),
            Format::Bzip2 => Box::new(MultiBzDecoder::new(io::BufReader::with_capacity(
                COMPRESSED_BUFFER,
                counted,
            ))),
        };
        Decoder {
            name,
            format,
            text,
            consumed,
            failure: None,
        }
    }

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
