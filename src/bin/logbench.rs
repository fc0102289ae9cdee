//! `logbench`: the command line. Thin by design: it parses flags, calls the
//! library and prints; everything it computes is in the `logbench` crate.
//!
//! Exit codes: 0 every file answered; 1 a file could not be answered (missing,
//! corrupt, no record of the metric, a malformed line under `--strict`);
//! 2 usage error (bad flags, unknown strategy).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand};
use logbench::stats;
use logbench::strategy::{self, DEFAULT_METRIC, MeanRecord};
use logbench::{Error, Query, STRATEGIES};

/// The system allocator, counting only while `profile --heap` measures a run
/// (otherwise one relaxed load per allocation).
#[global_allocator]
static ALLOCATOR: heap_count::Counting = heap_count::Counting;

/// `println!` through [`data_gen::stdout::write`]: a full disk is an error
/// message and exit status 1, not a panic.
macro_rules! outln {
    ($($arg:tt)*) => {
        data_gen::stdout::write("logbench", format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// [`outln!`] without the newline.
macro_rules! out {
    ($($arg:tt)*) => {
        data_gen::stdout::write("logbench", format_args!($($arg)*))
    };
}

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Where the time goes in a log pipeline: the mean of a metric in epoch,metric,value logs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the mean of a metric in each FILE (raw, gzip or bzip2, recognised by content).
    Mean(MeanArgs),
    /// Count, exact sum, min, max, mean and exact quantiles of every metric
    /// (or those asked for), per time window if asked, over all FILEs as one log.
    Stats(StatsArgs),
    /// List the strategies, in ladder order: name, then what it changes.
    Strategies,
    /// Run a command several times; print min/Q1/median/Q3/max of wall, user,
    /// sys and peak RSS (exact, from wait4).
    Measure(MeasureArgs),
    /// Run a rung with its stages timed and print a cProfile-style table, with
    /// the plain run's time beside it (the observer effect).
    Profile(ProfileArgs),
    /// Rewrite results/ from the last `cargo bench` run (and measure peak RSS of each rung).
    Report(ReportArgs),
}

#[derive(Debug, clap::Args)]
struct ProfileArgs {
    /// The log to profile.
    file: PathBuf,
    /// The rung to profile (instrumented: naive-regex, memchr-split, mask-split,
    /// swar) [default: naive-regex; with --heap, every rung].
    #[arg(long)]
    strategy: Option<String>,
    /// Count the heap instead of timing stages: allocations, bytes and peak
    /// heap of each run (the case study's memory profilers).
    #[arg(long)]
    heap: bool,
    /// Profile `logbench stats` (every metric, default quantiles) with this
    /// engine instead of a rung of `mean`.
    #[arg(
        long,
        conflicts_with_all = ["strategy", "metric"],
        value_parser = clap::builder::PossibleValuesParser::new(stats::Engine::ALL.map(stats::Engine::name))
            .map(|name: String| stats::Engine::find(&name).expect("one of the names listed"))
    )]
    stats: Option<stats::Engine>,
    /// The metric to average.
    #[arg(long, default_value = DEFAULT_METRIC)]
    metric: OsString,
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// Criterion's output directory.
    #[arg(long, default_value = "target/criterion")]
    criterion: PathBuf,
    /// Where the benchmarks cached their data sets.
    #[arg(long, default_value = "target/logbench-data")]
    data: PathBuf,
    /// Line count of the data sets to measure RSS on [default: LOGBENCH_LINES or 5000000].
    #[arg(long)]
    lines: Option<u64>,
    /// Where to write REPORT.md and records/.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Skip the peak-RSS runs.
    #[arg(long)]
    no_rss: bool,
    /// Skip the stage profiles and heap counts.
    #[arg(long)]
    no_profile: bool,
    /// Run scripts/python/profile.sh first: the Python baseline, its
    /// profilers and the extension, measured again (about 5 minutes).
    #[arg(long)]
    python: bool,
    /// Run scripts/pgo.sh first: the plain and PGO builds measured again
    /// (about 15 minutes; installs llvm-NN with apt-get if missing).
    #[arg(long)]
    pgo: bool,
}

