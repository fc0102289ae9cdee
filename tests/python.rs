//! The Python extension's tests (python/tests, pytest), run from `cargo test`
//! so that README's one test command runs every test.
//!
//! The first run makes a virtualenv under the target directory and installs
//! maturin, pytest and Dask from the package index (python/requirements-test.txt),
//! and says so; later runs reuse it. Each run builds the extension
//! (`maturin develop --release`, incremental) into that virtualenv and runs
//! pytest against this build's `logbench` binary.

use std::io::Write;
use std::path::Path;
use std::process::Command;

fn run(what: &str, command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("{what}: cannot start {command:?}: {e}"));
    assert!(status.success(), "{what} failed ({status}): {command:?}");
}

#[test]
fn the_python_extensions_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python_dir = root.join("python");
    // CARGO_TARGET_TMPDIR is <target>/tmp: the virtualenv and the extension's
    // own build stay under the target directory, out of the source tree.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .to_path_buf();
    let venv = target.join("python-venv");
    let bin = venv.join("bin");
    let requirements = python_dir.join("requirements-test.txt");
    let stamp = venv.join("requirements-test.txt");
    let installed = std::fs::read(&stamp).ok() == std::fs::read(&requirements).ok();
    if !installed {
        // Straight to standard error: the test harness captures `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "python tests: installing maturin, pytest and dask from the package index into {} (first run only)",
            venv.display()
        );
        run(
            "making the virtualenv",
            Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
        );
        run(
            "installing maturin, pytest and dask",
            Command::new(bin.join("pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(&requirements),
        );
        std::fs::copy(&requirements, &stamp).expect("recording what was installed");
    }
    run(
        "building the extension",
        Command::new(bin.join("maturin"))
            .args(["develop", "--release", "--quiet", "--manifest-path"])
            .arg(python_dir.join("Cargo.toml"))
            .env("VIRTUAL_ENV", &venv)
            .env("CARGO_TARGET_DIR", target.join("python-build")),
    );
    run(
        "the extension's tests",
        Command::new(bin.join("python"))
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(python_dir.join("tests"))
            .env("LOGBENCH_BIN", env!("CARGO_BIN_EXE_logbench")),
    );
}
