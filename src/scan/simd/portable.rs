//! SWAR ("SIMD within a register"): classify and parse eight ASCII bytes at
//! once in a `u64`, on any CPU. The scanners' value parsing uses these
//! everywhere; the masks are the fallback where SSE2 is missing, and the
//! vector forms' second opinion in the tests.
//!
//! Words are loaded little-endian, so byte 0 of the word is the first byte in
//! the text and "the first non-digit" is the lowest flagged byte.

/// `0x0101...01` times `b`: the byte `b` in every lane.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// Load 8 bytes at `at` (panics if fewer remain; callers keep slack).
#[inline(always)]
pub fn load(text: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(text[at..at + 8].try_into().expect("8 bytes"))
}

/// High bit set in every lane that is not an ASCII digit. Exact for the lowest
/// flagged lane (a carry only ever corrupts lanes above a non-digit), and zero
/// exactly when all eight bytes are digits.
#[inline(always)]
pub fn non_digits(word: u64) -> u64 {
    let x = word ^ splat(b'0'); // digits become 0..=9, everything else >= 10
    (x.wrapping_add(splat(0x76)) | x) & splat(0x80)
}

/// High bit set in exactly the lanes of `word` that are ASCII digits (unlike
/// [`non_digits`], no lane's flag depends on another's: nothing carries).
#[inline(always)]
pub fn digit_lanes(word: u64) -> u64 {
    let x = word ^ splat(b'0'); // digits become 0..=9
    // Bit 7 of the sum is set when the low seven bits are 10 or more; no lane
    // reaches 0x100.
    let non_digit = ((x & splat(0x7f)).wrapping_add(splat(0x76)) | x) & splat(0x80);
    !non_digit & splat(0x80)
}

/// High bit set in exactly the lanes of `word` that equal `byte` (no carries
/// cross lanes, so every flag is exact, not just the lowest).
#[inline(always)]
pub fn lanes_equal_to(word: u64, byte: u8) -> u64 {
    equal_lanes(word, splat(byte))
}

/// High bit set in exactly the lanes where `a` and `b` hold the same byte.
#[inline(always)]
pub fn equal_lanes(a: u64, b: u64) -> u64 {
    let x = a ^ b; // matching lanes become zero
    let low_seven = (x & splat(0x7f)).wrapping_add(splat(0x7f)); // sets bit 7 unless low bits are zero
    !(low_seven | x) & splat(0x80)
}

/// Gather the high bit of each lane into one bit per lane: bit `i` of the
/// result is bit 7 of byte `i` (a portable `movemask`; the eight shifted
/// copies land on distinct bits, so the multiplication never carries).
#[inline(always)]
pub fn movemask(flags: u64) -> u64 {
    ((flags >> 7) & splat(1)).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Bit `i` set where `block[i] == byte`.
#[inline(always)]
pub fn mask64(block: &[u8; 64], byte: u8) -> u64 {
    (0..8).fold(0, |mask, k| {
        mask | movemask(lanes_equal_to(load(block, 8 * k), byte)) << (8 * k)
    })
}

/// The comma and non-digit lanes of the first 32 bytes of `window`.
#[inline(always)]
pub fn masks(window: &[u8; 64]) -> (u32, u32) {
    (0..4).fold((0, 0), |(commas, non_digits), k| {
        let word = load(window, 8 * k);
        let digits = movemask(digit_lanes(word)) as u32;
        (
            commas | (movemask(lanes_equal_to(word, b',')) as u32) << (8 * k),
            non_digits | (!digits & 0xff) << (8 * k),
        )
    })
}

/// The lanes of the first 32 bytes of `window` equal to those of `placed`.
#[inline(always)]
pub fn equal_lanes32(window: &[u8; 64], placed: &[u8; 32]) -> u32 {
    (0..4).fold(0, |mask, k| {
        let equal = equal_lanes(load(window, 8 * k), load(placed, 8 * k));
        mask | (movemask(equal) as u32) << (8 * k)
    })
}

/// The lanes of the first 32 bytes of `window` whose byte lies in
/// `low[i] ..= low[i] + span[i]` (wrapping, as the vector forms compare).
#[inline(always)]
pub fn range_lanes(window: &[u8; 64], low: &[u8; 32], span: &[u8; 32]) -> u32 {
    (0..32).fold(0, |mask, i| {
        let above_low = window[i].wrapping_sub(low[i]);
        mask | u32::from(above_low <= span[i]) << i
    })
}

/// Lanes `0..n` of a word (`n` <= 8).
#[inline(always)]
pub fn low_bytes(n: usize) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    }
}

/// Number of leading ASCII digits in `word` (8 if all are digits).
#[inline(always)]
pub fn digit_run(word: u64) -> usize {
    (non_digits(word).trailing_zeros() / 8) as usize
}

