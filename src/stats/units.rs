//! `stats` as map-reduce: files cut into work units, each unit scanned alone
//! into a partial state, and the partial states merged, in any grouping, to
//! the answer of one pass. The Dask driver (`python/logbench/dask.py`) sends
//! units and partial states between processes in their byte forms.
//!
//! What is cut, and where:
//! - a raw regular file into byte ranges; a unit owns the lines that *start*
//!   in its range and reads past its end to finish the last, as `parallel`
//!   does, so its partial state is whole lines;
//! - a bzip2 file into byte ranges of its compressed bytes, as Hadoop's
//!   "splittable bzip2" is cut: a unit owns the blocks whose magic starts in
//!   its range, finds the first itself, and reads on to the next magic to
//!   finish the last, so the client never reads the file. Blocks do not end
//!   at line ends: a unit's partial state keeps the text before its first
//!   `\n` and after its last, and the merge of two neighbours folds the line
//!   the two pieces make. It keeps its blocks' CRCs too, so that the merge
//!   checks every stream's combined CRC as a one-pass decoder does;
//! - a gzip file not at all: DEFLATE cannot be entered mid-stream, so it is
//!   one unit. So is anything that cannot be framed (a corrupt bzip2 file):
//!   its scan decodes the file as a stream, as the CLI does, and gives the
//!   CLI's error, or the whole file's answer, which then stands for the file.
//!
//! Partial states of one file merge in file order (line numbers for
//! `--strict` and the line across a seam need it); finished files merge in
//! any order.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::wire::Form;
use super::{Engine, StatsFold, StatsQuery, Summary, summarise_input};
use crate::error::{Error, Result};
use crate::input::bzip2_parallel::{self, Framed};
use crate::input::{Format, Input, LineRange, read_from, whole_lines_end};
use crate::scan::edges::Edges;
use crate::scan::{self, LineFold};
use crate::strategy::parallel;

/// One piece of work: part of one file of the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// The path as the caller gave it, as bytes (paths need not be UTF-8).
    path: Vec<u8>,
    /// The file's place in the request.
    pub file: u32,
    /// The file's size when planned: a scan that finds it shorter fails.
    size: u64,
    pub kind: UnitKind,
}

/// Which part of its file a unit is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnitKind {
    /// The whole file, scanned as `stats` scans it.
    Whole,
    /// The lines of a raw file that start in `[start, end)`; without `end`,
    /// every line from `start` to the end the file has when scanned.
    Lines { start: u64, end: Option<u64> },
    /// The bzip2 blocks (and stream ends) whose magic starts in bytes
    /// `[start, end)`, in streams of level `level` (the file's first).
    Blocks { level: u8, start: u64, end: u64 },
}

/// A unit's partial state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Partial {
    /// The whole file, decoded as a stream: it replaces the partial states of
    /// the file's other units (see [`scan_unit`]).
    File(Summary),
    /// Whole lines only (raw byte ranges).
    Aligned(Summary),
    /// bzip2 blocks: their text, and the CRCs of their streams.
    Blocks {
        text: Edges<Summary>,
        crcs: CrcTrail,
    },
    /// A stream's stored combined CRC disagrees with its blocks': the file
    /// is decoded as a stream when finished, for the CLI's error.
    Recheck,
}

/// The combined CRC of a run of blocks, and how many: a stream's CRC is
/// `crc = crc.rotate_left(1) ^ block_crc` over its blocks, so runs compose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Run {
    crc: u32,
    blocks: u32,
}

impl Run {
    fn then(self, later: Run) -> Run {
        Run {
            crc: self.crc.rotate_left(later.blocks % 32) ^ later.crc,
            blocks: self.blocks.wrapping_add(later.blocks),
        }
    }
}

/// What a unit knows of its streams' CRCs: the blocks before its first
/// stream end (which continue a stream begun before), that end's stored
/// CRC, and the blocks after its last end (which a later end closes).
/// Streams wholly inside the unit are checked as they end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrcTrail {
    lead: Run,
    first_end: Option<u32>,
    tail: Run,
}

