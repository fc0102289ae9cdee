//! What `stats` is asked: the options of `STATS.md`, parsed and checked once.
//!
//! Quantiles are kept as the exact fraction the user wrote (`0.99` is 99/100),
//! so the nearest rank `ceil(q * count)` is computed in integers and the
//! 0.9-quantile of 10 values is the 9th, never the 10th.

use std::fmt;

/// One requested quantile: as written, and as an exact fraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantile {
    /// The text the user wrote (the key in JSON, the column in text and CSV).
    pub text: String,
    numerator: u128,
    denominator: u128,
}

/// The most decimal places a quantile may have: ranks stay exact in `u128`.
const MAX_DECIMALS: usize = 18;

impl Quantile {
    /// Parse `0.5`, `.99`, `1`, `0`: a decimal number from 0 to 1 inclusive.
    pub fn parse(text: &str) -> Result<Quantile, String> {
        let bad = || format!("quantile {text:?}: expected a decimal number from 0 to 1, like 0.99");
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
            return Err(bad());
        }
        if text.ends_with('.') {
            return Err(bad());
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > MAX_DECIMALS {
            return Err(format!(
                "quantile {text:?}: at most {MAX_DECIMALS} decimal places"
            ));
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > 1 || (whole == "1" && !fraction.is_empty()) || (whole > "1") {
            return Err(format!("quantile {text:?} is outside [0, 1]"));
        }
        let denominator = 10u128.pow(fraction.len() as u32);
        let fraction_value: u128 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| bad())?
        };
        let numerator = if whole == "1" {
            denominator
        } else {
            fraction_value
        };
        Ok(Quantile {
            text: text.to_owned(),
            numerator,
            denominator,
        })
    }

    /// The nearest rank among `count` sorted values: `max(1, ceil(q * count))`.
    pub fn rank(&self, count: u64) -> u64 {
        let scaled = self.numerator * u128::from(count);
        (scaled.div_ceil(self.denominator) as u64).max(1)
    }
}

impl fmt::Display for Quantile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The default quantiles: median, p90, p99.
pub fn default_quantiles() -> Vec<Quantile> {
    ["0.5", "0.9", "0.99"]
        .iter()
        .map(|q| Quantile::parse(q).expect("valid"))
        .collect()
}

/// Parse a window width: `3600`, `90s`, `5m`, `1h`, `1d`; positive seconds.
pub fn parse_width(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "window width {text:?}: expected a positive whole number of seconds, like 3600, 90s, 5m, 1h or 1d"
        )
    };
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let number: u64 = number.parse().map_err(|_| bad())?;
    match number.checked_mul(scale) {
        Some(0) | None => Err(bad()),
        Some(width) => Ok(width),
    }
}

/// Parse a time bound: epoch seconds, an RFC 3339 time, or a date (its
/// midnight UTC). Times before 1970 are negative.
pub fn parse_time(text: &str) -> Result<i128, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(i128::from)
            .map_err(|_| format!("time {text:?}: an epoch must fit in 64 bits"));
    }
    if let Ok(time) = text.parse::<jiff::Timestamp>() {
        return Ok(i128::from(time.as_second()));
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        if let Ok(zoned) = date.to_zoned(jiff::tz::TimeZone::UTC) {
            return Ok(i128::from(zoned.timestamp().as_second()));
        }
    }
    Err(format!(
        "time {text:?}: expected epoch seconds, an RFC 3339 time (2013-03-03T17:00:00Z) or a date (2013-03-03)"
    ))
}

/// Where [`StatsQuery::place`] puts a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// In the window that starts here (0 without `--every`).
    Window(u64),
    /// Before `--since` or from `--until` on: in no group.
    Filtered,
    /// Its EPOCH does not fit in 64 bits and windows or filters needed it:
    /// counted in `out_of_range` only.
    OutOfRange,
}

/// The whole question.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    /// Only these metrics (byte for byte); empty means every metric seen.
    pub metrics: Vec<Vec<u8>>,
    /// Window width in seconds.
    pub every: Option<u64>,
    /// Keep records with `EPOCH >= since`.
    pub since: Option<i128>,
    /// Keep records with `EPOCH < until`.
    pub until: Option<i128>,
    pub quantiles: Vec<Quantile>,
    pub threads: usize,
    pub buffer_size: usize,
    pub strict: bool,
    pub keep_going: bool,
}

impl Default for StatsQuery {
    fn default() -> Self {
        StatsQuery {
            metrics: Vec::new(),
            every: None,
            since: None,
            until: None,
            quantiles: default_quantiles(),
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            buffer_size: crate::strategy::DEFAULT_BUFFER_SIZE,
            strict: false,
            keep_going: false,
        }
    }
}

