//! Everything in the scanners that depends on the instruction set, and every
//! `unsafe` block of the crate. The algorithms (the split, the template, the
//! tallies, the fold) are written once, as safe code, in [`crate::scan`]; what
//! they ask of the CPU is here, in one form per instruction set:
//!
//! - [`portable`]: SWAR, eight bytes at a time in a `u64`, on any CPU;
//! - `sse2`: 16 bytes at a time, on every x86_64 CPU (no detection needed);
//! - `avx2`: 32 bytes at a time, behind `Avx2`, a token that exists only
//!   where the CPU has AVX2, BMI1, BMI2, LZCNT and POPCNT;
//! - [`lines`]: the fast loop's walk over line ends, which reads each line's
//!   window without a bounds check (one assertion on entry makes that sound).
//!
//! The functions re-exported here pick SSE2 where it exists and SWAR words
//! elsewhere. The tests below hold every form to one plain reference.

mod lines;
pub mod portable;

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod avx2;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2;

#[cfg(test)]
pub(crate) use lines::{BEFORE, TAIL};
pub(crate) use lines::{FAST_SLACK, LineEnds, LineWindow, fast_lines};

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
pub use avx2::Avx2;
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
pub use portable::{equal_lanes32 as equal_lanes, mask64, masks, range_lanes};
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
pub use sse2::{Lane, LaneTally, equal_lanes, mask64, masks, range_lanes};

use super::split::Verdict;
use super::tally::{FastRun, ShortRun};

/// Whether the template check has a vector form here (SSE2). Without one,
/// `swar` keeps its SWAR path, which also takes signed values.
pub(crate) const VECTOR_TEMPLATE: bool = cfg!(all(target_arch = "x86_64", target_feature = "sse2"));

/// A line check of a fast loop: `verdict` everywhere, and on x86_64 an AVX2
/// build of the same check ([`avx2::Avx2Check`]).
pub(crate) trait LineCheck: Copy + CheckIsa {
    /// The verdict on the line of `length` bytes that starts `window`.
    fn verdict(self, window: LineWindow<'_>, length: usize) -> Verdict;
}

/// What a [`LineCheck`] must also offer on this instruction set.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
pub(crate) use avx2::Avx2Check as CheckIsa;

/// What a [`LineCheck`] must also offer on this instruction set: nothing.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
pub(crate) trait CheckIsa {}
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
impl<T> CheckIsa for T {}

/// [`fast_lines`] with `check`'s verdicts: in AVX2 where the CPU has it,
/// else with SSE2 or SWAR masks.
#[inline(always)]
pub(crate) fn check_lines<C: LineCheck>(
    text: &[u8],
    lines: &mut LineEnds,
    run: &mut FastRun,
    check: C,
) -> Option<usize> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if let Some(avx2) = Avx2::detect() {
        return avx2.check_lines(text, lines, run, check);
    }
    fast_lines(
        text,
        lines,
        run,
        |block| mask64(block, b'\n'),
        |window, length| check.verdict(window, length),
        |tally: &mut ShortRun, value| tally.add(value),
    )
}

/// The AVX2 forms for the scanners' tests, as plain values: `None` where the
/// CPU has no AVX2 (or the build no x86_64), so the tests need no `cfg`.
#[cfg(test)]
pub(crate) mod avx2_forms {
    use super::{LineWindow, Verdict};
    use crate::scan::split::SplitCheck;
    use crate::scan::template::Template;

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    use super::{Avx2, Lane};

    /// [`super::masks`] in AVX2.
    pub(crate) fn masks(window: &[u8; 64]) -> Option<(u32, u32)> {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        return Avx2::detect().map(|avx2| avx2.masks(window));
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        return None;
    }

    /// [`super::equal_lanes`] in AVX2.
    pub(crate) fn equal_lanes(window: &[u8; 64], placed: &[u8; 32]) -> Option<u32> {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        return Avx2::detect().map(|avx2| avx2.equal_lanes(window, placed));
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        return None;
    }

    /// The value of up to 4 digits that ends `word`, weighed in AVX2.
    pub(crate) fn line_end_value(word: u32, bias: i32) -> Option<i64> {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        return Avx2::detect().map(|avx2| avx2.line_end_lane(word, bias).get());
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        return None;
    }

    /// The split's AVX2 verdict, its value as an `i64`.
    pub(crate) fn split_verdict<const SIGNED: bool>(
        check: SplitCheck<'_, SIGNED>,
        line: LineWindow<'_>,
        length: usize,
    ) -> Option<Verdict<i64>> {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        return Avx2::detect().map(|avx2| avx2.verdict(check, line, length).map(Lane::get));
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        return None;
    }

