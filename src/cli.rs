//! The command line (clap derive). Usage errors exit with code 2 and one line on stderr.
//!
//! `-h`/`--help` shows the everyday flags in groups, one line each; `--help-all` shows every
//! flag with its full description (see [`help`]).

pub mod help;
pub mod model_list;
mod values;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

use crate::core::run::Schedule;
use crate::UsageError;
use values::{
    parse_duration, parse_dwell, parse_export_every, parse_inferences_max_mb, parse_listen, parse_print_every,
    parse_replay_speed, parse_sample_every, parse_soak_time, parse_warmup,
};
pub use values::{MAX_DURATION, MIN_DWELL, MIN_EXPORT_EVERY, MIN_INFERENCES_MAX_MB, MIN_PRINT_EVERY, MIN_SAMPLE_EVERY};

use help::{EXPORT, HEADLESS, LIVE, MEASURE, MODELS, RUN, SOAK, TESTING};

/// Runs CNN inference in a loop and shows, live, where the time goes beyond the MAC count.
#[derive(Debug, Clone, Parser)]
#[command(name = "infertop", version, about = help::ABOUT, long_about = None)]
#[command(after_help = help::AFTER_HELP, after_long_help = help::AFTER_LONG_HELP)]
#[command(args_conflicts_with_subcommands = true, disable_help_flag = true)]
#[allow(clippy::struct_excessive_bools)] // each is a command-line switch
pub struct Cli {
    /// Without a command infertop measures (the flags below); a command reads snapshots.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Print help: the everyday flags (--help-all for every flag, in full).
    #[arg(short = 'h', long = "help", action = ArgAction::HelpShort)]
    help: Option<bool>,

    /// Print every flag with its full description.
    #[arg(long = "help-all", action = ArgAction::HelpLong)]
    help_all: Option<bool>,

    /// Run only these models (comma separated).
    ///
    /// Names from the manifest (see --list-models); the built-in set also has `tiny`, a quick
    /// smoke-test net that runs only when named.
    #[arg(long, value_name = "NAMES", value_delimiter = ',', num_args = 1.., help_heading = MODELS)]
    pub only: Vec<String>,

    /// A model-set manifest (TOML) instead of the built-in ten-model set.
    #[arg(long, value_name = "FILE", help_heading = MODELS)]
    pub models: Option<PathBuf>,

    /// List the models (of --models, or the built-in set) and exit.
    ///
    /// One line per model: name, architecture or file, input, batch, parameters (built-in
    /// architectures), reference top-1 error, whether it runs by default, and what it is. Reads
    /// the manifest only: nothing is loaded or run.
    #[arg(long, help_heading = MODELS, conflicts_with = "summary")]
    pub list_models: bool,

    /// Load the models, print parameters and MACs per model, and exit.
    ///
    /// Loads and calibrates every model (one profiled inference each) to count MACs.
    #[arg(long, help_heading = MODELS)]
    pub summary: bool,

    /// Batch size for every model, overriding the manifest.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..=4096), help_heading = MODELS)]
    pub batch: Option<i64>,

    /// Run each model also with a change: fold-bn, channels-last, threads=N, ...
    ///
    /// Comma separated; each variant is its own row beside the model, under the same schedule.
    /// fold-bn (`BatchNorm` folded into the convolution; for `TorchScript`, libtorch's freeze and
    /// optimize-for-inference), channels-last, threads=N (the model alone at N intra-op
    /// threads), threads=N.. (every count from N to the cores), no-mkldnn (`oneDNN` convolutions
    /// off). Each variant's output is checked against the original's first.
    #[arg(long, value_name = "LIST", value_delimiter = ',', num_args = 1.., help_heading = MODELS)]
    pub what_if: Vec<crate::core::models::VariantRequest>,

    /// Print lines instead of the live screen (automatic without a terminal).
    #[arg(long, help_heading = RUN)]
    pub headless: bool,

    /// Stop after this long (for example 30s, 10m).
    ///
    /// Counted from the start, model loading included; runs until stopped when not given.
    #[arg(long, value_name = "TIME", value_parser = parse_duration, help_heading = RUN)]
    pub duration: Option<Duration>,

    /// Stop each model after N timed inferences.
    ///
    /// Timed inferences are those that count toward its latency (warm, and unprofiled unless
    /// --profile-every 1); the run ends when every model has its N, or at --duration if that
    /// comes first. Profiled and cold inferences run in addition.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000), conflicts_with_all = ["soak", "summary"], help_heading = RUN)]
    pub iterations: Option<u64>,

