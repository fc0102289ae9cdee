//! Pieces the line-at-a-time regex rungs share: a line reader with one reused
//! byte buffer (no allocation or UTF-8 check per line; memory bounded by the
//! longest line), the end-of-run summary of a `Vec` of values, and the
//! anchored pattern. Shared here so that no rung reaches into another.

use std::io::{BufRead, BufReader};

use regex::bytes::{CaptureLocations, Regex};

use super::Query;
use crate::answer::Answer;
use crate::error::Result;
use crate::grammar::{self, Line};
use crate::input::Input;
use crate::scan;
use crate::tools::profile::{Probe, Stage};

/// Call `each` with every line of `input`, without its `\n` (a `\r` stays: the
/// caller applies the contract's rule), in order.
pub(crate) fn for_each_line(
    input: Input,
    buffer_size: usize,
    mut each: impl FnMut(&[u8]),
) -> Result<()> {
    let decoder = input.into_decoder();
    let name = decoder.name().to_owned();
    let mut reader = BufReader::with_capacity(buffer_size, decoder);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| crate::Error::read(&name, e))?;
        if n == 0 {
            return Ok(());
        }
        each(line.strip_suffix(b"\n").unwrap_or(&line));
    }
}

/// Decode `input` through one buffer of `query.buffer_size` bytes and fold
/// its lines with `fold`, which gets runs of whole lines (and the last line
/// if it has no `\n`): the loop of every buffered rung, its decoding and its
/// scan timed as `probe`'s stages (`Off` compiles to nothing).
#[inline(always)]
pub(crate) fn fold_buffers<P: Probe>(
    input: Input,
    query: &Query,
    probe: &P,
    mut fold: impl FnMut(&[u8], &mut Answer),
) -> Result<Answer> {
    let mut decoder = input.into_decoder();
    let mut answer = Answer::new();
    scan::fold_stream(
        |buf| probe.time(Stage::Decompress, || decoder.fill(buf)),
        query.buffer_size,
        &mut answer,
        |text, answer| probe.time(Stage::Scan, || fold(text, answer)),
    )?;
    Ok(answer)
}

/// Sum up values collected in a `Vec`, as the Vec-based rungs do at the end.
pub(crate) fn summarise(values: &[i64], tally: crate::Answer) -> crate::Answer {
    values.iter().fold(tally, |mut answer, &value| {
        answer.add_value(value);
        answer
    })
}

/// What the anchored regex makes of one line.
pub(crate) enum Anchored {
    /// A record of the metric asked for, with its value.
    Value(i64),
    /// Not a record at all.
    Malformed,
    /// Blank, or a record of another metric.
    Other,
}

/// The anchored regex `\A[0-9]+,METRIC,([+-]?[0-9]+)\z` with its reusable
/// capture slots. A line it rejects may still be a record of another metric,
/// so those lines are classified with the shared grammar (the contract counts
/// malformed lines of every metric).
pub(crate) struct AnchoredMatcher {
    /// `None` when no line can be a record of the metric (see [`anchored_pattern`]).
    regex: Option<(Regex, CaptureLocations)>,
}

impl AnchoredMatcher {
    pub(crate) fn new(metric: &[u8]) -> Self {
        let regex = anchored_pattern(metric).map(|p| {
            let regex = Regex::new(&p).expect("the pattern is valid");
            let locations = regex.capture_locations();
            (regex, locations)
        });
        AnchoredMatcher { regex }
    }

    /// Classify one line (without its `\n`).
    pub(crate) fn classify(&mut self, raw: &[u8]) -> Anchored {
        let text = grammar::strip_cr(raw);
        if let Some((regex, locations)) = &mut self.regex {
            if regex.captures_read(locations, text).is_some() {
                let (start, end) = locations.get(1).expect("group 1 always takes part");
                return match grammar::parse_value(&text[start..end]) {
                    Some(value) => Anchored::Value(value),
                    None => Anchored::Malformed, // digits, but beyond the i64 range
                };
            }
        }
        match grammar::classify(raw) {
            Line::Malformed => Anchored::Malformed,
            _ => Anchored::Other,
        }
    }
}

/// The anchored pattern for `metric`: `\A[0-9]+,METRIC,([+-]?[0-9]+)\z`, every
/// byte of the metric hex-escaped so any metric (even one that is not UTF-8)
/// is matched literally. `None` when no line can be a record of `metric`
/// (empty, or holding a comma).
fn anchored_pattern(metric: &[u8]) -> Option<String> {
    crate::grammar::metric_can_match(metric).then(|| {
        let literal: String = metric.iter().map(|b| format!("\\x{b:02x}")).collect();
        format!(r"(?-u)\A[0-9]+,{literal},([+-]?[0-9]+)\z")
    })
}