    /// The template's AVX2 value, as an `i64`.
    pub(crate) fn template_value(
        template: &Template,
        line: LineWindow<'_>,
        length: usize,
    ) -> Option<Option<i64>> {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        return Avx2::detect()
            .map(|avx2| avx2.template_value(template, line, length).map(Lane::get));
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        return None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plain_mask(bytes: &[u8], wanted: impl Fn(usize, u8) -> bool) -> u64 {
        bytes
            .iter()
            .enumerate()
            .fold(0, |mask, (i, &b)| mask | u64::from(wanted(i, b)) << i)
    }

    fn bytes_of(interesting: &'static [u8], n: usize) -> impl Strategy<Value = Vec<u8>> {
        let picks = interesting
            .iter()
            .map(|&b| Just(b).boxed())
            .collect::<Vec<_>>();
        proptest::collection::vec(
            prop_oneof![proptest::strategy::Union::new(picks), any::<u8>(),],
            n,
        )
    }

    proptest! {
        #[test]
        fn mask64_agrees_with_a_plain_loop_in_every_form(
            bytes in bytes_of(b"\n,", 64),
            byte in prop_oneof![Just(b'\n'), Just(b','), any::<u8>()],
        ) {
            let block: [u8; 64] = bytes.try_into().unwrap();
            let expected = plain_mask(&block, |_, b| b == byte);
            prop_assert_eq!(portable::mask64(&block, byte), expected);
            prop_assert_eq!(mask64(&block, byte), expected);
            #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
            if let Some(avx2) = Avx2::detect() {
                prop_assert_eq!(avx2.mask64(&block, byte), expected);
            }
        }

        #[test]
        fn masks_agree_with_a_plain_loop_in_every_form(bytes in bytes_of(b"0123456789,/:\n+-", 64)) {
            let window: [u8; 64] = bytes.try_into().unwrap();
            let first32 = &window[..32];
            let expected = (
                plain_mask(first32, |_, b| b == b',') as u32,
                plain_mask(first32, |_, b| !b.is_ascii_digit()) as u32,
            );
            prop_assert_eq!(portable::masks(&window), expected);
            prop_assert_eq!(masks(&window), expected);
            #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
            if let Some(avx2) = Avx2::detect() {
                prop_assert_eq!(avx2.masks(&window), expected);
            }
        }

        #[test]
        fn equal_lanes_agree_with_a_plain_loop_in_every_form(
            bytes in bytes_of(b",ab", 64),
            other in bytes_of(b",ab", 32),
        ) {
            let window: [u8; 64] = bytes.try_into().unwrap();
            let placed: [u8; 32] = other.try_into().unwrap();
            let expected = plain_mask(&window[..32], |i, b| b == placed[i]) as u32;
            prop_assert_eq!(portable::equal_lanes32(&window, &placed), expected);
            prop_assert_eq!(equal_lanes(&window, &placed), expected);
            #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
            if let Some(avx2) = Avx2::detect() {
                prop_assert_eq!(avx2.equal_lanes(&window, &placed), expected);
            }
        }

        #[test]
        fn range_lanes_agree_with_a_plain_loop_in_every_form(
            bytes in bytes_of(b"0189,", 64),
            low in proptest::array::uniform32(prop_oneof![Just(b'0'), Just(b','), any::<u8>()]),
            span in proptest::array::uniform32(prop_oneof![Just(0u8), Just(9u8), any::<u8>()]),
        ) {
            let window: [u8; 64] = bytes.try_into().unwrap();
            let expected = plain_mask(&window[..32], |i, b| {
                (u16::from(low[i])..=u16::from(low[i]) + u16::from(span[i])).contains(&u16::from(b))
                    || (u16::from(b) + 256 <= u16::from(low[i]) + u16::from(span[i]))
            }) as u32;
            prop_assert_eq!(portable::range_lanes(&window, &low, &span), expected);
            prop_assert_eq!(range_lanes(&window, &low, &span), expected);
            #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
            if let Some(avx2) = Avx2::detect() {
                prop_assert_eq!(avx2.range_lanes(&window, &low, &span), expected);
            }
        }

        #[test]
        fn line_end_reads_the_bytes_that_end_the_line(
            bytes in proptest::array::uniform32(any::<u8>()),
            length in 0usize..=24,
        ) {
            let mut text = [0u8; BEFORE + FAST_SLACK];
            text[..32].copy_from_slice(&bytes);
            let end = BEFORE + length;
            let window = LineWindow::new(
                text[BEFORE..].try_into().unwrap(),
                text[end - TAIL..end].try_into().unwrap(),
            );
            let four = u32::from_le_bytes(text[end - 4..end].try_into().unwrap());
            let eight = u64::from_le_bytes(text[end - 8..end].try_into().unwrap());
            prop_assert_eq!(window.line_end::<4>(), u64::from(four));
            prop_assert_eq!(window.line_end::<8>(), eight);
            prop_assert_eq!(&window.bytes()[..], &text[BEFORE..]);
        }
    }
}
