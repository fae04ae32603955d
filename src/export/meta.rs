//! `run.json`: what ran, where, with which settings and versions, and when.

use crate::core::run::Schedule;
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::progress::FolderProgress;
use super::utc_rfc3339;
use crate::core::limits::{cpu_model, torch_version};
use crate::core::machine::{ContentionSummary, LOAD_MARGIN, OTHER_CORES, STEAL_PCT};
use crate::core::run::Plan;
use crate::core::state::MonitorState;

/// The settings of a run, filled in by the front end that writes the snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMeta {
    /// libtorch intra-op threads.
    pub threads: usize,
    /// Whether per-op times were recorded (`--no-op-profile` turns it off).
    pub op_profile: bool,
    /// Where the model list came from (a file path or `built-in`).
    pub manifest_source: String,
    /// How often the system was sampled; `None` when it was not.
    pub sample_every: Option<Duration>,
    /// The root sysfs was read under (`/` unless replaying a fixture).
    pub sysfs_root: PathBuf,
    /// When measuring started.
    pub started_at: SystemTime,
    /// `tui` or `headless`.
    pub front_end: String,
    /// `--duration`, when one was given.
    pub duration: Option<Duration>,
    /// The command line as given.
    pub args: Vec<String>,
    /// How the engine moved between models.
    pub schedule: Schedule,
    /// One inference in this many per model was profiled.
    pub profile_every: u32,
    /// Untimed passes per model before timing (`--warmup`).
    pub warmup: usize,
    /// `--iterations`, when one was given.
    pub iterations: Option<u64>,
}

impl RunMeta {
    /// The settings of `plan`, started at `started_at`; front end, duration and arguments are
    /// left for the caller to set.
    #[must_use]
    pub fn from_plan(plan: &Plan, started_at: SystemTime) -> Self {
        Self {
            threads: plan.threads,
            op_profile: plan.op_profile,
            manifest_source: plan.manifest_source.clone(),
            sample_every: plan.sample_every,
            sysfs_root: plan.sysfs_root.clone(),
            started_at,
            front_end: String::new(),
            duration: None,
            args: Vec::new(),
            schedule: plan.schedule,
            profile_every: plan.profile_every,
            warmup: plan.warmup,
            iterations: plan.iterations,
        }
    }
}

/// The machine a snapshot was taken on. Anything that cannot be read is `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MachineInfo {
    /// From /proc/cpuinfo (`model name` on x86, `Model` on a Raspberry Pi).
    pub cpu_model: String,
    /// The device-tree model of a board (`Raspberry Pi 4 Model B Rev 1.4`).
    pub board: Option<String>,
    /// Cores online.
    pub cores: Option<usize>,
    /// Cores this process may run on.
    pub usable_cores: Option<usize>,
    pub arch: &'static str,
    /// `PRETTY_NAME` of /etc/os-release, else the OS family.
    pub os: String,
    /// The kernel release (`uname -r`).
    pub kernel: Option<String>,
    pub hostname: Option<String>,
}

impl MachineInfo {
    /// Reads the running machine.
    #[must_use]
    pub fn detect() -> Self {
        // SAFETY: sysconf only reads a system constant.
        let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        Self {
            cpu_model: cpu_model(),
            board: read_text("/proc/device-tree/model"),
            cores: usize::try_from(online).ok().filter(|n| *n > 0),
            usable_cores: std::thread::available_parallelism().ok().map(usize::from),
            arch: std::env::consts::ARCH,
            os: os_name().unwrap_or_else(|| std::env::consts::OS.to_string()),
            kernel: read_text("/proc/sys/kernel/osrelease"),
            hostname: read_text("/proc/sys/kernel/hostname"),
        }
    }
}

/// A small text file, trimmed of whitespace and the NUL the device tree ends strings with.
fn read_text(path: &str) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!text.is_empty()).then(|| text.to_string())
}

fn os_name() -> Option<String> {
    let text = fs::read_to_string("/etc/os-release").ok()?;
    let value = text.lines().find_map(|l| l.strip_prefix("PRETTY_NAME="))?;
    Some(value.trim().trim_matches('"').to_string()).filter(|v| !v.is_empty())
}

/// The contents of `run.json`.
#[derive(Debug, Serialize)]
pub(super) struct RunJson<'a> {
    /// Bumped when a file's columns change meaning. 2: `inferences.csv`, the run folder and
    /// the fields below `engine_error`.
    snapshot_format: u32,
    infertop_version: &'static str,
    libtorch_version: &'static str,
    started_at: String,
    snapshot_at: String,
    elapsed_s: f64,
    machine: &'a MachineInfo,
    /// The machine's fp32 peak through libtorch with `settings.threads` threads.
    peak_gmacs_per_s: Option<f64>,
    /// `scaling_governor` per cpufreq policy, from the latest sample that had cpufreq.
    cpufreq_governors: BTreeMap<String, String>,
    settings: Settings<'a>,
    models: Vec<ModelMeta<'a>>,
    inferences: u64,
    system_samples: usize,
    contention: ContentionJson,
    /// When a sample first found the machine throttled (ms since the sampler started, the
    /// `t_ms` axis of `system.csv`); `null` when no sample did.
    first_throttled_ms: Option<u64>,
    /// A thermal soak's phases and per-model cold and hot latency; `null` when the run was none.
    soak: Option<serde_json::Value>,
    engine_stopped: bool,
    engine_error: Option<&'a str>,
    #[serde(flatten)]
    folder: &'a FolderProgress,
}