impl CrcTrail {
    fn block(&mut self, crc: u32) {
        let run = Run { crc, blocks: 1 };
        match self.first_end {
            None => self.lead = self.lead.then(run),
            Some(_) => self.tail = self.tail.then(run),
        }
    }

    /// A stream ends, storing `stored`; false if a stream wholly seen here
    /// stores another CRC than its blocks make.
    fn end(&mut self, stored: u32) -> bool {
        if self.first_end.is_none() {
            self.first_end = Some(stored);
            return true;
        }
        std::mem::take(&mut self.tail).crc == stored
    }

    /// The trail of this text followed by `later`'s; `None` if the stream
    /// that the seam joins stores another CRC than its blocks make.
    fn then(self, later: CrcTrail) -> Option<CrcTrail> {
        Some(match (self.first_end, later.first_end) {
            (None, _) => CrcTrail {
                lead: self.lead.then(later.lead),
                ..later
            },
            (Some(_), None) => CrcTrail {
                tail: self.tail.then(later.lead),
                ..self
            },
            (Some(_), Some(stored)) => {
                if self.tail.then(later.lead).crc != stored {
                    return None;
                }
                CrcTrail {
                    tail: later.tail,
                    ..self
                }
            }
        })
    }

    /// Whether a whole file's trail (its first unit began at the file's
    /// start) holds: every stream ended, storing the CRC its blocks make.
    fn holds(&self) -> bool {
        self.first_end == Some(self.lead.crc) && self.tail.blocks == 0
    }
}

/// The byte forms: bump a version whenever its layout (or [`Summary`]'s,
/// which both hold) changes.
const UNIT: Form = Form {
    magic: b"LBU\0",
    version: 1,
    what: "work unit",
};
const PARTIAL: Form = Form {
    magic: b"LBP\0",
    version: 1,
    what: "partial state",
};

impl Unit {
    pub fn path(&self) -> PathBuf {
        PathBuf::from(OsString::from_vec(self.path.clone()))
    }

    /// The file's name as errors give it.
    pub fn name(&self) -> String {
        self.path().display().to_string()
    }

    /// A versioned byte form, to send the unit to another process.
    pub fn to_bytes(&self) -> Vec<u8> {
        UNIT.encode(self)
    }

    /// Read [`Unit::to_bytes`]'s form back; damage is an error.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Unit, String> {
        UNIT.decode(bytes)
    }
}

impl Partial {
    /// A versioned byte form, to send the state to another process.
    pub fn to_bytes(&self) -> Vec<u8> {
        PARTIAL.encode(self)
    }

    /// Read [`Partial::to_bytes`]'s form back; damage is an error.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Partial, String> {
        PARTIAL.decode(bytes)
    }

    /// Fold in the partial state of the text that follows this one in the
    /// same file. Associative, so neighbours merge in any grouping.
    pub fn merge(self, later: Partial, query: &StatsQuery) -> Result<Partial, MixedUnits> {
        Ok(match (self, later) {
            (whole @ Partial::File(_), _) | (_, whole @ Partial::File(_)) => whole,
            (Partial::Recheck, _) | (_, Partial::Recheck) => Partial::Recheck,
            (Partial::Aligned(mut earlier), Partial::Aligned(later)) => {
                earlier.merge(later);
                Partial::Aligned(earlier)
            }
            (
                Partial::Blocks { text, crcs },
                Partial::Blocks {
                    text: later_text,
                    crcs: later_crcs,
                },
            ) => match crcs.then(later_crcs) {
                Some(crcs) => Partial::Blocks {
                    text: text.merge(later_text, &StatsFold { query }),
                    crcs,
                },
                None => Partial::Recheck,
            },
            _ => return Err(MixedUnits),
        })
    }

    /// The summary of the file at `path`, once every unit of it is merged
    /// in: the first and last lines folded, the streams' CRCs checked,
    /// `--strict` applied, counted as one file.
    pub fn finish(self, path: &Path, query: &StatsQuery) -> Result<Summary> {
        let fold = StatsFold { query };
        let mut summary = match self {
            Partial::File(summary) | Partial::Aligned(summary) => summary,
            Partial::Blocks { text, crcs } if crcs.holds() => text.finish(&fold),
            Partial::Blocks { .. } | Partial::Recheck => whole_file(path, query)?,
        };
        if let (true, Some(line)) = (query.strict, summary.first_malformed) {
            return Err(Error::Malformed {
                file: path.display().to_string(),
                line,
            });
        }
        summary.files = 1;
        Ok(summary)
    }
}

