//! `gen-log`: reproducible output, the same text in every format, atomic writes.

use std::io::Read;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

fn gen_log(dir: &TempDir, name: &str, flags: &[&str]) -> Vec<u8> {
    let out = dir.path().join(name);
    Command::cargo_bin("gen-log")
        .unwrap()
        .args(flags)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(""); // no progress bar when stderr is not a terminal
    std::fs::read(out).unwrap()
}

fn decompress(bytes: &[u8]) -> Vec<u8> {
    let mut text = Vec::new();
    match bytes {
        [b'B', b'Z', b'h', ..] => bzip2::read::MultiBzDecoder::new(bytes).read_to_end(&mut text),
        [0x1f, 0x8b, ..] => flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut text),
        _ => return bytes.to_vec(),
    }
    .unwrap();
    text
}

#[test]
fn same_flags_give_identical_files() {
    let dir = TempDir::new().unwrap();
    let flags = ["--lines", "5000", "--mix", "mixed", "--format", "gz"];
    assert_eq!(gen_log(&dir, "a.gz", &flags), gen_log(&dir, "b.gz", &flags));
}

#[test]
fn the_text_is_the_same_in_every_format_and_thread_count() {
    let dir = TempDir::new().unwrap();
    let raw = gen_log(&dir, "x.log", &["--lines", "300000", "--format", "raw"]);
    for (name, flags) in [
        ("x.bz2", &["--format", "bz2", "--level", "1"][..]),
        ("x.gz", &["--format", "gz"]),
        (
            "x2.bz2",
            &["--format", "bz2", "--level", "1", "--threads", "2"],
        ),
        ("x3.gz", &["--format", "gz", "--threads", "3"]),
    ] {
        let bytes = gen_log(&dir, name, &[&["--lines", "300000"][..], flags].concat());
        assert_eq!(decompress(&bytes), raw, "{name}");
    }
}

#[test]
fn threads_write_several_streams() {
    let dir = TempDir::new().unwrap();
    // 300,000 lines are about 7 MB of text: two 4 MiB chunks, two streams.
    let bytes = gen_log(
        &dir,
        "x.bz2",
        &["--lines", "300000", "--level", "1", "--threads", "2"],
    );
    let streams = bytes.windows(4).filter(|w| w == b"BZh1").count();
    assert!(streams >= 2, "{streams} stream headers");
}

#[test]
fn seed_mix_is_the_case_study_generator() {
    let dir = TempDir::new().unwrap();
    let text = gen_log(
        &dir,
        "s.log",
        &[
            "--lines",
            "20000",
            "--format",
            "raw",
            "--start-epoch",
            "100",
        ],
    );
    let text = String::from_utf8(text).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 20000);
    let mut seen = [false; 101];
    for (i, line) in lines.iter().enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[0], (100 + i).to_string());
        assert_eq!(fields[1], "cpu_usage");
        seen[fields[2].parse::<usize>().unwrap()] = true;
    }
    assert!(seen.iter().all(|&s| s), "every value 0..=100 appears");
}

#[test]
fn mixed_mix_has_the_three_metrics_at_their_shares() {
    let dir = TempDir::new().unwrap();
    let text = gen_log(
        &dir,
        "m.log",
        &["--lines", "100000", "--format", "raw", "--mix", "mixed"],
    );
    let text = String::from_utf8(text).unwrap();
    let share = |metric: &str| {
        text.lines()
            .filter(|l| l.split(',').nth(1) == Some(metric))
            .count() as f64
            / 1e5
    };
    assert!((share("cpu_usage") - 0.5).abs() < 0.01);
    assert!((share("memory_usage") - 0.3).abs() < 0.01);
    assert!((share("disk_io") - 0.2).abs() < 0.01);
    let max_memory = text
        .lines()
        .filter(|l| l.contains("memory_usage"))
        .map(|l| l.rsplit(',').next().unwrap().parse::<u32>().unwrap())
        .max();
    assert!(max_memory > Some(16_000) && max_memory <= Some(16_384));
}

