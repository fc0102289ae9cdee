//! `running-sum`: no `Vec`; the answer is folded as the lines go by.
//!
//! The one change from `anchored-regex`: each value is added to the running
//! answer at once instead of being pushed to a `Vec` and summed at the end,
//! the case study's memory point. Memory no longer grows with the file.

use super::shared::{Anchored, AnchoredMatcher, for_each_line};
use super::{Query, Strategy};
use crate::answer::Answer;
use crate::error::Result;
use crate::input::Input;

pub const STRATEGY: Strategy = Strategy {
    name: "running-sum",
    description: "no Vec: the answer is folded as lines go by (memory stays flat)",
    run,
    profile: None,
};

pub fn run(input: Input, query: &Query) -> Result<Answer> {
    let mut matcher = AnchoredMatcher::new(&query.metric);
    let mut answer = Answer::new();
    for_each_line(input, query.buffer_size, |raw| {
        answer.add_line();
        match matcher.classify(raw) {
            Anchored::Value(value) => answer.add_value(value),
            Anchored::Malformed => answer.add_malformed(),
            Anchored::Other => {}
        }
    })?;
    Ok(answer)
}