/// The file decoded as a stream on this thread, as the CLI reads it.
fn whole_file(path: &Path, query: &StatsQuery) -> Result<Summary> {
    let pool = parallel::pool(1)?;
    summarise_input(Input::open(path)?, query, Engine::Fast, &pool)
}

/// Partial states of different kinds of unit cannot be neighbours: they come
/// from different files, or from plans of different versions of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MixedUnits;

impl std::fmt::Display for MixedUnits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("partial states of different kinds of unit cannot be merged")
    }
}

/// Compressed bytes a unit reads at a time while framing its part of a
/// bzip2 file: past its end it needs only the next magic.
const FRAME_AHEAD: usize = 256 << 10;

/// A raw file's default unit: about 60 ms of one core's scan, so that a
/// task's cost on the scheduler (a millisecond or two) stays small beside it.
pub const RAW_SPLIT_BYTES: u64 = 64 << 20;
/// A bzip2 file's default unit, in compressed bytes: about 15 blocks of
/// level 9, some 0.1 s of one core's decoding.
pub const BZIP2_SPLIT_BYTES: u64 = 2 << 20;

/// Cut `paths` into units of about `split_bytes` bytes of the file each
/// (compressed bytes for bzip2; by default [`RAW_SPLIT_BYTES`] and
/// [`BZIP2_SPLIT_BYTES`]).
///
/// Planning reads a file's first bytes and its size, never the file, and
/// never fails: a file that cannot be opened gets a [`UnitKind::Whole`]
/// unit, whose scan gives the CLI's error.
pub fn plan(paths: &[PathBuf], split_bytes: Option<u64>) -> Vec<Unit> {
    let mut units = Vec::new();
    for (file, path) in paths.iter().enumerate() {
        let (size, parts) = cut(path, split_bytes);
        units.extend(parts.into_iter().map(|kind| Unit {
            path: path.as_os_str().as_bytes().to_vec(),
            file: file as u32,
            size,
            kind,
        }));
    }
    units
}

/// The size of the file at `path` and its parts.
fn cut(path: &Path, split_bytes: Option<u64>) -> (u64, Vec<UnitKind>) {
    let whole = |size| (size, vec![UnitKind::Whole]);
    if path.as_os_str() == "-" {
        return whole(0);
    }
    let Ok(input) = Input::open(path) else {
        return whole(0);
    };
    let Some(file) = input.file() else {
        return whole(0);
    };
    let Ok(size) = file.metadata().map(|m| m.len()) else {
        return whole(0);
    };
    let ranges = |default: u64| {
        let split_bytes = split_bytes.unwrap_or(default).max(1);
        let count = size.div_ceil(split_bytes);
        (0..count).map(move |i| {
            (
                i * split_bytes,
                (i + 1 < count).then_some((i + 1) * split_bytes),
            )
        })
    };
    let parts: Vec<UnitKind> = match input.format() {
        Format::Raw => ranges(RAW_SPLIT_BYTES)
            .map(|(start, end)| UnitKind::Lines { start, end })
            .collect(),
        Format::Bzip2 => {
            // The level of the file's first stream, from its header.
            let mut header = [0u8; 4];
            let level = match file.read_exact_at(&mut header, 0) {
                Ok(()) if header[..3] == *b"BZh" && header[3].is_ascii_digit() => header[3],
                _ => return whole(size),
            };
            ranges(BZIP2_SPLIT_BYTES)
                .map(|(start, end)| UnitKind::Blocks {
                    level,
                    start,
                    end: end.unwrap_or(size),
                })
                .collect()
        }
        Format::Gzip => return whole(size),
    };
    if parts.len() <= 1 {
        return whole(size);
    }
    (size, parts)
}

