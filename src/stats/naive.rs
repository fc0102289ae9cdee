//! The group-by a first version would write: every line read into an owned
//! buffer, split with the spec's grammar, each value pushed onto a `Vec` in a
//! map keyed by metric (and window), and every `Vec` sorted at the end for
//! its quantiles. The keys are the metric's bytes, not a `String`: a lossy
//! conversion would merge distinct non-UTF-8 metrics.
//!
//! It is the `stats` ladder's first rung: memory grows with the values and
//! the time goes to allocation, hashing and sorting. Same answer as the fast
//! engine on every input, which the tests check.

use std::collections::HashMap;
use std::io::BufRead;

use super::plan::{Place, StatsQuery};
use super::state::GroupState;
use super::summary::Summary;
use crate::error::Result;
use crate::grammar;
use crate::input::Input;
use crate::tools::profile::{Off, Probe, Stage, Timed};

pub fn summarise(input: Input, query: &StatsQuery) -> Result<Summary> {
    summarise_probed(input, query, &Off)
}

/// [`summarise`] with its stages timed by `probe` (`logbench profile`): the
/// same code, so the profile is of what the benchmark runs.
pub fn summarise_probed<P: Probe>(input: Input, query: &StatsQuery, probe: &P) -> Result<Summary> {
    let mut reader = std::io::BufReader::new(Timed::new(input.into_decoder(), probe));
    let mut values: HashMap<(Option<u64>, Vec<u8>), Vec<i64>> = HashMap::new();
    let mut summary = Summary::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = probe
            .time(Stage::SplitLines, || reader.read_until(b'\n', &mut line))
            .map_err(|e| reader.get_ref().get_ref().error(e))?;
        if read == 0 {
            break;
        }
        summary.lines += 1;
        let text = grammar::strip_cr(line.strip_suffix(b"\n").unwrap_or(&line));
        if text.is_empty() {
            continue;
        }
        let record = probe.time(Stage::ParseFilter, || {
            let Some((epoch, metric, value)) = grammar::parse_fields(text) else {
                summary.malformed += 1;
                summary.first_malformed.get_or_insert(summary.lines);
                return None;
            };
            summary.records += 1;
            let window = match query.place(grammar::epoch_value(epoch)) {
                Place::Window(start) => query.every.map(|_| start),
                Place::Filtered => return None,
                Place::OutOfRange => {
                    summary.out_of_range += 1;
                    return None;
                }
            };
            let asked = query.metrics.is_empty() || query.metrics.iter().any(|m| m == metric);
            asked.then_some((window, metric, value))
        });
        if let Some((window, metric, value)) = record {
            probe.time(Stage::Collect, || {
                values
                    .entry((window, metric.to_vec()))
                    .or_default()
                    .push(value)
            });
        }
    }
    probe.time(Stage::Summarise, || {
        for ((window, metric), mut list) in values {
            list.sort_unstable();
            let mut state = GroupState::default();
            for value in list {
                state.add(value);
            }
            summary
                .metrics
                .entry(metric)
                .or_default()
                .insert(window, state);
        }
    });
    Ok(summary)
}
