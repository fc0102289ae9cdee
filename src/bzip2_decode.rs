//! A bzip2 *block* decoder of our own, for the `parallel` rung.
//!
//! Why not the `bzip2` crate here, as everywhere else: once blocks are decoded
//! on every core, the block decoder is all the time there is, and libbzip2's
//! (in C, or `libbz2-rs-sys` in Rust: they measure the same) is ~40% slower
//! than lbzip2's on our logs. It reads each Huffman code a bit at a time, and
//! it walks the inverse Burrows–Wheeler transform as one chain of dependent
//! loads, each a cache miss in a 3.6 MB table. This decoder:
//!
//! - decodes Huffman codes of up to `LOOKUP_BITS` (10) bits with one table
//!   lookup (longer codes by canonical code ranges, as any decoder);
//! - walks the inverse BWT as eight independent segments at once (they start
//!   at rows marked in advance and are laid out in text order after), so
//!   eight cache misses are in flight instead of one;
//! - checks the block CRC with the `crc` crate's slicing tables.
//!
//! It decodes one block, from its magic to the next magic, given as bits of a
//! byte slice (the framing of [`crate::bzip2_blocks`] finds them). Anything it
//! does not accept comes back as an error: a corrupt block, and also the
//! valid but long-obsolete randomised blocks (bzip2 0.9.0 wrote them) and
//! Huffman tables no bzip2 encoder writes. The caller then hands that block
//! to libbzip2, which decodes it or names the corruption. A block whose text
//! does not match its CRC is never returned.
//!
//! Every index into a table comes from the stream, so each is checked (a
//! hostile block is an error, never a panic); the tables themselves are
//! permutations by construction, so the walk stays in bounds.

use crate::bzip2_blocks::BLOCK_MAGIC;

/// The longest Huffman code bzip2 allows.
const MAX_CODE_BITS: u32 = 20;
/// Codes up to this long are decoded with one lookup (6 tables of 1024 `u16`s:
/// 12 KiB, which stays in L1).
const LOOKUP_BITS: u32 = 10;
/// Symbols per Huffman table selector.
const GROUP_SIZE: u32 = 50;
const MIN_GROUPS: u32 = 2;
const MAX_GROUPS: u32 = 6;
/// A run length (RUNA/RUNB digits) past this is corrupt: no block holds more.
const MAX_RUN: u64 = 1 << 24;

/// Why a block was not decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockError {
    /// The bits break the format or the CRC does not match.
    Corrupt(&'static str),
    /// Valid bzip2 this decoder leaves to libbzip2.
    Unsupported(&'static str),
}

/// One block: bits `[start, end)` of `data`, from its magic up to the next
/// magic, of a stream of level `level` (`b'1'..=b'9'`).
#[derive(Debug, Clone, Copy)]
pub struct BlockBits<'a> {
    pub data: &'a [u8],
    pub start: u64,
    pub end: u64,
    pub level: u8,
}

/// The tables one block needs, kept between blocks (about 7 bytes a byte of
/// block: 6.3 MiB at level 9), so a thread decoding many blocks allocates once.
#[derive(Debug, Default)]
pub struct BlockDecoder {
    /// Per row of the BWT's last column: its byte, the row that follows it
    /// in the text, and [`MARK`] if that row starts a segment of the walk.
    forward: Vec<u32>,
    /// The last column as decoded, then the text before the run-length step.
    column: Vec<u8>,
    /// Each lane's walked segments.
    lanes: [Vec<u8>; LANES],
}

impl BlockDecoder {
    pub fn new() -> BlockDecoder {
        BlockDecoder::default()
    }

