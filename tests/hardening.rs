//! Inputs known to break log parsers: huge lines, compression bombs, many-block
//! bzip2 files, flipped bits. Each strategy must give the reference answer or a
//! clean error, at every thread count.

mod common;

use common::{bz2, every_strategy, every_strategy_on_file, gz, reference};
use logbench::{Input, Query, STRATEGIES};

fn assert_every_strategy_gives(bytes: &[u8], expected: logbench::Answer, threads: &[usize]) {
    for &t in threads {
        let query = Query::default().with_threads(t);
        for (name, got) in every_strategy(bytes, &query)
            .into_iter()
            .chain(every_strategy_on_file(bytes, &query))
        {
            assert_eq!(
                got.unwrap_or_else(|e| panic!("{name}: {e}")),
                expected,
                "{name}, {t} threads"
            );
        }
    }
}

#[test]
fn a_line_of_megabytes_without_newline_is_one_malformed_line() {
    let mut text = b"1,cpu_usage,5\n".to_vec();
    text.extend(std::iter::repeat_n(b'x', 3 << 20));
    let expected = reference(&text, b"cpu_usage");
    assert_eq!(expected.key(), (1, 5, 5, 5, 1));
    assert_every_strategy_gives(&text, expected, &[1, 2]);
}

#[test]
fn a_compression_bomb_still_gives_the_exact_answer() {
    // A few kilobytes of bzip2 that inflate to one 8 MB record: a value with
    // millions of leading zeros is still the value 7.
    let mut text = b"1,cpu_usage,".to_vec();
    text.extend(std::iter::repeat_n(b'0', 8 << 20));
    text.extend(b"7\n2,cpu_usage,3\n");
    let bomb = bz2(&text);
    assert!(bomb.len() < 4096, "{} bytes", bomb.len());
    assert_every_strategy_gives(&bomb, reference(&text, b"cpu_usage"), &[1, 2]);
    assert_eq!(reference(&text, b"cpu_usage").key(), (2, 10, 3, 7, 0));
}

/// ~6 MB of text with varied lines: at level 1 (100 kB blocks) that is about
/// sixty bzip2 blocks, each boundary falling inside a line.
fn many_block_text() -> Vec<u8> {
    varied_text(250_000)
}

fn varied_text(lines: u64) -> Vec<u8> {
    (0..lines)
        .flat_map(|i| {
            let metric = ["cpu_usage", "memory_usage", "disk_io"][(i % 3) as usize];
            format!("{},{metric},{}\n", 1_362_330_056 + i, (i * 7919) % 16_385).into_bytes()
        })
        .collect()
}

fn bz2_level_1(text: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(1));
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn a_single_stream_bzip2_with_many_blocks_agrees_at_every_thread_count() {
    let text = many_block_text();
    let bytes = bz2_level_1(&text);
    let blocks = bzip2_blocks::find_magics(&bytes).len() - 1;
    assert!(blocks >= 50, "{blocks} blocks");
    assert_every_strategy_gives(&bytes, reference(&text, b"cpu_usage"), &[1, 2, 3, 8]);
}

#[test]
fn hundreds_of_blocks_slide_through_the_parallel_window_at_every_thread_count() {
    let text = varied_text(1_300_000);
    let bytes = bz2_level_1(&text);
    let blocks = bzip2_blocks::find_magics(&bytes).len() - 1;
    assert!(blocks >= 300, "{blocks} blocks");
    let expected = reference(&text, b"cpu_usage");
    let parallel = STRATEGIES.iter().find(|s| s.name == "parallel").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many-blocks.log.bz2");
    std::fs::write(&path, &bytes).unwrap();
    // 4 KiB buffers read 64 KiB ahead: the window slides hundreds of times.
    for buffer in [4096, logbench::strategy::DEFAULT_BUFFER_SIZE] {
        for threads in [1, 2, 3] {
            let query = Query::default()
                .with_buffer_size(buffer)
                .with_threads(threads);
            let got = (parallel.run)(Input::open(&path).unwrap(), &query).unwrap();
            assert_eq!(got, expected, "buffer {buffer}, {threads} threads");
        }
    }
}

