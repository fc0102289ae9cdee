//! The generator of the case study's logs, reusable from `gen-log`, the
//! benchmarks and the tests.
//!
//! Guarantees:
//! - **Reproducible.** The same [`Spec`] gives the same text on any machine and
//!   with any later build: values come from ChaCha8 (whose output stream is
//!   specified, unlike `rand`'s `StdRng`) through our own unbiased bounded draw
//!   (Lemire's multiply-and-reject), never through a distribution that a
//!   dependency may change. The text does not depend on the output format.
//! - **Fast.** Text is formatted with `itoa` straight into large buffers, far
//!   faster than any codec, so the codec sets the pace; `threads > 1`
//!   compresses fixed-size chunks in parallel as a multi-stream bzip2 /
//!   multi-member gzip file, as pbzip2 and pigz do.
//! - **Atomic.** [`generate_file`] writes a temporary file beside the target and
//!   renames it only when complete, so an error or a cancel leaves no partial
//!   file, and no directory it created. A symlink is written through to its
//!   target; a FIFO, device or other special file is refused, never replaced.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;

mod target;

/// The case study's first epoch (the timestamp in its example line).
pub const DEFAULT_START_EPOCH: u64 = 1_362_330_056;
/// The case study's line count.
pub const DEFAULT_LINES: u64 = 5_000_000;
/// The default seed: any fixed value will do; this one is ours.
pub const DEFAULT_SEED: u64 = 2013;

/// Which metrics the log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mix {
    /// The case study's generator: every line `cpu_usage`, values 0..=100.
    Seed,
    /// A realistic log: 50% `cpu_usage` (0..=100), 30% `memory_usage`
    /// (0..=16384), 20% `disk_io` (0..=4096).
    Mixed,
}

impl Mix {
    pub fn name(self) -> &'static str {
        match self {
            Mix::Seed => "seed",
            Mix::Mixed => "mixed",
        }
    }
}

/// What text to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub lines: u64,
    pub seed: u64,
    pub mix: Mix,
    pub start_epoch: u64,
}

impl Spec {
    /// The epoch of the last line; `None` when it would not fit in a `u64`
    /// (a log of no lines has no last line and always fits).
    pub fn last_epoch(&self) -> Option<u64> {
        match self.lines {
            0 => Some(self.start_epoch),
            n => self.start_epoch.checked_add(n - 1),
        }
    }
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            lines: DEFAULT_LINES,
            seed: DEFAULT_SEED,
            mix: Mix::Seed,
            start_epoch: DEFAULT_START_EPOCH,
        }
    }
}

/// How the bytes of a log are encoded: what the generator writes, and what
/// logbench recognises from a file's first bytes.
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

    /// Short lower-case name, as used in reports and benchmark groups.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Gzip => "gz",
            Format::Bzip2 => "bz2",
        }
    }

    /// The format's name in prose and error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Gzip => "gzip",
            Format::Bzip2 => "bzip2",
        }
    }

    /// The file extension, with its dot (empty for raw).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Raw => "",
            Format::Gzip => ".gz",
            Format::Bzip2 => ".bz2",
        }
    }

    /// The level used when none is given: bzip2 9 like the case study, gzip 6 like `gzip`.
    pub fn default_level(self) -> u32 {
        match self {
            Format::Bzip2 => 9,
            Format::Gzip => 6,
            Format::Raw => 0,
        }
    }

    fn check_level(self, level: u32) -> Result<u32, Error> {
        let range = match self {
            Format::Bzip2 => 1..=9,
            Format::Gzip => 0..=9,
            Format::Raw => 0..=9,
        };
        if range.contains(&level) {
            Ok(level)
        } else {
            Err(Error::Level {
                format: self,
                level,
            })
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How to encode: format, level, and compression threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub format: Format,
    pub level: u32,
    /// 1: one stream, as `bzip2` and `gzip` write. More: independent streams of
    /// [`CHUNK_BYTES`] of text each, compressed in parallel.
    pub threads: usize,
}

impl Encoding {
    pub fn new(format: Format) -> Encoding {
        Encoding {
            format,
            level: format.default_level(),
            threads: 1,
        }
    }
}

/// Text per independent stream when compressing on several threads. Fixed, so
/// the file is the same whatever the number of threads above one.
pub const CHUNK_BYTES: usize = 4 << 20;

/// What went wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("level {level} is out of range for {format} (bz2: 1-9, gz: 0-9)")]
    Level { format: Format, level: u32 },
    #[error("writing the log: {0}")]
    Write(io::Error),
    #[error("interrupted; nothing was written to the target")]
    Cancelled,
    #[error(
        "{}: cannot create directory {} for it: {source}",
        target.display(), dir.display()
    )]
    CreateDir {
        target: PathBuf,
        dir: PathBuf,
        source: io::Error,
    },
    #[error(
        "{}: cannot create a temporary file in {} to write it: {source}",
        target.display(), dir.display()
    )]
    TempFile {
        target: PathBuf,
        dir: PathBuf,
        source: io::Error,
    },
    #[error(
        "{}: is {kind}, not a regular file; gen-log writes a temporary file and renames it over the target, so it writes regular files only",
        path.display()
    )]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error(
        "--start-epoch {start} with --lines {lines}: the last epoch would be past {max}",
        max = u64::MAX
    )]
    EpochOverflow { start: u64, lines: u64 },
}