#[test]
fn invalid_arguments_are_usage_errors() {
    for flags in [
        &["--lines", "x"][..],
        &["--format", "zip"],
        &["--level", "12"],
        &["--threads", "0"],
        &["--bogus"],
    ] {
        Command::cargo_bin("gen-log")
            .unwrap()
            .args(flags)
            .assert()
            .code(2);
    }
    Command::cargo_bin("gen-log")
        .unwrap()
        .args([
            "--level",
            "0",
            "--format",
            "bz2",
            "--out",
            "/nonexistent-dir-for-test/x.bz2",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("level 0 is out of range"));
    assert!(!Path::new("/nonexistent-dir-for-test").exists());
}

#[test]
fn an_unwritable_target_is_an_error_and_leaves_nothing() {
    let dir = TempDir::new().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let target = blocker.join("x.log");
    Command::cargo_bin("gen-log")
        .unwrap()
        .args(["--lines", "10", "--out"])
        .arg(&target)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("x.log"));
    assert!(!target.exists());
}

#[test]
fn a_failed_run_keeps_the_old_file_and_leaves_no_temporary() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("keep.bz2");
    std::fs::write(&target, b"precious").unwrap();
    Command::cargo_bin("gen-log")
        .unwrap()
        .args(["--lines", "10", "--format", "bz2", "--level", "0", "--out"])
        .arg(&target)
        .assert()
        .failure();
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    assert_eq!(entries(dir.path()), vec!["keep.bz2".to_string()]);
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_file_gets_ordinary_permissions_not_a_temporary_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    gen_log(&dir, "p.log", &["--lines", "10", "--format", "raw"]);
    let mode = std::fs::metadata(dir.path().join("p.log"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_ne!(
        mode & 0o044,
        0,
        "mode {mode:o}: readable by others as the umask allows"
    );
}

#[test]
fn every_terminating_signal_leaves_nothing_behind() {
    for (signal, number) in [("INT", 2), ("TERM", 15), ("HUP", 1), ("QUIT", 3)] {
        let dir = TempDir::new().unwrap();
        let target = dir.path().join("deep/er/big.bz2");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_gen-log"))
            .args(["--lines", "50000000", "--format", "bz2", "--out"])
            .arg(&target)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the temporary file exists, so the signal lands mid-write.
        let partial = dir.path().join("deep/er");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::fs::read_dir(&partial).map_or(true, |d| d.count() == 0) {
            assert!(std::time::Instant::now() < deadline, "no temporary file");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let kill = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(128 + number),
            "SIG{signal}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("interrupted by SIG{signal}")),
            "{stderr}"
        );
        assert_eq!(
            entries(dir.path()),
            Vec::<String>::new(),
            "SIG{signal}: no target, no temporary file, no created directory"
        );
    }
}

#[test]
fn a_failed_run_removes_the_directories_it_created() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("n1/n2/n3/x.bz2");
    Command::cargo_bin("gen-log")
        .unwrap()
        .args(["--lines", "10", "--format", "bz2", "--level", "0", "--out"])
        .arg(&target)
        .assert()
        .code(2);
    assert_eq!(entries(dir.path()), Vec::<String>::new());
    // A directory that was there before stays, even when the run fails.
    std::fs::create_dir(dir.path().join("n1")).unwrap();
    Command::cargo_bin("gen-log")
        .unwrap()
        .args(["--lines", "10", "--format", "bz2", "--level", "0", "--out"])
        .arg(&target)
        .assert()
        .code(2);
    assert_eq!(entries(dir.path()), vec!["n1".to_string()]);
    assert!(entries(&dir.path().join("n1")).is_empty());
    // And a successful run keeps what it created.
    gen_log(
        &dir,
        "n1/n2/n3/ok.log",
        &["--lines", "10", "--format", "raw"],
    );
}

