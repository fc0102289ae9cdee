//! bzip2's steps between the Huffman codes and the inverse BWT, undone:
//! move-to-front with its zero runs (RUNA/RUNB digits) into the BWT's last
//! column, and, once the inverse BWT has given the text back, the first step
//! (four equal bytes followed by a count of further copies).

use crate::bits::BitReader;
use crate::block::{BlockDecoder, BlockError, GROUP_SIZE, Tables};

/// A run length (RUNA/RUNB digits) past this is corrupt: no block holds more.
const MAX_RUN: u64 = 1 << 24;

impl BlockDecoder {
    /// Decode the Huffman-coded MTF/RLE2 symbols into the BWT's last column
    /// (`self.column`); return how often each byte occurs in it.
    pub(crate) fn read_column(
        &mut self,
        bits: &mut BitReader<'_>,
        tables: &Tables,
        max_len: usize,
    ) -> Result<[u32; 256], BlockError> {
        let column = &mut self.column;
        column.clear();
        column.reserve(max_len);
        let mut counts = [0u32; 256];
        let mut mtf = MoveToFront::new();
        let end_of_block = tables.alphabet - 1;
        let (mut run, mut weight) = (0u64, 1u64);
        for &selector in &tables.selectors {
            let code = &tables.codes[usize::from(selector)];
            for _ in 0..GROUP_SIZE {
                let symbol = code.decode(bits)?;
                if symbol <= 1 {
                    // RUNA (1) / RUNB (2) digits of a bijective base-2 run length.
                    run += weight << symbol;
                    weight <<= 1;
                    if run > MAX_RUN {
                        return Err(BlockError::Corrupt("run longer than a block"));
                    }
                    continue;
                }
                if run > 0 {
                    let byte = tables.byte_of[usize::from(mtf.front())];
                    if column.len() + run as usize > max_len {
                        return Err(BlockError::Corrupt("block longer than its level allows"));
                    }
                    column.resize(column.len() + run as usize, byte);
                    counts[usize::from(byte)] += run as u32;
                    (run, weight) = (0, 1);
                }
                if symbol == end_of_block {
                    return Ok(counts);
                }
                if column.len() >= max_len {
                    return Err(BlockError::Corrupt("block longer than its level allows"));
                }
                let byte = tables.byte_of[usize::from(mtf.take(symbol - 1))];
                column.push(byte);
                counts[usize::from(byte)] += 1;
            }
        }
        Err(BlockError::Corrupt("no end-of-block symbol"))
    }
}

/// The move-to-front list of byte-value indices.
struct MoveToFront {
    list: [u8; 256],
}

impl MoveToFront {
    fn new() -> MoveToFront {
        MoveToFront {
            list: std::array::from_fn(|i| i as u8),
        }
    }

    fn front(&self) -> u8 {
        self.list[0]
    }

    /// The entry at `rank` (< 256), moved to the front.
    #[inline(always)]
    fn take(&mut self, rank: u16) -> u8 {
        let rank = usize::from(rank) & 0xff;
        let value = self.list[rank];
        if rank < 16 {
            // The usual case: shift the first 16 entries as one integer.
            let head = u128::from_le_bytes(self.list[..16].try_into().expect("16 bytes"));
            let moved = u128::MAX >> (120 - 8 * rank); // lanes 0..=rank
            let head = ((head << 8) & moved) | (head & !moved) | u128::from(value);
            self.list[..16].copy_from_slice(&head.to_le_bytes());
        } else {
            self.list.copy_within(..rank, 1);
            self.list[0] = value;
        }
        value
    }
}

/// Undo bzip2's first step: four equal bytes are followed by a count (0-255)
/// of further copies. Text between runs is copied a span at a time. Four
/// equal bytes with no count after them end no block bzip2 writes, and
/// libbzip2 rejects them: so does this.
pub(crate) fn undo_initial_runs(column: &[u8], text: &mut Vec<u8>) -> Result<(), BlockError> {
    text.reserve(column.len());
    let mut i = 0;
    while i < column.len() {
        let run = next_run(column, i);
        text.extend_from_slice(&column[i..run]);
        i = run;
        if i < column.len() {
            let Some(&more) = column.get(i + 4) else {
                return Err(BlockError::Corrupt(
                    "a run without its count ends the block",
                ));
            };
            text.resize(text.len() + 4 + usize::from(more), column[i]);
            i += 5;
        }
    }
    Ok(())
}

/// Where the first four equal bytes at or after `from` start, or
/// `column.len()`; eight starting positions are tested at once.
fn next_run(column: &[u8], from: usize) -> usize {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let word = |at: usize| u64::from_le_bytes(column[at..at + 8].try_into().expect("8 bytes"));
    let mut at = from;
    while at + 11 <= column.len() {
        let here = word(at);
        // A zero lane: that byte equals the three after it.
        let differ = (here ^ word(at + 1)) | (here ^ word(at + 2)) | (here ^ word(at + 3));
        let zero_lanes = !(((differ & LOW7) + LOW7) | differ | LOW7);
        if zero_lanes != 0 {
            return at + zero_lanes.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    while at + 4 <= column.len() {
        let byte = column[at];
        if column[at + 1..at + 4] == [byte; 3] {
            return at;
        }
        at += 1;
    }
    column.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn four_equal_bytes_without_a_count_are_corrupt() {
        assert!(undo_initial_runs(b"abcdddd", &mut Vec::new()).is_err());
        let mut text = Vec::new();
        undo_initial_runs(b"abcdddd\x02", &mut text).unwrap();
        assert_eq!(text, b"abcdddddd");
    }

    #[test]
    fn move_to_front_matches_a_plain_list() {
        let mut fast = MoveToFront::new();
        let mut plain: Vec<u8> = (0..=255).collect();
        let mut state = 12345u32;
        for _ in 0..10_000 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let rank = if state & 0x100 == 0 {
                (state >> 16) % 20
            } else {
                (state >> 16) % 256
            };
            let value = plain.remove(rank as usize);
            plain.insert(0, value);
            assert_eq!(fast.take(rank as u16), value);
            assert_eq!(fast.list[..], plain[..]);
        }
    }

    proptest! {
        #[test]
        fn next_run_finds_the_first_four_equal_bytes(
            column in proptest::collection::vec(0u8..3, 0..80),
            from in 0usize..80,
        ) {
            let from = from.min(column.len());
            let plain = (from..column.len().saturating_sub(3))
                .find(|&k| column[k + 1..k + 4] == [column[k]; 3])
                .unwrap_or(column.len());
            prop_assert_eq!(next_run(&column, from), plain);
        }
    }
}