impl Error {
    /// The exit status: 2 for what the arguments asked for, 1 for what went
    /// wrong on the way (130 for a cancel is the binary's choice).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Level { .. } | Error::NotAFile { .. } | Error::EpochOverflow { .. } => 2,
            _ => 1,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub lines: u64,
    pub text_bytes: u64,
    pub file_bytes: u64,
    pub seconds: f64,
}

/// Produces the text of a log, line by line, deterministically.
pub struct TextGen {
    rng: ChaCha8Rng,
    spec: Spec,
    next: u64,
}

impl TextGen {
    pub fn new(spec: Spec) -> TextGen {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&spec.seed.to_le_bytes());
        TextGen {
            rng: ChaCha8Rng::from_seed(key),
            spec,
            next: 0,
        }
    }

    /// Lines not yet generated.
    pub fn remaining(&self) -> u64 {
        self.spec.lines - self.next
    }

    /// Append whole lines to `out` until it holds at least `target` bytes or
    /// the log is complete; returns the number of lines appended.
    pub fn fill(&mut self, out: &mut Vec<u8>, target: usize) -> u64 {
        let start = self.next;
        let mut digits = itoa::Buffer::new();
        while out.len() < target && self.next < self.spec.lines {
            let (metric, value) = self.draw();
            out.extend_from_slice(digits.format(self.spec.start_epoch + self.next).as_bytes());
            out.push(b',');
            out.extend_from_slice(metric);
            out.push(b',');
            out.extend_from_slice(digits.format(value).as_bytes());
            out.push(b'\n');
            self.next += 1;
        }
        self.next - start
    }

    fn draw(&mut self) -> (&'static [u8], u32) {
        match self.spec.mix {
            Mix::Seed => (b"cpu_usage", self.below(101)),
            Mix::Mixed => match self.below(100) {
                0..50 => (b"cpu_usage", self.below(101)),
                50..80 => (b"memory_usage", self.below(16385)),
                _ => (b"disk_io", self.below(4097)),
            },
        }
    }

    /// A uniform integer in `0..range`, unbiased (Lemire 2019).
    fn below(&mut self, range: u32) -> u32 {
        let threshold = range.wrapping_neg() % range;
        loop {
            let product = u64::from(self.rng.next_u32()) * u64::from(range);
            if product as u32 >= threshold {
                return (product >> 32) as u32;
            }
        }
    }
}

/// The whole text of a log in memory (for tests and small data sets).
pub fn text(spec: Spec) -> Vec<u8> {
    let mut generator = TextGen::new(spec);
    let mut out = Vec::new();
    generator.fill(&mut out, usize::MAX);
    out
}

/// Progress report: lines generated so far.
pub type Progress<'a> = &'a mut dyn FnMut(u64);

/// Text generated per step between progress reports and cancel checks.
const STEP_BYTES: usize = 1 << 20;