#[test]
fn a_multi_stream_bzip2_split_mid_line_agrees_at_every_thread_count() {
    let text = many_block_text();
    let cuts = [0, 1_000_003, 2_500_017, 2_500_018, text.len()];
    let bytes: Vec<u8> = cuts
        .windows(2)
        .flat_map(|w| bz2_level_1(&text[w[0]..w[1]]))
        .collect();
    assert_every_strategy_gives(&bytes, reference(&text, b"cpu_usage"), &[1, 2, 3]);
}

#[test]
fn a_flipped_bit_anywhere_in_a_bzip2_block_is_an_error_for_every_strategy() {
    let bytes = bz2_level_1(&many_block_text()[..1_500_000]);
    for position in [200, bytes.len() / 3, bytes.len() / 2, bytes.len() - 30] {
        let mut broken = bytes.clone();
        broken[position] ^= 0x01;
        for threads in [1, 2] {
            for (name, got) in every_strategy(&broken, &Query::default().with_threads(threads)) {
                assert!(
                    got.is_err(),
                    "{name} answered a file with a flipped bit at byte {position}"
                );
            }
        }
    }
}

#[test]
fn a_flipped_byte_in_gzip_gives_no_answer_even_though_lines_decoded_first() {
    let text = many_block_text();
    let mut bytes = gz(&text);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    for (name, got) in every_strategy(&bytes, &Query::default().with_threads(2)) {
        assert!(got.is_err(), "{name} answered a corrupt gzip file");
    }
}

#[test]
fn trailing_garbage_after_bzip2_is_an_error_for_every_strategy() {
    let mut bytes = bz2_level_1(&many_block_text()[..300_000]);
    bytes.extend_from_slice(b"\0\0garbage");
    for (name, got) in every_strategy(&bytes, &Query::default().with_threads(2)) {
        let error = got.expect_err(name).to_string();
        assert!(error.contains("bzip2"), "{name}: {error}");
    }
}

#[test]
fn a_raw_file_that_shrinks_while_read_is_an_error_not_a_crash() {
    // Simulate logrotate's copytruncate: open, then truncate before the scan.
    let text = many_block_text();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rotating.log");
    std::fs::write(&path, &text).unwrap();
    for strategy in STRATEGIES {
        let input = Input::open(&path).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(text.len() as u64 / 2)
            .unwrap();
        // A streaming rung sees a consistent shorter file; the chunked rung
        // notices the file shrank. Neither may crash or read past the end.
        match (strategy.run)(input, &Query::default().with_threads(2)) {
            Ok(answer) => assert!(
                answer.lines <= text.len() as u64 / 2 / 10,
                "{}",
                strategy.name
            ),
            Err(e) => assert!(e.to_string().contains("shrank"), "{}: {e}", strategy.name),
        }
        std::fs::write(&path, &text).unwrap();
    }
}

