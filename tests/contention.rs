//! Contention from recorded `/proc` files: a board tree (`tests/fixtures/sysfs/<board>/proc`)
//! is the first reading, and an overlay from `tests/fixtures/contention/<case>` written over a
//! copy of it is the second (both described in the fixtures' README). Every expected figure is
//! worked out by hand from the recorded counters in the comments.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[path = "binary/command.rs"]
mod binary;

use infertop::core::machine::{Contention, Reasons};
use infertop::core::machine::{Sampler, SamplerConfig, SystemSample};
use infertop::core::run::Event;
use infertop::core::state::MonitorState;
use infertop::export::{write_snapshot, RunMeta};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Copies every file under `from` to the same place under `to`.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A sampler over a copy of `board`'s tree that reads no command and not this machine.
struct Case {
    root: tempfile::TempDir,
    sampler: Sampler,
}

impl Case {
    fn of(board: &str) -> Self {
        let root = tempfile::tempdir().unwrap();
        copy_tree(&fixtures().join("sysfs").join(board), root.path());
        let sampler = Sampler::new(SamplerConfig {
            root: root.path().to_owned(),
            throttle_command: None,
            system_stats: false,
            ..SamplerConfig::default()
        });
        Self { root, sampler }
    }

    /// Writes the case's second reading over the tree.
    fn advance(&self, case: &str) {
        copy_tree(&fixtures().join("contention").join(case), self.root.path());
    }

    /// The contention of a board's first reading and a case's second.
    fn interval(board: &str, case: &str) -> (SystemSample, Contention) {
        let mut this = Self::of(board);
        assert_eq!(this.sampler.sample().contention, None, "the first sample has no interval");
        this.advance(case);
        let sample = this.sampler.sample();
        let contention = *sample.contention.clone().expect("an interval");
        (sample, contention)
    }
}

fn close(value: f64, expected: f64) -> bool {
    (value - expected).abs() < 1e-9
}

fn close_opt(value: Option<f64>, expected: f64) -> bool {
    value.is_some_and(|v| close(v, expected))
}

/// Pi 4, 500 ms: user +47, system +5, idle +147, softirq +1 = 200 ticks, 50 a core. infertop
/// +45 user +5 system = 50 ticks, 1 core; others 53 − 50 = 3 ticks, 0.06 cores (and fewer
/// than the 5 of tick rounding); 7 threads, load 1.08.
#[test]
fn a_quiet_pi_running_only_infertop_is_not_contended() {
    let (sample, c) = Case::interval("rpi4", "rpi4-quiet");
    assert_eq!(c.cores, 4);
    assert!(close(c.busy_pct, 26.5) && close(c.steal_pct, 0.0), "{c:?}");
    assert!(close_opt(c.own_cores, 1.0) && close_opt(c.other_cores, 0.06), "{c:?}");
    assert_eq!((c.own_threads, c.load_1m), (Some(7), Some(1.08)));
    assert_eq!(c.reasons, Reasons::default());
    assert_eq!(sample.is_contended(), Some(false));
}

/// The same Pi while a compiler runs on another core: user +96, system +6, idle +97,
/// softirq +1 = 200 ticks; infertop still 50, others 103 − 50 = 53 ticks, 1.06 cores.
#[test]
fn a_pi_with_another_program_on_a_core_is_contended() {
    let (sample, c) = Case::interval("rpi4", "rpi4-busy");
    assert!(close(c.busy_pct, 51.5), "{c:?}");
    assert!(close_opt(c.own_cores, 1.0) && close_opt(c.other_cores, 1.06), "{c:?}");
    assert_eq!(c.load_1m, Some(2.04), "below 7 threads + 0.5: the load says nothing");
    assert_eq!(c.reasons, Reasons { others: true, ..Reasons::default() });
    assert_eq!(sample.is_contended(), Some(true));
    assert_eq!(c.describe(), "other 1.06 cores, steal 0.0%, load 2.04/4");
}

/// Recorded on this project's 2-vCPU VM while `yes` and other people's builds ran: user +108,
/// nice +61, system +34 = 203 ticks, all busy, 101.5 a core. The recording process (python,
/// one thread) spun all along but got utime + stime 36 − 4 = 32 ticks, 0.315 cores; others
/// 171 ticks, 1.685 cores. Load 6.38 on 2 cores with 1 thread of ours.
#[test]
fn a_recorded_shared_vm_is_contended_by_others_and_by_load() {
    let (_, c) = Case::interval("vm", "vm-shared");
    assert_eq!(c.cores, 2);
    assert!(close(c.busy_pct, 100.0) && close(c.steal_pct, 0.0), "{c:?}");
    assert!(close_opt(c.own_cores, 32.0 / 101.5) && close_opt(c.other_cores, 171.0 / 101.5), "{c:?}");
    assert_eq!(c.reasons, Reasons { others: true, steal: false, load: true });
    assert_eq!(c.describe(), "other 1.68 cores, steal 0.0%, load 6.38/2");
}

