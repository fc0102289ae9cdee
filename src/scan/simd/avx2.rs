//! AVX2, 32 bytes at a time, behind [`Avx2`]: a token that exists only where
//! the CPU has AVX2, BMI1, BMI2, LZCNT and POPCNT, found once per process.
//! Holding one is the proof every `unsafe` call below relies on, so callers
//! outside this module hold no `unsafe` at all.
//!
//! The fast loop and the line checks are compiled here for those features
//! ([`Avx2::check_lines`]): their intrinsics inline only into code compiled
//! for the same features, and out of line each would be a call per line.

use std::arch::x86_64::{
    __m256i, _mm_add_epi64, _mm_madd_epi16, _mm_maddubs_epi16, _mm_max_epi32, _mm_min_epi32,
    _mm_setr_epi8, _mm_setr_epi16, _mm_sub_epi32, _mm256_add_epi8, _mm256_cmpeq_epi8,
    _mm256_cmpgt_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8, _mm256_set1_epi8,
    _mm256_sub_epi8,
};

use super::lines::{LineEnds, LineWindow, fast_lines};
use super::sse2::{DIGIT_SHIFT, LAST_SHIFTED_DIGIT, Lane, LaneTally};
use crate::scan::split::{self, FromValue, SplitCheck, Verdict};
use crate::scan::tally::FastRun;
use crate::scan::template::{Template, TemplateCheck, shape_verdict};

/// Proof that the CPU has AVX2, BMI1, BMI2, LZCNT and POPCNT: only
/// [`Avx2::detect`] makes one.
#[derive(Clone, Copy, Debug)]
pub struct Avx2(());

impl Avx2 {
    /// The token, if the CPU has the features and the environment variable
    /// `LOGBENCH_NO_AVX2` is not set (with it, an AVX2 machine runs the SSE2
    /// scans, as the tests do to check both). Detected once per process.
    #[inline(always)]
    pub fn detect() -> Option<Avx2> {
        static USABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let usable = *USABLE.get_or_init(|| {
            std::env::var_os("LOGBENCH_NO_AVX2").is_none()
                && std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("bmi1")
                && std::is_x86_feature_detected!("bmi2")
                && std::is_x86_feature_detected!("lzcnt")
                && std::is_x86_feature_detected!("popcnt")
        });
        usable.then_some(Avx2(()))
    }

    /// The fast loop with `check`'s AVX2 verdicts: see [`fast_lines`]. (The
    /// token's other methods give the tests each AVX2 form on its own.)
    #[inline(always)]
    pub(crate) fn check_lines<C: Avx2Check>(
        self,
        text: &[u8],
        lines: &mut LineEnds,
        run: &mut FastRun,
        check: C,
    ) -> Option<usize> {
        // SAFETY: the token proves the CPU has every feature the loop is
        // compiled for.
        unsafe { check_lines_avx2(text, lines, run, check) }
    }

    /// Bit `i` set where `block[i] == byte`: [`super::mask64`] in two compares.
    #[cfg(test)]
    pub(crate) fn mask64(self, block: &[u8; 64], byte: u8) -> u64 {
        // SAFETY: the token proves AVX2.
        unsafe { mask64(block, byte) }
    }

    /// [`super::masks`] in one vector.
    #[cfg(test)]
    pub(crate) fn masks(self, window: &[u8; 64]) -> (u32, u32) {
        // SAFETY: the token proves AVX2.
        unsafe { masks(window) }
    }

    /// [`super::equal_lanes`] in one compare.
    #[cfg(test)]
    pub(crate) fn equal_lanes(self, window: &[u8; 64], placed: &[u8; 32]) -> u32 {
        // SAFETY: the token proves AVX2.
        unsafe { equal_lanes(window, placed) }
    }

    /// [`super::range_lanes`] in one vector.
    #[cfg(test)]
    pub(crate) fn range_lanes(self, window: &[u8; 64], low: &[u8; 32], span: &[u8; 32]) -> u32 {
        // SAFETY: the token proves AVX2.
        unsafe { range_lanes(window, low, span) }
    }

