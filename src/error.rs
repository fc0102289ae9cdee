//! The one error type of the library.
//!
//! Every variant that concerns a file carries its name, so a binary can print
//! the error as it is and the user learns which file and what went wrong. The
//! binaries map [`Error::exit_code`] onto their process exit status.

use std::io;

use thiserror::Error;

/// Everything that can stop logbench from giving an answer.
#[derive(Debug, Error)]
pub enum Error {
    /// The file could not be opened or read (missing, a directory, no permission...).
    #[error("{file}: {action}: {source}")]
    Open {
        file: String,
        action: &'static str,
        source: io::Error,
    },

    /// Reading or decompressing failed part-way: truncated, corrupt (CRC or format
    /// error), trailing garbage, or an I/O error. `source` says what and roughly where.
    #[error("{file}: {source}")]
    Read { file: String, source: io::Error },

    /// A file the tools write (`results/`) could not be created or written.
    #[error("{file}: cannot write: {source}")]
    Write { file: String, source: io::Error },

    /// A file the tools read (criterion's estimates) is not what they expect.
    #[error("{file}: cannot parse: {problem}")]
    Parse { file: String, problem: String },

    /// The worker threads of a parallel strategy could not be started.
    #[error(
        "cannot start {threads} worker threads: {problem} (a limit on processes or threads, such as ulimit -u or a cgroup's pids.max, may be reached; try fewer --threads)"
    )]
    Threads { threads: usize, problem: String },

    /// The running executable could not be found (`report` runs it again to
    /// measure each rung).
    #[error("cannot find the running executable: {0}")]
    CurrentExe(io::Error),

    /// `--strict` found a line that is not a record.
    #[error("{file}: line {line}: malformed record (strict mode stops at the first one)")]
    Malformed { file: String, line: u64 },

    /// The file holds no record of the metric, so there is no mean to give.
    #[error(
        "{file}: no record of metric {metric:?} found ({malformed} malformed lines); check --metric"
    )]
    NoRecords {
        file: String,
        metric: String,
        malformed: u64,
    },

    /// `stats` found no record in any group (empty input, or nothing passed
    /// the filters).
    #[error(
        "no record found in {files} files ({malformed} malformed lines); check --metric, --since and --until"
    )]
    NoStatsRecords { files: u64, malformed: u64 },

    /// A command run by `measure` could not be started, waited for, or failed.
    #[error("command `{command}`: {problem}")]
    Command { command: String, problem: String },

    /// `profile` was asked for a rung without stage instrumentation.
    #[error("strategy {strategy:?} has no stage instrumentation; these do: {instrumented}")]
    NotInstrumented {
        strategy: String,
        instrumented: String,
    },

    /// `profile` was given a stream (stdin, a pipe): it runs the rung twice,
    /// plain and then instrumented, so it needs a file it can read twice.
    #[error(
        "{file}: profile runs the rung twice (plain, then instrumented) and needs a regular file it can read twice; save the stream to a file and profile that"
    )]
    NotRereadable { file: String },

    /// `profile --heap` ran in a program without the counting allocator
    /// (the `logbench` binary installs it; a library user must do so too).
    #[error("cannot count the heap: {problem}")]
    HeapCount { problem: String },

    /// A strategy name that the registry does not know.
    #[error("unknown strategy {0:?}; `logbench strategies` lists them")]
    UnknownStrategy(String),
}

impl Error {
    /// Build the error for a failed read of `file` from an I/O error.
    pub fn read(file: &str, source: io::Error) -> Self {
        Error::Read {
            file: file.to_owned(),
            source,
        }
    }

    /// The process exit status a binary should use: 2 for a usage error, 1 for
    /// anything wrong with the data or the files.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::UnknownStrategy(_)
            | Error::NotInstrumented { .. }
            | Error::NotRereadable { .. } => 2,
            _ => 1,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
