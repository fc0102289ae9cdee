//! Every rule of LOG-FORMAT.md, checked on every strategy, in every format,
//! with large and tiny buffers, against the reference implementation.

mod common;

use common::{assert_all_agree, bz2, every_strategy, gz, reference};
use logbench::{Query, STRATEGIES};
use proptest::prelude::*;

fn answer_key(text: &[u8], metric: &str) -> (u64, i128, i64, i64, u64) {
    reference(text, metric.as_bytes()).key()
}

#[test]
fn reference_reads_the_case_study_line() {
    assert_eq!(
        answer_key(b"1362330056,cpu_usage,74\n", "cpu_usage"),
        (1, 74, 74, 74, 0)
    );
}

#[test]
fn plain_log() {
    let text = b"1,cpu_usage,10\n2,cpu_usage,20\n3,memory_usage,1396\n4,cpu_usage,30\n";
    assert_eq!(answer_key(text, "cpu_usage"), (3, 60, 10, 30, 0));
    assert_all_agree(text, "cpu_usage");
    assert_all_agree(text, "memory_usage");
}

#[test]
fn last_line_without_newline_is_a_line() {
    assert_eq!(
        answer_key(b"1,cpu_usage,10\n2,cpu_usage,20", "cpu_usage"),
        (2, 30, 10, 20, 0)
    );
    assert_all_agree(b"1,cpu_usage,10\n2,cpu_usage,20", "cpu_usage");
    assert_all_agree(b"2,cpu_usage,20", "cpu_usage");
}

#[test]
fn crlf_and_lone_cr() {
    let text = b"1,cpu_usage,10\r\n\r\n2,cpu_usage,20\r\r\n3,cpu_usage,5\r";
    assert_eq!(answer_key(text, "cpu_usage"), (2, 15, 5, 10, 1));
    assert_all_agree(text, "cpu_usage");
    assert_all_agree(b"\r", "cpu_usage");
    assert_all_agree(b"1,cpu_usage,4\rx\n", "cpu_usage");
}

#[test]
fn blank_lines_are_skipped_not_malformed() {
    let text = b"\n\n1,cpu_usage,7\n\n";
    assert_eq!(answer_key(text, "cpu_usage"), (1, 7, 7, 7, 0));
    assert_all_agree(text, "cpu_usage");
    assert_all_agree(b"\n\n\n", "cpu_usage");
    assert_all_agree(b"", "cpu_usage");
}

#[test]
fn nothing_is_trimmed() {
    let text = b" 1,cpu_usage,1\n1,cpu_usage,1 \n1, cpu_usage,1\n1,cpu_usage ,1\n\t\n";
    assert_eq!(answer_key(text, "cpu_usage"), (0, 0, i64::MAX, i64::MIN, 3));
    assert_all_agree(text, "cpu_usage");
    assert_all_agree(text, "cpu_usage ");
}

#[test]
fn field_count_and_empty_fields() {
    let text = b"1,cpu_usage\n1,cpu_usage,12,extra\n,cpu_usage,1\n1,,1\n1,cpu_usage,\n,,\n1\n1,cpu_usage,5\n";
    assert_eq!(answer_key(text, "cpu_usage"), (1, 5, 5, 5, 7));
    assert_all_agree(text, "cpu_usage");
}

#[test]
fn metric_is_compared_byte_for_byte() {
    let text = b"1,cpu_usage_total,1\n1,xcpu_usage,2\n1,CPU_USAGE,3\n1,cpu_usag,4\n1,cpu_usage,5\n";
    assert_eq!(answer_key(text, "cpu_usage"), (1, 5, 5, 5, 0));
    assert_all_agree(text, "cpu_usage");
    assert_all_agree(text, "cpu_usag");
}

#[test]
fn a_metric_with_a_comma_or_empty_matches_nothing() {
    let text = b"1,cpu_usage,1,5\n1,,5\n1,cpu_usage,7\n";
    assert_eq!(
        answer_key(text, "cpu_usage,1"),
        (0, 0, i64::MAX, i64::MIN, 2)
    );
    assert_all_agree(text, "cpu_usage,1");
    assert_all_agree(text, "");
    assert_all_agree(text, ",");
    // A metric with a newline must not match across two lines.
    let across = b"1,cpu\nusage,5\n";
    assert_eq!(
        answer_key(across, "cpu\nusage"),
        (0, 0, i64::MAX, i64::MIN, 2)
    );
    assert_all_agree(across, "cpu\nusage");
}

#[test]
fn epoch_and_value_digits_are_ascii_only() {
    let text = "١٢,cpu_usage,1\n1,cpu_usage,١٢\n1,cpu_usage,５\n１,cpu_usage,5\n1,cpu_usage,6\n";
    assert_eq!(answer_key(text.as_bytes(), "cpu_usage"), (1, 6, 6, 6, 4));
    assert_all_agree(text.as_bytes(), "cpu_usage");
}

