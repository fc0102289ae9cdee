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

use std::io::{BufRead, BufReader};

use regex::Regex;

use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;
use crate::line::{self, Line};

pub const STRATEGY: Strategy = Strategy {
    name: "naive-regex",
    description: "the case study's baseline: a String per line, unanchored lazy regex with captures, values pushed to a Vec",
    run,
};

/// The case study's pattern, minus the `\n` that our lines no longer carry.
pub const PATTERN: &str = r"(.*?),(.*?),(.*)";

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    let decoder = input.into_decoder();
    let name = decoder.name().to_owned();
    let mut reader = BufReader::with_capacity(query.buffer_size, decoder);
    let regex = Regex::new(PATTERN).expect("the pattern is valid");
    let mut values: Vec<i64> = Vec::new();
    let mut tally = Answer::new();
    loop {
        let mut bytes = Vec::new(); // a fresh buffer per line, as `lines()` allocates
        let n = reader
            .read_until(b'\n', &mut bytes)
            .map_err(|e| crate::Error::read(&name, e))?;
        if n == 0 {
            break;
        }
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        tally.add_line();
        match String::from_utf8(bytes) {
            Ok(text) => process_line(&regex, &text, &query.metric, &mut values, &mut tally),
            Err(not_utf8) => {
                process_bytes(not_utf8.as_bytes(), &query.metric, &mut values, &mut tally)
            }
        }
    }
    // The case study's `summarise`: one pass over the collected values.
    Ok(super::shared::summarise(&values, tally))
}

/// The case study's `process_line`: search, take the groups, compare, push.
fn process_line(
    regex: &Regex,
    text: &str,
    metric: &[u8],
    values: &mut Vec<i64>,
    tally: &mut Answer,
) {
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.is_empty() {
        return;
    }
    let Some(groups) = regex.captures(text) else {
        tally.add_malformed();
        return;
    };
    let (epoch, name, value) = (&groups[1], &groups[2], &groups[3]);
    let value = match (
        line::is_epoch(epoch.as_bytes()) && !name.is_empty(),
        line::parse_value(value.as_bytes()),
    ) {
        (true, Some(value)) => value,
        _ => {
            tally.add_malformed();
            return;
        }
    };
    if name.as_bytes() == metric {
        values.push(value);
    }
}

/// A line that is not UTF-8 can still be a record (METRIC is any bytes).
fn process_bytes(bytes: &[u8], metric: &[u8], values: &mut Vec<i64>, tally: &mut Answer) {
    match line::classify(bytes) {
        Line::Blank => {}
        Line::Malformed => tally.add_malformed(),
        Line::Record { metric: m, value } => {
            if m == metric {
                values.push(value);
            }
        }
    }
}
