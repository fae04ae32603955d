//! The words around the flags in `--help`: the groups they are listed under, and what is said
//! above and below them.

/// Which models run, and how they are changed.
pub const MODELS: &str = "Models";
/// How long a run lasts and how the engine runs.
pub const RUN: &str = "Running";
/// What is measured besides whole-inference latency.
pub const MEASURE: &str = "Measuring";
/// Snapshots, CSV and Prometheus.
pub const EXPORT: &str = "Snapshots and exports";
/// Headless mode's lines.
pub const HEADLESS: &str = "Headless lines";
/// The live screen.
pub const LIVE: &str = "Live screen";
/// The thermal soak.
pub const SOAK: &str = "Thermal soak";
/// Flags for tests and recorded episodes, shown by `--help-all` only.
pub const TESTING: &str = "Testing and replay";

/// The first lines of the help: what infertop does and how a run ends, the one thing a first
/// run needs to know (`q` saves nothing).
pub const ABOUT: &str = "\
Runs CNN inference in a loop and shows, live, where the time goes beyond the MAC count.
Stop with Ctrl-C (writes a snapshot) or q in the live screen (writes none: press e first).";

/// Below the short help.
pub const AFTER_HELP: &str = "\
Exit codes: 0 stopped, 1 runtime failure, 2 usage error. --help-all: every flag, in full.";

/// Below the full help: how a run ends, in detail.
pub const AFTER_LONG_HELP: &str = "\
Stopping: q (live screen), Ctrl-C, SIGTERM or SIGHUP stop after the current inference; a second
Ctrl-C or signal stops at once. A closed stdout (| head) or a vanished terminal (an SSH drop)
stops a run the same way. Every stop but q writes a final snapshot (to the temporary folder if
the snapshot folder fails).
Exit codes: 0 stopped; 1 runtime failure (the engine failed, stdout failed for another reason
than its reader leaving, no model could run, the snapshot was lost); 2 usage error.";
