//! The `logbench` command line: outputs and exit codes.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn logbench() -> Command {
    Command::cargo_bin("logbench").unwrap()
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

const LOG: &[u8] = b"1,cpu_usage,10\n2,memory_usage,1396\n3,cpu_usage,20\nbroken\n4,cpu_usage,30\n";

fn json_of(path: &Path, extra: &[&str]) -> serde_json::Value {
    let out = logbench()
        .arg("mean")
        .arg(path)
        .arg("--json")
        .args(extra)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn mean_prints_mean_count_min_max_and_malformed() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "a.log", LOG);
    logbench()
        .arg("mean")
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "mean cpu_usage = 20.000000 over 3 records",
        ))
        .stdout(predicate::str::contains("min 10, max 30"))
        .stdout(predicate::str::contains("1 malformed lines"))
        .stdout(predicate::str::contains("raw input, strategy"));
}

#[test]
fn json_has_every_key_and_an_exact_sum() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "big.log",
        b"1,m,9223372036854775807\n2,m,9223372036854775807\n",
    );
    let record = json_of(&path, &["--metric", "m"]);
    for key in [
        "file",
        "metric",
        "strategy",
        "format",
        "count",
        "sum",
        "min",
        "max",
        "mean",
        "malformed",
        "seconds",
    ] {
        assert!(record.get(key).is_some(), "missing {key} in {record}");
    }
    // 2 * i64::MAX does not fit in i64 or f64 exactly: it must be printed as an integer.
    let raw = String::from_utf8(
        logbench()
            .arg("mean")
            .arg(&path)
            .args(["--json", "--metric", "m"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(raw.contains("\"sum\":18446744073709551614"), "{raw}");
    assert_eq!(record["count"], 2);
    assert_eq!(record["format"], "raw");
}

#[test]
fn compressed_and_misnamed_files_are_read_by_content() {
    let dir = TempDir::new().unwrap();
    let cases = [
        ("raw-named.bz2", LOG.to_vec(), "raw"),
        ("bz2-named.gz", common::bz2(LOG), "bz2"),
        ("gz-named.log", common::gz(LOG), "gz"),
    ];
    for (name, bytes, format) in cases {
        let record = json_of(&write(&dir, name, &bytes), &[]);
        assert_eq!(record["format"], format, "{name}");
        assert_eq!(record["sum"], 60, "{name}");
    }
}

#[test]
fn stdin_is_read_with_a_dash() {
    logbench()
        .args(["mean", "-", "--json"])
        .write_stdin(common::gz(LOG))
        .assert()
        .success()
        .stdout(predicate::str::contains("\"count\":3"));
}

#[test]
fn strict_names_the_first_malformed_line() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "a.log", LOG);
    logbench()
        .arg("mean")
        .arg(&path)
        .arg("--strict")
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("a.log: line 4: malformed"));
}

#[test]
fn no_record_of_the_metric_is_an_error_not_a_zero_mean() {
    let dir = TempDir::new().unwrap();
    for (name, bytes) in [("empty.log", &b""[..]), ("other.log", b"1,disk_io,5\n")] {
        let path = write(&dir, name, bytes);
        logbench()
            .arg("mean")
            .arg(&path)
            .arg("--json")
            .assert()
            .code(1)
            .stdout(predicate::str::contains("mean").not())
            .stderr(
                predicate::str::contains(name).and(predicate::str::contains("no record of metric")),
            );
    }
}

#[test]
fn a_missing_file_names_it_and_exits_1() {
    logbench()
        .args(["mean", "does-not-exist.log"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("does-not-exist.log: cannot open"));
}

#[test]
fn a_corrupt_file_gives_no_mean() {
    let dir = TempDir::new().unwrap();
    let text: Vec<u8> = (0..50_000)
        .flat_map(|i| format!("{i},cpu_usage,{}\n", i % 101).into_bytes())
        .collect();
    let bytes = common::bz2(&text);
    let path = write(&dir, "cut.log.bz2", &bytes[..bytes.len() / 2]);
    logbench()
        .arg("mean")
        .arg(&path)
        .arg("--json")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("mean").not())
        .stderr(predicate::str::contains("cut.log.bz2: truncated bzip2"));
}

#[test]
fn several_files_one_bad_answers_the_others_and_fails() {
    let dir = TempDir::new().unwrap();
    let good = write(&dir, "good.log", LOG);
    let bad = dir.path().join("missing.log");
    logbench()
        .arg("mean")
        .arg(&good)
        .arg(&bad)
        .arg(&good)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("good.log: mean").count(2))
        .stderr(predicate::str::contains("missing.log"));
}

