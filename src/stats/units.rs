//! `stats` as map-reduce: files cut into work units, each unit scanned alone
//! into a partial state, and the partial states merged, in any grouping, to
//! the answer of one pass. The Dask driver (`python/logbench/dask.py`) sends
//! units and partial states between processes in their byte forms.
//!
//! What is cut, and where:
//! - a raw regular file into byte ranges; a unit owns the lines that *start*
//!   in its range and reads past its end to finish the last, as `parallel`
//!   does, so its partial state is whole lines;
//! - a bzip2 file at block boundaries, found by framing it (Hadoop's
//!   "splittable bzip2"). Blocks do not end at line ends: a unit's partial
//!   state keeps the text before its first `\n` and after its last, and the
//!   merge of two neighbours folds the line the two pieces make;
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
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Engine, StatsFold, StatsQuery, Summary, summarise_input};
use crate::error::{Error, Result};
use crate::input::bzip2_parallel::{self, BlockAt};
use crate::input::{Format, Input, LineRange, read_from, whole_lines_end};
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
    /// Consecutive bzip2 blocks, in file order.
    Blocks(Vec<BlockAt>),
}

/// A unit's partial state: whole lines folded, and, where the unit does not
/// begin and end at line ends (bzip2 blocks), the text at its edges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Partial {
    /// The whole file, decoded as a stream: it replaces the partial states of
    /// the file's other units (see [`Planner`]).
    File(Summary),
    /// Whole lines only.
    Aligned(Summary),
    /// Text with no `\n`: the inside of one long line.
    Inside(Vec<u8>),
    Lines {
        /// Text before the first `\n`: the end of the line the unit before
        /// began (the whole first line, for a file's first unit).
        head: Vec<u8>,
        /// The lines wholly inside.
        middle: Summary,
        /// Text after the last `\n`: the start of a line the next unit ends.
        tail: Vec<u8>,
    },
}

/// The byte forms' first bytes, and their version: bump it whenever a
/// serialised layout (this module's or [`Summary`]'s) changes.
const UNIT_MAGIC: &[u8; 4] = b"LBU\0";
const PARTIAL_MAGIC: &[u8; 4] = b"LBP\0";
const VERSION: u16 = 1;

fn to_bytes(magic: &[u8; 4], value: &impl Serialize) -> Vec<u8> {
    let mut bytes = magic.to_vec();
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    postcard::to_extend(value, bytes).expect("plain data serialises")
}

fn from_bytes<T: for<'de> Deserialize<'de>>(
    magic: &[u8; 4],
    what: &str,
    bytes: &[u8],
) -> std::result::Result<T, String> {
    let Some((head, body)) = bytes.split_at_checked(magic.len() + 2) else {
        return Err(format!("too short to be a logbench {what}"));
    };
    if &head[..4] != magic {
        return Err(format!("not a logbench {what}"));
    }
    let version = u16::from_le_bytes([head[4], head[5]]);
    if version != VERSION {
        return Err(format!(
            "{what} format version {version}; this logbench reads version {VERSION}"
        ));
    }
    match postcard::take_from_bytes::<T>(body) {
        Ok((value, [])) => Ok(value),
        Ok(_) => Err(format!("trailing bytes after the {what}")),
        Err(e) => Err(format!("damaged {what}: {e}")),
    }
}

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
        to_bytes(UNIT_MAGIC, self)
    }

    /// Read [`Unit::to_bytes`]'s form back; damage is an error.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Unit, String> {
        from_bytes(UNIT_MAGIC, "work unit", bytes)
    }
}

