//! The input layer: content detection, every stream and member, and loud
//! failure on truncated, corrupt or garbage-tailed compressed files.

mod common;

use std::io::Read;

use common::{bz2, gz};
use logbench::{Format, Input};

fn decode(bytes: Vec<u8>) -> Result<Vec<u8>, logbench::Error> {
    let mut decoder = Input::from_bytes("sample.log", bytes).into_decoder();
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match decoder.fill(&mut buf)? {
            0 => return Ok(text),
            n => text.extend_from_slice(&buf[..n]),
        }
    }
}

const TEXT: &[u8] = b"1,cpu_usage,5\n2,memory_usage,900\n3,cpu_usage,7\n";

/// Text long and varied enough to span several bzip2 / deflate blocks.
fn long_text() -> Vec<u8> {
    (0..200_000u64)
        .flat_map(|i| {
            format!("{},cpu_usage,{}\n", 1_362_330_056 + i, (i * 7919) % 101).into_bytes()
        })
        .collect()
}

#[test]
fn formats_are_recognised_by_content() {
    assert_eq!(
        Input::from_bytes("x.bz2", TEXT.to_vec()).format(),
        Format::Raw
    );
    assert_eq!(Input::from_bytes("x.log", gz(TEXT)).format(), Format::Gzip);
    assert_eq!(Input::from_bytes("x.gz", bz2(TEXT)).format(), Format::Bzip2);
}

#[test]
fn short_files_are_raw_text() {
    for bytes in [&b""[..], b"B", b"BZ", b"\x1f"] {
        assert_eq!(
            Input::from_bytes("short", bytes.to_vec()).format(),
            Format::Raw
        );
        assert_eq!(decode(bytes.to_vec()).unwrap(), bytes);
    }
}

#[test]
fn every_format_decodes_to_the_same_text() {
    for bytes in [TEXT.to_vec(), gz(TEXT), bz2(TEXT)] {
        assert_eq!(decode(bytes).unwrap(), TEXT);
    }
}

#[test]
fn multi_stream_bzip2_split_mid_line_reads_every_stream() {
    let (a, b) = TEXT.split_at(20);
    let joined = [bz2(a), bz2(b), bz2(b"")].concat();
    assert_eq!(decode(joined).unwrap(), TEXT);
}

#[test]
fn multi_member_gzip_split_mid_line_reads_every_member() {
    let (a, b) = TEXT.split_at(20);
    let joined = [gz(a), gz(b), gz(b"")].concat();
    assert_eq!(decode(joined).unwrap(), TEXT);
}

fn assert_error_mentions(result: Result<Vec<u8>, logbench::Error>, words: &[&str]) {
    let message = result.expect_err("must be an error").to_string();
    assert!(
        message.starts_with("sample.log: "),
        "names the file: {message}"
    );
    for word in words {
        assert!(
            message.contains(word),
            "{message:?} should mention {word:?}"
        );
    }
}

#[test]
fn truncated_bzip2_is_an_error() {
    let whole = bz2(&long_text());
    for keep in [whole.len() - 1, whole.len() / 2, 10, 4] {
        assert_error_mentions(decode(whole[..keep].to_vec()), &["bzip2", "byte"]);
    }
}

#[test]
fn truncated_gzip_is_an_error() {
    let whole = gz(&long_text());
    for keep in [whole.len() - 1, whole.len() - 8, whole.len() / 2, 10, 3] {
        assert_error_mentions(decode(whole[..keep].to_vec()), &["gzip", "byte"]);
    }
}

#[test]
fn bit_flipped_bzip2_is_an_error() {
    let mut bytes = bz2(&long_text());
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    assert_error_mentions(decode(bytes), &["bzip2"]);
}

#[test]
fn bit_flipped_gzip_is_an_error() {
    let mut bytes = gz(&long_text());
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    assert_error_mentions(decode(bytes), &["gzip"]);
}

#[test]
fn garbage_after_the_last_bzip2_stream_is_an_error() {
    for tail in [&b"garbage"[..], b"\0\0\0\0", b"\n", b"BZh9"] {
        assert_error_mentions(decode([bz2(TEXT), tail.to_vec()].concat()), &["bzip2"]);
    }
}

#[test]
fn garbage_after_the_last_gzip_member_is_an_error() {
    for tail in [&b"garbage"[..], b"\0\0\0\0", b"\n", b"\x1f\x8b"] {
        assert_error_mentions(decode([gz(TEXT), tail.to_vec()].concat()), &["gzip"]);
    }
}

#[test]
fn errors_are_sticky() {
    let whole = gz(&long_text());
    let mut decoder =
        Input::from_bytes("sample.log", whole[..whole.len() - 4].to_vec()).into_decoder();
    let mut sink = Vec::new();
    assert!(decoder.read_to_end(&mut sink).is_err());
    let mut buf = [0u8; 64];
    for _ in 0..3 {
        assert!(
            decoder.fill(&mut buf).is_err(),
            "a later read must fail again, not return Ok(0)"
        );
    }
}

#[test]
fn a_missing_file_is_an_open_error_naming_it() {
    let error = Input::open("no/such/file.log".as_ref()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("no/such/file.log: cannot open"),
        "{error}"
    );
}

#[test]
fn a_directory_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let error = Input::open(dir.path()).unwrap_err().to_string();
    assert!(error.contains("directory"), "{error}");
}

#[test]
fn a_regular_file_is_available_for_offset_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.log");
    std::fs::write(&path, TEXT).unwrap();
    let input = Input::open(&path).unwrap();
    assert_eq!(input.format(), Format::Raw);
    assert!(input.file().is_some());
    assert_eq!(decode(std::fs::read(&path).unwrap()).unwrap(), TEXT);
}