#[test]
fn usage_errors_exit_2() {
    logbench().args(["mean"]).assert().code(2);
    logbench()
        .args(["mean", "x.log", "--threads", "0"])
        .assert()
        .code(2);
    logbench().args(["frobnicate"]).assert().code(2);
    logbench()
        .args(["mean", "x.log", "--strategy", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown strategy"));
}

#[test]
fn a_full_standard_output_is_an_error_not_a_panic() {
    let dir = TempDir::new().unwrap();
    let log = write(&dir, "ok.log", b"1362330056,cpu_usage,74\n");
    let log = log.to_str().unwrap();
    let logbench = assert_cmd::cargo::cargo_bin("logbench");
    let cases: [&[&str]; 4] = [
        &["mean", log],
        &["mean", log, "--json"],
        &["strategies"],
        &["measure", "-n", "1", "--warmup", "0", "--", "true"],
    ];
    for args in cases {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = std::process::Command::new(&logbench)
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to standard output"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn profile_refuses_a_stream_it_could_read_only_once() {
    // It would time the plain run on the stream and then profile an empty input.
    logbench()
        .args(["profile", "-", "--strategy", "swar"])
        .write_stdin("1362330056,cpu_usage,74\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<stdin>"))
        .stderr(predicate::str::contains("read twice"));
}

#[test]
fn strategies_lists_every_rung_in_ladder_order() {
    let out = logbench().arg("strategies").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let expected: Vec<&str> = logbench::STRATEGIES.iter().map(|s| s.name).collect();
    assert_eq!(names, expected);
    assert_eq!(names[0], "naive-regex");
}

#[test]
fn every_strategy_can_be_chosen_and_agrees() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "a.log.gz", &common::gz(LOG));
    for s in logbench::STRATEGIES {
        let record = json_of(&path, &["--strategy", s.name, "--threads", "2"]);
        assert_eq!(
            (record["count"].as_u64(), record["sum"].as_i64()),
            (Some(3), Some(60)),
            "{}",
            s.name
        );
        assert_eq!(record["strategy"], s.name);
    }
}

#[test]
fn measure_prints_five_numbers_for_each_quantity() {
    let out = logbench()
        .args(["measure", "-n", "3", "--warmup", "0", "--", "true"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("min")
            && text.contains("Q1")
            && text.contains("median")
            && text.contains("Q3")
    );
    for row in ["wall (s)", "user (s)", "sys (s)", "rss (MiB)"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no {row} in {text}"));
        assert_eq!(line[row.len()..].split_whitespace().count(), 5, "{line}");
    }
}

#[test]
fn measure_json_has_every_sample() {
    let out = logbench()
        .args(["measure", "-n", "4", "--json", "--", "true"])
        .assert()
        .success();
    let summary: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(summary["runs"], 4);
    assert_eq!(summary["samples"].as_array().unwrap().len(), 4);
    let rss = &summary["max_rss_kib"];
    assert!(rss["min"].as_f64() <= rss["q1"].as_f64() && rss["q3"].as_f64() <= rss["max"].as_f64());
}

#[test]
fn measure_fails_when_the_command_fails() {
    logbench()
        .args(["measure", "-n", "2", "--", "false"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("command `false`"));
}

/// The user id the test runs as (`id -u`).
fn effective_uid() -> u32 {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A command that runs logbench as a user that limits apply to: as root (who
/// reads any file and ignores RLIMIT_NPROC) it runs as `nobody`, from a copy
/// in the world-readable `dir` (the build directory may not be reachable for
/// that user). `wrapper` goes before the binary (`prlimit ...`).
fn unprivileged(dir: &TempDir, wrapper: &[&str]) -> Command {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut line: Vec<std::ffi::OsString> = Vec::new();
    let exe = if effective_uid() == 0 {
        let setpriv = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ];
        line.extend(setpriv.map(Into::into));
        let exe = dir.path().join("logbench");
        std::fs::copy(env!("CARGO_BIN_EXE_logbench"), &exe).unwrap();
        exe
    } else {
        PathBuf::from(env!("CARGO_BIN_EXE_logbench"))
    };
    line.extend(wrapper.iter().map(Into::into));
    line.push(exe.into());
    let mut command = Command::new(&line[0]);
    command.args(&line[1..]);
    command
}

#[test]
fn worker_threads_that_cannot_start_are_named_not_the_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let text = data_gen::text(data_gen::Spec {
        lines: 50_000,
        ..Default::default()
    });
    for (name, bytes) in [
        ("raw.log", text.clone()),
        ("log.gz", common::gz(&text)),
        ("log.bz2", common::bz2(&text)),
    ] {
        let path = write(&dir, name, &bytes);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        // One process per user: no thread can start.
        unprivileged(&dir, &["prlimit", "--nproc=1:1", "--"])
            .args(["mean", "--threads", "4"])
            .arg(&path)
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty())
            .stderr(
                predicate::str::contains("cannot start 4 worker threads")
                    .and(predicate::str::contains(name).not()),
            );
    }
}

#[test]
fn an_unreadable_file_names_it_and_exits_1() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = write(&dir, "secret.log", LOG);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut command = unprivileged(&dir, &[]);
    command
        .arg("mean")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("secret.log: cannot open")
                .and(predicate::str::contains("ermission denied")),
        );
}

