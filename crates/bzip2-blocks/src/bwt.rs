//! The inverse Burrows–Wheeler transform. One walk through its table is a
//! chain of dependent loads, each a likely cache miss; here rows marked in
//! advance start segments, [`LANES`] segments are walked side by side so
//! their misses overlap, and the segments are then laid out in text order.

use crate::block::BlockDecoder;

impl BlockDecoder {
    /// Build the walk's table from the last column: the `i`-th occurrence of
    /// byte `c` in the last column is the `i`-th occurrence in the first
    /// column, which starts at `first[c]` (the bytes sorted). Every row that
    /// is a multiple of [`SEGMENT_STRIDE`] starts a segment: the entry that
    /// leads to it is marked.
    pub(crate) fn link_columns(&mut self, counts: &[u32; 256]) {
        let len = self.column.len();
        let mut first = [0u32; 256];
        let mut sum = 0;
        for (slot, &count) in first.iter_mut().zip(counts) {
            *slot = sum;
            sum += count;
        }
        if self.forward.len() < len {
            self.forward.resize(len, 0);
        }
        let (column, forward) = (&self.column[..len], &mut self.forward[..len]);
        // The last column comes in runs of one byte: keep the run's next row
        // in a register rather than adding to `first` in memory every byte.
        let (mut byte_of_run, mut row) = (0u8, first[0] as usize);
        for (i, &byte) in column.iter().enumerate() {
            if byte != byte_of_run {
                first[usize::from(byte_of_run)] = row as u32;
                byte_of_run = byte;
                row = first[usize::from(byte)] as usize;
            }
            let mark = u32::from(i % SEGMENT_STRIDE == 0) << 31;
            forward[row] = u32::from(column[row]) | (i as u32) << 8 | mark;
            row += 1;
        }
    }

    /// Rebuild the text (before the initial run-length step) into
    /// `self.column`, walking [`LANES`] segments at once. `false` if the
    /// walk from the text's first row does not come back to it after exactly
    /// the block's length: the table is not one cycle through the block, as a
    /// corrupt block's may be. Otherwise the text is exactly what libbzip2's
    /// single walk gives, so the CRC check reaches the same verdict.
    ///
    /// One walk is a chain of dependent loads, each a likely cache miss in a
    /// table of 3.6 MB. The segments start at rows known in advance (the
    /// marked ones, and the text's first row), so their walks are independent
    /// and their misses overlap. Each ends where the next segment starts, and
    /// the segments are then laid out in text order.
    pub(crate) fn walk(&mut self, origin: usize) -> bool {
        let len = self.column.len();
        let forward = &mut self.forward[..len];
        let first_row = ((forward[origin] >> 8) & ROW) as usize;
        forward[origin] |= MARK; // the text's first row starts a segment too
        let starts = SegmentStarts::new(len, first_row);
        let segments = walk_segments(forward, &starts, &mut self.lanes);
        let Some(segments) = segments else {
            return false;
        };
        // Lay the segments out in text order, from the text's first row.
        let (mut row, mut written) = (first_row, 0);
        while written < len {
            let Some(segment) = starts.index(row).and_then(|k| segments.get(k)) else {
                return false;
            };
            let piece = &self.lanes[segment.lane][segment.from..segment.from + segment.len];
            let Some(target) = self.column.get_mut(written..written + piece.len()) else {
                return false;
            };
            target.copy_from_slice(piece);
            written += piece.len();
            row = segment.next;
        }
        row == first_row
    }
}

/// Segments of the inverse BWT walked side by side.
pub(crate) const LANES: usize = 8;
/// Rows that are multiples of this start segments (~220 in a 900 kB block).
const SEGMENT_STRIDE: usize = 1 << 12;
/// In a walk table entry: the next row starts a segment.
pub(crate) const MARK: u32 = 1 << 31;
/// In a walk table entry, after `>> 8`: the next row.
const ROW: u32 = (1 << 23) - 1;

/// The rows where segments start: the text's first row, then every multiple
/// of [`SEGMENT_STRIDE`] but that one; segment `k` starts at `row(k)`.
struct SegmentStarts {
    len: usize,
    first_row: usize,
}

impl SegmentStarts {
    fn new(len: usize, first_row: usize) -> SegmentStarts {
        SegmentStarts { len, first_row }
    }

    fn count(&self) -> usize {
        1 + self.len.div_ceil(SEGMENT_STRIDE)
            - usize::from(self.first_row.is_multiple_of(SEGMENT_STRIDE))
    }

    fn row(&self, k: usize) -> usize {
        if k == 0 {
            return self.first_row;
        }
        let stride_index = k - 1;
        // Skip the multiple that is the first row (it is segment 0).
        let skipped = self.first_row.is_multiple_of(SEGMENT_STRIDE)
            && stride_index >= self.first_row / SEGMENT_STRIDE;
        (stride_index + usize::from(skipped)) * SEGMENT_STRIDE
    }

