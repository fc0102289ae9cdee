//! Shared test helpers: the reference implementation of the contract, and
//! codecs to build compressed inputs in memory.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::Write;

use logbench::{Answer, Input, Query, STRATEGIES};

/// The contract of `LOG-FORMAT.md`, implemented as plainly as possible and
/// independently of `logbench::grammar`: split, strip, split on commas, check.
pub fn reference(text: &[u8], metric: &[u8]) -> Answer {
    let mut pieces: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    // The empty piece after a final `\n` (or of an empty text) is not a line.
    if pieces.last() == Some(&&b""[..]) {
        pieces.pop();
    }
    let (mut count, mut sum, mut min, mut max, mut malformed) =
        (0u64, 0i128, i64::MAX, i64::MIN, 0u64);
    let mut first_malformed = None;
    for (index, piece) in pieces.iter().enumerate() {
        let line = piece.strip_suffix(b"\r").unwrap_or(piece);
        if line.is_empty() {
            continue;
        }
        match reference_record(line) {
            Some((m, value)) => {
                if m == metric {
                    count += 1;
                    sum += value as i128;
                    min = min.min(value);
                    max = max.max(value);
                }
            }
            None => {
                malformed += 1;
                first_malformed.get_or_insert(index as u64 + 1);
            }
        }
    }
    Answer {
        count,
        sum,
        min,
        max,
        malformed,
        lines: pieces.len() as u64,
        first_malformed,
    }
}

fn reference_record(line: &[u8]) -> Option<(&[u8], i64)> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b',').collect();
    let [epoch, metric, value] = fields[..] else {
        return None;
    };
    let epoch_ok = !epoch.is_empty() && epoch.iter().all(|b| b.is_ascii_digit());
    // std's i64 parser accepts exactly `[+-]?[0-9]+` in range, ASCII digits only.
    let value = std::str::from_utf8(value).ok()?.parse::<i64>().ok()?;
    (epoch_ok && !metric.is_empty()).then_some((metric, value))
}

pub fn bz2(text: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(9));
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

pub fn gz(text: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

/// Run every registered strategy on `bytes` and return (name, result) pairs.
pub fn every_strategy(
    bytes: &[u8],
    query: &Query,
) -> Vec<(&'static str, logbench::Result<Answer>)> {
    STRATEGIES
        .iter()
        .map(|s| {
            (
                s.name,
                (s.run)(Input::from_bytes("test", bytes.to_vec()), query),
            )
        })
        .collect()
}

/// Run every registered strategy on `bytes` stored in a real file (so that
/// rungs which read regular files at offsets take that path).
pub fn every_strategy_on_file(
    bytes: &[u8],
    query: &Query,
) -> Vec<(&'static str, logbench::Result<Answer>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.log");
    std::fs::write(&path, bytes).unwrap();
    STRATEGIES
        .iter()
        .map(|s| {
            (
                s.name,
                Input::open(&path).and_then(|input| (s.run)(input, query)),
            )
        })
        .collect()
}

/// Assert that every strategy gives the reference answer for `text` in every
/// format, from memory and from a file, with the default buffer and with tiny
/// buffers, on one and several threads.
pub fn assert_all_agree(text: &[u8], metric: &str) {
    let expected = reference(text, metric.as_bytes());
    for encoded in [text.to_vec(), gz(text), bz2(text)] {
        for (buffer, threads) in [(1, 1), (2, 3), (3, 2), (7, 1), (64, 2), (1 << 16, 2)] {
            let query = Query::new(metric)
                .with_buffer_size(buffer)
                .with_threads(threads);
            let in_memory = every_strategy(&encoded, &query);
            for (name, got) in in_memory
                .into_iter()
                .chain(every_strategy_on_file(&encoded, &query))
            {
                let got = got.unwrap_or_else(|e| panic!("{name}: unexpected error {e}"));
                let shown = String::from_utf8_lossy(text);
                assert_eq!(
                    got, expected,
                    "{name} (buffer {buffer}, {threads} threads) on {shown:?}"
                );
            }
        }
    }
}