#[test]
fn a_file_whose_reported_size_is_zero_is_read_to_its_end_by_every_rung() {
    // `/proc/PID/cmdline` reports a size of 0 but holds the arguments:
    // `parallel` must not take the size's word for it.
    let mut child = std::process::Command::new("sh")
        .args(["-c", "sleep 60; exit 0", "logbench-test"])
        .arg("\n1362330056,m,5\n1362330057,m,-7\n1362330058,other,1\n1362330059,m,40")
        .spawn()
        .unwrap();
    let path = std::path::PathBuf::from(format!("/proc/{}/cmdline", child.id()));
    // Until the child has run `sh`, its cmdline is still the test's.
    let started = std::time::Instant::now();
    let text = loop {
        let text = std::fs::read(&path).unwrap();
        if text.windows(12).any(|w| w == b"logbench-tes") || started.elapsed().as_secs() > 10 {
            break text;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "the size lies");
    let expected = reference(&text, b"m");
    assert_eq!(
        expected.count, 2,
        "the fixture holds two whole records of m"
    );
    for strategy in STRATEGIES {
        for threads in [1, 2] {
            let query = Query::new(b"m".to_vec()).with_threads(threads);
            let answer = Input::open(&path).and_then(|input| (strategy.run)(input, &query));
            assert_eq!(
                answer.map(|a| a.key()).ok(),
                Some(expected.key()),
                "{} at {threads} threads",
                strategy.name
            );
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A gzip member written field by field, as RFC 1952 lays it out: FEXTRA,
/// FNAME and FCOMMENT of the given lengths, and a header CRC when asked.
fn gzip_member(
    text: &[u8],
    extra: Option<usize>,
    name: usize,
    comment: usize,
    hcrc: bool,
) -> Vec<u8> {
    use std::io::Write;
    let mut flags = 0u8;
    let mut fields = Vec::new();
    if let Some(len) = extra {
        flags |= 0x04;
        fields.extend_from_slice(&(len as u16).to_le_bytes());
        fields.extend(std::iter::repeat_n(b'e', len));
    }
    // A zero-length name or comment is the flag with just the terminator.
    flags |= 0x08;
    fields.extend(std::iter::repeat_n(b'n', name));
    fields.push(0);
    flags |= 0x10;
    fields.extend(std::iter::repeat_n(b'c', comment));
    fields.push(0);
    if hcrc {
        flags |= 0x02;
    }
    let mut member = vec![0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3];
    member.extend_from_slice(&fields);
    if hcrc {
        let mut crc = flate2::Crc::new();
        crc.update(&member);
        member.extend_from_slice(&(crc.sum() as u16).to_le_bytes());
    }
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    deflate.write_all(text).unwrap();
    member.extend_from_slice(&deflate.finish().unwrap());
    let mut crc = flate2::Crc::new();
    crc.update(text);
    member.extend_from_slice(&crc.sum().to_le_bytes());
    member.extend_from_slice(&(text.len() as u32).to_le_bytes());
    member
}

#[test]
fn gzip_header_fields_of_any_length_are_read_by_every_strategy() {
    let text = data_gen::text(data_gen::Spec {
        lines: 20_000,
        mix: data_gen::Mix::Mixed,
        ..Default::default()
    });
    let (first, second) = text.split_at(text.len() / 3);
    let expected = reference(&text, b"cpu_usage");
    for len in [0, 65_535, 65_536, 1 << 20] {
        for hcrc in [false, true] {
            // Two members, so the second header is read after a deflate stream.
            let bytes = [
                gzip_member(first, Some(len.min(65_535)), len, 0, hcrc),
                gzip_member(second, None, 7, len, hcrc),
            ]
            .concat();
            assert_every_strategy_gives(&bytes, expected, &[1, 2]);
        }
    }
}

#[test]
fn a_bad_gzip_header_checksum_or_method_is_an_error() {
    let text = b"1,cpu_usage,5\n";
    let good = gzip_member(text, Some(3), 70_000, 5, true);
    // The header CRC follows the fixed 10 bytes, XLEN and the extra field,
    // the name and the comment with their terminators.
    let header_crc = 10 + 2 + 3 + 70_001 + 6;
    let mut bad_crc = good.clone();
    bad_crc[header_crc] ^= 1;
    let mut bad_method = good.clone();
    bad_method[2] = 7;
    let mut reserved = good.clone();
    reserved[3] |= 0x80;
    for (what, bytes) in [
        ("header checksum", bad_crc),
        ("compression method", bad_method),
        ("reserved", reserved),
    ] {
        for (name, got) in every_strategy(&bytes, &Query::default().with_threads(2)) {
            let message = got.expect_err(name).to_string();
            assert!(
                message.contains("gzip") && message.contains(what),
                "{name}: {message}"
            );
        }
    }
}