#[test]
fn special_files_are_refused_and_left_alone() {
    let dir = TempDir::new().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (target, kind) in [
        (fifo.clone(), "named pipe"),
        (PathBuf::from("/dev/null"), "character device"),
        (dir.path().to_owned(), "directory"),
    ] {
        let run = Command::cargo_bin("gen-log")
            .unwrap()
            .args(["--lines", "10", "--format", "raw", "--out"])
            .arg(&target)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{}: {stderr}", target.display());
        assert!(stderr.contains(kind), "{stderr}");
        assert!(stderr.contains(&target.display().to_string()), "{stderr}");
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(
        std::fs::symlink_metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    // A symlink to a FIFO is refused too, and both stay as they were.
    let link = dir.path().join("to-pipe");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    Command::cargo_bin("gen-log")
        .unwrap()
        .args(["--lines", "10", "--format", "raw", "--out"])
        .arg(&link)
        .assert()
        .code(2);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        entries(dir.path()),
        vec!["pipe".to_string(), "to-pipe".to_string()]
    );
}

#[test]
fn a_symlink_is_written_through_to_its_target() {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    let file = dir.path().join("real/data.log");
    std::fs::write(&file, b"old").unwrap();
    // A chain of two links, one relative and one absolute.
    std::os::unix::fs::symlink(&file, dir.path().join("abs")).unwrap();
    std::os::unix::fs::symlink("abs", dir.path().join("rel")).unwrap();
    let text = gen_log(&dir, "rel", &["--lines", "10", "--format", "raw"]);
    assert_eq!(std::fs::read(&file).unwrap(), text);
    for link in ["abs", "rel"] {
        let meta = std::fs::symlink_metadata(dir.path().join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} is still a link");
    }
    assert_eq!(
        entries(&dir.path().join("real")),
        vec!["data.log".to_string()]
    );
    // A dangling link gets its file created where it points.
    std::os::unix::fs::symlink("real/new.log", dir.path().join("dangling")).unwrap();
    let text = gen_log(&dir, "dangling", &["--lines", "5", "--format", "raw"]);
    assert_eq!(
        std::fs::read(dir.path().join("real/new.log")).unwrap(),
        text
    );
}

#[test]
fn an_unwritable_directory_is_named_as_the_problem() {
    let dir = TempDir::new().unwrap();
    let blocker = dir.path().join("plain-file");
    std::fs::write(&blocker, b"x").unwrap();
    let run = Command::cargo_bin("gen-log")
        .unwrap()
        .args(["--lines", "10", "--format", "raw", "--out"])
        .arg(blocker.join("x.log"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot create a temporary file in {}",
            blocker.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(".partial"), "{stderr}");
}

#[test]
fn epochs_that_would_wrap_are_a_usage_error() {
    let dir = TempDir::new().unwrap();
    let max = u64::MAX.to_string();
    let near = (u64::MAX - 1).to_string();
    for (start, lines) in [
        (max.as_str(), "2"),
        (near.as_str(), "3"),
        (max.as_str(), "1000"),
    ] {
        let run = Command::cargo_bin("gen-log")
            .unwrap()
            .current_dir(dir.path())
            .args([
                "--format",
                "raw",
                "--start-epoch",
                start,
                "--lines",
                lines,
                "--out",
                "w.log",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--start-epoch"), "{stderr}");
    }
    assert!(entries(dir.path()).is_empty());
    // The last epoch that fits is fine.
    let text = gen_log(
        &dir,
        "edge.log",
        &["--format", "raw", "--start-epoch", &near, "--lines", "2"],
    );
    let text = String::from_utf8(text).unwrap();
    let epochs: Vec<&str> = text.lines().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(epochs, [near.as_str(), max.as_str()]);
}

#[test]
fn a_full_standard_output_is_an_error_and_the_log_is_kept() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("full.log");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let run = std::process::Command::new(assert_cmd::cargo::cargo_bin("gen-log"))
        .args(["--lines", "10", "--format", "raw", "--out"])
        .arg(&out)
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The summary comes after the file is in place: the log itself is whole.
    assert_eq!(
        std::fs::read(&out)
            .unwrap()
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        10
    );
}
