//! The input layer under attack:
//! - arbitrary bytes behind a bzip2 or gzip magic never make a strategy panic
//!   or loop; it answers or errors cleanly;
//! - a real bzip2 / gzip file of the fuzzed text, intact and with one bit
//!   flipped, gets the same answer (or an error from all) from the serial
//!   decoder and from `parallel` on a file (the block framing) and a stream;
//! - our gzip member reader gives the text flate2's reader gives, or an error
//!   where it errors (the inputs are far below flate2's 64 KiB header limit).
#![no_main]

#[path = "common.rs"]
mod common;

use std::io::{Read, Write};

use common::{file_input, run};
use libfuzzer_sys::fuzz_target;
use logbench::{Input, Query};

fn bz2(text: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(1));
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

fn gz(text: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

fuzz_target!(|data: &[u8]| {
    let query = Query::default().with_threads(2);
    for magic in [&b"BZh9"[..], b"\x1f\x8b\x08\x00"] {
        let bytes = [magic, data].concat();
        let _ = run("swar", Input::from_bytes("fuzz", bytes.clone()), &query);
        let _ = run("parallel", file_input(&bytes), &query);
    }
    let gzip = [&b"\x1f\x8b\x08"[..], data].concat();
    let mut ours = Vec::new();
    let ours = Input::from_bytes("fuzz", gzip.clone())
        .into_decoder()
        .read_to_end(&mut ours)
        .map(|_| ours);
    let mut theirs = Vec::new();
    let theirs = flate2::read::MultiGzDecoder::new(&gzip[..])
        .read_to_end(&mut theirs)
        .map(|_| theirs);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "gzip text differs"),
        (Err(_), Err(_)) => {}
        _ => panic!("gzip: ours {ours:?}, flate2 {theirs:?}"),
    }
    let Some((&flip, text)) = data.split_first() else {
        return;
    };
    for compressed in [bz2(text), gz(text)] {
        let mut broken = compressed.clone();
        let at = usize::from(flip) * 31 % broken.len();
        broken[at] ^= 1 << (flip % 8);
        for bytes in [compressed, broken] {
            let expected = run("mask-split", Input::from_bytes("fuzz", bytes.clone()), &query);
            for threads in [1, 2] {
                let query = query.clone().with_threads(threads);
                assert_eq!(run("parallel", file_input(&bytes), &query), expected, "file, {threads}");
                let stream = Input::from_bytes("fuzz", bytes.clone());
                assert_eq!(run("parallel", stream, &query), expected, "stream, {threads}");
            }
        }
    }
});