    /// The segment starting at `row`, if one does.
    fn index(&self, row: usize) -> Option<usize> {
        if row == self.first_row {
            return Some(0);
        }
        if !row.is_multiple_of(SEGMENT_STRIDE) || row >= self.len {
            return None;
        }
        let stride_index = row / SEGMENT_STRIDE;
        let skipped = self.first_row.is_multiple_of(SEGMENT_STRIDE) && row > self.first_row;
        Some(1 + stride_index - usize::from(skipped))
    }
}

/// Where a walked segment's bytes are and the row that follows it.
#[derive(Clone, Copy, Default)]
struct Segment {
    lane: usize,
    from: usize,
    len: usize,
    next: usize,
}

/// The segments walked so far and the next one to start.
struct Schedule {
    segments: Vec<Segment>,
    next_start: usize,
    walked: usize,
}

impl Schedule {
    /// The lane `lane`, now `lane_len` bytes long, reached a marked entry
    /// leading to `next`: close its segment and give it the next one, if any.
    fn finish(&mut self, lane: usize, lane_len: usize, next: usize, current: &mut usize) -> bool {
        let done = &mut self.segments[*current];
        done.len = lane_len - done.from;
        done.next = next;
        self.walked += done.len;
        if self.next_start == self.segments.len() {
            return false;
        }
        *current = self.start(lane, lane_len);
        true
    }

    /// Start the next segment on `lane`, at its byte `from`.
    fn start(&mut self, lane: usize, from: usize) -> usize {
        let k = self.next_start;
        self.segments[k].lane = lane;
        self.segments[k].from = from;
        self.next_start += 1;
        k
    }
}

/// Walk every segment, [`LANES`] at a time, each lane appending the bytes of
/// its segments to its own buffer. `None` if the walks take more steps than
/// the block has bytes (they cannot, for any table: each walk stays in the
/// cycle of its start and stops at the next marked row).
fn walk_segments(
    forward: &[u32],
    starts: &SegmentStarts,
    lanes: &mut [Vec<u8>; LANES],
) -> Option<Vec<Segment>> {
    let mut schedule = Schedule {
        segments: vec![Segment::default(); starts.count()],
        next_start: 0,
        walked: 0,
    };
    for lane in lanes.iter_mut() {
        lane.clear();
        lane.reserve(forward.len() / 4 + 4096); // a quarter: 2× the mean share
    }
    let (mut row, mut segment, mut active) = ([0usize; LANES], [0usize; LANES], [false; LANES]);
    for l in 0..LANES.min(schedule.segments.len()) {
        segment[l] = schedule.start(l, 0);
        (row[l], active[l]) = (starts.row(segment[l]), true);
    }
    // All lanes busy: a fixed round over them.
    // Segment ends are rare: a round only notes them, and they are handled
    // after it, which keeps the round short enough to unroll.
    while active == [true; LANES] {
        let mut marked = [false; LANES];
        for l in 0..LANES {
            let entry = forward[row[l]];
            lanes[l].push(entry as u8);
            row[l] = ((entry >> 8) & ROW) as usize;
            marked[l] = entry & MARK != 0;
        }
        if marked != [false; LANES] {
            for l in (0..LANES).filter(|&l| marked[l]) {
                active[l] = schedule.finish(l, lanes[l].len(), row[l], &mut segment[l]);
                row[l] = starts.row(segment[l]);
            }
            if schedule.walked > forward.len() {
                return None;
            }
        }
    }
    // The last segments, on the lanes still busy.
    for l in 0..LANES {
        while active[l] {
            let entry = forward[row[l]];
            lanes[l].push(entry as u8);
            row[l] = ((entry >> 8) & ROW) as usize;
            if entry & MARK != 0 {
                active[l] = schedule.finish(l, lanes[l].len(), row[l], &mut segment[l]);
                row[l] = starts.row(segment[l]);
            }
            if lanes[l].len() > forward.len() {
                return None;
            }
        }
    }
    (schedule.walked <= forward.len()).then_some(schedule.segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_starts_are_numbered_one_to_one() {
        let stride = SEGMENT_STRIDE;
        for len in [
            1,
            2,
            stride - 1,
            stride,
            stride + 1,
            5 * stride,
            5 * stride + 7,
        ] {
            for first_row in [0, 1, stride - 1, stride, 2 * stride, len - 1, len / 2] {
                if first_row >= len {
                    continue;
                }
                let starts = SegmentStarts::new(len, first_row);
                let mut rows: Vec<usize> = (0..len).step_by(stride).collect();
                rows.push(first_row);
                rows.sort_unstable();
                rows.dedup();
                assert_eq!(
                    starts.count(),
                    rows.len(),
                    "len {len}, first row {first_row}"
                );
                assert_eq!(starts.row(0), first_row);
                for k in 0..starts.count() {
                    assert_eq!(starts.index(starts.row(k)), Some(k), "len {len}, k {k}");
                }
                for row in 0..len.min(3 * stride) {
                    assert_eq!(
                        starts.index(row).is_some(),
                        rows.contains(&row),
                        "row {row}"
                    );
                }
            }
        }
    }
}