    /// [`line_end_lane`]: the value of up to 4 digits that ends `word`.
    #[cfg(test)]
    pub(crate) fn line_end_lane(self, word: u32, bias: i32) -> Lane {
        // SAFETY: the token proves AVX2.
        unsafe { line_end_lane(word, bias) }
    }

    /// [`Template::value`] in one vector, the value left in it.
    #[cfg(test)]
    pub(crate) fn template_value(
        self,
        template: &Template,
        line: LineWindow<'_>,
        length: usize,
    ) -> Option<Lane> {
        // SAFETY: the token proves AVX2.
        unsafe { template_value(template, line, length) }
    }

    /// `check`'s AVX2 verdict on one line, as the loop gives it.
    #[cfg(test)]
    pub(crate) fn verdict<C: Avx2Check>(
        self,
        check: C,
        line: LineWindow<'_>,
        length: usize,
    ) -> Verdict<Lane> {
        // SAFETY: the token proves every feature the verdict is compiled for.
        unsafe { check.verdict_avx2(line, length) }
    }
}

/// A line check with an AVX2 build, compiled for the fast loop's features.
pub(crate) trait Avx2Check: Copy {
    /// The verdict on the line of `length` bytes that starts `window`.
    ///
    /// # Safety
    /// The CPU must support AVX2, BMI1, BMI2, LZCNT and POPCNT.
    unsafe fn verdict_avx2(self, line: LineWindow<'_>, length: usize) -> Verdict<Lane>;
}

/// [`fast_lines`] compiled for AVX2, BMI1, BMI2, LZCNT and POPCNT, with
/// `check`'s AVX2 verdicts and the values tallied in vector registers.
#[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
fn check_lines_avx2<C: Avx2Check>(
    text: &[u8],
    lines: &mut LineEnds,
    run: &mut FastRun,
    check: C,
) -> Option<usize> {
    fast_lines(
        text,
        lines,
        run,
        |block| mask64(block, b'\n'),
        // SAFETY: this function is compiled for, and runs only on, a CPU
        // with every feature the verdict needs.
        |window, length| unsafe { check.verdict_avx2(window, length) },
        |tally: &mut LaneTally, value| tally.add(value),
    )
}

impl<const SIGNED: bool> Avx2Check for SplitCheck<'_, SIGNED> {
    #[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
    #[inline]
    unsafe fn verdict_avx2(self, line: LineWindow<'_>, length: usize) -> Verdict<Lane> {
        let (field, window) = (self.0, line.bytes());
        split::record::<SIGNED, Lane>(
            line,
            length,
            masks(window).1,
            || masks(window).0,
            field,
            |p| equal_lanes(window, field.placed(p)),
            |word, extra| line_end_lane(word, field.byte_bias[extra]),
        )
    }
}

impl<const SPLIT: bool> Avx2Check for TemplateCheck<'_, SPLIT> {
    #[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
    #[inline]
    unsafe fn verdict_avx2(self, line: LineWindow<'_>, length: usize) -> Verdict<Lane> {
        let template = self.template;
        shape_verdict(
            template_value(template, line, length),
            SPLIT,
            template.epoch(),
            line.bytes(),
            || match self.split {
                // SAFETY: this function runs only where the features are.
                Some(split) => unsafe { split.verdict_avx2(line, length) },
                None => Verdict::Miss,
            },
        )
    }
}

/// [`Template::value`] with the 32 lanes checked in one vector, and a value
/// of up to 4 digits weighed by [`line_end_lane`] and left in its vector.
#[target_feature(enable = "avx2")]
#[inline]
fn template_value(template: &Template, line: LineWindow<'_>, length: usize) -> Option<Lane> {
    let window = line.bytes();
    let right = range_lanes(window, &template.low, &template.span);
    let count = template.digits(length, right)?;
    Some(if count <= 4 {
        let word = line.line_end::<4>() as u32;
        line_end_lane(word, template.byte_bias[count - 1])
    } else {
        Lane::from_value(template.parse(window, count))
    })
}