#[test]
fn a_reader_that_goes_away_ends_the_program_without_a_panic() {
    // `logbench strategies | head -0`: the pipe is closed before anything is
    // written, so the first write fails; like any Unix filter the program is
    // ended by SIGPIPE, where Rust's default would panic in `println!`.
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_logbench"))
        .arg("strategies")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.status.success() || out.status.signal() == Some(libc::SIGPIPE),
        "{:?}: {stderr}",
        out.status
    );
}

/// A log that sends lines down every path of the fast scanners: the case
/// study's records, epochs in milliseconds, other metrics (enough to switch
/// `swar` to its split loop), signed, long and CRLF values, malformed and
/// blank lines. Deterministic, so a failure replays.
fn every_path_log(lines: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    let mut text = Vec::new();
    for i in 0..lines as u64 {
        let line = match next(20) {
            0..=7 => format!("{},cpu_usage,{}", 1_362_330_056 + i, next(101)),
            8 | 9 => format!("{},cpu_usage,{}", 1_362_330_056_000 + i, next(10_000_000)),
            10..=12 => format!("{},memory_usage,{}", 1_362_330_056 + i, next(16_385)),
            13 => format!("{},cpu_usage,-{}", 1_362_330_056 + i, next(1000)),
            14 => format!("{},cpu_usage,{}", i, next(u64::MAX)),
            15 => format!("{},cpu_usage,{}\r", 1_362_330_056 + i, next(101)),
            16 => format!("{},cpu_usage,{}x", 1_362_330_056 + i, next(101)),
            17 => String::new(),
            18 => format!("{},disk_io,+{}", i, next(4097)),
            _ => format!("{},cpu_usage,1,2", i),
        };
        text.extend_from_slice(line.as_bytes());
        text.push(b'\n');
    }
    text
}

/// The fast scanners have AVX2 and SSE2 versions, and a machine runs one of
/// them; `LOGBENCH_NO_AVX2` makes an AVX2 machine run the SSE2 ones. Both must
/// give the reference's answer.
#[test]
fn sse2_and_avx2_scans_give_the_same_answer() {
    let dir = TempDir::new().unwrap();
    let text = every_path_log(30_000);
    let path = write(&dir, "every-path.log", &text);
    let expected = common::reference(&text, b"cpu_usage");
    for strategy in ["mask-split", "swar", "parallel"] {
        for no_avx2 in [false, true] {
            let mut command = logbench();
            if no_avx2 {
                command.env("LOGBENCH_NO_AVX2", "1");
            }
            let out = command
                .arg("mean")
                .arg(&path)
                .args(["--json", "--strategy", strategy, "--threads", "2"])
                .assert()
                .success();
            let stdout = &out.get_output().stdout;
            let got: serde_json::Value = serde_json::from_slice(stdout).unwrap();
            let context = format!("{strategy}, LOGBENCH_NO_AVX2 {no_avx2}");
            assert_eq!(got["count"], expected.count, "{context}");
            // The sum can pass i64 (and f64's exact integers): compare the text.
            let sum = format!("\"sum\":{},", expected.sum);
            assert!(
                String::from_utf8_lossy(stdout).contains(&sum),
                "{context}: no {sum}"
            );
            assert_eq!(got["min"], expected.min, "{context}");
            assert_eq!(got["max"], expected.max, "{context}");
            assert_eq!(got["malformed"], expected.malformed, "{context}");
        }
    }
}
