//! `measure`: the case study's `measureproc`, done right.
//!
//! Runs a command several times as a child process and summarises wall clock,
//! user and system CPU time and peak resident memory with min / Q1 / median /
//! Q3 / max. Two faults of the original are fixed: peak RSS comes from the
//! kernel's own accounting (`wait4`'s `rusage.ru_maxrss`), exact rather than
//! polled every 0.1 s, and Q3 really is the 75th percentile (the original
//! printed the 25th twice).

use std::ffi::OsString;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};

/// One run of the command.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    pub wall_s: f64,
    pub user_s: f64,
    pub sys_s: f64,
    /// Peak resident set size in KiB, as the kernel accounted it.
    pub max_rss_kib: u64,
}

/// The five-number summary of one quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FiveNumbers {
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

/// The summary of all runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub command: Vec<String>,
    pub runs: usize,
    pub warmup: usize,
    pub wall_s: FiveNumbers,
    pub user_s: FiveNumbers,
    pub sys_s: FiveNumbers,
    pub max_rss_kib: FiveNumbers,
    pub samples: Vec<Sample>,
}

/// The `p`-quantile of `values` (0 <= p <= 1), interpolating linearly between
/// the closest ranks (the usual "type 7" definition). `values` must not be empty.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let rank = (sorted.len() - 1) as f64 * p;
    let (below, fraction) = (rank.floor() as usize, rank.fract());
    match sorted.get(below + 1) {
        Some(above) => sorted[below] + fraction * (above - sorted[below]),
        None => sorted[below],
    }
}

/// Min, quartiles and max of `values` (not empty).
pub fn five_numbers(values: impl IntoIterator<Item = f64>) -> FiveNumbers {
    let mut sorted: Vec<f64> = values.into_iter().collect();
    sorted.sort_by(f64::total_cmp);
    FiveNumbers {
        min: sorted[0],
        q1: quantile(&sorted, 0.25),
        median: quantile(&sorted, 0.5),
        q3: quantile(&sorted, 0.75),
        max: sorted[sorted.len() - 1],
    }
}

/// Run `command` once, its output discarded unless `show_output`, and
/// measure it. A non-zero exit is an error: a failed run measures nothing.
pub fn run_once(command: &[OsString], show_output: bool) -> Result<Sample> {
    let display = display(command);
    let (program, args) = command.split_first().ok_or_else(|| Error::Command {
        command: display.clone(),
        problem: "no command given".into(),
    })?;
    let output = || {
        if show_output {
            Stdio::inherit()
        } else {
            Stdio::null()
        }
    };
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output())
        .spawn()
        .map_err(|e| Error::Command {
            command: display.clone(),
            problem: format!("cannot start it: {e}"),
        })?;
    let used = wait_with_usage(child, &display)?;
    let wall_s = started.elapsed().as_secs_f64();
    if !used.status.success() {
        return Err(Error::Command {
            command: display,
            problem: failure(used.status, show_output),
        });
    }
    Ok(Sample {
        wall_s,
        user_s: used.rusage.utime.as_secs_f64(),
        sys_s: used.rusage.stime.as_secs_f64(),
        max_rss_kib: used.rusage.maxrss / 1024, // the crate reports bytes
    })
}

/// What went wrong with a run that did not succeed, in words: the exit
/// status or the signal by name, and the `--show-output` hint where the
/// command's own output was hidden and could say why (not after SIGKILL,
/// which a program cannot report: the kernel's OOM killer, or a user).
fn failure(status: std::process::ExitStatus, show_output: bool) -> String {
    use std::os::unix::process::ExitStatusExt;
    let (what, output_helps) = match (status.code(), status.signal()) {
        (Some(code), _) => (format!("it exited with status {code}"), true),
        (None, Some(signal)) => (
            format!("it was killed by {}", signal_name(signal)),
            signal != 9,
        ),
        _ => (format!("it failed ({status})"), true),
    };
    if output_helps && !show_output {
        format!("{what}; rerun with --show-output to see its output")
    } else {
        what
    }
}

/// The usual name of a Linux signal, or its number.
fn signal_name(signal: i32) -> String {
    const NAMES: [&str; 16] = [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
        "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
    ];
    match usize::try_from(signal).ok().and_then(|i| NAMES.get(i)) {
        Some(name) if !name.is_empty() => (*name).to_owned(),
        _ => format!("signal {signal}"),
    }
}

/// Reap the child with `wait4`, which also returns its resource usage (the
/// kernel's exact peak RSS, which std's `wait` discards).
fn wait_with_usage(mut child: std::process::Child, display: &str) -> Result<wait4::ResUse> {
    use wait4::Wait4;
    loop {
        match child.wait4() {
            Ok(used) => return Ok(used),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Command {
                    command: display.to_owned(),
                    problem: format!("wait4 failed: {e}"),
                });
            }
        }
    }
}