    /// Untimed inferences per model before timing starts.
    ///
    /// With 0, the first timed inference is kept apart as cold.
    #[arg(long, value_name = "N", default_value_t = crate::core::run::DEFAULT_WARMUP, value_parser = parse_warmup, help_heading = RUN)]
    pub warmup: usize,

    /// Intra-op threads for libtorch (default: all cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024), help_heading = RUN)]
    pub threads: Option<u16>,

    /// Move between models by dwell or round-robin.
    ///
    /// `dwell` stays on each for --dwell and keeps the first inference after a switch apart
    /// (cold), so latency is the model's own warm latency and the cost of switching is its own
    /// figure; `round-robin` runs one inference of each in turn, so every latency includes a
    /// switch.
    #[arg(long, value_enum, default_value_t = ScheduleChoice::Dwell, hide_possible_values = true, help_heading = RUN)]
    pub schedule: ScheduleChoice,

    /// How long the dwell schedule stays on a model (and at least two inferences).
    #[arg(long, value_name = "TIME", default_value = "500ms", value_parser = parse_dwell, help_heading = RUN, hide_short_help = true)]
    pub dwell: Duration,

    /// Time whole inferences only, without the per-op profiler.
    ///
    /// An unprofiled baseline: no op table, categories or MAC counts.
    #[arg(long, help_heading = MEASURE)]
    pub no_op_profile: bool,

    /// Profile one inference in N per model (1: every one).
    ///
    /// Latency statistics come from the others, so the op profiler's overhead never reaches
    /// them.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1_000_000), help_heading = MEASURE, hide_short_help = true)]
    pub profile_every: u32,

    /// Do not calibrate kernels in the background of the live screen.
    ///
    /// Without a calibration for this machine and thread count, the live screen times single
    /// ops for about a quarter second every few seconds, between inferences, until predictions
    /// stand beside the measurements (see `infertop calibrate`). Headless runs never do.
    #[arg(long, help_heading = MEASURE, hide_short_help = true)]
    pub no_calibrate: bool,

    /// Trace one inference per model, op by op, into DIR (for Perfetto).
    ///
    /// Chrome trace-event JSON.
    ///
    /// trace-<model>-<seq>.json: the model, its layers and ops on the engine thread, clock and
    /// temperature as counters, for Perfetto's UI or `chrome://tracing`. In the live screen, c
    /// and C trace more, into DIR (without it, the snapshot folder).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["summary", "no_op_profile"], help_heading = MEASURE)]
    pub trace: Option<PathBuf>,

    /// How often the system sampler reads clocks, temperatures and memory (at least 50ms).
    #[arg(long, value_name = "TIME", default_value = "500ms", value_parser = parse_sample_every, help_heading = MEASURE, hide_short_help = true)]
    pub sample_every: Duration,

    /// Where snapshots go (default: ./infertop-snapshots/<timestamp>/).
    #[arg(long, value_name = "DIR", help_heading = EXPORT)]
    pub export_dir: Option<PathBuf>,

    /// Export the aggregates this often (default: at exit; at least 1s).
    ///
    /// The aggregates are models, ops, layers and run.json, in the run's folder. The time series
    /// (inferences.csv, system.csv) are appended as the run goes either way. In the live screen
    /// it starts a run folder, as --export-dir does.
    #[arg(long, value_name = "TIME", value_parser = parse_export_every, help_heading = EXPORT)]
    pub export_every: Option<Duration>,

    /// Start a new part of inferences.csv at this many megabytes (10^6 bytes; at least 0.01).
    ///
    /// Fractions are allowed. Earlier parts are inferences.1.csv, inferences.2.csv, ... and are
    /// all kept: no row is ever dropped.
    #[arg(long, value_name = "MB", default_value = "64", value_parser = parse_inferences_max_mb, help_heading = EXPORT, hide_short_help = true)]
    pub inferences_max_mb: f64,

    /// Serve measurements to Prometheus at `http://ADDR/metrics` (e.g. :9464).
    ///
    /// `OpenMetrics`; ADDR is for example `127.0.0.1:9464`, `[::1]:9464`, or `localhost:9464`;
    /// `:9464` is this machine only (127.0.0.1), `0.0.0.0:9464` every interface, for a
    /// Prometheus elsewhere; port 0 picks a free one and says which on stderr.
    #[arg(long, value_name = "ADDR", value_parser = parse_listen, help_heading = EXPORT)]
    pub listen: Option<SocketAddr>,