impl Partial {
    /// A versioned byte form, to send the state to another process.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(PARTIAL_MAGIC, self)
    }

    /// Read [`Partial::to_bytes`]'s form back; damage is an error.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Partial, String> {
        from_bytes(PARTIAL_MAGIC, "partial state", bytes)
    }

    /// The partial state of a piece of text that may begin and end inside lines.
    fn of_text(text: &[u8], fold: &StatsFold) -> Partial {
        let (Some(first), Some(last)) = (memchr::memchr(b'\n', text), memchr::memrchr(b'\n', text))
        else {
            return Partial::Inside(text.to_vec());
        };
        Partial::Lines {
            head: text[..first].to_vec(),
            middle: fold.part(&text[first + 1..last + 1]),
            tail: text[last + 1..].to_vec(),
        }
    }

    /// Fold in the partial state of the text that follows this one in the
    /// same file. Associative, so neighbours merge in any grouping.
    pub fn merge(self, later: Partial, query: &StatsQuery) -> Result<Partial, MixedUnits> {
        let fold = StatsFold { query };
        Ok(match (self, later) {
            (whole @ Partial::File(_), _) | (_, whole @ Partial::File(_)) => whole,
            (Partial::Aligned(mut earlier), Partial::Aligned(later)) => {
                earlier.merge(later);
                Partial::Aligned(earlier)
            }
            (Partial::Inside(mut earlier), Partial::Inside(later)) => {
                earlier.extend_from_slice(&later);
                Partial::Inside(earlier)
            }
            (Partial::Inside(mut earlier), Partial::Lines { head, middle, tail }) => {
                earlier.extend_from_slice(&head);
                Partial::Lines {
                    head: earlier,
                    middle,
                    tail,
                }
            }
            (
                Partial::Lines {
                    head,
                    middle,
                    mut tail,
                },
                Partial::Inside(later),
            ) => {
                tail.extend_from_slice(&later);
                Partial::Lines { head, middle, tail }
            }
            (
                Partial::Lines {
                    head,
                    mut middle,
                    mut tail,
                },
                Partial::Lines {
                    head: seam,
                    middle: later,
                    tail: last,
                },
            ) => {
                // The line across the seam, with its `\n`: even an empty one
                // is a line.
                tail.extend_from_slice(&seam);
                tail.push(b'\n');
                middle.merge(fold.part(&tail));
                middle.merge(later);
                Partial::Lines {
                    head,
                    middle,
                    tail: last,
                }
            }
            _ => return Err(MixedUnits),
        })
    }

    /// The file's summary, once every unit of it is merged in: the first and
    /// last lines folded, `--strict` applied, counted as one file.
    pub fn finish(self, name: &str, query: &StatsQuery) -> Result<Summary> {
        let fold = StatsFold { query };
        let mut summary = match self {
            Partial::File(summary) | Partial::Aligned(summary) => summary,
            Partial::Inside(text) if text.is_empty() => fold.empty(),
            Partial::Inside(text) => fold.part(&text),
            Partial::Lines {
                mut head,
                middle,
                tail,
            } => {
                head.push(b'\n');
                let mut summary = fold.part(&head);
                summary.merge(middle);
                if !tail.is_empty() {
                    summary.merge(fold.part(&tail));
                }
                summary
            }
        };
        if let (true, Some(line)) = (query.strict, summary.first_malformed) {
            return Err(Error::Malformed {
                file: name.to_owned(),
                line,
            });
        }
        summary.files = 1;
        Ok(summary)
    }
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

/// Compressed bytes read at a time while framing a bzip2 file to plan it.
const FRAME_AHEAD: usize = 1 << 20;

/// A raw file's default unit: about 60 ms of one core's scan, so that a
/// task's cost on the scheduler (a millisecond or two) stays small beside it.
pub const RAW_SPLIT_BYTES: u64 = 64 << 20;
/// A bzip2 file's default unit, in compressed bytes: about 15 blocks of
/// level 9, some 0.1 s of one core's decoding.
pub const BZIP2_SPLIT_BYTES: u64 = 2 << 20;

/// Cut `paths` into units of about `split_bytes` bytes of the file each
/// (compressed bytes for bzip2; by default [`RAW_SPLIT_BYTES`] and
/// [`BZIP2_SPLIT_BYTES`]).
pub fn plan(paths: &[PathBuf], split_bytes: Option<u64>) -> Vec<Unit> {
    Planner::new(paths.to_vec(), split_bytes).collect()
}