impl StatsQuery {
    /// Whether a record's EPOCH must be read as a number.
    pub fn needs_epoch(&self) -> bool {
        self.every.is_some() || self.since.is_some() || self.until.is_some()
    }

    /// Where a record goes by its EPOCH (`None` when the EPOCH does not fit
    /// in 64 bits): the window it falls in (0 without `--every`), or nowhere.
    #[inline]
    pub fn place(&self, epoch: Option<u64>) -> Place {
        if !self.needs_epoch() {
            return Place::Window(0);
        }
        let Some(epoch) = epoch else {
            return Place::OutOfRange;
        };
        let at = i128::from(epoch);
        if self.since.is_some_and(|since| at < since) || self.until.is_some_and(|until| at >= until)
        {
            return Place::Filtered;
        }
        Place::Window(match self.every {
            Some(width) => epoch - epoch % width,
            None => 0,
        })
    }

    /// [`StatsQuery::place`] for an epoch that fits in 64 bits, with the
    /// epochs that share its window: `Some(lo..hi)` when every epoch in it
    /// is placed in the same window, so a scan of an ordered log asks again
    /// only when it leaves the range (no division per record).
    pub fn place_with_span(&self, epoch: u64) -> (Place, Option<std::ops::Range<u64>>) {
        let place = self.place(Some(epoch));
        let Place::Window(start) = place else {
            return (place, None);
        };
        let end = match self.every {
            Some(width) => start.saturating_add(width),
            None => u64::MAX,
        };
        let clamp = |bound: i128| bound.clamp(0, i128::from(u64::MAX)) as u64;
        let lo = self.since.map_or(start, |since| start.max(clamp(since)));
        let hi = self.until.map_or(end, |until| end.min(clamp(until)));
        (place, Some(lo..hi))
    }

    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    pub fn with_buffer_size(mut self, bytes: usize) -> Self {
        self.buffer_size = bytes.max(1);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_exact_ceilings() {
        let q = |s| Quantile::parse(s).unwrap();
        assert_eq!(q("0.9").rank(10), 9);
        assert_eq!(q("0.99").rank(100), 99);
        assert_eq!(q("0.99").rank(101), 100);
        assert_eq!(q("0.5").rank(1), 1);
        assert_eq!(q("0").rank(7), 1);
        assert_eq!(q("1").rank(7), 7);
        assert_eq!(q("1.000").rank(7), 7);
        assert_eq!(q(".5").rank(4), 2);
        assert_eq!(q("0.1").rank(30), 3); // 0.1 * 30 is 3.0000000000000004 in f64
    }

    #[test]
    fn bad_quantiles_are_refused() {
        for bad in [
            "",
            ".",
            "1.5",
            "2",
            "-0.1",
            "0.5.",
            "abc",
            "1e-2",
            "0.1234567890123456789",
        ] {
            assert!(Quantile::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn spans_hold_one_placement() {
        let query = StatsQuery {
            every: Some(60),
            since: Some(130),
            until: Some(250),
            ..StatsQuery::default()
        };
        for epoch in 0..400u64 {
            let (place, span) = query.place_with_span(epoch);
            assert_eq!(place, query.place(Some(epoch)));
            if let Some(span) = span {
                assert!(span.contains(&epoch), "{epoch}: {span:?}");
                for other in span {
                    assert_eq!(query.place(Some(other)), place, "{epoch} and {other}");
                }
            }
        }
        let (_, span) = StatsQuery::default().place_with_span(5);
        assert!(span.is_some_and(|s| s.contains(&0) && s.contains(&(u64::MAX - 1))));
        let (_, span) = StatsQuery {
            every: Some(10),
            ..StatsQuery::default()
        }
        .place_with_span(u64::MAX);
        // The last window ends past u64: its span stops short of the last
        // epoch, which is then placed afresh each time, never wrongly.
        assert_eq!(span, Some(u64::MAX - 5..u64::MAX));
    }

    #[test]
    fn widths_and_times() {
        assert_eq!(parse_width("3600"), Ok(3600));
        assert_eq!(parse_width("90s"), Ok(90));
        assert_eq!(parse_width("5m"), Ok(300));
        assert_eq!(parse_width("1h"), Ok(3600));
        assert_eq!(parse_width("1d"), Ok(86_400));
        for bad in [
            "0",
            "0s",
            "-5",
            "1.5h",
            "h",
            "",
            "5w",
            "99999999999999999999d",
        ] {
            assert!(parse_width(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_time("1362330056"), Ok(1_362_330_056));
        assert_eq!(parse_time("2013-03-03T17:00:56Z"), Ok(1_362_330_056));
        assert_eq!(parse_time("2013-03-03"), Ok(1_362_268_800));
        assert_eq!(parse_time("1969-12-31T23:59:59Z"), Ok(-1));
        assert!(parse_time("yesterday").is_err());
    }
}