/// A 32-byte vector of the first 32 bytes of `bytes`.
#[target_feature(enable = "avx2")]
#[inline]
fn load<const N: usize>(bytes: &[u8; N]) -> __m256i {
    let lanes = &bytes[..32];
    // SAFETY: `lanes` is 32 bytes long (checked above, folded away for
    // arrays of 32 bytes or more); the load is unaligned.
    unsafe { _mm256_loadu_si256(lanes.as_ptr().cast::<__m256i>()) }
}

#[target_feature(enable = "avx2")]
#[inline]
fn mask64(block: &[u8; 64], byte: u8) -> u64 {
    let wanted = _mm256_set1_epi8(byte as i8);
    let halves = block.split_at(32);
    let half = |lanes: &[u8]| {
        let lanes: &[u8; 32] = lanes.try_into().expect("32 bytes");
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(load(lanes), wanted)) as u32 as u64
    };
    half(halves.0) | half(halves.1) << 32
}

#[target_feature(enable = "avx2")]
#[inline]
fn masks(window: &[u8; 64]) -> (u32, u32) {
    let bytes = load(window);
    let commas = _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8(b',' as i8));
    let shifted = _mm256_add_epi8(bytes, _mm256_set1_epi8(DIGIT_SHIFT));
    let non_digits = _mm256_cmpgt_epi8(shifted, _mm256_set1_epi8(LAST_SHIFTED_DIGIT));
    (
        _mm256_movemask_epi8(commas) as u32,
        _mm256_movemask_epi8(non_digits) as u32,
    )
}

#[target_feature(enable = "avx2")]
#[inline]
fn equal_lanes(window: &[u8; 64], placed: &[u8; 32]) -> u32 {
    _mm256_movemask_epi8(_mm256_cmpeq_epi8(load(window), load(placed))) as u32
}

#[target_feature(enable = "avx2")]
#[inline]
fn range_lanes(window: &[u8; 64], low: &[u8; 32], span: &[u8; 32]) -> u32 {
    // Bytes below `low` wrap around to large values.
    let above_low = _mm256_sub_epi8(load(window), load(low));
    let in_range = _mm256_min_epu8(above_low, load(span));
    _mm256_movemask_epi8(_mm256_cmpeq_epi8(in_range, above_low)) as u32
}

/// The value of up to 4 digits that ends `word`, the 4 bytes that end a
/// line, in two vector multiply-adds where scalar steps take seven: each
/// byte is weighed in full (1000, 100, 10, 1), the digits and the bytes
/// before them alike, and `bias` ([`split::line_end_bias`]) takes out what
/// the bytes before them and the `'0'`s add. The weighed bytes are in the
/// low 32-bit lane with zeros above, and the value is not negative, so the
/// result is a [`Lane`].
#[target_feature(enable = "avx2")]
#[inline]
fn line_end_lane(word: u32, bias: i32) -> Lane {
    let bytes = Lane::from_i32(word as i32);
    // Byte pairs, the first (the higher digit) times 10: at most 255 * 11,
    // no saturation. Then the pairs, the first times 100.
    let pairs = _mm_maddubs_epi16(
        bytes,
        _mm_setr_epi8(10, 1, 10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    );
    let weighed = _mm_madd_epi16(pairs, _mm_setr_epi16(100, 1, 0, 0, 0, 0, 0, 0));
    Lane(_mm_sub_epi32(weighed, Lane::from_i32(bias)))
}

impl LaneTally {
    /// Tally one value: an add, a minimum and a maximum, no branch.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn add(&mut self, value: Lane) {
        self.count += 1;
        self.sum = _mm_add_epi64(self.sum, value.0);
        self.min = _mm_min_epi32(self.min, value.0);
        self.max = _mm_max_epi32(self.max, value.0);
    }
}