/// Write the log to `out`; returns the number of text bytes. Stops early with
/// [`Error::Cancelled`] when `cancel` becomes true.
pub fn write_log(
    spec: Spec,
    encoding: Encoding,
    out: impl Write,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<u64, Error> {
    let level = encoding.format.check_level(encoding.level)?;
    check_epochs(spec)?;
    let mut generator = TextGen::new(spec);
    let written = if encoding.threads > 1 && encoding.format != Format::Raw {
        write_chunked(
            &mut generator,
            encoding.format,
            level,
            encoding.threads,
            out,
            progress,
            cancel,
        )
    } else {
        write_single(
            &mut generator,
            encoding.format,
            level,
            out,
            progress,
            cancel,
        )
    };
    written.map_err(Error::Write)?.ok_or(Error::Cancelled)
}

/// One stream: text goes straight through one encoder. `None` if cancelled.
fn write_single(
    generator: &mut TextGen,
    format: Format,
    level: u32,
    out: impl Write,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> io::Result<Option<u64>> {
    let mut sink = Encoder::new(format, level, out);
    let mut buffer = Vec::with_capacity(STEP_BYTES + 64);
    let mut total = 0u64;
    while generator.remaining() > 0 {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        buffer.clear();
        generator.fill(&mut buffer, STEP_BYTES);
        sink.write_all(&buffer)?;
        total += buffer.len() as u64;
        progress(generator.next);
    }
    sink.finish()?;
    Ok(Some(total))
}

/// Several streams: fixed-size chunks of text (cut mid-line, as pbzip2 cuts),
/// compressed `threads` at a time and written in order. `None` if cancelled.
fn write_chunked(
    generator: &mut TextGen,
    format: Format,
    level: u32,
    threads: usize,
    mut out: impl Write,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> io::Result<Option<u64>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(io::Error::other)?;
    let mut pending: Vec<u8> = Vec::new();
    let mut total = 0u64;
    while generator.remaining() > 0 || !pending.is_empty() {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let mut chunks = Vec::with_capacity(threads);
        while chunks.len() < threads && (generator.remaining() > 0 || !pending.is_empty()) {
            generator.fill(&mut pending, CHUNK_BYTES);
            let rest = pending.split_off(pending.len().min(CHUNK_BYTES));
            chunks.push(std::mem::replace(&mut pending, rest));
        }
        let compressed: Vec<io::Result<Vec<u8>>> = pool.install(|| {
            chunks
                .par_iter()
                .map(|chunk| {
                    let mut encoder = Encoder::new(format, level, Vec::new());
                    encoder.write_all(chunk)?;
                    encoder.finish()
                })
                .collect()
        });
        for (chunk, bytes) in chunks.iter().zip(compressed) {
            out.write_all(&bytes?)?;
            total += chunk.len() as u64;
        }
        progress(generator.next);
    }
    out.flush()?;
    Ok(Some(total))
}

/// One writer over the three formats.
enum Encoder<W: Write> {
    Raw(W),
    Gz(flate2::write::GzEncoder<W>),
    Bz2(bzip2::write::BzEncoder<W>),
}

impl<W: Write> Encoder<W> {
    fn new(format: Format, level: u32, out: W) -> Self {
        match format {
            Format::Raw => Encoder::Raw(out),
            Format::Gzip => Encoder::Gz(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::new(level),
            )),
            Format::Bzip2 => Encoder::Bz2(bzip2::write::BzEncoder::new(
                out,
                bzip2::Compression::new(level),
            )),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Raw(w) => w.write_all(bytes),
            Encoder::Gz(w) => w.write_all(bytes),
            Encoder::Bz2(w) => w.write_all(bytes),
        }
    }

    fn finish(self) -> io::Result<W> {
        let mut out = match self {
            Encoder::Raw(w) => w,
            Encoder::Gz(w) => w.finish()?,
            Encoder::Bz2(w) => w.finish()?,
        };
        out.flush()?;
        Ok(out)
    }
}

/// tempfile's errors name the random temporary path, which never existed:
/// keep only the operating system's reason (its kind, when tempfile wrapped it).
fn os_reason(e: io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::from(e.kind()),
    }
}

/// Refuse a spec whose epochs would wrap past `u64::MAX`.
fn check_epochs(spec: Spec) -> Result<(), Error> {
    match spec.last_epoch() {
        Some(_) => Ok(()),
        None => Err(Error::EpochOverflow {
            start: spec.start_epoch,
            lines: spec.lines,
        }),
    }
}

