//! Pieces the line-at-a-time regex rungs share: a line reader with one reused
//! byte buffer (no allocation or UTF-8 check per line; memory bounded by the
//! longest line), the end-of-run summary of a `Vec` of values, and the
//! anchored pattern. Shared here so that no rung reaches into another.

use std::io::{BufRead, BufReader};

use crate::error::Result;
use crate::input::Input;

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

/// Sum up values collected in a `Vec`, as the Vec-based rungs do at the end.
pub(crate) fn summarise(values: &[i64], tally: crate::Answer) -> crate::Answer {
    values.iter().fold(tally, |mut answer, &value| {
        answer.add_value(value);
        answer
    })
}

/// The anchored pattern for `metric`: `\A[0-9]+,METRIC,([+-]?[0-9]+)\z`, every
/// byte of the metric hex-escaped so any metric (even one that is not UTF-8)
/// is matched literally. `None` when no line can be a record of `metric`
/// (empty, or holding a comma).
pub(crate) fn anchored_pattern(metric: &[u8]) -> Option<String> {
    crate::line::metric_can_match(metric).then(|| {
        let literal: String = metric.iter().map(|b| format!("\\x{b:02x}")).collect();
        format!(r"(?-u)\A[0-9]+,{literal},([+-]?[0-9]+)\z")
    })
}