    /// Decode `block`, appending its text to `text` (which is left as it was
    /// if the block fails), and return the block's CRC.
    pub fn decode(&mut self, block: BlockBits<'_>, text: &mut Vec<u8>) -> Result<u32, BlockError> {
        let max_len = match block.level {
            b'1'..=b'9' => usize::from(block.level - b'0') * 100_000,
            _ => return Err(BlockError::Corrupt("stream level is not 1-9")),
        };
        let mut bits = BitReader::new(block.data, block.start, block.end)?;
        let header = read_header(&mut bits)?;
        let tables = read_tables(&mut bits)?;
        let counts = self.read_column(&mut bits, &tables, max_len)?;
        if bits.position() != block.end {
            // Blocks are contiguous: the next magic follows the end-of-block code.
            return Err(BlockError::Corrupt(
                "block does not end where the next magic starts",
            ));
        }
        let len = self.column.len();
        if header.origin as usize >= len {
            return Err(BlockError::Corrupt("origin pointer past the block"));
        }
        self.link_columns(&counts);
        if !self.walk(header.origin as usize) {
            return Err(BlockError::Corrupt(
                "the inverse BWT's two walks do not meet",
            ));
        }
        let before = text.len();
        let crc =
            undo_initial_runs(&self.column, text).map(|()| BZIP2_CRC.checksum(&text[before..]));
        if crc != Ok(header.crc) {
            text.truncate(before);
            return Err(crc
                .err()
                .unwrap_or(BlockError::Corrupt("block CRC does not match its text")));
        }
        Ok(header.crc)
    }