    /// How often headless lines are printed (at least 100ms).
    #[arg(long, value_name = "TIME", default_value = "5s", value_parser = parse_print_every, help_heading = HEADLESS)]
    pub print_every: Duration,

    /// Headless lines as text or jsonl (a JSON object per line).
    #[arg(long, value_enum, default_value_t = LineFormat::Text, hide_possible_values = true, help_heading = HEADLESS)]
    pub format: LineFormat,

    /// Colour theme: dark, light, mono, or a theme TOML file.
    ///
    /// A built-in name or a path to a theme TOML file.
    #[arg(long, value_name = "NAME|PATH", help_heading = LIVE)]
    pub theme: Option<String>,

    /// Leave the mouse to the terminal (for its own selection and copy).
    ///
    /// No clicks on tabs and rows, no wheel scrolling.
    #[arg(long, help_heading = LIVE)]
    pub no_mouse: bool,

    /// Frames drawn per second by the live screen.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=60), help_heading = LIVE, hide_short_help = true)]
    pub fps: u16,

    /// Thermal soak: measure each model cold, heat to a plateau, measure hot, compare, stop.
    ///
    /// Measures each model cold for --soak-phase, loads the cores until the temperature stays
    /// within 0.5 °C for --soak-window, measures hot for --soak-phase, reports cold against hot
    /// and stops. --duration caps it (default 30m).
    #[arg(long, help_heading = SOAK)]
    pub soak: bool,

    /// How long a soak measures cold, and then hot.
    #[arg(long, value_name = "TIME", default_value = "30s", value_parser = parse_soak_time, requires = "soak", help_heading = SOAK, hide_short_help = true)]
    pub soak_phase: Duration,

    /// How long the temperature must hold still for a soak's plateau.
    #[arg(long, value_name = "TIME", default_value = "2m", value_parser = parse_soak_time, requires = "soak", help_heading = SOAK, hide_short_help = true)]
    pub soak_window: Duration,

    /// Root under which /sys and /proc are read (tests point it at recorded board layouts).
    ///
    /// A folder with an episode.toml is a recorded episode, played back as time passes.
    #[arg(long, value_name = "DIR", default_value = "/", help_heading = TESTING, hide_short_help = true)]
    pub sysfs_root: PathBuf,

    /// Play a recorded episode (--sysfs-root) this many times faster than real time.
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR", value_parser = parse_replay_speed, help_heading = TESTING, hide_short_help = true)]
    pub replay_speed: f64,
}

/// What to do with snapshots already taken.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Write an HTML report of a snapshot folder.
    ///
    /// One self-contained page (inline SVG figures, no script): accuracy, size, computations and
    /// time against each other, where the time goes per model, and the run over time.
    Report {
        /// A snapshot or run folder (with run.json).
        snapshot: PathBuf,
        /// The HTML file to write.
        #[arg(short, long, value_name = "FILE", default_value = "report.html")]
        output: PathBuf,
        /// Print help.
        #[arg(short = 'h', long = "help", action = ArgAction::Help)]
        help: Option<bool>,
    },
    /// Write an HTML page comparing two snapshots (two boards, or before and after a change).
    ///
    /// Latency ratios B/A, shifts in category shares, the ops that moved most.
    Compare {
        /// The first snapshot folder (A).
        a: PathBuf,
        /// The second snapshot folder (B).
        b: PathBuf,
        /// The HTML file to write.
        #[arg(short, long, value_name = "FILE", default_value = "compare.html")]
        output: PathBuf,
        /// Print help.
        #[arg(short = 'h', long = "help", action = ArgAction::Help)]
        help: Option<bool>,
    },
    /// Time single ops on this machine and cache them for `predict`.
    ///
    /// Convolutions, batch norm, pooling, ... over a sampled space of configurations, with
    /// progress on stderr.
    Calibrate(CalibrateArgs),
    /// Predict models' latency here from the calibration, layer by layer.
    ///
    /// After one shape-capturing pass and without timing them (calibrates first if there is
    /// none).
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
    /// Print help.
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,
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
    /// Print help.
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,
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
        match crate::core::machine::Episode::load(&self.sysfs_root) {
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
    pub fn soak_config(&self) -> Option<crate::core::state::SoakConfig> {
        let default = crate::core::state::SoakConfig::default();
        self.soak.then(|| crate::core::state::SoakConfig {
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