/// The value of the first `count` bytes of `word`, which must be ASCII digits,
/// `1 <= count <= 8`. Pads with leading zeros and converts 8 digits with three
/// multiplications (the well-known "parse eight digits" reduction; all
/// arithmetic wraps by design, the lanes that matter never overflow).
#[inline(always)]
pub fn parse_digits(word: u64, count: usize) -> u64 {
    debug_assert!((1..=8).contains(&count));
    let digits = (word ^ splat(b'0')) << (8 * (8 - count));
    const LANES_0_4: u64 = 0x0000_00ff_0000_00ff;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    // Lane i now holds 10 * d[i] + d[i + 1] in its low byte (pairs of digits).
    let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8);
    (LANES_0_4 & pairs)
        .wrapping_mul(MUL1)
        .wrapping_add((LANES_0_4 & (pairs >> 16)).wrapping_mul(MUL2))
        >> 32
}

/// [`parse_digits`] for `1 <= count <= 4`, in 32 bits: two multiplications,
/// with constants that fit an instruction's immediate.
#[inline(always)]
pub fn parse_short_digits(word: u32, count: usize) -> u32 {
    debug_assert!((1..=4).contains(&count));
    let digits = (word ^ 0x3030_3030) << (8 * (4 - count));
    // Lanes 0 and 2 now hold the pairs 10 * d[0] + d[1] and 10 * d[2] + d[3].
    let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8);
    // Bits 16..32 of the product are 100 * pair 0 + pair 1 (at most 9999).
    ((pairs & 0x00ff_00ff).wrapping_mul(1 + (100 << 16))) >> 16
}

/// The value of the first `count` bytes of `word`, ASCII digits, `1 <= count
/// <= 8`: short values (the usual case, so the branch is predicted) in 32 bits.
#[inline(always)]
pub fn parse_value_digits(word: u64, count: usize) -> u64 {
    if count <= 4 {
        u64::from(parse_short_digits(word as u32, count))
    } else {
        parse_digits(word, count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn word(bytes: &[u8]) -> u64 {
        let mut padded = [b'x'; 8];
        padded[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(padded)
    }

    #[test]
    fn digit_run_stops_at_the_first_non_digit() {
        assert_eq!(digit_run(word(b"12345678")), 8);
        assert_eq!(digit_run(word(b"123,")), 3);
        assert_eq!(digit_run(word(b",")), 0);
        assert_eq!(digit_run(word(b"1\xff9")), 1);
        assert_eq!(digit_run(word(b"9/:0")), 1); // '/' and ':' flank the digits
    }

    #[test]
    fn parse_digits_reads_every_length() {
        assert_eq!(parse_digits(word(b"7"), 1), 7);
        assert_eq!(parse_digits(word(b"74"), 2), 74);
        assert_eq!(parse_digits(word(b"100"), 3), 100);
        assert_eq!(parse_digits(word(b"00000001"), 8), 1);
        assert_eq!(parse_digits(word(b"99999999"), 8), 99_999_999);
    }

    #[test]
    fn lanes_equal_to_flags_every_match() {
        let flags = lanes_equal_to(word(b"a\nb\n\n\x8a\x0a\xff"), b'\n');
        assert_eq!(flags, 0x0080_0080_8000_8000);
    }

    proptest! {
        #[test]
        fn mask64_matches_a_plain_loop(bytes in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 64)) {
            let expected = bytes.iter().enumerate().fold(0u64, |m, (i, &b)| if b == b'\n' { m | 1 << i } else { m });
            prop_assert_eq!(mask64(bytes.as_slice().try_into().unwrap(), b'\n'), expected);
        }

        #[test]
        fn lanes_equal_to_matches_a_plain_loop(bytes in proptest::array::uniform8(any::<u8>()), byte in any::<u8>()) {
            let expected = bytes.iter().enumerate().fold(0u64, |m, (i, &b)| if b == byte { m | 0x80 << (8 * i) } else { m });
            prop_assert_eq!(lanes_equal_to(u64::from_le_bytes(bytes), byte), expected);
        }

        #[test]
        fn digit_lanes_matches_a_plain_loop(bytes in proptest::array::uniform8(any::<u8>())) {
            let expected = bytes.iter().enumerate().fold(0u64, |m, (i, &b)| if b.is_ascii_digit() { m | 0x80 << (8 * i) } else { m });
            prop_assert_eq!(digit_lanes(u64::from_le_bytes(bytes)), expected);
        }

        #[test]
        fn digit_run_matches_a_plain_loop(bytes in proptest::array::uniform8(any::<u8>())) {
            let expected = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            prop_assert_eq!(digit_run(u64::from_le_bytes(bytes)), expected);
        }

        #[test]
        fn parse_value_digits_matches_std(value in prop_oneof![0u64..10_000, 0u64..100_000_000], extra in any::<u64>()) {
            let text = value.to_string();
            let mut bytes = extra.to_le_bytes();
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            prop_assert_eq!(parse_value_digits(u64::from_le_bytes(bytes), text.len()), value);
            if text.len() <= 4 {
                prop_assert_eq!(u64::from(parse_short_digits(u64::from_le_bytes(bytes) as u32, text.len())), value);
            }
        }

        #[test]
        fn parse_digits_matches_std(value in 0u64..100_000_000, extra in any::<u64>()) {
            let text = value.to_string();
            let mut bytes = extra.to_le_bytes();
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            prop_assert_eq!(parse_digits(u64::from_le_bytes(bytes), text.len()), value);
        }
    }
}
