//! The command line (clap derive). Usage errors exit with code 2 and one line on stderr.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::core::schedule::Schedule;
use crate::UsageError;

/// Runs CNN inference in a loop and shows, live, where the time goes beyond the MAC count.
#[derive(Debug, Clone, Parser)]
#[command(name = "infertop", version, about, long_about = None, after_help = AFTER_HELP)]
#[command(args_conflicts_with_subcommands = true)]
#[allow(clippy::struct_excessive_bools)] // each is a command-line switch
pub struct Cli {
    /// Without a command infertop measures (the flags below); a command reads snapshots.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Print summary lines instead of the live screen (chosen automatically when stdout is not
    /// a terminal).
    #[arg(long)]
    pub headless: bool,

    /// Stop after this long (for example 30s, 10m), counted from the start, model loading
    /// included; runs until stopped when not given.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Stop each model after N timed inferences that count toward its latency (warm, and
    /// unprofiled unless --profile-every 1); the run ends when every model has its N, or at
    /// --duration if that comes first. Profiled and cold inferences run in addition.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000), conflicts_with_all = ["soak", "summary"])]
    pub iterations: Option<u64>,

    /// Untimed inferences per model after loading, before timing starts (0: the first timed
    /// inference is kept apart as cold).
    #[arg(long, value_name = "N", default_value_t = crate::core::session::DEFAULT_WARMUP, value_parser = parse_warmup)]
    pub warmup: usize,

    /// Intra-op threads for libtorch (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,

    /// Run only these models (comma separated names from the manifest; the built-in set also
    /// has `tiny`, a quick smoke-test net that runs only when named).
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub only: Vec<String>,

    /// A model-set manifest (TOML) instead of the built-in ten-model set.
    #[arg(long, value_name = "FILE")]
    pub models: Option<PathBuf>,

    /// Run each model again with one change, as its own row beside it under the same
    /// schedule (comma separated): fold-bn (`BatchNorm` folded into the convolution; for
    /// `TorchScript`, libtorch's freeze and optimize-for-inference), channels-last, threads=N (the
    /// model alone at N intra-op threads), threads=N.. (every count from N to the cores),
    /// no-mkldnn (`oneDNN` convolutions off). Each variant's output is checked against the
    /// original's first.
    #[arg(long, value_name = "LIST", value_delimiter = ',', num_args = 1..)]
    pub what_if: Vec<crate::core::variant::VariantRequest>,

    /// Batch size for every model, overriding the manifest.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=4096))]
    pub batch: Option<i64>,

    /// Time whole inferences only, without the per-op profiler (an unprofiled baseline).
    #[arg(long)]
    pub no_op_profile: bool,

    /// Profile one inference in N per model; latency statistics come from the others, so the
    /// op profiler's overhead never reaches them (1 profiles every inference).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub profile_every: u32,

    /// How the engine moves between models: `dwell` stays on each for --dwell and keeps the
    /// first inference after a switch apart (cold), so latency is the model's own warm latency
    /// and the cost of switching is its own figure; `round-robin` runs one inference of each in
    /// turn, so every latency includes a switch.
    #[arg(long, value_enum, default_value_t = ScheduleChoice::Dwell)]
    pub schedule: ScheduleChoice,

    /// How long the dwell schedule stays on a model (and at least two inferences).
    #[arg(long, default_value = "500ms", value_parser = parse_dwell)]
    pub dwell: Duration,

    /// Where snapshots go (default: ./infertop-snapshots/<timestamp>/).
    #[arg(long, value_name = "DIR")]
    pub export_dir: Option<PathBuf>,

    /// Export the aggregates (models, ops, layers, run.json) into the run's folder this often
    /// (default: once, at exit; at least 1s). The time series (inferences.csv, system.csv) are
    /// appended as the run goes either way. In the live screen it starts a run folder, as
    /// --export-dir does.
    #[arg(long, value_parser = parse_export_every)]
    pub export_every: Option<Duration>,

    /// Start a new part of inferences.csv when the current one reaches this many megabytes
    /// (10^6 bytes; fractions allowed, at least 0.01). Earlier parts are inferences.1.csv,
    /// inferences.2.csv, ... and are all kept: no row is ever dropped.
    #[arg(long, value_name = "MB", default_value = "64", value_parser = parse_inferences_max_mb)]
    pub inferences_max_mb: f64,