/// The same VM alone inside, with a neighbour on the host: user +100, system +2, idle +92,
/// steal +6 = 200 ticks; steal 3 %. infertop 100 ticks, others 2 ticks (0.02 cores).
#[test]
fn steal_alone_makes_a_vm_contended() {
    let (sample, c) = Case::interval("vm", "vm-steal");
    assert!(close(c.steal_pct, 3.0) && close(c.busy_pct, 51.0), "{c:?}");
    assert!(close_opt(c.own_cores, 1.0) && close_opt(c.other_cores, 0.02), "{c:?}");
    assert_eq!(c.reasons, Reasons { steal: true, ..Reasons::default() });
    assert_eq!(sample.is_contended(), Some(true));
}

/// No `proc/stat`: no figures, at any sample. A tree read twice unchanged (as the headless
/// tests replay one): no time passed, no figures either.
#[test]
fn without_proc_stat_or_without_time_passing_contention_is_unknown() {
    let mut case = Case::of("rpi4");
    fs::remove_file(case.root.path().join("proc/stat")).unwrap();
    case.advance("rpi4-busy");
    fs::remove_file(case.root.path().join("proc/stat")).unwrap();
    for _ in 0..2 {
        let sample = case.sampler.sample();
        assert_eq!((sample.is_contended(), sample.contention), (None, None));
    }
    let mut still = Case::of("rpi4");
    still.sampler.sample();
    assert_eq!(still.sampler.sample().contention, None);
}

/// Without infertop's own `stat`, others cannot be told from infertop: the figures that do
/// not need it are there, the verdict is unknown.
#[test]
fn without_our_own_stat_the_verdict_is_unknown() {
    let mut case = Case::of("rpi4");
    fs::remove_file(case.root.path().join("proc/self/stat")).unwrap();
    case.sampler.sample();
    case.advance("rpi4-busy");
    fs::remove_file(case.root.path().join("proc/self/stat")).unwrap();
    let sample = case.sampler.sample();
    let c = sample.contention.as_deref().expect("figures from proc/stat");
    assert!(close(c.busy_pct, 51.5));
    assert_eq!((c.own_cores, c.other_cores, sample.is_contended()), (None, None, None));
}

/// At `/`, `proc/self` is this test process: spinning on this thread shows as our CPU, and
/// the sampler's own sensor thread is among our threads.
#[test]
fn at_the_real_root_self_is_this_process() {
    let mut sampler = Sampler::new(SamplerConfig {
        root: PathBuf::from("/"),
        throttle_command: None,
        system_stats: false,
        ..SamplerConfig::default()
    });
    sampler.sample();
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(300) {
        std::hint::black_box(start.elapsed());
    }
    let sample = sampler.sample();
    let c = sample.contention.as_deref().expect("this machine has /proc/stat");
    // SAFETY: sysconf only reads a system constant.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    assert_eq!(Some(c.cores), u32::try_from(online).ok());
    assert!(c.own_threads.is_some_and(|n| n >= 2), "{c:?}");
    // qemu-user fakes /proc/self/stat with zero CPU times: under emulation only the presence
    // of the figure can be checked.
    let emulated = binary::emulated();
    assert!(c.own_cores.is_some_and(|own| own > 0.0 || emulated), "300 ms of spinning: {c:?}");
    assert!((0.0..=100.0).contains(&c.busy_pct) && c.verdict().is_some(), "{c:?}");
}

/// The rpi4 tree's three samples (none, quiet, busy), 500 ms apart.
fn rpi4_run() -> Vec<SystemSample> {
    let mut case = Case::of("rpi4");
    let mut samples = vec![case.sampler.sample()];
    case.advance("rpi4-quiet");
    samples.push(case.sampler.sample());
    // The busy interval is recorded from the same first reading: start over from it.
    let mut busy = Case::of("rpi4");
    busy.sampler.sample();
    busy.advance("rpi4-busy");
    samples.push(busy.sampler.sample());
    for (i, sample) in (0..).zip(&mut samples) {
        sample.at_ms = 500 * i;
    }
    samples
}