/// The units of a list of files, made one at a time, so that a cluster can
/// scan the first while the planner frames the rest of a bzip2 file (the
/// one part of planning that reads a whole file).
///
/// Planning never fails: a file that cannot be opened, or whose framing
/// does not hold, gets a [`UnitKind::Whole`] unit, whose scan gives the
/// CLI's error, or the whole file's answer, which replaces the partial
/// states of any units planned for the file before the framing failed.
pub struct Planner {
    paths: std::vec::IntoIter<PathBuf>,
    split_bytes: Option<u64>,
    file: u32,
    current: Option<Cutting>,
}

/// The file being cut.
struct Cutting {
    path: Vec<u8>,
    file: u32,
    size: u64,
    parts: Parts,
}

enum Parts {
    /// Parts known in advance (raw ranges, or one whole file).
    Listed(std::vec::IntoIter<UnitKind>),
    /// bzip2 blocks found as the framing goes, gathered `split_bytes` at a time.
    Framing {
        frames: bzip2_parallel::BlockFrames,
        split_bytes: u64,
        gathered: Vec<BlockAt>,
    },
}

impl Planner {
    pub fn new(paths: Vec<PathBuf>, split_bytes: Option<u64>) -> Planner {
        Planner {
            paths: paths.into_iter(),
            split_bytes,
            file: 0,
            current: None,
        }
    }

    /// How the next file is to be cut.
    fn start(&self, path: &Path) -> (u64, Parts) {
        let whole = |size| (size, Parts::Listed(vec![UnitKind::Whole].into_iter()));
        if path.as_os_str() == "-" {
            return whole(0);
        }
        let Ok(input) = Input::open(path) else {
            return whole(0);
        };
        let format = input.format();
        let Some(size) = input
            .file()
            .and_then(|f| f.metadata().ok())
            .map(|m| m.len())
        else {
            return whole(0);
        };
        match format {
            Format::Raw => {
                let split_bytes = self.split_bytes.unwrap_or(RAW_SPLIT_BYTES).max(1);
                let count = size.div_ceil(split_bytes);
                if count <= 1 {
                    return whole(size);
                }
                let ranges = (0..count).map(|i| UnitKind::Lines {
                    start: i * split_bytes,
                    end: (i + 1 < count).then_some((i + 1) * split_bytes),
                });
                (size, Parts::Listed(ranges.collect::<Vec<_>>().into_iter()))
            }
            Format::Bzip2 => match File::open(path) {
                Ok(file) => (
                    size,
                    Parts::Framing {
                        frames: bzip2_parallel::BlockFrames::new(file, FRAME_AHEAD),
                        split_bytes: self.split_bytes.unwrap_or(BZIP2_SPLIT_BYTES),
                        gathered: Vec::new(),
                    },
                ),
                Err(_) => whole(size),
            },
            Format::Gzip => whole(size),
        }
    }
}

impl Parts {
    /// The file's next part, or `None` after its last.
    fn next(&mut self) -> Option<UnitKind> {
        let (frames, split_bytes, gathered) = match self {
            Parts::Listed(parts) => return parts.next(),
            Parts::Framing {
                frames,
                split_bytes,
                gathered,
            } => (frames, *split_bytes, gathered),
        };
        loop {
            match frames.next_block() {
                Ok(Some(block)) => match gathered.first() {
                    Some(first) if (block.end - first.start) / 8 > split_bytes => {
                        let unit = UnitKind::Blocks(std::mem::replace(gathered, vec![block]));
                        return Some(unit);
                    }
                    _ => gathered.push(block),
                },
                Ok(None) if gathered.is_empty() => return None,
                Ok(None) => return Some(UnitKind::Blocks(std::mem::take(gathered))),
                Err(bzip2_parallel::FramingFailed) => {
                    *self = Parts::Listed(Vec::new().into_iter());
                    return Some(UnitKind::Whole);
                }
            }
        }
    }
}

impl Iterator for Planner {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        loop {
            if let Some(cutting) = &mut self.current {
                if let Some(kind) = cutting.parts.next() {
                    return Some(Unit {
                        path: cutting.path.clone(),
                        file: cutting.file,
                        size: cutting.size,
                        kind,
                    });
                }
                self.current = None;
            }
            let path = self.paths.next()?;
            let (size, parts) = self.start(&path);
            self.current = Some(Cutting {
                path: path.as_os_str().as_bytes().to_vec(),
                file: self.file,
                size,
                parts,
            });
            self.file += 1;
        }
    }
}