    /// Trace one inference of each model, op by op, into DIR as Chrome trace-event JSON
    /// (trace-<model>-<seq>.json: the model, its layers and ops on the engine thread, clock and
    /// temperature as counters), for Perfetto's UI or `chrome://tracing`. In the live screen, c
    /// and C trace more, into DIR (without it, the snapshot folder).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["summary", "no_op_profile"])]
    pub trace: Option<PathBuf>,
    /// Serve the measurements to Prometheus: `OpenMetrics` at `http://ADDR/metrics` (for
    /// example `127.0.0.1:9464`, `[::1]:9464`, or `localhost:9464`; `:9464` is this machine
    /// only (127.0.0.1), `0.0.0.0:9464` every interface, for a Prometheus elsewhere; port 0
    /// picks a free one and says which on stderr).
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub listen: Option<SocketAddr>,

    /// Colour theme: a built-in name (dark, light, mono) or a path to a theme TOML file.
    #[arg(long, value_name = "NAME|PATH")]
    pub theme: Option<String>,

    /// Leave the mouse to the terminal (no clicks on tabs and rows, no wheel scrolling; the
    /// terminal's own selection and copy work as usual).
    #[arg(long)]
    pub no_mouse: bool,

    /// Frames drawn per second by the live screen.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=60))]
    pub fps: u16,

    /// How often the system sampler reads clocks, temperatures and memory (at least 50ms).
    #[arg(long, default_value = "500ms", value_parser = parse_sample_every)]
    pub sample_every: Duration,

    /// Root under which /sys and /proc are read (tests point it at recorded board layouts). A
    /// folder with an episode.toml is a recorded episode, played back as time passes.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub sysfs_root: PathBuf,

    /// Play a recorded episode (--sysfs-root) this many times faster than real time.
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR", value_parser = parse_replay_speed)]
    pub replay_speed: f64,

    /// How often headless mode prints its lines (at least 100ms).
    #[arg(long, default_value = "5s", value_parser = parse_print_every)]
    pub print_every: Duration,

    /// Format of headless lines.
    #[arg(long, value_enum, default_value_t = LineFormat::Text)]
    pub format: LineFormat,

    /// Thermal soak: measure each model cold for --soak-phase, load the cores until the
    /// temperature stays within 0.5 °C for --soak-window, measure hot for --soak-phase, report
    /// cold against hot and stop. --duration caps it (default 30m).
    #[arg(long)]
    pub soak: bool,

    /// How long a soak measures cold, and then hot.
    #[arg(long, default_value = "30s", value_parser = parse_soak_time, requires = "soak")]
    pub soak_phase: Duration,

    /// How long the temperature must hold still for a soak's plateau.
    #[arg(long, default_value = "2m", value_parser = parse_soak_time, requires = "soak")]
    pub soak_window: Duration,

    /// Load and calibrate the models, print parameters and MACs per model, and exit.
    #[arg(long)]
    pub summary: bool,
}

/// What to do with snapshots already taken.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Write one self-contained HTML report (inline SVG figures, no script) of a snapshot
    /// folder: accuracy, size, computations and time against each other, where the time goes
    /// per model, and the run over time.
    Report {
        /// A snapshot or run folder (with run.json).
        snapshot: PathBuf,
        /// The HTML file to write.
        #[arg(short, long, value_name = "FILE", default_value = "report.html")]
        output: PathBuf,
    },
    /// Write one HTML page comparing two snapshots (two boards, or before and after a change):
    /// latency ratios B/A, shifts in category shares, the ops that moved most.
    Compare {
        /// The first snapshot folder (A).
        a: PathBuf,
        /// The second snapshot folder (B).
        b: PathBuf,
        /// The HTML file to write.
        #[arg(short, long, value_name = "FILE", default_value = "compare.html")]
        output: PathBuf,
    },
    /// Time single ops (convolutions, batch norm, pooling, ...) over a sampled space of
    /// configurations on this machine and cache them for `predict` (progress on stderr).
    Calibrate(CalibrateArgs),
    /// Predict models' latency on this machine from the calibration, layer by layer, after one
    /// shape-capturing pass and without timing them (calibrates first if there is none).
    Predict(PredictArgs),
}

/// `infertop calibrate`'s options.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct CalibrateArgs {
    /// Intra-op threads for libtorch (default: all cores); a calibration is for one count.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// A quarter of the configurations, three timed calls each (about a tenth of the time).
    #[arg(long)]
    pub quick: bool,
}

/// `infertop predict`'s options.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct PredictArgs {
    /// A `TorchScript` file to predict (its input is --input).
    #[arg(value_name = "MODEL.pt", conflicts_with_all = ["only", "models"])]
    pub model: Option<PathBuf>,
    /// Built-in models (or the manifest's) to predict, comma separated.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub only: Vec<String>,
    /// A model-set manifest (TOML) instead of the built-in set.
    #[arg(long, value_name = "FILE")]
    pub models: Option<PathBuf>,
    /// One image as CHANNELS,HEIGHT,WIDTH for MODEL.pt.
    #[arg(long, value_delimiter = ',', num_args = 3, default_values_t = [3, 32, 32], requires = "model")]
    pub input: Vec<i64>,
    /// Intra-op threads for libtorch (default: all cores); picks the calibration.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Layers listed per model, longest predicted first.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
}