/// Generate a log file at `path` atomically: a temporary file in the same
/// directory, synced, then renamed over the target. On any error or cancel the
/// temporary file is removed, the target is untouched, and the parent
/// directories this call created are removed again.
///
/// A symlink at `path` is followed: the file it points to is the one replaced.
/// A target that exists and is not a regular file is refused.
pub fn generate_file(
    path: &Path,
    spec: Spec,
    encoding: Encoding,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<Stats, Error> {
    let started = Instant::now();
    encoding.format.check_level(encoding.level)?;
    check_epochs(spec)?;
    let target = target::resolve(path)?;
    let io_error = |source| Error::Io {
        path: target.clone(),
        source,
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // Declared before the temporary file, so dropped after it: on an early
    // return the file goes first, then the now-empty directories.
    let created = target::CreatedDirs::create(dir).map_err(|(dir, source)| Error::CreateDir {
        target: target.clone(),
        dir,
        source,
    })?;
    // tempfile creates private (0600) files; a generated log is an ordinary
    // file, so ask for 0666 and let the umask decide, as `>` in a shell would.
    let temp = tempfile::Builder::new()
        .prefix(".gen-log-")
        .suffix(".partial")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| Error::TempFile {
            target: target.clone(),
            dir: dir.to_owned(),
            source: os_reason(e),
        })?;
    let mut writer = BufWriter::with_capacity(1 << 20, temp.as_file());
    let text_bytes =
        write_log(spec, encoding, &mut writer, progress, cancel).map_err(|e| match e {
            Error::Write(source) => io_error(source),
            other => other,
        })?;
    writer.flush().map_err(io_error)?;
    drop(writer);
    temp.as_file().sync_all().map_err(io_error)?;
    let file_bytes = temp.as_file().metadata().map_err(io_error)?.len();
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    temp.persist(&target).map_err(|e| io_error(e.error))?;
    created.keep();
    Ok(Stats {
        lines: spec.lines,
        text_bytes,
        file_bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The default output path: `data/` and [`file_name`].
pub fn default_path(spec: Spec, format: Format) -> PathBuf {
    Path::new("data").join(file_name(spec, format))
}

/// The name a data set is known by, in `data/` and in the benchmarks' cache:
/// `<mix>-<lines>[-seed<S>].log[.bz2|.gz]`.
pub fn file_name(spec: Spec, format: Format) -> String {
    let seed = if spec.seed == DEFAULT_SEED {
        String::new()
    } else {
        format!("-seed{}", spec.seed)
    };
    format!(
        "{}-{}{}.log{}",
        spec.mix.name(),
        spec.lines,
        seed,
        format.extension()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED_LEN: usize = 2_390_838;
    const PINNED_FNV1A: u64 = 869_772_492_611_671_244;

    fn small(mix: Mix) -> Spec {
        Spec {
            lines: 20_000,
            mix,
            ..Spec::default()
        }
    }

    #[test]
    fn same_spec_same_text() {
        assert_eq!(text(small(Mix::Mixed)), text(small(Mix::Mixed)));
    }

    /// Pins the generator's output: if this fails, every committed result and
    /// every user's data set silently changed meaning.
    #[test]
    fn default_text_is_pinned() {
        let text = text(Spec {
            lines: 100_000,
            ..Spec::default()
        });
        assert!(text.starts_with(
            b"1362330056,cpu_usage,1\n1362330057,cpu_usage,5\n1362330058,cpu_usage,12\n"
        ));
        let fnv1a = text.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        assert_eq!((text.len(), fnv1a), (PINNED_LEN, PINNED_FNV1A));
    }

    #[test]
    fn another_seed_another_text() {
        let other = Spec {
            seed: 7,
            ..small(Mix::Seed)
        };
        assert_ne!(text(small(Mix::Seed)), text(other));
    }

    #[test]
    fn bounded_draw_covers_its_range_and_nothing_more() {
        let mut generator = TextGen::new(Spec::default());
        let mut seen = [false; 101];
        for _ in 0..100_000 {
            seen[generator.below(101) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn fill_stops_at_whole_lines() {
        let mut generator = TextGen::new(small(Mix::Seed));
        let mut out = Vec::new();
        let lines = generator.fill(&mut out, 100);
        assert!(out.len() >= 100 && out.ends_with(b"\n"));
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count() as u64, lines);
    }

    #[test]
    fn bad_level_is_rejected() {
        assert!(matches!(
            Format::Bzip2.check_level(0),
            Err(Error::Level { .. })
        ));
        assert!(matches!(
            Format::Gzip.check_level(10),
            Err(Error::Level { .. })
        ));
    }
}

/// Standard output for the workspace's command-line programs (`gen-log`,
/// `logbench`): what they print goes through [`stdout::write`], which ends the
/// process with a message and exit status 1 when the output cannot be written
/// (a full disk, `> /dev/full`) instead of panicking. A closed pipe still
/// ends the process through SIGPIPE, as for any Unix filter.
pub mod stdout {
    use std::io::{self, BufWriter, StdoutLock, Write};

    /// Write `text` to standard output now (flushed), or end the process as
    /// `program`, with a message on standard error and exit status 1.
    pub fn write(program: &str, text: std::fmt::Arguments<'_>) {
        write_with(program, |out| out.write_fmt(text));
    }

    /// [`write`] for output made piece by piece: `write` gets buffered
    /// standard output, flushed after it returns.
    pub fn write_with(
        program: &str,
        write: impl FnOnce(&mut BufWriter<StdoutLock<'static>>) -> io::Result<()>,
    ) {
        let mut stdout = BufWriter::with_capacity(1 << 16, io::stdout().lock());
        if let Err(e) = write(&mut stdout).and_then(|()| stdout.flush()) {
            eprintln!("{program}: cannot write to standard output: {e}");
            std::process::exit(1);
        }
    }
}