#[test]
fn the_headless_line_says_what_competed() {
    let [first, quiet, busy] = <[SystemSample; 3]>::try_from(rpi4_run()).unwrap();
    let line = |s: &SystemSample| infertop::headless::system_line(s, Duration::from_secs(1));
    assert!(line(&first).ends_with("  contention: n/a"), "{}", line(&first));
    assert!(line(&quiet).ends_with("  contention: none"), "{}", line(&quiet));
    assert!(line(&busy).ends_with("  contention: other 1.06 cores, steal 0.0%, load 2.04/4"), "{}", line(&busy));
}

/// The run summary, `system.csv` and `run.json` of a run with one quiet and one busy interval.
#[test]
fn system_csv_and_run_json_carry_contention() {
    let mut state = MonitorState::new(&["tiny"]);
    for sample in rpi4_run() {
        state.apply(Event::System(sample));
    }
    assert_eq!((state.contention.samples_known, state.contention.samples_contended), (2, 1));

    let base = tempfile::tempdir().unwrap();
    let dir = write_snapshot(base.path(), &state, &meta()).unwrap();
    let mut rows: Vec<(u64, String, String, f64)> = Vec::new();
    for row in csv::Reader::from_path(dir.join("system.csv")).unwrap().records() {
        let row = row.unwrap();
        let metric = row[1].to_string();
        rows.push((row[0].parse().unwrap(), metric, row[2].to_string(), row[3].parse().unwrap()));
    }
    let value = |t: u64, metric: &str, source: &str| {
        rows.iter().find(|r| r.0 == t && r.1 == metric && r.2 == source).map(|r| r.3)
    };
    let from_proc = |r: &&(u64, String, String, f64)| r.2.starts_with("proc_");
    assert_eq!(rows.iter().filter(from_proc).filter(|r| r.0 == 0).count(), 0, "the first sample has no interval");
    assert_eq!(value(500, "contended", "proc_stat"), Some(0.0));
    assert_eq!(value(1000, "contended", "proc_stat"), Some(1.0));
    assert_eq!(value(1000, "cores", "proc_stat"), Some(4.0));
    assert!(value(1000, "other_cpu_cores", "proc_stat").is_some_and(|v| close(v, 1.06)));
    assert!(value(1000, "cpu_busy_pct", "proc_stat").is_some_and(|v| close(v, 51.5)));
    assert_eq!(value(1000, "steal_pct", "proc_stat"), Some(0.0));
    assert!(value(1000, "process_cpu_cores", "proc_self").is_some_and(|v| close(v, 1.0)));
    assert_eq!(value(1000, "process_threads", "proc_self"), Some(7.0));

    let run: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let c = &run["contention"];
    assert_eq!((c["samples_known"].as_u64(), c["samples_contended"].as_u64()), (Some(2), Some(1)));
    assert_eq!(c["contended_share"].as_f64(), Some(0.5));
    assert!(c["max_other_cpu_cores"].as_f64().is_some_and(|v| close(v, 1.06)), "{c}");
    assert_eq!(c["max_steal_pct"].as_f64(), Some(0.0));
    assert_eq!(
        c["warning"].as_str(),
        Some("1 of 2 samples were taken while other work used the cores (other processes up to 1.06 cores, steal up to 0.0%)")
    );
    assert_eq!(c["threshold_other_cpu_cores"].as_f64(), Some(0.1));
}

/// A run that never measured contention says so with nulls, and has no warning.
#[test]
fn run_json_without_contention_has_nulls_and_no_warning() {
    let mut state = MonitorState::new(&["tiny"]);
    state.apply(Event::System(SystemSample::default()));
    let base = tempfile::tempdir().unwrap();
    let dir = write_snapshot(base.path(), &state, &meta()).unwrap();
    let run: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let c = &run["contention"];
    assert_eq!(c["samples_known"], 0);
    for key in ["contended_share", "max_steal_pct", "max_other_cpu_cores", "warning"] {
        assert!(c[key].is_null(), "{key}: {c}");
    }
}

fn meta() -> RunMeta {
    RunMeta {
        threads: 1,
        op_profile: false,
        manifest_source: "built-in".into(),
        sample_every: Some(Duration::from_millis(500)),
        sysfs_root: fixtures().join("sysfs/rpi4"),
        started_at: SystemTime::now(),
        front_end: "headless".into(),
        duration: None,
        args: Vec::new(),
        schedule: infertop::core::run::Schedule::RoundRobin,
        profile_every: 4,
        warmup: 2,
        iterations: None,
    }
}