impl CalibrateArgs {
    /// The thread count: the flag, or every core.
    #[must_use]
    pub fn thread_count(&self) -> usize {
        all_cores_or(self.threads)
    }
}

impl PredictArgs {
    /// The thread count: the flag, or every core.
    #[must_use]
    pub fn thread_count(&self) -> usize {
        all_cores_or(self.threads)
    }
}

fn all_cores_or(threads: Option<u16>) -> usize {
    threads.map_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get), usize::from)
}

/// How a run ends, shown under the options in `--help`.
const AFTER_HELP: &str = "\
Stopping: q (live screen), Ctrl-C, SIGTERM or SIGHUP stop after the current inference; a second
Ctrl-C or signal stops at once. A closed stdout (| head) or a vanished terminal (an SSH drop)
stops a run the same way. Every stop but q writes a final snapshot (to the temporary folder if
the snapshot folder fails).
Exit codes: 0 stopped; 1 runtime failure (the engine failed, stdout failed for another reason
than its reader leaving, no model could run, the snapshot was lost); 2 usage error.";

/// The schedule `--schedule` picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScheduleChoice {
    /// Stay on each model for --dwell; the first inference after a switch is cold.
    Dwell,
    /// One inference of each model in turn.
    RoundRobin,
}

/// How headless mode prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LineFormat {
    /// Aligned human-readable lines.
    Text,
    /// One JSON object per line.
    Jsonl,
}

/// Where inference runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    Cpu,
    Cuda,
}

/// The longest duration any flag takes: far beyond any run, and far below what a clock
/// reading plus a duration can hold.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Parses `500ms`, `30s`, `10m`, `1h`; a duration must be positive and at most ten years.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration ({e}); use units such as 500ms, 30s, 10m"))?;
    if d.is_zero() {
        return Err(format!("'{s}' must be longer than zero"));
    }
    if d > MAX_DURATION {
        return Err(format!("'{s}' is longer than the maximum, {}", humantime::format_duration(MAX_DURATION)));
    }
    Ok(d)
}

/// The most untimed warm-up passes: a warm-up is for caches and lazily made kernels, which a
/// few passes settle.
const MAX_WARMUP: usize = 1000;

fn parse_warmup(s: &str) -> Result<usize, String> {
    let n: usize = s.trim().parse().map_err(|_| format!("'{s}' is not a count of inferences"))?;
    if n > MAX_WARMUP {
        return Err(format!("'{s}' is more than the maximum, {MAX_WARMUP}"));
    }
    Ok(n)
}

/// The shortest `--print-every`. Lines are for a person (or a log), and ten a second per model
/// are more than anyone reads; printing faster takes time from the engine being measured and
/// floods the log (`1ns` printed 283k lines in 8 s).
pub const MIN_PRINT_EVERY: Duration = Duration::from_millis(100);

/// The shortest `--export-every`. A snapshot is a folder of five synced files holding the whole
/// run so far; more than one a second fills the disk with near-copies (`1ns` made 262 folders in
/// 4 s) and each one takes time from the engine.
pub const MIN_EXPORT_EVERY: Duration = Duration::from_secs(1);

/// The shortest `--sample-every`. A sample reads dozens of files and refreshes the process
/// table, load on the machine being measured; and the system history keeps a fixed number of
/// samples (7200: an hour at the default 500ms, six minutes at this minimum).
pub const MIN_SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// The shortest dwell: below it a dwell is only the two inferences it always holds.
pub const MIN_DWELL: Duration = Duration::from_millis(10);

fn parse_dwell(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_DWELL)
}

fn parse_print_every(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_PRINT_EVERY)
}

/// The fastest replay: a sample every 500 ms then covers 50 s of a recording.
const MAX_REPLAY_SPEED: f64 = 100.0;

/// The slowest replay: a recording's second then lasts 100 s. Slower is no use, and the
/// replay's clock (and the throttle reader's interval, divided by the speed) must stay
/// representable.
const MIN_REPLAY_SPEED: f64 = 0.01;

/// The shortest soak phase or window: a few samples at the fastest sampling.
const MIN_SOAK_TIME: Duration = Duration::from_secs(1);

fn parse_soak_time(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_SOAK_TIME)
}