#[derive(Debug, clap::Args)]
struct MeasureArgs {
    /// Measured runs.
    #[arg(short = 'n', long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Unmeasured runs first (to warm the page cache).
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Print the summary (and every sample) as JSON.
    #[arg(long)]
    json: bool,
    /// Let the command's stdout and stderr through instead of discarding them.
    #[arg(long)]
    show_output: bool,
    /// The command and its arguments (after `--`).
    #[arg(required = true, last = true)]
    command: Vec<OsString>,
}

#[derive(Debug, clap::Args)]
struct MeanArgs {
    /// Log files; `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The metric to average, compared byte for byte.
    #[arg(long, default_value = DEFAULT_METRIC)]
    metric: OsString,
    /// Which strategy computes the answer [default: the fastest].
    #[arg(long)]
    strategy: Option<String>,
    /// Worker threads for parallel strategies (serial ones ignore it) [default: all cores].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// Stop with an error at the first malformed line, naming its line number.
    #[arg(long)]
    strict: bool,
    /// One JSON object per file on stdout instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct StatsArgs {
    /// Log files, read as one log; `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Only this metric, byte for byte (repeat for several); one with no
    /// record is reported with count 0 [default: every metric seen].
    #[arg(long = "metric")]
    metrics: Vec<OsString>,
    /// Group by time windows of this width: 3600, 90s, 5m, 1h, 1d.
    #[arg(long, value_parser = stats::plan::parse_width)]
    every: Option<u64>,
    /// Keep records with EPOCH >= T (epoch seconds, RFC 3339, or a date).
    #[arg(long, value_name = "T", value_parser = stats::plan::parse_time)]
    since: Option<i128>,
    /// Keep records with EPOCH < T.
    #[arg(long, value_name = "T", value_parser = stats::plan::parse_time)]
    until: Option<i128>,
    /// Quantiles to report, nearest rank, exact [default: 0.5,0.9,0.99].
    #[arg(long, value_delimiter = ',', value_parser = stats::Quantile::parse)]
    quantiles: Option<Vec<stats::Quantile>>,
    /// Worker threads [default: all cores].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// Stop with an error at the first malformed line, naming its file and line.
    #[arg(long)]
    strict: bool,
    /// Answer from the files that can be read, listing those left out (exit 1 still).
    #[arg(long)]
    keep_going: bool,
    /// One JSON document instead of text.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV: a header row and one row per group.
    #[arg(long)]
    csv: bool,
    /// Which engine: naive (a map of Vecs, sorted at the end) or fast.
    #[arg(
        long,
        default_value = "fast",
        value_parser = clap::builder::PossibleValuesParser::new(stats::Engine::ALL.map(stats::Engine::name))
            .map(|name: String| stats::Engine::find(&name).expect("one of the names listed"))
    )]
    engine: stats::Engine,
}

