//! `running-sum`: no `Vec`; the answer is folded as the lines go by.
//!
//! The one change from `anchored-regex`: each value is added to the running
//! answer at once instead of being pushed to a `Vec` and summed at the end,
//! the case study's memory point. Memory no longer grows with the file.

use regex::bytes::Regex;

use super::shared::{anchored_pattern, for_each_line};
use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;
use crate::line::{self, Line};

pub const STRATEGY: Strategy = Strategy {
    name: "running-sum",
    description: "no Vec: the answer is folded as lines go by (memory stays flat)",
    run,
    profile: None,
};

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    let regex =
        anchored_pattern(&query.metric).map(|p| Regex::new(&p).expect("the pattern is valid"));
    let mut captures = regex.as_ref().map(Regex::capture_locations);
    let mut answer = Answer::new();
    for_each_line(input, query.buffer_size, |raw| {
        answer.add_line();
        let text = line::strip_cr(raw);
        if let (Some(regex), Some(locations)) = (&regex, &mut captures) {
            if regex.captures_read(locations, text).is_some() {
                let (start, end) = locations.get(1).expect("group 1 always takes part");
                match line::parse_value(&text[start..end]) {
                    Some(value) => answer.add_value(value),
                    None => answer.add_malformed(), // digits, but beyond the i64 range
                }
                return;
            }
        }
        if line::classify(raw) == Line::Malformed {
            answer.add_malformed();
        }
    })?;
    Ok(answer)
}
