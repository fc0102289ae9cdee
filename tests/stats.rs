//! `logbench stats` against `STATS.md`: each rule checked against a plain
//! reference written from the contract alone, on both engines, every format,
//! split into files and thread counts; then the CLI's outputs and errors.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use assert_cmd::Command;
use common::{bz2, gz};
use logbench::stats::output::Row;
use logbench::stats::{Engine, Quantile, Report, StatsQuery, summarise_files};
use predicates::prelude::*;
use proptest::prelude::*;
use tempfile::TempDir;

/// The contract, plainly: lines split on `\n`, one `\r` dropped, exactly three
/// comma-separated fields, EPOCH digits, METRIC non-empty, VALUE an i64.
fn reference_rows(texts: &[&[u8]], query: &StatsQuery) -> (Vec<Row>, u64, u64, u64) {
    let mut groups: BTreeMap<(Option<u64>, Vec<u8>), Vec<i64>> = BTreeMap::new();
    let (mut records, mut malformed, mut out_of_range) = (0, 0, 0);
    let needs_epoch = query.every.is_some() || query.since.is_some() || query.until.is_some();
    for text in texts {
        let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        if lines.last() == Some(&&b""[..]) {
            lines.pop();
        }
        for line in lines {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&[u8]> = line.split(|&b| b == b',').collect();
            let record = match fields[..] {
                [epoch, metric, value]
                    if !epoch.is_empty()
                        && epoch.iter().all(u8::is_ascii_digit)
                        && !metric.is_empty() =>
                {
                    std::str::from_utf8(value)
                        .ok()
                        .filter(|v| !v.starts_with("+-") && !v.starts_with("++"))
                        .and_then(|v| v.parse::<i64>().ok())
                        .map(|v| (epoch, metric, v))
                }
                _ => None,
            };
            let Some((epoch, metric, value)) = record else {
                malformed += 1;
                continue;
            };
            records += 1;
            let mut window = None;
            if needs_epoch {
                // Digits only, so a big-integer comparison by length then bytes.
                let trimmed = std::str::from_utf8(epoch).unwrap().trim_start_matches('0');
                let Ok(epoch) = (if trimmed.is_empty() {
                    Ok(0)
                } else {
                    trimmed.parse::<u64>()
                }) else {
                    out_of_range += 1;
                    continue;
                };
                if query.since.is_some_and(|s| (epoch as i128) < s)
                    || query.until.is_some_and(|u| (epoch as i128) >= u)
                {
                    continue;
                }
                window = query.every.map(|w| epoch / w * w);
            }
            if !query.metrics.is_empty() && !query.metrics.iter().any(|m| m == metric) {
                continue;
            }
            groups
                .entry((window, metric.to_vec()))
                .or_default()
                .push(value);
        }
    }
    let windows: std::collections::BTreeSet<Option<u64>> = groups.keys().map(|k| k.0).collect();
    for metric in &query.metrics {
        for window in &windows {
            groups.entry((*window, metric.clone())).or_default();
        }
    }
    let rows = groups
        .into_iter()
        .map(|((window, metric), mut values)| {
            values.sort();
            let n = values.len() as u64;
            let sum: Option<i128> = (n > 0).then(|| values.iter().map(|&v| v as i128).sum());
            let quantiles = if n == 0 {
                Vec::new()
            } else {
                query
                    .quantiles
                    .iter()
                    .map(|q| values[(reference_rank(&q.text, n) - 1) as usize])
                    .collect()
            };
            Row {
                window_start: window,
                metric,
                count: n,
                sum,
                min: values.first().copied(),
                max: values.last().copied(),
                mean: sum.map(|s| s as f64 / n as f64),
                quantiles,
                exact: true,
            }
        })
        .collect();
    (rows, records, malformed, out_of_range)
}

/// Nearest rank from the decimal text: ceil(digits * n / 10^places), at least 1.
fn reference_rank(q: &str, n: u64) -> u64 {
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    let places = fraction.len() as u32;
    let digits: u128 = format!("{whole}{fraction}").parse().unwrap();
    let scaled = digits * n as u128;
    let rank = scaled / 10u128.pow(places) + u128::from(!scaled.is_multiple_of(10u128.pow(places)));
    (rank as u64).max(1)
}

