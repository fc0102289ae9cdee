//! `anchored-regex`: the case study's own cure, the metric moves into the regex.
//!
//! The one change from `bytes-regex`: the pattern is anchored at both ends and
//! spells the metric out, `\A[0-9]+,METRIC,([+-]?[0-9]+)\z`, so a line of
//! another metric fails within a few bytes and a match captures only the value.
//! A line that does not match may still be a record of another metric or a
//! malformed line, so it is classified with the shared grammar (the contract
//! counts malformed lines of every metric). Values still go to a `Vec`.

use regex::bytes::Regex;

use super::shared::{anchored_pattern, for_each_line, summarise};
use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;
use crate::line::{self, Line};

pub const STRATEGY: Strategy = Strategy {
    name: "anchored-regex",
    description: "the metric moves into an anchored regex: other lines fail fast, captures shrink to the value",
    run,
    profile: None,
};

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    let regex =
        anchored_pattern(&query.metric).map(|p| Regex::new(&p).expect("the pattern is valid"));
    let mut captures = regex.as_ref().map(Regex::capture_locations);
    let mut values: Vec<i64> = Vec::new();
    let mut tally = Answer::new();
    for_each_line(input, query.buffer_size, |raw| {
        tally.add_line();
        let text = line::strip_cr(raw);
        if let (Some(regex), Some(locations)) = (&regex, &mut captures) {
            if regex.captures_read(locations, text).is_some() {
                let (start, end) = locations.get(1).expect("group 1 always takes part");
                match line::parse_value(&text[start..end]) {
                    Some(value) => values.push(value),
                    None => tally.add_malformed(), // digits, but beyond the i64 range
                }
                return;
            }
        }
        if line::classify(raw) == Line::Malformed {
            tally.add_malformed();
        }
    })?;
    Ok(summarise(&values, tally))
}
