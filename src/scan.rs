//! The scanner: fold lines held in large buffers into an answer, with no regex
//! and no per-line allocation. `mask-split` runs it on one stream; the
//! parallel rung runs it on every core.
//!
//! [`fold_stream`] owns the buffer discipline: it refills one large buffer from
//! the decoder and hands the fold only whole lines, carrying a partial last line
//! over to the next refill (the buffer grows only when one line is longer than
//! it, so memory is bounded by the buffer or the longest line).

use memchr::memchr;

pub mod edges;
mod fast;
pub mod simd;
pub mod split;
mod tally;
pub mod template;

use crate::answer::Answer;
use crate::error::Result;
use crate::grammar;
use tally::FastRun;
use template::LiteralWords;
/// Fold every line of `text` into `answer`: lines end at `\n`, and a last piece
/// without one is a line too (the caller passes it only at the end of input).
///
/// A well-formed record, of the metric asked for or another, is recognised in
/// one pass that finds its line end too ([`grammar::record_line`]); any other
/// line is found with `memchr` and judged in full, so each byte is read about
/// once.
#[inline]
pub fn fold_lines(text: &[u8], wanted: grammar::Metric<'_>, answer: &mut Answer) {
    let mut run = FastRun::default();
    let mut start = 0;
    while start < text.len() {
        let rest = &text[start..];
        let record = match rest.first_chunk::<{ grammar::WINDOW }>() {
            Some(window) => grammar::record_line_in(window, wanted),
            None => grammar::record_line(rest, wanted),
        };
        if let Some((value, length)) = record {
            run.add_record(value, answer);
            start += length;
            continue;
        }
        // Line numbers must stay in order for `first_malformed`.
        run.flush_into(answer);
        let end = memchr(b'\n', rest).unwrap_or(rest.len());
        grammar::fold_line(answer, &rest[..end], wanted);
        start += end + 1;
    }
    run.flush_into(answer);
}

/// The most a buffer grows by at once for a line longer than it.
const GROWTH_STEP: usize = 1 << 20;

/// Read text to the end through a buffer of `buffer_size` bytes (`read` fills
/// a slice and returns 0 only at the end, like [`crate::input::Decoder::fill`]), calling
/// `fold` with runs of whole lines (each run ends with `\n`) and finally with
/// the last line if it has no `\n`.
pub fn fold_stream<A>(
    read: impl FnMut(&mut [u8]) -> Result<usize>,
    buffer_size: usize,
    answer: &mut A,
    fold: impl FnMut(&[u8], &mut A),
) -> Result<()> {
    fold_stream_in(&mut Vec::new(), read, buffer_size, answer, fold)
}

/// [`fold_stream`] through `buffer`, grown to `buffer_size` bytes if it is
/// shorter: a caller folding many short streams (`parallel`'s chunks) keeps
/// one buffer instead of allocating and zeroing one per stream.
pub fn fold_stream_in<A>(
    buffer: &mut Vec<u8>,
    mut read: impl FnMut(&mut [u8]) -> Result<usize>,
    buffer_size: usize,
    answer: &mut A,
    mut fold: impl FnMut(&[u8], &mut A),
) -> Result<()> {
    if buffer.len() < buffer_size.max(1) {
        buffer.resize(buffer_size.max(1), 0);
    }
    // A line longer than the buffer grows it by at most this much a time: the
    // Vec still doubles its capacity (so growth is amortised and, for large
    // buffers, a `mremap` with no copy), but only the bytes about to be read
    // are zeroed and touched, so memory is the line plus one step, not twice
    // the line.
    let step = buffer_size.max(GROWTH_STEP);
    let mut carried = 0; // bytes of an unfinished line at the front of `buffer`
    loop {
        if carried == buffer.len() {
            // One line is longer than the whole buffer: make room for more of it.
            buffer.resize(buffer.len() + buffer.len().min(step), 0);
        }
        let read = read(&mut buffer[carried..])?;
        if read == 0 {
            fold(&buffer[..carried], answer);
            return Ok(());
        }
        let filled = carried + read;
        // Only the newly read bytes can hold the newline that ends the carried line.
        match memchr::memrchr(b'\n', &buffer[carried..filled]) {
            Some(last) => {
                let whole = carried + last + 1;
                fold(&buffer[..whole], answer);
                buffer.copy_within(whole..filled, 0);
                carried = filled - whole;
            }
            None => carried = filled,
        }
    }
}