/// Run `command` `warmup` times unmeasured, then `runs` times measured.
pub fn measure(
    command: &[OsString],
    runs: usize,
    warmup: usize,
    show_output: bool,
) -> Result<Summary> {
    for _ in 0..warmup {
        run_once(command, show_output)?;
    }
    let samples = (0..runs.max(1))
        .map(|_| run_once(command, show_output))
        .collect::<Result<Vec<_>>>()?;
    Ok(Summary {
        command: command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        runs: samples.len(),
        warmup,
        wall_s: five_numbers(samples.iter().map(|s| s.wall_s)),
        user_s: five_numbers(samples.iter().map(|s| s.user_s)),
        sys_s: five_numbers(samples.iter().map(|s| s.sys_s)),
        max_rss_kib: five_numbers(samples.iter().map(|s| s.max_rss_kib as f64)),
        samples,
    })
}

fn display(command: &[OsString]) -> String {
    command
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Summary {
    /// A table like the case study's: one row per quantity, five columns.
    pub fn table(&self) -> String {
        let mut out = format!(
            "command: {}\nruns: {} (after {} warm-up)\n{:<12}{:>10}{:>10}{:>10}{:>10}{:>10}\n",
            self.command.join(" "),
            self.runs,
            self.warmup,
            "",
            "min",
            "Q1",
            "median",
            "Q3",
            "max"
        );
        let mib = |n: &FiveNumbers| FiveNumbers {
            min: n.min / 1024.0,
            q1: n.q1 / 1024.0,
            median: n.median / 1024.0,
            q3: n.q3 / 1024.0,
            max: n.max / 1024.0,
        };
        for (name, n) in [
            ("wall (s)", self.wall_s),
            ("user (s)", self.user_s),
            ("sys (s)", self.sys_s),
            ("rss (MiB)", mib(&self.max_rss_kib)),
        ] {
            out += &format!(
                "{name:<12}{:>10.3}{:>10.3}{:>10.3}{:>10.3}{:>10.3}\n",
                n.min, n.q1, n.median, n.q3, n.max
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_are_distinct_percentiles() {
        let n = five_numbers([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        assert_eq!(
            (n.min, n.q1, n.median, n.q3, n.max),
            (1.0, 3.0, 5.0, 7.0, 9.0)
        );
    }

    #[test]
    fn quartiles_interpolate_between_ranks() {
        let n = five_numbers([4.0, 1.0, 3.0, 2.0]);
        assert_eq!((n.q1, n.median, n.q3), (1.75, 2.5, 3.25));
    }

    #[test]
    fn a_single_run_is_its_own_summary() {
        let n = five_numbers([2.5]);
        assert_eq!(
            (n.min, n.q1, n.median, n.q3, n.max),
            (2.5, 2.5, 2.5, 2.5, 2.5)
        );
    }

    #[test]
    fn peak_rss_is_the_childs_not_ours() {
        // A child that touches 64 MiB must report at least that much.
        let script = "x = bytearray(64 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])";
        let command: Vec<OsString> = ["python3", "-c", script]
            .iter()
            .map(OsString::from)
            .collect();
        let sample = run_once(&command, false).unwrap();
        assert!(sample.max_rss_kib >= 64 * 1024, "{sample:?}");
        assert!(sample.wall_s > 0.0 && sample.user_s >= 0.0);
    }

    #[test]
    fn a_failed_run_names_its_exit_status_and_hints_at_the_output() {
        let command: Vec<OsString> = ["sh", "-c", "exit 3"].iter().map(OsString::from).collect();
        let message = run_once(&command, false).unwrap_err().to_string();
        assert!(message.contains("exited with status 3"), "{message}");
        assert!(message.contains("--show-output"), "{message}");
        let message = run_once(&command, true).unwrap_err().to_string();
        assert!(!message.contains("--show-output"), "{message}");
    }

    #[test]
    fn a_killed_run_names_its_signal() {
        let killed: Vec<OsString> = ["sh", "-c", "kill -KILL $$"]
            .iter()
            .map(OsString::from)
            .collect();
        let message = run_once(&killed, false).unwrap_err().to_string();
        assert!(message.contains("killed by SIGKILL"), "{message}");
        assert!(!message.contains("--show-output"), "{message}");
        let aborted: Vec<OsString> = ["sh", "-c", "kill -TERM $$"]
            .iter()
            .map(OsString::from)
            .collect();
        let message = run_once(&aborted, false).unwrap_err().to_string();
        assert!(message.contains("killed by SIGTERM"), "{message}");
    }

    #[test]
    fn a_failing_command_is_an_error() {
        let command: Vec<OsString> = ["false"].iter().map(OsString::from).collect();
        assert!(run_once(&command, false).is_err());
        let missing: Vec<OsString> = ["/no/such/program"].iter().map(OsString::from).collect();
        assert!(
            run_once(&missing, false)
                .unwrap_err()
                .to_string()
                .contains("cannot start")
        );
    }
}