/// Scan one unit with the fast engine on the calling thread.
pub fn scan_unit(unit: &Unit, query: &StatsQuery) -> Result<Partial> {
    let name = unit.name();
    // The file, and its size now: shorter than when planned is an error.
    let open = || {
        let file = File::open(unit.path()).map_err(|source| Error::Open {
            file: name.clone(),
            action: "cannot open",
            source,
        })?;
        let size = file.metadata().map_err(|e| Error::read(&name, e))?.len();
        if size < unit.size {
            return Err(shrank(&name, unit.size, size));
        }
        Ok((file, size))
    };
    match &unit.kind {
        UnitKind::Whole => Ok(Partial::File(whole_file(&unit.path(), query)?)),
        UnitKind::Lines { start, end } => {
            let (file, size) = open()?;
            let fold = StatsFold { query };
            Ok(Partial::Aligned(scan_lines(
                &file, &name, size, *start, *end, &fold,
            )?))
        }
        UnitKind::Blocks { level, start, end } => {
            let (file, _) = open()?;
            scan_blocks(file, &unit.path(), *level, *start, *end, query)
        }
    }
}

/// The bzip2 blocks whose magic starts in bytes `[start, end)` of `file`.
/// Whatever does not hold (a framing that fails, a block that does not
/// decode, a stream whose CRC disagrees) makes the unit decode the whole
/// file as a stream: the CLI's error, or if a false magic fooled the
/// framing, the whole file's answer, which stands for the file.
fn scan_blocks(
    file: File,
    path: &Path,
    level: u8,
    start: u64,
    end: u64,
    query: &StatsQuery,
) -> Result<Partial> {
    let fold = StatsFold { query };
    let read_error = |e| Error::read(&path.display().to_string(), e);
    let (from, before) = (start * 8, end * 8);
    let mut frames = if start == 0 {
        bzip2_parallel::BlockFrames::new(file, FRAME_AHEAD)
    } else {
        match bzip2_parallel::first_magic(&file, from, before, FRAME_AHEAD).map_err(read_error)? {
            Some((at, magic)) => {
                bzip2_parallel::BlockFrames::from_magic(file, magic, at, level, FRAME_AHEAD)
            }
            None => {
                // Inside one block (a range smaller than a block).
                return Ok(Partial::Blocks {
                    text: Edges::Inside(Vec::new()),
                    crcs: CrcTrail::default(),
                });
            }
        }
    };
    let (mut text, mut crcs) = (Edges::Inside(Vec::new()), CrcTrail::default());
    let whole = || whole_file(path, query).map(Partial::File);
    loop {
        match frames.next_frame() {
            Err(bzip2_parallel::FramingFailed) => return whole(),
            Ok(None) => break,
            Ok(Some(Framed::Block { at, .. })) if at.start >= before => break,
            Ok(Some(Framed::StreamEnd { at, .. })) if at >= before => break,
            Ok(Some(Framed::Block { at, crc })) => {
                let block = frames.copy_block(at);
                let decoded = bzip2_parallel::decode_block(&block, &|text: &[u8]| {
                    Edges::of_text(text, &fold)
                });
                let Some(piece) = decoded else {
                    return whole();
                };
                text = text.merge(piece, &fold);
                crcs.block(crc);
            }
            Ok(Some(Framed::StreamEnd { stored_crc, .. })) => {
                if !crcs.end(stored_crc) {
                    return Ok(Partial::Recheck);
                }
            }
        }
    }
    Ok(Partial::Blocks { text, crcs })
}