#[test]
fn value_signs_zeros_and_i64_bounds() {
    let text = b"1,m,+7\n1,m,-7\n1,m,007\n1,m,-0\n1,m,9223372036854775807\n1,m,-9223372036854775808\n\
1,m,9223372036854775808\n1,m,-9223372036854775809\n1,m,00000000000000000000000000000009\n1,m,+\n1,m,-\n1,m,+-1\n1,m,1.5\n";
    // 7 - 7 + 7 + 0 + MAX + MIN (= -1) + 9
    assert_eq!(answer_key(text, "m"), (7, 15, i64::MIN, i64::MAX, 6));
    assert_all_agree(text, "m");
}

#[test]
fn malformed_lines_never_contribute_whatever_their_metric() {
    let text = b"x1,cpu_usage,100\n1,cpu_usage,1oo\n1,cpu_usage,100,\n1,cpu_usage,1\n";
    assert_eq!(answer_key(text, "cpu_usage"), (1, 1, 1, 1, 3));
    assert_all_agree(text, "cpu_usage");
}

#[test]
fn nul_bytes_and_invalid_utf8() {
    let text = b"1,cpu\xffusage,5\n\xff,cpu_usage,1\n1,cpu_usage,\xff\n1,\0,3\n\0\n1,cpu_usage,2\n";
    assert_eq!(answer_key(text, "cpu_usage"), (1, 2, 2, 2, 3));
    assert_all_agree(text, "cpu_usage");
    assert_all_agree(text, "cpu\u{FFFD}usage");
    assert_all_agree(text, "\0");
}

#[test]
fn a_non_utf8_metric_can_be_asked_for() {
    let text = b"1,cpu\xffusage,5\n1,cpu\xefusage,6\n";
    let query = Query::new(&b"cpu\xffusage"[..]);
    for (name, got) in every_strategy(text, &query) {
        assert_eq!(got.unwrap().key(), (1, 5, 5, 5, 0), "{name}");
    }
}

#[test]
fn strategies_agree_on_multi_stream_and_multi_member_files() {
    let text: Vec<u8> = (0..3000)
        .flat_map(|i| format!("{i},cpu_usage,{}\n", i % 101).into_bytes())
        .collect();
    let expected = reference(&text, b"cpu_usage");
    for cut in [1, 17, 1000, text.len() - 3] {
        let (a, b) = text.split_at(cut);
        for joined in [[bz2(a), bz2(b)].concat(), [gz(a), gz(b)].concat()] {
            for (name, got) in every_strategy(&joined, &Query::default()) {
                assert_eq!(got.unwrap(), expected, "{name} cut at {cut}");
            }
        }
    }
}

#[test]
fn strategies_fail_on_corrupt_input_instead_of_answering() {
    let text: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("{i},cpu_usage,{}\n", i % 101).into_bytes())
        .collect();
    for mut bytes in [bz2(&text), gz(&text)] {
        let truncated = bytes[..bytes.len() - 5].to_vec();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x04;
        for broken in [truncated, bytes] {
            for (name, got) in every_strategy(&broken, &Query::default()) {
                assert!(got.is_err(), "{name} answered a corrupt file: {got:?}");
            }
        }
    }
}

/// Lines built from the pieces that trip parsers: commas, signs, digits,
/// CR, spaces, non-ASCII digits, invalid UTF-8, the metric and its cousins.
fn hostile_line() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"cpu_usage".to_vec()),
        Just(b"cpu_usage_total".to_vec()),
        Just(b"1362330056".to_vec()),
        Just(b"9223372036854775807".to_vec()),
        Just(b"9223372036854775808".to_vec()),
        Just(b"0000".to_vec()),
        Just(b",".to_vec()),
        Just(b"-".to_vec()),
        Just(b"+".to_vec()),
        Just(b"\r".to_vec()),
        Just(b" ".to_vec()),
        Just("٣".as_bytes().to_vec()),
        Just(b"\xff".to_vec()),
        (0u8..10).prop_map(|d| vec![b'0' + d]),
        any::<u8>()
            .prop_filter("no newline", |&b| b != b'\n')
            .prop_map(|b| vec![b]),
    ];
    prop_oneof![
        (1u64..99_999, -300i64..300).prop_map(|(e, v)| format!("{e},cpu_usage,{v}").into_bytes()),
        proptest::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat()),
    ]
}

