//! `gen-log`: write a reproducible log like the case study's, raw or compressed.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use clap::{CommandFactory, Parser, ValueEnum};
use data_gen::{Encoding, Format, Mix, Spec};
use indicatif::{ProgressBar, ProgressStyle};

/// `println!` through [`data_gen::stdout::write`]: a full disk is an error
/// message and exit status 1, not a panic.
macro_rules! outln {
    ($($arg:tt)*) => {
        data_gen::stdout::write("gen-log", format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Generate a log of `epoch,metric,value` lines like the one in "Going Faster
/// with Python": the same flags always give a byte-identical file.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Number of lines (one second apart).
    #[arg(long, default_value_t = data_gen::DEFAULT_LINES)]
    lines: u64,
    /// Seed of the ChaCha8 generator: same seed, same text, on any machine.
    #[arg(long, default_value_t = data_gen::DEFAULT_SEED)]
    seed: u64,
    /// seed: every line cpu_usage 0-100 (the case study); mixed: 50% cpu_usage,
    /// 30% memory_usage 0-16384, 20% disk_io 0-4096.
    #[arg(long, value_enum, default_value_t = MixArg::Seed)]
    mix: MixArg,
    /// Output format; the text is the same whatever the format.
    #[arg(long, value_enum, default_value_t = FormatArg::Bz2)]
    format: FormatArg,
    /// Compression level [default: 9 for bz2 like the case study, 6 for gz].
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=9))]
    level: Option<u32>,
    /// Epoch of the first line.
    #[arg(long, default_value_t = data_gen::DEFAULT_START_EPOCH)]
    start_epoch: u64,
    /// Output path [default: data/MIX-LINES.log(.bz2|.gz)]. Missing parent
    /// directories are created, and removed again if the run fails or is
    /// interrupted. A symlink is written through to the file it names; a FIFO
    /// or device is refused.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compression threads. 1 writes one stream like bzip2/gzip; more writes
    /// independent 4 MiB chunks as a multi-stream file, like pbzip2/pigz.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MixArg {
    Seed,
    Mixed,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Bz2,
    Gz,
    Raw,
}

/// Signals whose default action ends the process: each one cancels the run
/// instead, so the temporary file and created directories are removed.
const TERMINATING: [(i32, &str); 9] = [
    (signal_hook::consts::SIGINT, "SIGINT"),
    (signal_hook::consts::SIGTERM, "SIGTERM"),
    (signal_hook::consts::SIGHUP, "SIGHUP"),
    (signal_hook::consts::SIGQUIT, "SIGQUIT"),
    (signal_hook::consts::SIGALRM, "SIGALRM"),
    (signal_hook::consts::SIGUSR1, "SIGUSR1"),
    (signal_hook::consts::SIGUSR2, "SIGUSR2"),
    (signal_hook::consts::SIGXCPU, "SIGXCPU"),
    (signal_hook::consts::SIGXFSZ, "SIGXFSZ"),
];

fn main() -> ExitCode {
    let args = Args::parse();
    let cancel = Arc::new(AtomicBool::new(false));
    let signal = Arc::new(AtomicUsize::new(0));
    for (number, _) in TERMINATING {
        // If a handler cannot be installed, that signal still kills us before
        // the rename, and the temporary file is only a dot-file beside the
        // target.
        let _ = signal_hook::flag::register_usize(number, Arc::clone(&signal), number as usize);
        let _ = signal_hook::flag::register(number, Arc::clone(&cancel));
    }
    match run(&args, &cancel) {
        Ok(()) => ExitCode::SUCCESS,
        Err(data_gen::Error::Cancelled) => {
            let number = signal.load(Ordering::Relaxed);
            let name = TERMINATING
                .iter()
                .find(|(n, _)| *n as usize == number)
                .map_or("a signal", |(_, name)| name);
            eprintln!("gen-log: interrupted by {name}; nothing was written");
            // The shell's convention for death by a signal: 128 + its number.
            ExitCode::from(128u8.wrapping_add(number as u8))
        }
        // Checked before anything is written: report it as clap reports
        // any other bad flag.
        Err(e @ data_gen::Error::EpochOverflow { .. }) => Args::command()
            .error(clap::error::ErrorKind::ValueValidation, e)
            .exit(),
        Err(e) => {
            eprintln!("gen-log: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(args: &Args, cancel: &AtomicBool) -> Result<(), data_gen::Error> {
    let spec = Spec {
        lines: args.lines,
        seed: args.seed,
        mix: match args.mix {
            MixArg::Seed => Mix::Seed,
            MixArg::Mixed => Mix::Mixed,
        },
        start_epoch: args.start_epoch,
    };
    let format = match args.format {
        FormatArg::Bz2 => Format::Bzip2,
        FormatArg::Gz => Format::Gzip,
        FormatArg::Raw => Format::Raw,
    };
    let encoding = Encoding {
        format,
        level: args.level.unwrap_or(format.default_level()),
        threads: args.threads as usize,
    };
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| data_gen::default_path(spec, format));

    let bar = progress_bar(spec.lines);
    let stats = data_gen::generate_file(
        &path,
        spec,
        encoding,
        &mut |done| bar.set_position(done),
        cancel,
    );
    bar.finish_and_clear();
    let stats = stats?;
    outln!(
        "{}: {} lines, {} bytes of text, {} bytes on disk, {:.2} s ({:.0} MB/s of text)",
        path.display(),
        stats.lines,
        stats.text_bytes,
        stats.file_bytes,
        stats.seconds,
        stats.text_bytes as f64 / 1e6 / stats.seconds.max(1e-9),
    );
    Ok(())
}

/// A bar on a terminal, nothing when stderr is a pipe or a file.
fn progress_bar(lines: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(lines);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} lines ({eta})",
        )
        .expect("the template is valid"),
    );
    bar
}
