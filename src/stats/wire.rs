//! The byte forms that `stats`' states take between processes (a cluster's
//! units, partial states and summaries): four magic bytes naming the kind,
//! a version, then postcard (varints, no field names). A wrong kind, another
//! version, damaged or trailing bytes are an error, never a wrong state.

use serde::{Deserialize, Serialize};

/// One kind of byte form: its magic, its layout's version and its name in
/// errors. Bump the version whenever the serialised layout changes.
pub(crate) struct Form {
    pub magic: &'static [u8; 4],
    pub version: u16,
    pub what: &'static str,
}

impl Form {
    pub fn encode(&self, value: &impl Serialize) -> Vec<u8> {
        let mut bytes = self.magic.to_vec();
        bytes.extend_from_slice(&self.version.to_le_bytes());
        postcard::to_extend(value, bytes).expect("plain data serialises")
    }

    pub fn decode<T: for<'de> Deserialize<'de>>(&self, bytes: &[u8]) -> Result<T, String> {
        let what = self.what;
        let Some((head, body)) = bytes.split_at_checked(self.magic.len() + 2) else {
            return Err(format!("too short to be a logbench {what}"));
        };
        if &head[..4] != self.magic {
            return Err(format!("not a logbench {what}"));
        }
        let version = u16::from_le_bytes([head[4], head[5]]);
        if version != self.version {
            return Err(format!(
                "{what} format version {version}; this logbench reads version {}",
                self.version
            ));
        }
        match postcard::take_from_bytes::<T>(body) {
            Ok((value, [])) => Ok(value),
            Ok(_) => Err(format!("trailing bytes after the {what}")),
            Err(e) => Err(format!("damaged {what}: {e}")),
        }
    }
}