/// A fold of whole lines into a mergeable result, for the drivers that cut
/// the input into pieces and scan them on every core (`parallel`'s raw,
/// stream and bzip2 paths, which `stats` runs too).
///
/// A worker folds consecutive pieces into one `Acc` (its scratch state),
/// [`LineFold::finish`] turns that into a `Part`, and parts merge in input
/// order, so line numbers stay right.
pub trait LineFold: Sync {
    type Acc: Send;
    type Part: Send;
    /// A fresh accumulator.
    fn start(&self) -> Self::Acc;
    /// Fold whole lines; the last may lack its `\n` only at the input's end.
    fn fold(&self, text: &[u8], acc: &mut Self::Acc);
    fn finish(&self, acc: Self::Acc) -> Self::Part;
    /// Merge into `earlier` the part of the input that directly follows it.
    fn merge(&self, earlier: &mut Self::Part, later: Self::Part);

    /// The part of no input.
    fn empty(&self) -> Self::Part {
        self.finish(self.start())
    }

    /// The part of one piece of text.
    fn part(&self, text: &[u8]) -> Self::Part {
        let mut acc = self.start();
        self.fold(text, &mut acc);
        self.finish(acc)
    }
}

/// `mean`'s fold: the fast loop into an [`Answer`].
impl LineFold for Checks {
    type Acc = Answer;
    type Part = Answer;

    fn start(&self) -> Answer {
        Answer::new()
    }

    #[inline]
    fn fold(&self, text: &[u8], acc: &mut Answer) {
        template::fold_lines(text, self, acc);
    }

    fn finish(&self, acc: Answer) -> Answer {
        acc
    }

    fn merge(&self, earlier: &mut Answer, later: Answer) {
        *earlier = earlier.merge(later);
    }
}

/// The fast checks compiled for one metric, once per run: the literal
/// `METRIC,` that follows the epoch's comma (and its words for the SWAR
/// template), and `,METRIC,` placed for the split. [`Checks::metric`] gives
/// the metric itself to the general path.
#[derive(Debug, Clone)]
pub struct Checks {
    /// `METRIC,`: the metric is all but its last byte.
    literal: Vec<u8>,
    /// `None` when the fast path cannot be used for this metric (too long, or
    /// no line can be a record of it): every line takes the general path.
    words: Option<LiteralWords>,
    /// `,METRIC,` for `mask-split`'s check; `None` where that cannot be
    /// used (a metric of more than 30 bytes, or one no line can match).
    field: Option<Box<split::Field>>,
}

/// The longest `METRIC,` the fast path compares in registers.
pub(crate) const LITERAL_MAX: usize = 32;

impl Checks {
    pub fn new(metric: &[u8]) -> Checks {
        let mut literal = metric.to_vec();
        literal.push(b',');
        let usable = grammar::metric_can_match(metric) && literal.len() <= LITERAL_MAX;
        let words = usable.then(|| LiteralWords::new(&literal));
        Checks {
            field: split::Field::new(metric),
            literal,
            words,
        }
    }

    /// The metric asked for, as the recognisers take it.
    pub fn metric(&self) -> grammar::Metric<'_> {
        grammar::Metric::new(self.metric_bytes())
    }

    /// The metric asked for, its bytes.
    fn metric_bytes(&self) -> &[u8] {
        &self.literal[..self.literal.len() - 1]
    }
}
