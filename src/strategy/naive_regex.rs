//! `naive-regex`: the case study's baseline, ported faithfully.
//!
//! The Python original iterated a `BZ2File` line by line, ran the unanchored
//! lazy regex `(.*?),(.*?),(.*)\n` with `search` on every line, took `groups()`
//! inside a `try`, compared the metric, appended `int(value)` to a list and
//! averaged the list at the end. This rung keeps that shape and cost: a fresh
//! `String` per line (what `BufRead::lines` does, UTF-8 check included), the same
//! regex with captures on every line, a `Vec<i64>` of values, a summary at the end.
//!
//! It adds only what the contract needs: `int()` would accept what the contract
//! rejects (and vice versa), so captured fields are validated with the shared
//! grammar, and a line that is not UTF-8 (which `lines()` would turn into an
//! error) is classified from its bytes.

use std::hint::black_box;
use std::io::{BufRead, BufReader};

use regex::Regex;

use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::grammar::{self, Line};
use crate::input::Input;
use crate::tools::profile::{Off, Probe, Stage, Timed};

pub const STRATEGY: Strategy = Strategy {
    name: "naive-regex",
    description: "the case study's baseline: a String per line, unanchored lazy regex with captures, values pushed to a Vec",
    run,
    profile: Some(run_stages::<{ upto::FULL }, _>),
};

/// The case study's pattern, minus the `\n` that our lines no longer carry.
pub const PATTERN: &str = r"(.*?),(.*?),(.*)";

/// How much of the pipeline [`run_stages`] runs: the `stages` benchmark times
/// each prefix, so each stage's cost shows with no instrumentation at all.
pub mod upto {
    /// Only decode (read every byte through the decoder).
    pub const DECODE: u8 = 0;
    /// + split into a `String` per line.
    pub const SPLIT: u8 = 1;
    /// + the regex with captures.
    pub const REGEX: u8 = 2;
    /// + validate the fields, compare the metric, parse the value.
    pub const PARSE: u8 = 3;
    /// + push to the `Vec` and summarise: the whole rung.
    pub const FULL: u8 = 4;
}

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    run_stages::<{ upto::FULL }, _>(input, query, &Off)
}

/// The rung, up to stage `UPTO`, timed by `probe`. With `UPTO = FULL` and the
/// `Off` probe this is exactly `run`; the stage checks are constants, so the
/// compiler removes the ones that do not apply.
pub fn run_stages<const UPTO: u8, P: Probe>(
    input: Input,
    query: &Query,
    probe: &P,
) -> Result<Answer> {
    let decoder = input.into_decoder();
    let name = decoder.name().to_owned();
    let mut reader = BufReader::with_capacity(query.buffer_size, Timed::new(decoder, probe));
    let read_error = |e| crate::Error::read(&name, e);
    if UPTO == upto::DECODE {
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(read_error)?;
        return Ok(Answer::new());
    }
    let regex = Regex::new(PATTERN).expect("the pattern is valid");
    let mut values: Vec<i64> = Vec::new();
    let mut tally = Answer::new();
    loop {
        let mut bytes = Vec::new(); // a fresh buffer per line, as `lines()` allocates
        let n = probe
            .time(Stage::SplitLines, || reader.read_until(b'\n', &mut bytes))
            .map_err(read_error)?;
        if n == 0 {
            break;
        }
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        tally.add_line();
        match probe.time(Stage::SplitLines, || String::from_utf8(bytes)) {
            Ok(text) if UPTO == upto::SPLIT => _ = black_box(text),
            Ok(text) => process_line::<UPTO, P>(
                &regex,
                &text,
                &query.metric,
                &mut values,
                &mut tally,
                probe,
            ),
            Err(not_utf8) => {
                process_bytes(not_utf8.as_bytes(), &query.metric, &mut values, &mut tally)
            }
        }
    }
    if UPTO < upto::FULL {
        return Ok(tally);
    }
    // The case study's `summarise`: one pass over the collected values.
    Ok(probe.time(Stage::Summarise, || {
        super::shared::summarise(&values, tally)
    }))
}

/// The case study's `process_line`: search, take the groups, compare, push.
fn process_line<const UPTO: u8, P: Probe>(
    regex: &Regex,
    text: &str,
    metric: &[u8],
    values: &mut Vec<i64>,
    tally: &mut Answer,
    probe: &P,
) {
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.is_empty() {
        return;
    }
    let groups = probe.time(Stage::Regex, || regex.captures(text));
    if UPTO == upto::REGEX {
        black_box(groups);
        return;
    }
    let Some(groups) = groups else {
        tally.add_malformed();
        return;
    };
    let wanted = probe.time(Stage::ParseFilter, || {
        let (epoch, name, value) = (&groups[1], &groups[2], &groups[3]);
        grammar::check_fields(epoch.as_bytes(), name.as_bytes(), value.as_bytes())
            .map(|value| (name.as_bytes() == metric).then_some(value))
    });
    match wanted {
        None => tally.add_malformed(),
        Some(wanted) if UPTO == upto::PARSE => _ = black_box(wanted),
        Some(Some(value)) => probe.time(Stage::Collect, || values.push(value)),
        Some(None) => {}
    }
}

/// A line that is not UTF-8 can still be a record (METRIC is any bytes).
fn process_bytes(bytes: &[u8], metric: &[u8], values: &mut Vec<i64>, tally: &mut Answer) {
    match grammar::classify(bytes) {
        Line::Blank => {}
        Line::Malformed => tally.add_malformed(),
        Line::Record { metric: m, value } => {
            if m == metric {
                values.push(value);
            }
        }
    }
}
