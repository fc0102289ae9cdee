//! The mergeable answer of `stats` over some part of the input, and its wire
//! form for other processes (the cluster path sends these between machines).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::state::GroupState;
use super::wire::Form;

/// One metric's groups, by the window's start (`None` without `--every`).
pub type Windows = BTreeMap<Option<u64>, GroupState>;

/// What a scan of part of the input found. Merging is associative, and
/// commutative in everything but the line numbers that `--strict` reports
/// (merge in input order for those).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The groups, by metric (its bytes), then window. Each metric's name is
    /// kept once however many windows it has.
    pub metrics: BTreeMap<Vec<u8>, Windows>,
    /// Well-formed lines seen, before any filter.
    pub records: u64,
    pub malformed: u64,
    /// Records whose EPOCH does not fit in 64 bits, when windows or time
    /// filters needed it as a number.
    pub out_of_range: u64,
    /// Lines seen (blank ones included), for line numbers.
    pub lines: u64,
    /// 1-based number of the first malformed line, counted from this part's start.
    pub first_malformed: Option<u64>,
    /// Whole files summarised.
    pub files: u64,
}

/// The wire form: bump the version whenever the serialised layout changes.
const FORM: Form = Form {
    magic: b"LBS\0",
    version: 2,
    what: "summary",
};

impl Summary {
    /// Whether any group holds a record.
    pub fn has_records(&self) -> bool {
        self.metrics
            .values()
            .flat_map(|windows| windows.values())
            .any(|group| group.count > 0)
    }

    /// Fold in the summary of the input that follows this one.
    pub fn merge(&mut self, later: Summary) {
        for (metric, mut theirs) in later.metrics {
            let Some(mine) = self.metrics.get_mut(&metric) else {
                self.metrics.insert(metric, theirs);
                continue;
            };
            // Parts of a time-ordered log share at most a window at the seam.
            if let (Some((&seam, _)), Some((&first, _))) =
                (mine.last_key_value(), theirs.first_key_value())
                && seam == first
            {
                let state = theirs.pop_first().expect("just seen").1;
                mine.last_entry()
                    .expect("just seen")
                    .get_mut()
                    .merge(&state);
            }
            if mine.last_key_value().map(|(&w, _)| w) < theirs.first_key_value().map(|(&w, _)| w) {
                mine.append(&mut theirs);
                continue;
            }
            for (window, state) in theirs {
                match mine.get_mut(&window) {
                    Some(group) => group.merge(&state),
                    None => {
                        mine.insert(window, state);
                    }
                }
            }
        }
        self.records += later.records;
        self.malformed += later.malformed;
        self.out_of_range += later.out_of_range;
        self.first_malformed = self
            .first_malformed
            .or(later.first_malformed.map(|n| n + self.lines));
        self.lines += later.lines;
        self.files += later.files;
    }

    /// A compact, versioned byte form (postcard: varints, no field names).
    pub fn to_bytes(&self) -> Vec<u8> {
        FORM.encode(self)
    }

    /// Read [`Summary::to_bytes`]'s form back; a wrong version or damaged
    /// bytes are an error, never a wrong summary.
    pub fn from_bytes(bytes: &[u8]) -> Result<Summary, String> {
        FORM.decode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(records: &[(Option<u64>, &str, i64)], lines: u64) -> Summary {
        let mut summary = Summary {
            lines,
            records: records.len() as u64,
            ..Summary::default()
        };
        for &(window, metric, value) in records {
            let windows = summary.metrics.entry(metric.into()).or_default();
            windows.entry(window).or_default().add(value);
        }
        summary
    }

    #[test]
    fn merging_joins_seams_and_interleaved_windows() {
        let mut whole = part(
            &[(Some(0), "a", 1), (Some(60), "a", 2), (Some(60), "b", 3)],
            3,
        );
        whole.first_malformed = None;
        let mut later = part(
            &[(Some(60), "a", 4), (Some(120), "a", 5), (Some(0), "b", 6)],
            4,
        );
        later.first_malformed = Some(2);
        whole.merge(later);
        let a = &whole.metrics[b"a".as_slice()];
        assert_eq!(
            a.keys().copied().collect::<Vec<_>>(),
            [Some(0), Some(60), Some(120)]
        );
        assert_eq!((a[&Some(60)].count, a[&Some(60)].sum), (2, 6));
        let b = &whole.metrics[b"b".as_slice()];
        assert_eq!(b.keys().copied().collect::<Vec<_>>(), [Some(0), Some(60)]);
        assert_eq!((whole.records, whole.lines), (6, 7));
        assert_eq!(whole.first_malformed, Some(5));
    }

    #[test]
    fn the_wire_form_round_trips_and_refuses_damage() {
        let mut summary = part(
            &[(None, "cpu", -7), (None, "cpu", 9), (None, "\u{e9}", 1)],
            3,
        );
        summary
            .metrics
            .get_mut(b"cpu".as_slice())
            .unwrap()
            .get_mut(&None)
            .unwrap()
            .compact();
        summary.malformed = 2;
        let bytes = summary.to_bytes();
        assert_eq!(Summary::from_bytes(&bytes), Ok(summary));
        assert!(Summary::from_bytes(&bytes[..3]).is_err());
        assert!(Summary::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Summary::from_bytes(&longer).is_err());
        let mut other_version = bytes.clone();
        other_version[4] ^= 0xff;
        assert!(
            Summary::from_bytes(&other_version)
                .unwrap_err()
                .contains("version")
        );
        assert!(Summary::from_bytes(b"PK\x03\x04\x00\x00").is_err());
    }
}