fn parse_replay_speed(s: &str) -> Result<f64, String> {
    let speed: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if !(MIN_REPLAY_SPEED..=MAX_REPLAY_SPEED).contains(&speed) {
        return Err(format!("'{s}' must be between {MIN_REPLAY_SPEED} and {MAX_REPLAY_SPEED}"));
    }
    Ok(speed)
}

fn parse_export_every(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_EXPORT_EVERY)
}

/// The smallest `--inferences-max-mb`: 10 kB, about a hundred rows per part. Smaller parts
/// would only multiply files (a part per batch of rows).
pub const MIN_INFERENCES_MAX_MB: f64 = 0.01;

fn parse_inferences_max_mb(s: &str) -> Result<f64, String> {
    let mb: f64 = s.trim().parse().map_err(|_| format!("'{s}' is not a number of megabytes"))?;
    if !(MIN_INFERENCES_MAX_MB..=1e6).contains(&mb) {
        return Err(format!("'{s}' must be between {MIN_INFERENCES_MAX_MB} and 1000000"));
    }
    Ok(mb)
}

/// Parses `IP:PORT` (`[v6]:PORT` for IPv6), `localhost:PORT` or `:PORT` (both IPv4 loopback:
/// infertop often runs as root, so the network sees it only when an address says so). Names
/// other than `localhost` are not looked up: the address to listen on is this machine's own.
fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad =
        || format!("'{s}' is not an address to listen on; use IP:PORT such as 127.0.0.1:9464, localhost:PORT or :PORT");
    let (ip, port) = match (s.strip_prefix("localhost:"), s.strip_prefix(':')) {
        (Some(port), _) | (None, Some(port)) => (Ipv4Addr::LOCALHOST, port),
        (None, None) => return Err(bad()),
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    Ok(SocketAddr::from((ip, port)))
}

fn parse_sample_every(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_SAMPLE_EVERY)
}

/// A duration of at least `min`; clap's message around the error names the flag and value.
fn parse_duration_at_least(s: &str, min: Duration) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < min {
        return Err(format!("the minimum is {}", humantime::format_duration(min)));
    }
    Ok(d)
}

impl Cli {
    /// Checks what clap cannot: combinations and values that depend on the machine.
    ///
    /// # Errors
    /// A [`UsageError::Flag`] naming the flag and the value.
    pub fn validate(&self) -> Result<(), UsageError> {
        let flag = |flag, problem| Err(UsageError::Flag { flag, problem });
        if let Some(path) = &self.models {
            if !path.is_file() {
                return flag("--models", format!("cannot read '{}': no such file", path.display()));
            }
        }
        if !self.sysfs_root.is_dir() {
            return flag("--sysfs-root", format!("'{}' is not a folder", self.sysfs_root.display()));
        }
        match crate::core::episode::Episode::load(&self.sysfs_root) {
            Err(e) => return flag("--sysfs-root", e.to_string()),
            Ok(None) if (self.replay_speed - 1.0).abs() > f64::EPSILON => {
                let problem = format!("'{}' holds no recorded episode (episode.toml)", self.sysfs_root.display());
                return flag("--replay-speed", problem);
            }
            Ok(_) => {}
        }
        if self.only.iter().any(String::is_empty) {
            return flag("--only", "empty model name in the list".into());
        }
        Ok(())
    }

    /// The soak the flags ask for, `None` without `--soak`. Its longest time is `--duration`
    /// (default [`SoakConfig`]'s), which then also ends the run.
    #[must_use]
    pub fn soak_config(&self) -> Option<crate::core::soak::SoakConfig> {
        let default = crate::core::soak::SoakConfig::default();
        self.soak.then(|| crate::core::soak::SoakConfig {
            phase: self.soak_phase,
            window: self.soak_window,
            max: self.duration.unwrap_or(default.max),
            ..default
        })
    }

    /// When the run ends on its own: `--duration`, or a soak's longest time.
    #[must_use]
    pub fn run_limit(&self) -> Option<Duration> {
        self.duration.or_else(|| self.soak_config().map(|c| c.max))
    }

    /// The schedule the flags ask for.
    #[must_use]
    pub fn schedule(&self) -> Schedule {
        match self.schedule {
            ScheduleChoice::Dwell => Schedule::Dwell(self.dwell),
            ScheduleChoice::RoundRobin => Schedule::RoundRobin,
        }
    }

    /// `--inferences-max-mb` in bytes.
    #[must_use]
    pub fn inferences_part_bytes(&self) -> u64 {
        (self.inferences_max_mb * 1e6).round() as u64
    }

    /// Intra-op threads to use: the flag, or every core.
    #[must_use]
    pub fn thread_count(&self) -> usize {
        self.threads.map_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get), usize::from)
    }
}