/// Scan one unit with the fast engine on the calling thread.
pub fn scan_unit(unit: &Unit, query: &StatsQuery) -> Result<Partial> {
    let name = unit.name();
    let fold = StatsFold { query };
    let open = || {
        File::open(unit.path()).map_err(|source| Error::Open {
            file: name.clone(),
            action: "cannot open",
            source,
        })
    };
    match &unit.kind {
        UnitKind::Whole => {
            let pool = parallel::pool(1)?;
            let summary = summarise_input(Input::open(&unit.path())?, query, Engine::Fast, &pool)?;
            Ok(Partial::File(summary))
        }
        UnitKind::Lines { start, end } => {
            let file = open()?;
            let size = file.metadata().map_err(|e| Error::read(&name, e))?.len();
            if size < unit.size {
                return Err(shrank(&name, unit.size, size));
            }
            Ok(Partial::Aligned(scan_lines(
                &file, &name, size, *start, *end, &fold,
            )?))
        }
        UnitKind::Blocks(blocks) => {
            let file = open()?;
            let mut partial = Partial::Inside(Vec::new());
            for &block in blocks {
                let piece = bzip2_parallel::decode_block_at(&file, block, |text| {
                    Partial::of_text(text, &fold)
                })
                .map_err(|e| Error::read(&name, e))?;
                let Some(piece) = piece else {
                    // The stream decoder gives the CLI's error (where and
                    // what); should the file decode after all, its answer.
                    let whole = Unit {
                        kind: UnitKind::Whole,
                        ..unit.clone()
                    };
                    return scan_unit(&whole, query);
                };
                partial = partial
                    .merge(piece, query)
                    .expect("blocks give Inside or Lines");
            }
            Ok(partial)
        }
    }
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
            whole.merge(
                partial
                    .unwrap()
                    .finish(&path.display().to_string(), query)?,
            );
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
        for split in [1, 30_000, 100_000, 1 << 30] {
            let (summary, units) = by_units(paths, split, &query()).unwrap();
            assert_eq!(summary, expected, "split {split}");
            if split == 1 {
                assert!(units >= 5, "{units} units");
            }
        }
    }

    #[test]
    fn merging_is_the_same_in_any_grouping() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "a.log.bz2", &bz2(&log(40_000), 1));
        let units = plan(std::slice::from_ref(&path), Some(1));
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
        let error = by_units(paths, 1, &query()).unwrap_err().to_string();
        assert_eq!(error, cli);
        assert!(error.contains("bad.log.bz2"), "{error}");
    }

    #[test]
    fn a_truncated_bzip2_file_ends_its_plan_with_a_whole_unit_and_the_clis_error() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = bz2(&log(40_000), 1);
        let path = write(&dir, "cut.log.bz2", &bytes[..bytes.len() * 2 / 3]);
        let paths = std::slice::from_ref(&path);
        let units = plan(paths, Some(1));
        assert!(units.len() > 2, "{units:?}");
        assert!(matches!(units[0].kind, UnitKind::Blocks(_)));
        assert_eq!(units.last().unwrap().kind, UnitKind::Whole);
        let cli = in_one_pass(paths, &query()).unwrap_err().to_string();
        assert_eq!(by_units(paths, 1, &query()).unwrap_err().to_string(), cli);
    }

    #[test]
    fn the_whole_files_state_stands_for_the_file_wherever_it_is_merged() {
        let q = query();
        let file = Partial::File(StatsFold { query: &q }.part(b"1,m,5\n"));
        let pieces = [
            Partial::Inside(b"1,m,".to_vec()),
            Partial::of_text(b"7\n2,m,8\n3,m", &StatsFold { query: &q }),
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
        let mut newer = Partial::Inside(b"x".to_vec()).to_bytes();
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
        let inside = Partial::Inside(b"x".to_vec());
        assert_eq!(aligned.merge(inside, &query()), Err(MixedUnits));
    }
}