fn write_files(dir: &TempDir, texts: &[Vec<u8>], encode: fn(&[u8]) -> Vec<u8>) -> Vec<PathBuf> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = dir.path().join(format!("part{i}.log"));
            std::fs::write(&path, encode(text)).unwrap();
            path
        })
        .collect()
}

fn raw(text: &[u8]) -> Vec<u8> {
    text.to_vec()
}

/// Both engines, every format, several thread counts and buffer sizes, the
/// files in both orders: every answer equals the reference.
fn assert_matches_reference(texts: &[Vec<u8>], query: &StatsQuery) {
    let borrowed: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
    let (rows, records, malformed, out_of_range) = reference_rows(&borrowed, query);
    let dir = TempDir::new().unwrap();
    for encode in [raw as fn(&[u8]) -> Vec<u8>, gz, bz2] {
        let mut paths = write_files(&dir, texts, encode);
        for (threads, buffer) in [(1, 1 << 16), (2, 7), (3, 64), (4, 1 << 10)] {
            paths.reverse();
            for engine in Engine::ALL {
                let query = query.clone().with_threads(threads).with_buffer_size(buffer);
                let outcome = summarise_files(&paths, &query, engine).unwrap();
                let context = format!(
                    "{} engine, {threads} threads, buffer {buffer}",
                    engine.name()
                );
                assert_eq!(outcome.summary.records, records, "{context}");
                assert_eq!(outcome.summary.malformed, malformed, "{context}");
                assert_eq!(outcome.summary.out_of_range, out_of_range, "{context}");
                assert_eq!(outcome.summary.files, texts.len() as u64, "{context}");
                match Report::new(&outcome.summary, &query, &outcome.skipped, 0.0) {
                    Ok(report) => assert_eq!(report.rows().collect::<Vec<_>>(), rows, "{context}"),
                    Err(e) => assert!(
                        rows.iter().all(|r| r.count == 0),
                        "{context}: {e}, but the reference has records"
                    ),
                }
            }
        }
    }
}

const MIXED: &[u8] = b"100,cpu,5\n101,mem,700\n102,cpu,-3\n103,cpu,9\n\n104,disk,0\n\
bad line\n105,cpu,5\r\n106,mem,+12\n107,cpu_total,1\n108,cpu,007\n";

#[test]
fn every_metric_is_a_group_with_exact_quantiles() {
    assert_matches_reference(&[MIXED.to_vec()], &StatsQuery::default());
}

#[test]
fn the_nearest_rank_is_exact_and_q0_q1_are_min_and_max() {
    let text: Vec<u8> = (1..=10)
        .map(|v| format!("1,m,{v}\n"))
        .collect::<String>()
        .into();
    let query = StatsQuery {
        quantiles: ["0", "0.1", "0.5", "0.9", "0.91", "1"]
            .map(|q| Quantile::parse(q).unwrap())
            .to_vec(),
        ..Default::default()
    };
    assert_matches_reference(std::slice::from_ref(&text), &query);
    // The 0.9-quantile of ten values is the 9th, never the 10th.
    let outcome = summarise_files(&[write_one(&text)], &query, Engine::Fast).unwrap();
    let report = Report::new(&outcome.summary, &query, &outcome.skipped, 0.0).unwrap();
    assert_eq!(
        report.rows().next().unwrap().quantiles,
        [1, 1, 5, 9, 10, 10]
    );
}