/// Competition for the cores over the run; figures are `null` when never measured.
#[derive(Debug, Serialize)]
struct ContentionJson {
    /// Samples with a verdict, and those of them taken while other work used the cores.
    samples_known: u64,
    samples_contended: u64,
    contended_share: Option<f64>,
    max_steal_pct: Option<f64>,
    max_other_cpu_cores: Option<f64>,
    /// A sentence saying how many samples were contended; `null` when none was.
    warning: Option<String>,
    /// What counted as contended, so that a reader need not know this version's code.
    threshold_other_cpu_cores: f64,
    threshold_steal_pct: f64,
    threshold_load_above_cores_and_threads: f64,
}

impl From<&ContentionSummary> for ContentionJson {
    fn from(s: &ContentionSummary) -> Self {
        Self {
            samples_known: s.samples_known,
            samples_contended: s.samples_contended,
            contended_share: s.contended_share(),
            max_steal_pct: s.max_steal_pct,
            max_other_cpu_cores: s.max_other_cores,
            warning: s.warning(),
            threshold_other_cpu_cores: OTHER_CORES,
            threshold_steal_pct: STEAL_PCT,
            threshold_load_above_cores_and_threads: LOAD_MARGIN,
        }
    }
}

#[derive(Debug, Serialize)]
struct Settings<'a> {
    threads: usize,
    op_profile: bool,
    manifest_source: &'a str,
    sample_every_ms: Option<u128>,
    sysfs_root: String,
    front_end: &'a str,
    duration_s: Option<f64>,
    args: &'a [String],
    /// `dwell` or `round-robin`.
    schedule: &'static str,
    /// The dwell per model, for the dwell schedule.
    dwell_ms: Option<u128>,
    profile_every: u32,
    warmup: usize,
    iterations: Option<u64>,
}

#[derive(Debug, Serialize)]
struct ModelMeta<'a> {
    name: &'a str,
    status: &'static str,
    source: Option<&'a str>,
    params: Option<u64>,
    batch: Option<i64>,
    input_chw: Option<[i64; 3]>,
    top1_error_pct: Option<f64>,
}

/// `run.json` for `state` as of `now`.
pub(super) fn run_json<'a>(
    state: &'a MonitorState,
    meta: &'a RunMeta,
    machine: &'a MachineInfo,
    now: SystemTime,
    folder: &'a FolderProgress,
) -> RunJson<'a> {
    let latest_with_cpufreq = state.system.iter().rev().find(|s| !s.cpufreq.is_empty());
    let governors = latest_with_cpufreq.map_or_else(BTreeMap::new, |s| {
        s.cpufreq.iter().filter_map(|p| Some((format!("policy{}", p.policy), p.governor.clone()?))).collect()
    });
    RunJson {
        snapshot_format: 2,
        infertop_version: env!("CARGO_PKG_VERSION"),
        libtorch_version: torch_version(),
        started_at: utc_rfc3339(meta.started_at),
        snapshot_at: utc_rfc3339(now),
        elapsed_s: now.duration_since(meta.started_at).map_or(0.0, |d| d.as_secs_f64()),
        machine,
        peak_gmacs_per_s: state.peak_gmacs,
        cpufreq_governors: governors,
        settings: Settings {
            threads: meta.threads,
            op_profile: meta.op_profile,
            manifest_source: &meta.manifest_source,
            sample_every_ms: meta.sample_every.map(|d| d.as_millis()),
            sysfs_root: meta.sysfs_root.display().to_string(),
            front_end: &meta.front_end,
            duration_s: meta.duration.map(|d| d.as_secs_f64()),
            args: &meta.args,
            schedule: match meta.schedule {
                Schedule::Dwell(_) => "dwell",
                Schedule::RoundRobin => "round-robin",
            },
            dwell_ms: match meta.schedule {
                Schedule::Dwell(d) => Some(d.as_millis()),
                Schedule::RoundRobin => None,
            },
            profile_every: meta.profile_every,
            warmup: meta.warmup,
            iterations: meta.iterations,
        },
        models: state
            .models
            .iter()
            .map(|m| {
                let info = m.info.as_ref();
                ModelMeta {
                    name: &m.name,
                    status: m.status.key(),
                    source: info.map(|i| i.source.as_str()),
                    params: info.map(|i| i.params),
                    batch: info.map(|i| i.batch),
                    input_chw: info.map(|i| i.input),
                    top1_error_pct: info.and_then(|i| i.top1_error),
                }
            })
            .collect(),
        inferences: state.inferences,
        system_samples: state.system.len(),
        contention: ContentionJson::from(&state.contention),
        first_throttled_ms: state.first_throttled_ms,
        soak: state.soak.as_ref().map(|soak| crate::export::soak_json(state, soak)),
        engine_stopped: state.engine_stopped,
        engine_error: state.engine_error.as_deref(),
        folder,
    }
}
