//! `bytes-regex`: the baseline's regex, on bytes.
//!
//! The one change from `naive-regex`: lines are read into one reused byte
//! buffer and matched with `regex::bytes`, so there is no allocation and no
//! UTF-8 validation per line. The pattern is the same lazy, unanchored
//! `(.*?),(.*?),(.*)` with Unicode off, so `.` matches any byte (the log need
//! not be UTF-8). Values are still pushed to a `Vec` and summed at the end.

use regex::bytes::Regex;

use super::shared::{for_each_line, summarise};
use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::grammar;
use crate::input::Input;

pub const STRATEGY: Strategy = Strategy {
    name: "bytes-regex",
    description: "the same regex on a reused byte buffer: no per-line allocation, no UTF-8 check",
    run,
    profile: None,
};

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    let regex = Regex::new(r"(?-u)(.*?),(.*?),(.*)").expect("the pattern is valid");
    let mut values: Vec<i64> = Vec::new();
    let mut tally = Answer::new();
    let mut captures = regex.capture_locations();
    for_each_line(input, query.buffer_size, |raw| {
        tally.add_line();
        let text = grammar::strip_cr(raw);
        if text.is_empty() {
            return;
        }
        let Some(_) = regex.captures_read(&mut captures, text) else {
            tally.add_malformed();
            return;
        };
        let field = |i| captures.get(i).map_or(&b""[..], |(s, e)| &text[s..e]);
        match grammar::check_fields(field(1), field(2), field(3)) {
            Some(value) if field(2) == query.metric.as_slice() => values.push(value),
            Some(_) => {}
            None => tally.add_malformed(),
        }
    })?;
    Ok(summarise(&values, tally))
}