fn write_one(text: &[u8]) -> PathBuf {
    let dir = TempDir::new().unwrap().keep();
    let path = dir.join("one.log");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn metrics_asked_for_without_records_are_count_0_rows() {
    let query = StatsQuery {
        metrics: vec![b"cpu".to_vec(), b"nothing".to_vec(), b"a,b".to_vec()],
        ..Default::default()
    };
    assert_matches_reference(&[MIXED.to_vec()], &query);
    let windowed = StatsQuery {
        every: Some(3),
        ..query
    };
    assert_matches_reference(&[MIXED.to_vec()], &windowed);
}

#[test]
fn windows_and_time_filters_follow_the_epoch() {
    for (every, since, until) in [
        (Some(2), None, None),
        (Some(60), Some(101), Some(107)),
        (None, Some(103), None),
        (None, None, Some(0)),
        (Some(1), Some(-5), Some(1_000_000)),
    ] {
        let query = StatsQuery {
            every,
            since,
            until,
            ..Default::default()
        };
        assert_matches_reference(&[MIXED.to_vec()], &query);
    }
}

#[test]
fn epochs_past_64_bits_are_out_of_range_only_when_the_epoch_matters() {
    let text = b"18446744073709551616,cpu,1\n00000000000000000000000000001,cpu,2\n\
18446744073709551615,cpu,3\n99999999999999999999999,cpu,4\n"
        .to_vec();
    assert_matches_reference(std::slice::from_ref(&text), &StatsQuery::default());
    let windowed = StatsQuery {
        every: Some(10),
        ..Default::default()
    };
    assert_matches_reference(&[text], &windowed);
}

#[test]
fn several_files_are_one_log_in_any_order() {
    let (a, b) = MIXED.split_at(41);
    // Cut mid-line: each file is its own log, so the cut makes two lines.
    assert_matches_reference(
        &[a.to_vec(), b.to_vec(), Vec::new()],
        &StatsQuery::default(),
    );
}

fn log_line() -> impl Strategy<Value = Vec<u8>> {
    let metric = prop::sample::select(vec![&b"cpu"[..], b"mem", b"d", b"\xff\xfe", b"cpu "]);
    prop_oneof![
        8 => (0u64..400, metric, -50i64..50).prop_map(|(e, m, v)| {
            let mut line = format!("{e},").into_bytes();
            line.extend_from_slice(m);
            line.extend_from_slice(format!(",{v}\n").as_bytes());
            line
        }),
        1 => (0u64..400, any::<i64>()).prop_map(|(e, v)| format!("{e},wide,{v}\n").into_bytes()),
        1 => prop::collection::vec(prop::sample::select(b"0123456789,-+\r\nab".to_vec()), 0..14),
        // Lines of 32 to 70 bytes: both halves of the fast path's masks,
        // metrics on either side of its 16-byte word, epochs with leading
        // zeros past 19 digits, and the general path past 63 bytes.
        2 => (0u64..400, 1usize..26, long_metric(), any::<i64>(), any::<bool>()).prop_map(
            |(e, width, m, v, crlf)| {
                let mut line = format!("{e:0>width$},").into_bytes();
                line.extend_from_slice(m);
                line.extend_from_slice(format!(",{v}").as_bytes());
                line.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
                line
            }
        ),
    ]
}

fn long_metric() -> impl Strategy<Value = &'static [u8]> {
    prop::sample::select(vec![
        &b"fifteen_bytes_x"[..],
        b"sixteen_bytes_xy",
        b"seventeen_bytes_x",
        b"a_much_longer_metric_name_ok",
        b"cpu",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn any_split_at_line_starts_merges_to_the_same_answer(
        lines in prop::collection::vec(log_line(), 0..120),
        cuts in prop::collection::vec(0usize..120, 0..3),
        every in prop::option::of(1u64..100),
    ) {
        let mut files: Vec<Vec<u8>> = vec![Vec::new()];
        for (i, line) in lines.iter().enumerate() {
            if cuts.contains(&i) {
                files.push(Vec::new());
            }
            files.last_mut().unwrap().extend_from_slice(line);
        }
        let query = StatsQuery { every, ..Default::default() };
        assert_matches_reference(&files, &query);
    }
}

#[test]
fn past_a_million_distinct_values_the_sketch_is_within_one_percent() {
    let distinct = logbench::stats::EXACT_DISTINCT as i64 + 5000;
    let mut whole = logbench::stats::GroupState::default();
    let mut halves = [
        logbench::stats::GroupState::default(),
        logbench::stats::GroupState::default(),
    ];
    // A deterministic shuffle of 1..=distinct, times 1000.
    let value = |i: i64| (i * 7_919 % distinct + 1) * 1000;
    for i in 0..distinct {
        whole.add(value(i));
        halves[(i % 2) as usize].add(value(i));
    }
    assert!(!whole.exact());
    assert!(halves[0].exact() && halves[1].exact());
    let [mut merged, other] = halves;
    merged.merge(&other);
    assert!(
        !merged.exact(),
        "the merged group has as many distinct values"
    );
    let qs: Vec<Quantile> = ["0", "0.25", "0.5", "0.9", "0.99", "1"]
        .map(|q| Quantile::parse(q).unwrap())
        .to_vec();
    let got = whole.quantiles(&qs);
    assert_eq!(
        merged.quantiles(&qs),
        got,
        "the sketch does not depend on the split"
    );
    for (q, got) in qs.iter().zip(got) {
        let exact = reference_rank(&q.text, distinct as u64) as i64 * 1000;
        let error = (got - exact).abs() as f64 / exact as f64;
        assert!(error <= 0.01, "q{}: {got} vs exact {exact}", q.text);
    }
}

// The CLI: outputs and errors.

fn logbench() -> Command {
    Command::cargo_bin("logbench").unwrap()
}

#[test]
fn json_parses_with_exact_sums_and_non_utf8_metrics() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("x.log");
    std::fs::write(
        &path,
        b"1,\xffm,9223372036854775807\n2,\xffm,9223372036854775807\n3,ok,1\n",
    )
    .unwrap();
    let out = logbench()
        .arg("stats")
        .arg(&path)
        .arg("--json")
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let groups = doc["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["metric"], "ok");
    assert_eq!(groups[1]["metric"], "\\xffm");
    assert_eq!(groups[1]["metric_bytes"], serde_json::json!([255, 109]));
    assert_eq!(groups[1]["sum"].to_string(), "18446744073709551614");
    assert_eq!(groups[1]["quantiles"]["0.5"], 9223372036854775807i64);
    assert_eq!(doc["records"], 3);
    assert_eq!(doc["files"], 1);
}

#[test]
fn csv_has_a_header_and_quotes_what_needs_it() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("x.log");
    std::fs::write(&path, b"1,say \"hi\",5\n2,b,6\n").unwrap();
    logbench()
        .args(["stats", "--csv", "--quantiles", "0.5"])
        .arg(&path)
        .assert()
        .success()
        .stdout("metric,count,sum,min,max,mean,q0.5,exact\nb,1,6,6,6,6,6,true\n\"say \"\"hi\"\"\",1,5,5,5,5,5,true\n");
}

#[test]
fn a_bad_file_gives_no_answer_unless_keep_going() {
    let dir = TempDir::new().unwrap();
    let good = dir.path().join("good.log");
    std::fs::write(&good, MIXED).unwrap();
    let mut corrupt = gz(MIXED);
    corrupt.truncate(corrupt.len() - 3);
    let bad = dir.path().join("bad.log.gz");
    std::fs::write(&bad, corrupt).unwrap();
    let missing = dir.path().join("missing.log");
    logbench()
        .arg("stats")
        .args([&good, &bad])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("bad.log.gz").and(predicate::str::contains("truncated")));
    let out = logbench()
        .args(["stats", "--keep-going", "--json"])
        .args([&good, &bad, &missing])
        .assert()
        .code(1);
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(doc["files"], 1);
    let skipped = doc["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2);
    assert!(skipped[0]["file"].as_str().unwrap().ends_with("bad.log.gz"));
    assert!(
        skipped[1]["error"]
            .as_str()
            .unwrap()
            .contains("missing.log")
    );
}

#[test]
fn strict_names_the_file_and_line_and_empty_input_is_an_error() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("m.log");
    std::fs::write(&path, MIXED).unwrap();
    for threads in ["1", "2"] {
        logbench()
            .args(["stats", "--strict", "--threads", threads])
            .arg(&path)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("m.log: line 7: malformed"));
    }
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, b"\n\n").unwrap();
    logbench()
        .arg("stats")
        .arg(&empty)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no record found"));
    logbench()
        .args(["stats", "--since", "2100-01-01"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no record found"));
}

#[test]
fn usage_errors_exit_2() {
    for flags in [
        &["--every", "0"][..],
        &["--every", "5x"],
        &["--since", "tomorrow"],
        &["--quantiles", "1.5"],
        &["--quantiles", "0.5,-1"],
        &["--json", "--csv"],
        &["--engine", "turbo"],
    ] {
        logbench()
            .arg("stats")
            .args(flags)
            .arg("x.log")
            .assert()
            .code(2);
    }
}

/// `mean`'s bad-input table (README), row by row, for `stats`: both engines,
/// one and two threads. A file that cannot be read to its end gives no
/// answer and names itself; everything else answers as the raw text does.
#[test]
fn means_bad_input_table_applies_to_stats() {
    let dir = TempDir::new().unwrap();
    let put = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    // No trailing newline, CRLF, a NUL, invalid UTF-8, `+7`, `007`, the i64
    // bounds, blank and malformed lines.
    let text: &[u8] =
        b"1,cpu,+7\r\n2,cpu,007\n3,c\0u,-9223372036854775808\n4,\xff,9223372036854775807\n\n\
        5,cpu,9223372036854775808\n6,cpu\n7,cpu,1,2\n8,,1\nx,cpu,1\n9,cpu,5";
    let mut bzip = bz2(&text[..40]);
    bzip.extend(bz2(&text[40..]));
    let mut gzip = gz(&text[..33]);
    gzip.extend(gz(&text[33..]));
    let answers = [
        put("plain.log", text),
        put("named-wrong.log.bz2", text),
        put("multi-stream.log.bz2", &bzip),
        put("multi-member.log.gz", &gzip),
    ];
    let mut truncated = bz2(MIXED);
    truncated.truncate(truncated.len() - 10);
    let mut flipped = bz2(MIXED);
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    let mut tailed_bz2 = bz2(MIXED);
    tailed_bz2.extend_from_slice(b"garbage");
    let mut tailed_gz = gz(MIXED);
    tailed_gz.extend_from_slice(b"garbage");
    let mut flipped_gz = gz(MIXED);
    let middle = flipped_gz.len() / 2;
    flipped_gz[middle] ^= 0x10;
    let errors = [
        (dir.path().join("missing.log"), "cannot open"),
        (dir.path().to_path_buf(), "directory"),
        (put("truncated.log.bz2", &truncated), "truncated"),
        (put("flipped.log.bz2", &flipped), ""),
        (put("tailed.log.bz2", &tailed_bz2), ""),
        (put("tailed.log.gz", &tailed_gz), ""),
        (put("flipped.log.gz", &flipped_gz), ""),
    ];
    let json = |args: &[&str], path: &std::path::Path| {
        let out = logbench()
            .arg("stats")
            .args(args)
            .arg("--json")
            .arg(path)
            .assert()
            .success();
        let mut doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        doc.as_object_mut().unwrap().remove("seconds");
        doc
    };
    let expected = json(&["--engine", "naive"], &answers[0]);
    assert_eq!(expected["records"], 5);
    assert_eq!(expected["malformed"], 5);
    for engine in ["naive", "fast"] {
        for threads in ["1", "2"] {
            let args = ["--engine", engine, "--threads", threads];
            for path in &answers {
                assert_eq!(json(&args, path), expected, "{engine} {threads} {path:?}");
            }
            for (path, why) in &errors {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                logbench()
                    .arg("stats")
                    .args(args)
                    .arg(path)
                    .assert()
                    .code(1)
                    .stdout("")
                    .stderr(predicate::str::contains(name).and(predicate::str::contains(*why)));
            }
        }
    }
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("logbench"))
        .arg("stats")
        .arg(&answers[0])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write to standard output"));
}

#[test]
fn profile_times_the_stats_engines_stages() {
    let path = write_one(MIXED);
    for (engine, stages) in [
        (
            "naive",
            &[
                "split lines",
                "parse + filter",
                "collect (push)",
                "summarise",
            ][..],
        ),
        (
            "fast",
            &["decompress", "scan (split+parse+fold)", "summarise"],
        ),
    ] {
        let out = logbench()
            .args(["profile", "--stats", engine])
            .arg(&path)
            .assert()
            .success();
        let table = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(
            table.starts_with(&format!("stats --engine {engine} in ")),
            "{table}"
        );
        for stage in stages {
            assert!(table.contains(stage), "{engine}: no {stage:?} in\n{table}");
        }
        assert!(table.contains("observer effect"), "{table}");
    }
    logbench()
        .args(["profile", "--stats", "fast", "-"])
        .write_stdin(MIXED)
        .assert()
        .code(2);
}