    /// Decode the Huffman-coded MTF/RLE2 symbols into the BWT's last column
    /// (`self.column`); return how often each byte occurs in it.
    fn read_column(
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

    /// Build the walk's table from the last column: the `i`-th occurrence of
    /// byte `c` in the last column is the `i`-th occurrence in the first
    /// column, which starts at `first[c]` (the bytes sorted). Every row that
    /// is a multiple of [`SEGMENT_STRIDE`] starts a segment: the entry that
    /// leads to it is marked.
    fn link_columns(&mut self, counts: &[u32; 256]) {
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
    fn walk(&mut self, origin: usize) -> bool {
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
const LANES: usize = 8;
/// Rows that are multiples of this start segments (~220 in a 900 kB block).
const SEGMENT_STRIDE: usize = 1 << 12;
/// In a walk table entry: the next row starts a segment.
const MARK: u32 = 1 << 31;
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
        1 + self.len.div_ceil(SEGMENT_STRIDE) - usize::from(self.first_row % SEGMENT_STRIDE == 0)
    }

    fn row(&self, k: usize) -> usize {
        if k == 0 {
            return self.first_row;
        }
        let stride_index = k - 1;
        // Skip the multiple that is the first row (it is segment 0).
        let skipped =
            self.first_row % SEGMENT_STRIDE == 0 && stride_index >= self.first_row / SEGMENT_STRIDE;
        (stride_index + usize::from(skipped)) * SEGMENT_STRIDE
    }

    /// The segment starting at `row`, if one does.
    fn index(&self, row: usize) -> Option<usize> {
        if row == self.first_row {
            return Some(0);
        }
        if row % SEGMENT_STRIDE != 0 || row >= self.len {
            return None;
        }
        let stride_index = row / SEGMENT_STRIDE;
        let skipped = self.first_row % SEGMENT_STRIDE == 0 && row > self.first_row;
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

/// bzip2's CRC-32 (MSB first, polynomial 0x04C11DB7), 16 bytes a step.
const BZIP2_CRC: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_BZIP2);

struct Header {
    crc: u32,
    origin: u32,
}

fn read_header(bits: &mut BitReader<'_>) -> Result<Header, BlockError> {
    let magic = (u64::from(bits.take(24)) << 24) | u64::from(bits.take(24));
    if magic != BLOCK_MAGIC {
        return Err(BlockError::Corrupt("no block magic"));
    }
    let crc = bits.take(32);
    if bits.take(1) == 1 {
        return Err(BlockError::Unsupported("randomised block"));
    }
    let origin = bits.take(24);
    Ok(Header { crc, origin })
}

/// What the block says before its symbols: which bytes occur, the Huffman
/// tables and which table codes each group of 50 symbols.
struct Tables {
    byte_of: [u8; 256],
    alphabet: u16,
    codes: Vec<Code>,
    selectors: Vec<u8>,
}

fn read_tables(bits: &mut BitReader<'_>) -> Result<Tables, BlockError> {
    let (byte_of, in_use) = read_bytes_in_use(bits);
    if in_use == 0 {
        return Err(BlockError::Corrupt("no byte value in use"));
    }
    let alphabet = in_use + 2;
    let groups = bits.take(3);
    if !(MIN_GROUPS..=MAX_GROUPS).contains(&groups) {
        return Err(BlockError::Corrupt("Huffman table count not 2-6"));
    }
    let selectors = read_selectors(bits, groups)?;
    let codes = (0..groups)
        .map(|_| Code::new(&read_code_lengths(bits, alphabet)?))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Tables {
        byte_of,
        alphabet,
        codes,
        selectors,
    })
}

/// The byte values in use, in order (a 16-bit map of 16-value ranges, then a
/// 16-bit map for each range used), and how many there are.
fn read_bytes_in_use(bits: &mut BitReader<'_>) -> ([u8; 256], u16) {
    let ranges = bits.take(16);
    let mut byte_of = [0u8; 256];
    let mut in_use = 0u16;
    for range in 0..16u32 {
        if ranges & (0x8000 >> range) == 0 {
            continue;
        }
        let values = bits.take(16);
        for value in 0..16u32 {
            if values & (0x8000 >> value) != 0 {
                byte_of[usize::from(in_use)] = (range * 16 + value) as u8;
                in_use += 1;
            }
        }
    }
    (byte_of, in_use)
}

/// The table number of each group, move-to-front coded in unary.
fn read_selectors(bits: &mut BitReader<'_>, groups: u32) -> Result<Vec<u8>, BlockError> {
    let count = bits.take(15);
    if count == 0 {
        return Err(BlockError::Corrupt("no Huffman table selector"));
    }
    let mut order: Vec<u8> = (0..groups as u8).collect();
    let mut selectors = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let mut rank = 0;
        while bits.take(1) == 1 {
            rank += 1;
            if rank >= groups as usize {
                return Err(BlockError::Corrupt("selector past the table count"));
            }
        }
        let table = order.remove(rank);
        order.insert(0, table);
        selectors.push(table);
    }
    Ok(selectors)
}

/// One table's code lengths, delta coded from a 5-bit start.
fn read_code_lengths(bits: &mut BitReader<'_>, alphabet: u16) -> Result<Vec<u8>, BlockError> {
    let mut length = bits.take(5);
    let mut lengths = Vec::with_capacity(usize::from(alphabet));
    for _ in 0..alphabet {
        loop {
            if !(1..=MAX_CODE_BITS).contains(&length) {
                return Err(BlockError::Corrupt("Huffman code length not 1-20"));
            }
            if bits.take(1) == 0 {
                break;
            }
            if bits.take(1) == 0 {
                length += 1;
            } else {
                length -= 1;
            }
            bits.check_in_bounds()?; // the loop must not spin on padding
        }
        lengths.push(length as u8);
    }
    Ok(lengths)
}

/// A canonical Huffman code: codes of each length are consecutive, shorter
/// codes first, and within a length in symbol order.
struct Code {
    /// For each `LOOKUP_BITS`-bit prefix: `symbol << 5 | length` of the code it
    /// starts with, or 0 if that code is longer.
    lookup: Box<[u16; 1 << LOOKUP_BITS]>,
    /// Per length: the first code, one past the last, and where its symbols
    /// start in `symbols`.
    first: [u32; MAX_CODE_BITS as usize + 1],
    end: [u32; MAX_CODE_BITS as usize + 1],
    offset: [u16; MAX_CODE_BITS as usize + 1],
    /// The symbols, by code.
    symbols: Vec<u16>,
}

impl Code {
    fn new(lengths: &[u8]) -> Result<Code, BlockError> {
        let mut count = [0u32; MAX_CODE_BITS as usize + 1];
        for &length in lengths {
            count[usize::from(length)] += 1;
        }
        let space: u64 = (1..=MAX_CODE_BITS)
            .map(|l| u64::from(count[l as usize]) << (MAX_CODE_BITS - l))
            .sum();
        if space > 1 << MAX_CODE_BITS {
            return Err(BlockError::Unsupported("over-subscribed Huffman code"));
        }
        let mut code = Code {
            lookup: Box::new([0; 1 << LOOKUP_BITS]),
            first: [0; MAX_CODE_BITS as usize + 1],
            end: [0; MAX_CODE_BITS as usize + 1],
            offset: [0; MAX_CODE_BITS as usize + 1],
            symbols: Vec::with_capacity(lengths.len()),
        };
        let (mut next, mut placed) = (0u32, 0u16);
        for (length, &count) in count.iter().enumerate().skip(1) {
            code.first[length] = next;
            code.end[length] = next + count;
            code.offset[length] = placed;
            next = (next + count) << 1;
            placed += count as u16;
        }
        for length in 1..=MAX_CODE_BITS as u8 {
            for (symbol, _) in lengths.iter().enumerate().filter(|&(_, &l)| l == length) {
                let value = code.first[usize::from(length)]
                    + (code.symbols.len() as u32 - u32::from(code.offset[usize::from(length)]));
                code.symbols.push(symbol as u16);
                if u32::from(length) <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - u32::from(length);
                    let entry = (symbol as u16) << 5 | u16::from(length);
                    let from = (value << shift) as usize;
                    code.lookup[from..from + (1 << shift)].fill(entry);
                }
            }
        }
        Ok(code)
    }