/// The lines of a raw file that start in `[start, end)` (to the file's end
/// without `end`), as [`UnitKind::Lines`] describes.
fn scan_lines(
    file: &File,
    name: &str,
    size: u64,
    start: u64,
    end: Option<u64>,
    fold: &StatsFold,
) -> Result<Summary> {
    // Ranges split the whole lines within the size; what lies past the last
    // `\n` (a last line without one, or what the file grew by) is read as a
    // stream by the last unit, as `parallel` reads it.
    let len = whole_lines_end(file, name, size)?;
    let stop = end.map_or(len, |end| end.min(len));
    let mut acc = fold.start();
    if start < stop {
        let mut range = LineRange::new(file, name, start, stop, len)?;
        scan::fold_stream(
            |buf| range.fill(buf),
            fold.query.buffer_size,
            &mut acc,
            |text, acc| fold.fold(text, acc),
        )?;
    }
    let mut summary = fold.finish(acc);
    if end.is_none() {
        let mut rest = fold.start();
        scan::fold_stream(
            read_from(file, name, len),
            fold.query.buffer_size,
            &mut rest,
            |text, acc| fold.fold(text, acc),
        )?;
        summary.merge(fold.finish(rest));
    }
    Ok(summary)
}

fn shrank(name: &str, planned: u64, now: u64) -> Error {
    Error::read(
        name,
        std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("the file shrank since the units were planned ({planned} bytes, now {now})"),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> StatsQuery {
        StatsQuery::default().with_threads(1)
    }

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn bz2(text: &[u8], level: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = bzip2::write::BzEncoder::new(&mut out, bzip2::Compression::new(level));
        std::io::Write::write_all(&mut encoder, text).unwrap();
        encoder.finish().unwrap();
        out
    }

    /// A log with every kind of line, `lines` long, and a last line without `\n`.
    fn log(lines: u64) -> Vec<u8> {
        let mut text = Vec::new();
        for i in 0..lines {
            let line = match i % 7 {
                0 => format!("{},cpu_usage,{}\n", 1000 + i, i % 101),
                1 => format!("{},memory_usage,{}\n", 1000 + i, i * 37 % 5000),
                2 => "broken line\n".to_owned(),
                3 => "\n".to_owned(),
                4 => format!("{},disk_io,-{}\r\n", 1000 + i, i % 13),
                5 => format!("{},cpu_usage,{}\n", 1000 + i, (i * 7919) % 1_000_003),
                _ => format!("{},a_much_longer_metric_name_than_usual,{}\n", 1000 + i, i),
            };
            text.extend_from_slice(line.as_bytes());
        }
        text.extend_from_slice(b"9,cpu_usage,1");
        text
    }

    /// Plan, scan every unit, merge each file's partials in order, finish.
    fn by_units(paths: &[PathBuf], split: u64, query: &StatsQuery) -> Result<(Summary, usize)> {
        let units = plan(paths, Some(split));
        let mut whole = Summary::default();
        for (file, path) in paths.iter().enumerate() {
            let mut partial: Option<Partial> = None;
            for unit in units.iter().filter(|u| u.file as usize == file) {
                let unit = Unit::from_bytes(&unit.to_bytes()).unwrap();
                let scanned = Partial::from_bytes(&scan_unit(&unit, query)?.to_bytes()).unwrap();
                partial = Some(match partial {
                    None => scanned,
                    Some(earlier) => earlier.merge(scanned, query).unwrap(),
                });
            }
            whole.merge(partial.unwrap().finish(path, query)?);
        }
        Ok((whole, units.len()))
    }

    fn in_one_pass(paths: &[PathBuf], query: &StatsQuery) -> Result<Summary> {
        Ok(super::super::summarise_files(paths, query, Engine::Fast)?.summary)
    }

    #[test]
    fn raw_files_cut_anywhere_give_the_one_pass_answer() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "a.log", &log(700));
        let expected = in_one_pass(std::slice::from_ref(&path), &query()).unwrap();
        for split in [3, 64, 1000, 1 << 20] {
            let (summary, units) = by_units(std::slice::from_ref(&path), split, &query()).unwrap();
            assert_eq!(summary, expected, "split {split}");
            if split == 1000 {
                assert!(units > 10, "{units}");
            }
        }
    }

    #[test]
    fn bzip2_files_cut_at_blocks_give_the_one_pass_answer() {
        let dir = tempfile::tempdir().unwrap();
        // Level 1: 100 kB blocks, so the log spans several, seams mid-line.
        let text = log(40_000);
        let path = write(&dir, "a.log.bz2", &bz2(&text, 1));
        let paths = std::slice::from_ref(&path);
        let expected = in_one_pass(paths, &query()).unwrap();
        // 3,000 bytes: most units own no magic at all, or start mid-block.
        for split in [3_000, 20_000, 1 << 30] {
            let (summary, units) = by_units(paths, split, &query()).unwrap();
            assert_eq!(summary, expected, "split {split}");
            if split == 3_000 {
                assert!(units >= 20, "{units} units");
            }
        }
    }

    #[test]
    fn merging_is_the_same_in_any_grouping() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "a.log.bz2", &bz2(&log(40_000), 1));
        let units = plan(std::slice::from_ref(&path), Some(10_000));
        let parts: Vec<Partial> = units
            .iter()
            .map(|u| scan_unit(u, &query()).unwrap())
            .collect();
        let q = query();
        let left = parts
            .iter()
            .cloned()
            .reduce(|a, b| a.merge(b, &q).unwrap())
            .unwrap();
        let right = parts
            .iter()
            .cloned()
            .rev()
            .reduce(|later, earlier| earlier.merge(later, &q).unwrap())
            .unwrap();
        assert_eq!(left, right);
    }

    #[test]
    fn gzip_and_small_files_are_whole_units() {
        let dir = tempfile::tempdir().unwrap();
        let gz = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut e, &log(1000)).unwrap();
            e.finish().unwrap()
        };
        let paths = [
            write(&dir, "a.log.gz", &gz),
            write(&dir, "small.log", b"1,m,1\n"),
        ];
        let units = plan(&paths, Some(16));
        assert_eq!(units.len(), 2);
        assert!(units.iter().all(|u| u.kind == UnitKind::Whole));
        let (summary, _) = by_units(&paths, 16, &query()).unwrap();
        assert_eq!(summary, in_one_pass(&paths, &query()).unwrap());
    }

    #[test]
    fn strict_names_the_line_counted_from_the_start_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = log(0);
        text.clear();
        for i in 0..20_000 {
            text.extend_from_slice(format!("{i},m,{i}\n").as_bytes());
        }
        text.extend_from_slice(b"bad\n");
        let paths = [
            write(&dir, "a.log", &text),
            write(&dir, "a.log.bz2", &bz2(&text, 1)),
        ];
        let strict = StatsQuery {
            strict: true,
            ..query()
        };
        for path in &paths {
            let error = by_units(std::slice::from_ref(path), 1000, &strict).unwrap_err();
            let cli = in_one_pass(std::slice::from_ref(path), &strict).unwrap_err();
            assert_eq!(error.to_string(), cli.to_string());
            assert!(error.to_string().contains("line 20001"), "{error}");
        }
    }

    #[test]
    fn a_corrupt_bzip2_block_gives_the_clis_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = bz2(&log(40_000), 1);
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        let path = write(&dir, "bad.log.bz2", &bytes);
        let paths = std::slice::from_ref(&path);
        let cli = in_one_pass(paths, &query()).unwrap_err().to_string();
        let error = by_units(paths, 10_000, &query()).unwrap_err().to_string();
        assert_eq!(error, cli);
        assert!(error.contains("bad.log.bz2"), "{error}");
    }

    #[test]
    fn a_truncated_bzip2_file_gives_the_clis_error() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = bz2(&log(40_000), 1);
        let path = write(&dir, "cut.log.bz2", &bytes[..bytes.len() * 2 / 3]);
        let paths = std::slice::from_ref(&path);
        assert!(matches!(
            plan(paths, Some(10_000))[0].kind,
            UnitKind::Blocks { .. }
        ));
        let cli = in_one_pass(paths, &query()).unwrap_err().to_string();
        assert_eq!(
            by_units(paths, 10_000, &query()).unwrap_err().to_string(),
            cli
        );
    }

    #[test]
    fn a_stream_crc_that_disagrees_with_its_blocks_gives_the_clis_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = bz2(&log(40_000), 1);
        // The stored combined CRC: the 32 bits after the end magic, which
        // ends the file with at most 7 bits of padding.
        let last = bytes.len() - 2;
        bytes[last] ^= 0x10;
        let path = write(&dir, "crc.log.bz2", &bytes);
        let paths = std::slice::from_ref(&path);
        let cli = in_one_pass(paths, &query()).unwrap_err().to_string();
        for split in [10_000, 1 << 30] {
            let error = by_units(paths, split, &query()).unwrap_err().to_string();
            assert_eq!(error, cli, "split {split}");
        }
    }

    #[test]
    fn streams_of_several_levels_cut_anywhere_give_the_one_pass_answer() {
        let dir = tempfile::tempdir().unwrap();
        let text = log(30_000);
        let half = text.len() / 2;
        let mut bytes = bz2(&text[..half], 9);
        bytes.extend_from_slice(&bz2(&text[half..], 1));
        let path = write(&dir, "streams.log.bz2", &bytes);
        let paths = std::slice::from_ref(&path);
        let expected = in_one_pass(paths, &query()).unwrap();
        for split in [5_000, 1 << 30] {
            let (summary, _) = by_units(paths, split, &query()).unwrap();
            assert_eq!(summary, expected, "split {split}");
        }
    }

    #[test]
    fn the_whole_files_state_stands_for_the_file_wherever_it_is_merged() {
        let q = query();
        let fold = StatsFold { query: &q };
        let file = Partial::File(fold.part(b"1,m,5\n"));
        let blocks = |text| Partial::Blocks {
            text,
            crcs: CrcTrail::default(),
        };
        let pieces = [
            blocks(Edges::Inside(b"1,m,".to_vec())),
            blocks(Edges::of_text(b"7\n2,m,8\n3,m", &fold)),
            Partial::Recheck,
        ];
        for at in 0..=pieces.len() {
            let mut order = pieces.to_vec();
            order.insert(at, file.clone());
            let merged = order
                .into_iter()
                .reduce(|a, b| a.merge(b, &q).unwrap())
                .unwrap();
            assert_eq!(merged, file, "at {at}");
        }
    }

    #[test]
    fn a_missing_file_is_planned_and_fails_as_the_cli_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.log");
        let units = plan(std::slice::from_ref(&path), Some(10));
        assert_eq!(units.len(), 1);
        let error = scan_unit(&units[0], &query()).unwrap_err().to_string();
        assert_eq!(error, Input::open(&path).unwrap_err().to_string());
    }

    #[test]
    fn a_raw_file_that_shrank_since_planned_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "a.log", &log(3000));
        let units = plan(std::slice::from_ref(&path), Some(1000));
        std::fs::write(&path, b"1,m,1\n").unwrap();
        let error = scan_unit(&units[1], &query()).unwrap_err().to_string();
        assert!(
            error.contains("shrank since the units were planned"),
            "{error}"
        );
    }

    #[test]
    fn damaged_byte_forms_are_refused() {
        let unit = plan(&[PathBuf::from("x")], None).remove(0);
        let bytes = unit.to_bytes();
        assert_eq!(Unit::from_bytes(&bytes).unwrap(), unit);
        assert!(Unit::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(
            Partial::from_bytes(&bytes)
                .unwrap_err()
                .contains("not a logbench")
        );
        let mut newer = Partial::Recheck.to_bytes();
        newer[4] = 9;
        assert!(
            Partial::from_bytes(&newer)
                .unwrap_err()
                .contains("version 9")
        );
    }

    #[test]
    fn kinds_that_cannot_be_neighbours_are_refused() {
        let aligned = Partial::Aligned(Summary::default());
        let blocks = Partial::Blocks {
            text: Edges::Inside(b"x".to_vec()),
            crcs: CrcTrail::default(),
        };
        assert_eq!(aligned.merge(blocks, &query()), Err(MixedUnits));
    }
}