fn hostile_text() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(hostile_line(), 0..40),
        any::<bool>(),
    )
        .prop_map(|(lines, final_newline)| {
            let mut text = lines.join(&b'\n');
            if final_newline {
                text.push(b'\n');
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The same on real files, where `parallel` cuts the file into chunks:
    /// with tiny chunks every line boundary falls at every chunk position.
    #[test]
    fn every_strategy_matches_the_reference_on_hostile_files(
        text in hostile_text(),
        buffer in 1usize..32,
        threads in 1usize..4,
    ) {
        let expected = reference(&text, b"cpu_usage");
        let query = Query::default().with_buffer_size(buffer).with_threads(threads);
        for (name, got) in common::every_strategy_on_file(&text, &query) {
            prop_assert_eq!(got.unwrap(), expected, "{} with buffer {}, {} threads", name, buffer, threads);
        }
    }

    #[test]
    fn every_strategy_matches_the_reference_on_hostile_text(text in hostile_text(), buffer in 1usize..64) {
        let expected = reference(&text, b"cpu_usage");
        let query = Query::default().with_buffer_size(buffer);
        for s in STRATEGIES {
            let got = (s.run)(logbench::Input::from_bytes("prop", text.clone()), &query).unwrap();
            prop_assert_eq!(got, expected, "{} with buffer {}", s.name, buffer);
        }
    }
}

/// Records of `metric` with epochs and values of many lengths, among hostile
/// lines: long enough texts that the fast paths (which need 64-byte blocks
/// and slack) run, and switch epoch length as they go.
fn fast_path_text(metric: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let record = (
        0u32..12,
        0u64..u64::MAX,
        -1_000_000_000i64..1_000_000_000,
        0u8..4,
    )
        .prop_map(move |(epoch_digits, epoch, value, variant)| {
            let epoch = epoch % 10u64.pow(epoch_digits) + 10u64.pow(epoch_digits) / 10;
            let value = match variant {
                0 => format!("{value}"),
                1 => format!("{}", value % 1000),
                2 => format!("+{:09}", value.unsigned_abs() % 100_000),
                _ => format!("{value}\r"),
            };
            format!("{epoch},{metric},{value}").into_bytes()
        });
    // Well-formed records of other metrics, as in a real log: the scanners
    // settle these in their fast loops, not only the wanted metric's.
    let other = (
        0u64..10_000_000_000,
        prop_oneof![
            Just("memory_usage".to_owned()),
            Just("cpu_usage_total".to_owned()),
            Just("xcpu_usage".to_owned()),
            Just("cpu_usag".to_owned()),
            "[a-z_]{1,12}"
        ],
        -100_000i64..100_000,
    )
        .prop_map(|(epoch, other, value)| format!("{epoch},{other},{value}").into_bytes());
    proptest::collection::vec(
        prop_oneof![4 => record, 2 => other, 1 => hostile_line()],
        0..300,
    )
    .prop_map(|lines| lines.join(&b'\n'))
}

/// Only records the fast loops take themselves (values of at most 8 digits,
/// some signed; other metrics' records), so that the count, sum, minimum
/// and maximum are theirs alone, not the general path's.
fn fast_loop_text(metric: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let record = (0u64..10_000_000_000, -99_999_999i64..100_000_000, 0u8..4).prop_map(
        move |(epoch, value, variant)| {
            let value = match variant {
                0 => format!("{}", value.unsigned_abs() % 1000),
                1 => format!("{}", value.unsigned_abs()),
                2 => format!("{value}"),
                _ => format!("{}", value % 100),
            };
            format!("{epoch},{metric},{value}").into_bytes()
        },
    );
    let other = (0u64..10_000_000_000, -100_000i64..100_000)
        .prop_map(|(epoch, value)| format!("{epoch},memory_usage,{value}").into_bytes());
    proptest::collection::vec(prop_oneof![6 => record, 1 => other], 0..400)
        .prop_map(|lines| lines.join(&b'\n'))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// The fast loops' own tallies: every record here is one they take.
    #[test]
    fn fast_loop_tallies_match_the_reference(
        (metric, text) in prop_oneof![Just("cpu_usage"), Just("m")]
            .prop_flat_map(|metric| (Just(metric), fast_loop_text(metric))),
    ) {
        let expected = reference(&text, metric.as_bytes());
        for s in STRATEGIES {
            let got = (s.run)(logbench::Input::from_bytes("prop", text.clone()), &Query::new(metric)).unwrap();
            prop_assert_eq!(got, expected, "{} for {}", s.name, metric);
        }
    }

    /// The default buffer, so the fast paths run: the template (alone, then
    /// with the masks' split once other metrics' lines come by) for a short
    /// metric, the SWAR words for one too long for a template, the masks'
    /// split in mask-split, and the one-pass check for a metric too long
    /// for all of them.
    #[test]
    fn fast_paths_match_the_reference(
        (metric, text) in prop_oneof![
            Just("cpu_usage"),
            Just("m"),
            // Too long for a template, short enough for the SWAR words.
            Just("a_metric_name_long_ish"),
            // Too long for either fast check: mask-split's path throughout.
            Just("a_metric_name_too_long_for_a_template"),
        ]
            .prop_flat_map(|metric| (Just(metric), fast_path_text(metric))),
    ) {
        let expected = reference(&text, metric.as_bytes());
        for s in STRATEGIES {
            let got = (s.run)(logbench::Input::from_bytes("prop", text.clone()), &Query::new(metric)).unwrap();
            prop_assert_eq!(got, expected, "{} for {}", s.name, metric);
        }
    }
}