    #[inline(always)]
    fn decode(&self, bits: &mut BitReader<'_>) -> Result<u16, BlockError> {
        bits.ensure(MAX_CODE_BITS);
        let entry = self.lookup[bits.peek(LOOKUP_BITS) as usize];
        if entry != 0 {
            bits.skip(u32::from(entry & 31));
            return Ok(entry >> 5);
        }
        self.decode_long(bits)
    }

    #[inline(never)]
    fn decode_long(&self, bits: &mut BitReader<'_>) -> Result<u16, BlockError> {
        let prefix = bits.peek(MAX_CODE_BITS);
        for length in LOOKUP_BITS + 1..=MAX_CODE_BITS {
            let value = prefix >> (MAX_CODE_BITS - length);
            let l = length as usize;
            if value < self.end[l] && value >= self.first[l] {
                bits.skip(length);
                let at = usize::from(self.offset[l]) + (value - self.first[l]) as usize;
                return Ok(self.symbols[at]);
            }
        }
        Err(BlockError::Corrupt("bits that are no Huffman code"))
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
fn undo_initial_runs(column: &[u8], text: &mut Vec<u8>) -> Result<(), BlockError> {
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

/// Reads bits most significant first from `[start, end)` of a byte slice.
/// Past the end of the slice it reads zeros; [`BitReader::check_in_bounds`]
/// then reports that the block ran past its end.
struct BitReader<'a> {
    data: &'a [u8],
    /// The next byte to load (counting the zeros loaded past the slice).
    next: usize,
    /// Unread bits, left aligned; the bits below `count` are either zero or
    /// the next bits of the stream.
    buffer: u64,
    count: u32,
    end: u64,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8], start: u64, end: u64) -> Result<BitReader<'a>, BlockError> {
        if start > end || end > data.len() as u64 * 8 {
            return Err(BlockError::Corrupt("block bits outside the data"));
        }
        let mut reader = BitReader {
            data,
            next: (start / 8) as usize,
            buffer: 0,
            count: 0,
            end,
        };
        reader.skip_bits_before((start % 8) as u32);
        Ok(reader)
    }

    fn skip_bits_before(&mut self, bits: u32) {
        if bits > 0 {
            self.ensure(bits);
            self.skip(bits);
        }
    }

    /// The bit position of the next unread bit.
    fn position(&self) -> u64 {
        self.next as u64 * 8 - u64::from(self.count)
    }

    fn check_in_bounds(&self) -> Result<(), BlockError> {
        if self.position() > self.end {
            return Err(BlockError::Corrupt("block runs past its end"));
        }
        Ok(())
    }

    /// Make at least `n` (<= 56) bits available.
    #[inline(always)]
    fn ensure(&mut self, n: u32) {
        if self.count >= n {
            return;
        }
        if let Some(word) = self.data.get(self.next..self.next + 8) {
            let word = u64::from_be_bytes(word.try_into().expect("8 bytes"));
            self.buffer |= word >> self.count;
            let bytes = (63 - self.count) / 8;
            self.next += bytes as usize;
            self.count += bytes * 8;
        } else {
            self.ensure_near_the_end();
        }
    }

    #[inline(never)]
    fn ensure_near_the_end(&mut self) {
        while self.count <= 56 {
            let byte = self.data.get(self.next).copied().unwrap_or(0);
            self.buffer |= u64::from(byte) << (56 - self.count);
            self.next += 1;
            self.count += 8;
        }
    }

    /// The next `n` (1..=32) bits, not consumed; `ensure(n)` first.
    #[inline(always)]
    fn peek(&self, n: u32) -> u32 {
        (self.buffer >> (64 - n)) as u32
    }

    #[inline(always)]
    fn skip(&mut self, n: u32) {
        self.buffer <<= n;
        self.count -= n;
    }

    /// The next `n` (1..=32) bits.
    fn take(&mut self, n: u32) -> u32 {
        self.ensure(n);
        let value = self.peek(n);
        self.skip(n);
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bzip2_blocks::tests::bz2;
    use crate::bzip2_blocks::{BitWriter, Magic, find_magics};
    use proptest::prelude::*;

    /// The blocks of a one-stream file, as (start, end) bit offsets.
    fn blocks(stream: &[u8]) -> Vec<(u64, u64)> {
        let magics = find_magics(stream);
        magics
            .windows(2)
            .filter(|pair| pair[0].1 == Magic::Block)
            .map(|pair| (pair[0].0, pair[1].0))
            .collect()
    }

    /// Decode every block of `stream` with our decoder, in order.
    fn decode_all(stream: &[u8]) -> Result<Vec<u8>, BlockError> {
        let mut decoder = BlockDecoder::new();
        let mut text = Vec::new();
        for (start, end) in blocks(stream) {
            let block = BlockBits {
                data: stream,
                start,
                end,
                level: stream[3],
            };
            decoder.decode(block, &mut text)?;
        }
        Ok(text)
    }

    fn log_text(lines: u64) -> Vec<u8> {
        (0..lines)
            .flat_map(|i| {
                format!("{},cpu_usage,{}\n", 1_362_330_056 + i, (i * 7919) % 101).into_bytes()
            })
            .collect()
    }

    #[test]
    fn log_text_of_several_blocks_round_trips_at_every_level() {
        let text = log_text(40_000); // ~960 kB: a full block at level 9
        for level in [1, 5, 9] {
            let stream = bz2(&text, level);
            let full_blocks = text.len() / (level as usize * 100_000);
            assert!(blocks(&stream).len() > full_blocks, "level {level}");
            assert_eq!(decode_all(&stream).unwrap(), text, "level {level}");
        }
    }

    #[test]
    fn runs_of_every_length_round_trip() {
        // Runs of 1..600 bytes cover the count byte's 0..=255 and runs split
        // in several counted pieces; 4 equal bytes at the very end come too.
        let mut text = Vec::new();
        for length in 1..600usize {
            text.extend(std::iter::repeat_n(b"ab"[length % 2], length));
        }
        text.extend(b"xyzzzz");
        assert_eq!(decode_all(&bz2(&text, 1)).unwrap(), text);
    }

    #[test]
    fn four_equal_bytes_without_a_count_are_corrupt() {
        assert!(undo_initial_runs(b"abcdddd", &mut Vec::new()).is_err());
        let mut text = Vec::new();
        undo_initial_runs(b"abcdddd\x02", &mut text).unwrap();
        assert_eq!(text, b"abcdddddd");
    }

    #[test]
    fn every_byte_value_and_odd_and_even_lengths_round_trip() {
        let all: Vec<u8> = (0..=255u8).cycle().take(256 * 7 + 1).collect();
        for text in [&b"x"[..], b"xy", b"\n", &all, &all[1..]] {
            assert_eq!(decode_all(&bz2(text, 9)).unwrap(), text);
        }
    }

    #[test]
    fn long_codes_are_decoded_past_the_lookup_table() {
        // Byte frequencies falling off geometrically give Huffman codes much
        // longer than the lookup's 10 bits.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let text: Vec<u8> = (0..200_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state | 1 << 40).trailing_zeros() as u8 * 3
            })
            .collect();
        assert_eq!(decode_all(&bz2(&text, 2)).unwrap(), text);
    }

    /// What libbzip2 makes of a block, wrapped as a one-block stream.
    fn libbzip2(data: &[u8], start: u64, end: u64) -> Option<Vec<u8>> {
        use std::io::Read;
        let mut text = Vec::new();
        let wrapped = crate::bzip2_blocks::wrap_block(data, b'1', start, end);
        bzip2::read::BzDecoder::new(&wrapped[..])
            .read_to_end(&mut text)
            .ok()
            .map(|_| text)
    }

    #[test]
    fn with_any_bit_flipped_we_accept_what_libbzip2_accepts_and_nothing_else() {
        // The second text is a fuzzer's find: a flipped bit gave a table
        // whose inverse BWT is no single cycle, whose two half walks still
        // gave the text (libbzip2's one walk did not). The walks must meet.
        let texts = [log_text(40), vec![43, 158, 39, 248, 248, 64, 18, 2]];
        let mut decoder = BlockDecoder::new();
        for text in texts {
            let stream = bz2(&text, 1);
            let (start, end) = blocks(&stream)[0];
            for bit in start..end {
                let mut bad = stream.clone();
                bad[(bit / 8) as usize] ^= 0x80 >> (bit % 8);
                // Text already there stays, whatever the verdict.
                let mut out = b"before".to_vec();
                let block = BlockBits {
                    data: &bad,
                    start,
                    end,
                    level: b'1',
                };
                let verdict = decoder.decode(block, &mut out);
                assert!(out.starts_with(b"before"));
                let out = out.split_off(b"before".len());
                match verdict {
                    Ok(_) => assert_eq!(Some(out), libbzip2(&bad, start, end), "bit {bit}"),
                    Err(_) => assert!(out.is_empty(), "bit {bit}: text left behind"),
                }
            }
        }
    }

    #[test]
    fn a_block_cut_short_or_framed_too_long_is_an_error() {
        let stream = bz2(&log_text(100), 1);
        let (start, end) = blocks(&stream)[0];
        let mut decoder = BlockDecoder::new();
        for end in [start + 100, end - 1, end + 1] {
            let block = BlockBits {
                data: &stream,
                start,
                end,
                level: b'1',
            };
            assert!(decoder.decode(block, &mut Vec::new()).is_err(), "end {end}");
        }
        let wrong_level = BlockBits {
            data: &stream,
            start,
            end,
            level: b'0',
        };
        assert!(decoder.decode(wrong_level, &mut Vec::new()).is_err());
    }

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

    /// How a hand-built block departs from what bzip2 writes.
    #[derive(Clone, Copy, Default)]
    struct Quirks {
        randomised: bool,
        extra_selectors: u32,
    }

    /// A block of `text` (no four equal bytes in a row, at least one byte)
    /// built by hand with Huffman code lengths `lengths(alphabet)` for both of
    /// its two tables: what no bzip2 encoder writes (codes of 18-20 bits,
    /// selectors past 18002) made to order. Returns the bytes and the block's
    /// end bit.
    fn hand_built_block(
        text: &[u8],
        lengths: impl Fn(usize) -> Vec<u8>,
        quirks: Quirks,
    ) -> (Vec<u8>, u64) {
        let n = text.len();
        let mut rows: Vec<usize> = (0..n).collect();
        let rotation = |r: usize| {
            text[r..]
                .iter()
                .chain(&text[..r])
                .copied()
                .collect::<Vec<u8>>()
        };
        rows.sort_by_key(|&r| rotation(r));
        let origin = rows.iter().position(|&r| r == 0).unwrap();
        let last: Vec<u8> = rows.iter().map(|&r| text[(r + n - 1) % n]).collect();
        let mut in_use: Vec<u8> = text.to_vec();
        in_use.sort_unstable();
        in_use.dedup();
        // Move-to-front, zero runs as RUNA/RUNB digits, then end of block.
        let mut order: Vec<u8> = in_use.clone();
        let (mut symbols, mut zeros) = (Vec::new(), 0usize);
        let flush = |zeros: &mut usize, symbols: &mut Vec<u16>| {
            while *zeros > 0 {
                *zeros -= 1;
                symbols.push((*zeros & 1) as u16);
                *zeros >>= 1;
            }
        };
        for byte in last {
            let rank = order.iter().position(|&b| b == byte).unwrap();
            if rank == 0 {
                zeros += 1;
                continue;
            }
            flush(&mut zeros, &mut symbols);
            order.remove(rank);
            order.insert(0, byte);
            symbols.push(rank as u16 + 1);
        }
        flush(&mut zeros, &mut symbols);
        let alphabet = in_use.len() + 2;
        symbols.push(alphabet as u16 - 1);
        let lengths = lengths(alphabet);
        // Canonical codes, as the decoder assigns them.
        let mut codes = vec![0u64; alphabet];
        let mut next = 0u64;
        for length in 1..=20u8 {
            for s in (0..alphabet).filter(|&s| lengths[s] == length) {
                codes[s] = next;
                next += 1;
            }
            next <<= 1;
        }
        let mut out = BitWriter::with_capacity(256);
        out.put(BLOCK_MAGIC >> 24, 24);
        out.put(BLOCK_MAGIC & 0xff_ffff, 24);
        out.put(u64::from(BZIP2_CRC.checksum(text)), 32);
        out.put(u64::from(quirks.randomised), 1);
        out.put(origin as u64, 24);
        let ranges: u64 = in_use.iter().fold(0, |m, &b| m | 0x8000 >> (b / 16));
        out.put(ranges, 16);
        for range in (0..16u8).filter(|r| ranges & (0x8000 >> r) != 0) {
            let values = in_use
                .iter()
                .filter(|&&b| b / 16 == range)
                .fold(0, |m, &b| m | 0x8000 >> (b % 16));
            out.put(values, 16);
        }
        out.put(2, 3); // two tables
        let selectors = symbols.len().div_ceil(50) as u32 + quirks.extra_selectors;
        out.put(u64::from(selectors), 15);
        for _ in 0..selectors {
            out.put(0, 1); // table 0 every time
        }
        for _ in 0..2 {
            let mut current = lengths[0];
            out.put(u64::from(current), 5);
            for &length in &lengths {
                while current < length {
                    out.put(0b10, 2);
                    current += 1;
                }
                while current > length {
                    out.put(0b11, 2);
                    current -= 1;
                }
                out.put(0, 1);
            }
        }
        for &symbol in &symbols {
            let s = usize::from(symbol);
            out.put(codes[s], u32::from(lengths[s]));
        }
        let end = out.bits();
        (out.finish(), end)
    }

    fn decode_hand_built(data: &[u8], end: u64) -> Result<Vec<u8>, BlockError> {
        let mut text = Vec::new();
        let block = BlockBits {
            data,
            start: 0,
            end,
            level: b'1',
        };
        BlockDecoder::new().decode(block, &mut text).map(|_| text)
    }

    /// Lengths 1, 2, 3 ... and then 20 for the rest: a prefix code (as many
    /// steps as leave room for the rest) whose last symbols take the longest
    /// code bzip2 allows.
    fn up_to_twenty(alphabet: usize) -> Vec<u8> {
        let steps = (1..20)
            .rev()
            .find(|&steps| alphabet - steps <= 1 << (20 - steps))
            .unwrap();
        (0..alphabet)
            .map(|s| if s < steps { s as u8 + 1 } else { 20 })
            .collect()
    }

    #[test]
    fn twenty_bit_codes_decode_as_libbzip2_decodes_them() {
        let text = b"the quick brown fox jumps over a lazy dog, 0123456789!";
        let (data, end) = hand_built_block(text, up_to_twenty, Quirks::default());
        assert_eq!(decode_hand_built(&data, end).unwrap(), text);
        assert_eq!(libbzip2(&data, 0, end).unwrap(), text);
    }

    #[test]
    fn selectors_past_what_a_block_needs_are_read_and_ignored() {
        // lbzip2 may round the selector count up; libbzip2 1.0.8 reads the
        // surplus and ignores it, and so do we.
        let text = b"abcdefghijklmnopqrstuvwxyz";
        let quirks = Quirks {
            extra_selectors: 20_000,
            ..Quirks::default()
        };
        let (data, end) = hand_built_block(text, up_to_twenty, quirks);
        assert_eq!(decode_hand_built(&data, end).unwrap(), text);
        assert_eq!(libbzip2(&data, 0, end).unwrap(), text);
    }

    #[test]
    fn blocks_this_decoder_leaves_to_libbzip2_are_refused() {
        let text = b"abcdefghijklmnopqrstuvwxyz";
        let randomised = Quirks {
            randomised: true,
            ..Quirks::default()
        };
        let (data, end) = hand_built_block(text, up_to_twenty, randomised);
        assert_eq!(
            decode_hand_built(&data, end),
            Err(BlockError::Unsupported("randomised block"))
        );
        let (data, end) = hand_built_block(text, |alphabet| vec![2; alphabet], Quirks::default());
        assert_eq!(
            decode_hand_built(&data, end),
            Err(BlockError::Unsupported("over-subscribed Huffman code"))
        );
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

        #[test]
        fn any_text_round_trips(
            pieces in proptest::collection::vec((any::<u8>(), 1usize..300), 0..400),
            level in 1u32..=9,
        ) {
            // Bytes repeated a random number of times: runs of every length
            // and every byte value.
            let text: Vec<u8> = pieces
                .iter()
                .flat_map(|&(byte, times)| std::iter::repeat_n(byte, times))
                .collect();
            prop_assert_eq!(decode_all(&bz2(&text, level)).unwrap(), text);
        }

        #[test]
        fn garbage_is_an_error_never_a_panic(
            body in proptest::collection::vec(any::<u8>(), 0..2000),
            level in b'0'..=b'9',
        ) {
            // A real block magic and CRC in front, noise after.
            let mut data = vec![0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 1, 2, 3, 4];
            data.extend(&body);
            let block = BlockBits { data: &data, start: 0, end: data.len() as u64 * 8, level };
            let mut text = Vec::new();
            if BlockDecoder::new().decode(block, &mut text).is_err() {
                prop_assert!(text.is_empty());
            }
        }
    }
}