fn main() -> ExitCode {
    // `logbench mean big.log | head -1`: when the reader goes away, end the
    // process the way every Unix filter does (SIGPIPE), instead of the Rust
    // runtime's default of ignoring the signal, which turns the next
    // `println!` into a panic ("failed printing to stdout: Broken pipe").
    sigpipe::reset();
    match Cli::parse().command {
        Command::Strategies => {
            for s in STRATEGIES {
                outln!("{:<16} {}", s.name, s.description);
            }
            ExitCode::SUCCESS
        }
        Command::Mean(args) => mean(&args),
        Command::Stats(args) => stats_command(&args),
        Command::Measure(args) => measure(&args),
        Command::Profile(args) => match profile(&args) {
            Ok(table) => {
                out!("{table}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("logbench: {e}");
                ExitCode::from(e.exit_code() as u8)
            }
        },
        Command::Report(args) => match report(&args) {
            Ok(path) => {
                outln!("wrote {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("logbench: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// `logbench profile`: the stage table, or with `--heap` the heap table, of
/// a rung of `mean` or an engine of `stats`, at one thread.
fn profile(args: &ProfileArgs) -> Result<String, Error> {
    use logbench::tools::{heap, profile};
    if let Some(engine) = args.stats {
        let query = stats::StatsQuery::default().with_threads(1);
        return Ok(if args.heap {
            heap::stats_heap_profile(&args.file, &query, engine)?.table()
        } else {
            stats::profile_file(&args.file, &query, engine)?.table()
        });
    }
    let query = Query::new(args.metric.clone().into_vec()).with_threads(1);
    if args.heap {
        let rungs = match &args.strategy {
            Some(name) => vec![strategy::find(name)?],
            None => STRATEGIES.iter().collect(),
        };
        return Ok(heap::heap_profile(&rungs, &args.file, &query)?.table());
    }
    let rung = strategy::find(args.strategy.as_deref().unwrap_or("naive-regex"))?;
    Ok(profile::profile_file(rung, &args.file, &query)?.table())
}

fn report(args: &ReportArgs) -> logbench::Result<PathBuf> {
    use logbench::tools::report;
    let options = report::Options {
        criterion: args.criterion.clone(),
        data: args.data.clone(),
        lines: args
            .lines
            .or_else(|| std::env::var("LOGBENCH_LINES").ok()?.trim().parse().ok())
            .unwrap_or(5_000_000),
        rss: !args.no_rss,
        profile: !args.no_profile,
    };
    let scripts = [
        (args.python, "scripts/python/profile.sh"),
        (args.pgo, "scripts/pgo.sh"),
    ];
    for (_, script) in scripts.iter().filter(|(asked, _)| *asked) {
        eprintln!("running {script}");
        report::run_script(std::path::Path::new(script))?;
    }
    let record = report::collect(&options, |step| eprintln!("{step}"))?;
    report::write(&record, &args.out)
}

fn measure(args: &MeasureArgs) -> ExitCode {
    match logbench::tools::measure::measure(
        &args.command,
        args.runs as usize,
        args.warmup as usize,
        args.show_output,
    ) {
        Ok(summary) if args.json => {
            outln!(
                "{}",
                serde_json::to_string_pretty(&summary).expect("plain data serialises")
            );
            ExitCode::SUCCESS
        }
        Ok(summary) => {
            out!("{}", summary.table());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("logbench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn mean(args: &MeanArgs) -> ExitCode {
    let chosen = match strategy::find_or_default(args.strategy.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("logbench: {e}");
            return ExitCode::from(2);
        }
    };
    let mut query = Query::new(args.metric.clone().into_vec());
    if let Some(threads) = args.threads {
        query = query.with_threads(threads as usize);
    }
    let mut failed = false;
    for file in &args.files {
        match chosen.answer_file(file, &query, args.strict) {
            Ok(record) => print_answer(args, &record),
            Err(e) => {
                failed = true;
                report_error(args, &file.display().to_string(), &e);
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn stats_command(args: &StatsArgs) -> ExitCode {
    let mut query = stats::StatsQuery {
        metrics: args.metrics.iter().map(|m| m.clone().into_vec()).collect(),
        every: args.every,
        since: args.since,
        until: args.until,
        strict: args.strict,
        keep_going: args.keep_going,
        ..Default::default()
    };
    if let Some(quantiles) = &args.quantiles {
        query.quantiles = quantiles.clone();
    }
    if let Some(threads) = args.threads {
        query = query.with_threads(threads as usize);
    }
    let started = Instant::now();
    let outcome = match stats::summarise_files(&args.files, &query, args.engine) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("logbench: {e}");
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let report = match stats::Report::new(&outcome.summary, &query, &outcome.skipped, seconds) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("logbench: {e}");
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    data_gen::stdout::write_with("logbench", |out| {
        if args.json {
            report.write_json(out)
        } else if args.csv {
            report.write_csv(out)
        } else {
            report.write_text(out)
        }
    });
    for (file, why) in &report.skipped {
        eprintln!("logbench: skipped {file}: {why}");
    }
    if report.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_answer(args: &MeanArgs, record: &MeanRecord) {
    if args.json {
        outln!(
            "{}",
            serde_json::to_string(record).expect("plain data serialises")
        );
    } else {
        let MeanRecord {
            file,
            metric,
            strategy,
            format,
            count,
            sum,
            min,
            max,
            mean,
            malformed,
            seconds,
        } = record;
        outln!(
            "{file}: mean {metric} = {mean:.6} over {count} records (min {min}, max {max}, sum {sum}); {malformed} malformed lines"
        );
        outln!("  {format} input, strategy {strategy}, {seconds:.3} s");
    }
}

fn report_error(args: &MeanArgs, file: &str, error: &Error) {
    eprintln!("logbench: {error}");
    if args.json {
        let record = serde_json::json!({ "file": file, "error": error.to_string() });
        outln!("{record}");
    }
}
