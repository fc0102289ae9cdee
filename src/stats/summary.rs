//! The mergeable answer of `stats` over some part of the input, and its wire
//! form for other processes (the cluster path sends these between machines).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::state::GroupState;

/// A group: the window's start (with `--every`) and the metric's bytes. The
/// order is the output's: by window, then by metric in byte order.
pub type GroupKey = (Option<u64>, Vec<u8>);

/// What a scan of part of the input found. Merging is associative, and
/// commutative in everything but the line numbers that `--strict` reports
/// (merge in input order for those).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub groups: BTreeMap<GroupKey, GroupState>,
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

/// The wire form's first bytes, and its version: bump it whenever the
/// serialised layout changes.
const MAGIC: &[u8; 4] = b"LBS\0";
const VERSION: u16 = 1;

impl Summary {
    /// Fold in the summary of the input that follows this one.
    pub fn merge(&mut self, later: Summary) {
        for (key, state) in later.groups {
            match self.groups.get_mut(&key) {
                Some(mine) => mine.merge(&state),
                None => {
                    self.groups.insert(key, state);
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
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        postcard::to_extend(self, bytes).expect("a summary always serialises")
    }

    /// Read [`Summary::to_bytes`]'s form back; a wrong version or damaged
    /// bytes are an error, never a wrong summary.
    pub fn from_bytes(bytes: &[u8]) -> Result<Summary, String> {
        let Some((head, body)) = bytes.split_at_checked(MAGIC.len() + 2) else {
            return Err("too short to be a logbench summary".into());
        };
        if &head[..4] != MAGIC {
            return Err("not a logbench summary".into());
        }
        let version = u16::from_le_bytes([head[4], head[5]]);
        if version != VERSION {
            return Err(format!(
                "summary format version {version}; this logbench reads version {VERSION}"
            ));
        }
        match postcard::take_from_bytes::<Summary>(body) {
            Ok((summary, [])) => Ok(summary),
            Ok(_) => Err("trailing bytes after the summary".into()),
            Err(e) => Err(format!("damaged summary: {e}")),
        }
    }
}
