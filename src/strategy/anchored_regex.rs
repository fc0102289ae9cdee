//! `anchored-regex`: the case study's own cure, the metric moves into the regex.
//!
//! The one change from `bytes-regex`: the pattern is anchored at both ends and
//! spells the metric out, `\A[0-9]+,METRIC,([+-]?[0-9]+)\z`, so a line of
//! another metric fails within a few bytes and a match captures only the value.
//! A line that does not match may still be a record of another metric or a
//! malformed line, so it is classified with the shared grammar (the contract
//! counts malformed lines of every metric). Values still go to a `Vec`.

use super::shared::{Anchored, AnchoredMatcher, for_each_line, summarise};
use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;

pub const STRATEGY: Strategy = Strategy {
    name: "anchored-regex",
    description: "the metric moves into an anchored regex: other lines fail fast, captures shrink to the value",
    run,
    profile: None,
};

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    let mut matcher = AnchoredMatcher::new(&query.metric);
    let mut values: Vec<i64> = Vec::new();
    let mut tally = Answer::new();
    for_each_line(input, query.buffer_size, |raw| {
        tally.add_line();
        match matcher.classify(raw) {
            Anchored::Value(value) => values.push(value),
            Anchored::Malformed => tally.add_malformed(),
            Anchored::Other => {}
        }
    })?;
    Ok(summarise(&values, tally))
}
