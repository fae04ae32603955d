//! The headless front end: one line per model every `--print-every`, a summary at the end.
//! Chosen with `--headless` or automatically when stdout is not a terminal.
//!
//! Every way a run can end writes the final snapshot first: `--duration`, a signal, the engine
//! stopping, and stdout failing (a closed pipe, an SSH session that dropped, a full disk), which
//! is treated like a signal rather than as a reason to lose the measurements.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::cli::{Cli, LineFormat};
use crate::core::contention;
use crate::core::sampler::SystemSample;
use crate::core::session::{Plan, Session};
use crate::core::state::{ModelStatus, MonitorState};
use crate::core::summary::ModelSummary;
use crate::export::{self, ExportError, FinalSnapshot, PendingSnapshot};
use crate::signals::{wind_down, Signals, WindDown};

/// Why the measuring loop ended.
#[derive(Debug)]
enum End {
    Duration,
    Signal(crate::signals::Signal),
    /// The engine ended by itself (every model failed, or it failed).
    EngineStopped,
    /// Writing to stdout failed: its reader or terminal is gone, or the disk is full.
    Output(io::Error),
}

impl End {
    fn reason(&self) -> &'static str {
        match self {
            End::Duration => "duration reached",
            End::Signal(s) => s.reason(),
            End::EngineStopped => "engine stopped",
            End::Output(_) => "stdout failed",
        }
    }
}

/// Runs until `--duration`, SIGINT/SIGTERM/SIGHUP, a stdout failure, or until no model can
/// run. Writes a snapshot every `--export-every` (on a thread of its own) and always one at the
/// end, so neither a Ctrl-C nor a dropped SSH session loses anything.
///
/// # Errors
/// When no model could run, the engine failed, the final snapshot could not be written
/// anywhere, stdout failed for another reason than its reader going away, or signals cannot
/// be set up.
pub async fn run(cli: &Cli, plan: &Plan, export_base: &Path) -> anyhow::Result<()> {
    let mut signals = Signals::new()?;
    let mut session = Session::start(plan, false)?;
    let meta = crate::run_meta(cli, plan, "headless");
    let started = Instant::now();
    let deadline = cli.duration.map(|d| started + d);
    let mut ticker = interval_at(started + cli.print_every, cli.print_every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut exports = cli.export_every.map(|every| interval_at(started + every, every));
    let mut pending: PendingSnapshot = None;
    let mut out = io::stdout().lock();
    let end = loop {
        tokio::select! {
            Some(event) = session.events.recv() => {
                session.state.apply(event);
                session.drain();
                if session.state.engine_stopped { break End::EngineStopped; }
            }
            _ = ticker.tick() => {
                if let Err(e) = print_lines(&mut out, &session.state, started.elapsed(), cli.format) {
                    break End::Output(e);
                }
            }
            () = next_tick(exports.as_mut()) => {
                // One periodic snapshot at a time: a disk slower than the period skips a turn.
                if pending.is_none() {
                    pending = export::spawn_snapshot(export_base.to_path_buf(), session.state.clone(), meta.clone());
                }
            }
            written = export::snapshot_written(&mut pending) => {
                // A failed periodic snapshot is reported and measuring goes on; the final one
                // is tried again at exit.
                if let Err(e) = writeln!(out, "{}", snapshot_line(&written, cli.format)) {
                    break End::Output(e);
                }
            }
            () = sleep_until_deadline(deadline) => break End::Duration,
            signal = signals.next() => break End::Signal(signal),
        }
    };
    let wound = wind_down(&mut session, &mut signals, || {
        crate::eprintln_best_effort("infertop: stopping after the current inference (Ctrl-C again to quit now)");
    })
    .await;
    if wound == WindDown::Finished {
        if let Some(periodic) = pending.take() {
            let _ = periodic.await;
        }
    }
    let elapsed = started.elapsed();
    let last = export::write_final_snapshot(export_base, &session.state, &meta);
    if !matches!(end, End::Output(_)) {
        let closing = summary_lines(&mut out, &session.state, elapsed, &end, cli.format)
            .and_then(|()| writeln!(out, "{}", final_snapshot_line(&last, cli.format)))
            .and_then(|()| out.flush());
        if let Err(e) = closing {
            crate::eprintln_best_effort(&format!("infertop: stdout: {e}; {}", last.describe()));
        }
    }
    outcome(&end, &session.state, &last, elapsed)
}

/// The exit status of a run that ended with `end` and saved `last`.
fn outcome(end: &End, state: &MonitorState, last: &FinalSnapshot, elapsed: Duration) -> anyhow::Result<()> {
    if let End::Output(e) = end {
        crate::eprintln_best_effort(&format!("infertop: stopped: stdout: {e}; {}", last.describe()));
        // The reader or the terminal went away: the run ends as a signal would end it.
        if !reader_gone(e) {
            anyhow::bail!("stdout: {e}");
        }
    }
    if let Some(error) = &state.engine_error {
        anyhow::bail!("the engine stopped: {error}; {}", last.describe());
    }
    let timed = state.models.iter().any(|m| m.latency.summary().is_some() || m.cold.summary().is_some());
    if !timed && state.models.iter().all(|m| matches!(m.status, ModelStatus::Failed(_))) {
        anyhow::bail!("no model could run: {}", failures(state));
    }
    if !timed {
        let loading: Vec<&str> =
            state.models.iter().filter(|m| m.status == ModelStatus::Loading).map(|m| &*m.name).collect();
        anyhow::bail!(
            "no inference was timed in {:.1} s ({} of {} models still loading); a longer --duration gives them time; {}",
            elapsed.as_secs_f64(),
            loading.len(),
            state.models.len(),
            last.describe()
        );
    }
    if let FinalSnapshot::Lost { .. } = last {
        anyhow::bail!("{}", last.describe());
    }
    Ok(())
}

/// A closed pipe (`| head -1`) or a terminal that is gone (an SSH drop gives `EIO`).
fn reader_gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe || e.raw_os_error() == Some(libc::EIO)
}

/// The closing lines: `summary after 12.0s (reason):` in text mode, then one line per model,
/// then a warning when other work competed for the cores during the run.
fn summary_lines(
    out: &mut impl Write,
    state: &MonitorState,
    elapsed: Duration,
    end: &End,
    format: LineFormat,
) -> io::Result<()> {
    if format == LineFormat::Text {
        writeln!(out, "summary after {:.1}s ({}):", elapsed.as_secs_f64(), end.reason())?;
    }
    print_lines(out, state, elapsed, format)?;
    match (state.contention.warning(), format) {
        (Some(warning), LineFormat::Text) => writeln!(out, "warning: {warning}"),
        (Some(warning), LineFormat::Jsonl) => writeln!(out, "{}", serde_json::json!({ "warning": warning })),
        (None, _) => Ok(()),
    }
}

/// The final snapshot's line, in the output format.
fn final_snapshot_line(last: &FinalSnapshot, format: LineFormat) -> String {
    match format {
        LineFormat::Text => last.describe(),
        LineFormat::Jsonl => match last {
            FinalSnapshot::Written(path) => serde_json::json!({ "snapshot": path }).to_string(),
            FinalSnapshot::Elsewhere { path, error } => {
                serde_json::json!({ "snapshot": path, "snapshot_error": error.to_string() }).to_string()
            }
            FinalSnapshot::Lost { .. } => serde_json::json!({ "snapshot_error": last.describe() }).to_string(),
        },
    }
}

/// `snapshot: <path>` or `snapshot failed: <reason>` for a periodic snapshot.
fn snapshot_line(result: &Result<PathBuf, ExportError>, format: LineFormat) -> String {
    match (result, format) {
        (Ok(path), LineFormat::Text) => format!("snapshot: {}", path.display()),
        (Err(e), LineFormat::Text) => format!("snapshot failed: {e}"),
        (Ok(path), LineFormat::Jsonl) => serde_json::json!({ "snapshot": path }).to_string(),
        (Err(e), LineFormat::Jsonl) => serde_json::json!({ "snapshot_error": e.to_string() }).to_string(),
    }
}

/// The next tick of an optional interval; never, without one.
async fn next_tick(interval: Option<&mut tokio::time::Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until_deadline(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn failures(state: &MonitorState) -> String {
    state
        .models
        .iter()
        .filter_map(|m| match &m.status {
            ModelStatus::Failed(e) => Some(e.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One line per model, then one for the machine.
fn print_lines(out: &mut impl Write, state: &MonitorState, elapsed: Duration, format: LineFormat) -> io::Result<()> {
    if let Some(sample) = state.system.last() {
        let line = match format {
            LineFormat::Text => system_line(sample, elapsed),
            LineFormat::Jsonl => {
                serde_json::json!({ "elapsed_s": elapsed.as_secs_f64(), "system": sample }).to_string()
            }
        };
        writeln!(out, "{line}")?;
    }
    for summary in ModelSummary::all(state) {
        let line = match format {
            LineFormat::Text => text_line(&summary, state.peak_gmacs, elapsed),
            LineFormat::Jsonl => json_line(&summary, elapsed).to_string(),
        };
        writeln!(out, "{line}")?;
    }
    out.flush()
}

/// `[  12.0s] resnet50      n=240  p50 11.20 ms  p90 11.90 ms  p99 13.00 ms   89.3 inf/s`
#[must_use]
pub fn text_line(summary: &ModelSummary, peak_gmacs: Option<f64>, elapsed: Duration) -> String {
    let model = summary.model;
    let head = format!("[{:>7.1}s] {:<14}", elapsed.as_secs_f64(), model.name);
    match (summary.error(), summary.latency) {
        (Some(e), _) => format!("{head} failed: {e}"),
        (None, None) => match (&model.info, summary.macs) {
            (Some(info), Some(macs)) => format!("{head} waiting  params {}  MACs {macs:.0}", info.params),
            (Some(info), None) => format!("{head} waiting  params {}", info.params),
            (None, _) => format!("{head} loading"),
        },
        (None, Some(s)) => {
            let work = match (summary.macs_per_image(), summary.gmacs_per_s) {
                (Some(per_image), Some(gmacs)) => {
                    let peak = summary
                        .peak_share
                        .filter(|_| peak_gmacs.is_some())
                        .map_or(String::new(), |share| format!(" ({:.0}% of peak)", 100.0 * share));
                    format!("  {:>8.1} MMAC/img  {gmacs:>6.1} GMAC/s{peak}", per_image / 1e6)
                }
                _ => String::new(),
            };
            let tail = |v: Option<f64>| v.map_or_else(|| format!("{:>8}   ", "-"), |ms| format!("{ms:>8.2} ms"));
            let ci = s.p50_ci_ms.map_or_else(String::new, |(lo, hi)| format!(" [{lo:.2}-{hi:.2}]"));
            let faults = summary.faults_per_inference.map_or_else(String::new, |f| format!("  {f:.0} flt/inf"));
            let cold = summary.switch_cost_ms.map_or_else(String::new, |c| format!("  cold {c:+.2} ms"));
            format!(
                "{head} n={:<6} prof={:<4} p50 {:>8.2} ms{ci}  p90 {}  p99 {}  {:>7.1} inf/s{faults}{cold}{work}",
                s.count,
                model.profiled,
                s.p50_ms,
                tail(s.p90()),
                tail(s.p99()),
                summary.inferences_per_s.unwrap_or(0.0),
            )
        }
    }
}

/// The same figures as the text line, as JSON; unknown values are `null`, never 0.
fn json_line(summary: &ModelSummary, elapsed: Duration) -> serde_json::Value {
    let s = summary.latency;
    serde_json::json!({
        "elapsed_s": elapsed.as_secs_f64(),
        "model": &*summary.model.name,
        "status": summary.status_key(),
        "error": summary.error(),
        "iterations": s.map_or(0, |s| s.count),
        "latency_ms_p50": s.map(|s| s.p50_ms),
        "latency_ms_p50_ci": s.and_then(|s| s.p50_ci_ms).map(|(lo, hi)| [lo, hi]),
        "latency_ms_p90": s.and_then(|s| s.p90()),
        "latency_ms_p99": s.and_then(|s| s.p99()),
        "profiled_iterations": summary.model.profiled,
        "cold_iterations": summary.cold.map_or(0, |c| c.count),
        "switch_cost_ms": summary.switch_cost_ms,
        "minor_faults_per_inference": summary.faults_per_inference,
        "context_switches_per_inference": summary.context_switches_per_inference,
        "inferences_per_s": summary.inferences_per_s,
        "macs": summary.macs,
        "gmacs_per_s": summary.gmacs_per_s,
        "peak_share": summary.peak_share,
    })
}

/// `--summary`: load and calibrate every model, print parameters and MACs, and exit.
///
/// # Errors
/// When the engine thread cannot start.
pub async fn summary(plan: &Plan) -> anyhow::Result<()> {
    let mut session = Session::start(plan, true)?;
    while let Some(event) = session.events.recv().await {
        session.state.apply(event);
        if session.state.engine_stopped {
            break;
        }
    }
    let mut out = io::stdout().lock();
    writeln!(out, "{:<14} {:>14} {:>16} {:>12}", "model", "params", "MACs", "GMAC")?;
    for summary in ModelSummary::all(&session.state) {
        let m = summary.model;
        match (summary.error(), &m.info) {
            (Some(e), _) => writeln!(out, "{:<14} failed: {e}", m.name)?,
            (None, Some(info)) => {
                let macs = summary.macs.unwrap_or(0.0);
                writeln!(out, "{:<14} {:>14} {:>16.0} {:>12.3}", m.name, info.params, macs, macs / 1e9)?;
            }
            (None, None) => writeln!(out, "{:<14} not loaded", m.name)?,
        }
    }
    if let Some(error) = &session.state.engine_error {
        anyhow::bail!("the engine stopped: {error}");
    }
    Ok(())
}

/// `[  12.0s] system  clock 1500 MHz (max 1500, measured 1498)  temp 61.2°C cpu-thermal  throttle none  ...
/// contention: other 0.80 cores, steal 3.0%, load 2.10/2` (or `contention: none`).
/// Sensors a machine lacks read "n/a"; throttle flags that cannot be read read "unknown".
#[must_use]
pub fn system_line(sample: &SystemSample, elapsed: Duration) -> String {
    let mhz = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.0}"));
    let temp = sample.hottest().map_or_else(|| "n/a".to_string(), |t| format!("{:.1}°C {}", t.celsius, t.name));
    let throttle = match sample.throttle.report() {
        None => "unknown".to_string(),
        Some(r) => {
            let now = r.now.describe();
            let run = r.during_run.describe();
            format!("now {now}, this run {run}")
        }
    };
    let mem = sample.memory.map_or_else(
        || "n/a".to_string(),
        |m| format!("{:.1}/{:.1} GiB", m.used_bytes as f64 / GIB, m.total_bytes as f64 / GIB),
    );
    let rss = sample.process_rss_bytes.map_or_else(|| "n/a".to_string(), |b| format!("{:.0} MiB", b as f64 / MIB));
    let cpu = sample.process_cpu_pct.map_or_else(|| "n/a".to_string(), |p| format!("{p:.0}%"));
    format!(
        "[{:>7.1}s] system  clock {} MHz (max {}, measured {})  temp {temp}  throttle {throttle}  mem {mem}  rss {rss}  cpu {cpu}  contention: {}",
        elapsed.as_secs_f64(),
        mhz(sample.max_cur_mhz()),
        mhz(sample.max_policy_mhz()),
        mhz(sample.measured_mhz),
        contention::describe(sample.contention.as_deref()),
    )
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::Event;

    /// A state in which model `a` has timed one inference.
    fn timed_state() -> MonitorState {
        use crate::core::event::Inference;
        let mut state = MonitorState::new(&["a"]);
        let inference = Inference {
            model: 0,
            seq: 1,
            wall_ns: 1_000_000,
            at_ns: 1,
            profiled: false,
            cold: false,
            usage: None,
            ops: vec![],
        };
        state.apply(Event::Inference(inference));
        state
    }

    #[test]
    fn a_run_that_timed_nothing_is_an_error_saying_why() {
        let state = MonitorState::new(&["a", "b"]);
        let saved = FinalSnapshot::Written(PathBuf::from("s"));
        let err = outcome(&End::Duration, &state, &saved, Duration::from_secs(30)).unwrap_err().to_string();
        assert_eq!(
            err,
            "no inference was timed in 30.0 s (2 of 2 models still loading); a longer --duration gives them time; \
             snapshot: s"
        );
        assert!(outcome(&End::Duration, &timed_state(), &saved, Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn an_engine_that_died_is_an_error_naming_the_reason_and_the_snapshot() {
        let mut state = MonitorState::new(&["a"]);
        state.apply(Event::EngineStopped { error: Some("the engine thread panicked: boom".into()) });
        let saved = FinalSnapshot::Written(PathBuf::from("snaps/20261126-010000"));
        let err = outcome(&End::EngineStopped, &state, &saved, Duration::ZERO).unwrap_err().to_string();
        assert_eq!(err, "the engine stopped: the engine thread panicked: boom; snapshot: snaps/20261126-010000");
    }

    #[test]
    fn a_reader_that_went_away_ends_cleanly_but_a_full_stdout_does_not() {
        let saved = FinalSnapshot::Written(PathBuf::from("s"));
        let gone = End::Output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(outcome(&gone, &timed_state(), &saved, Duration::ZERO).is_ok());
        let hung_up = End::Output(io::Error::from_raw_os_error(libc::EIO));
        assert!(outcome(&hung_up, &timed_state(), &saved, Duration::ZERO).is_ok());
        let full = End::Output(io::Error::from_raw_os_error(libc::ENOSPC));
        assert!(outcome(&full, &timed_state(), &saved, Duration::ZERO)
            .unwrap_err()
            .to_string()
            .starts_with("stdout: No space left"));
    }

    /// A run with a contended sample ends with a warning line, in either format.
    #[test]
    fn the_summary_warns_of_contention() {
        use crate::core::contention::{Contention, Reasons};
        let mut state = MonitorState::new(&["a"]);
        let summary = |state: &MonitorState, format| {
            let mut out = Vec::new();
            summary_lines(&mut out, state, Duration::from_secs(2), &End::Duration, format).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert!(!summary(&state, LineFormat::Text).contains("warning"));
        let busy = Contention {
            cores: 2,
            busy_pct: 100.0,
            steal_pct: 0.0,
            own_cores: Some(1.0),
            own_threads: Some(5),
            other_cores: Some(1.0),
            load_1m: Some(2.0),
            reasons: Reasons { others: true, ..Reasons::default() },
        };
        state.apply(Event::System(SystemSample { contention: Some(Box::new(busy)), ..SystemSample::default() }));
        let text = summary(&state, LineFormat::Text);
        assert!(text.ends_with("warning: 1 of 1 samples were taken while other work used the cores (other processes up to 1.00 cores, steal up to 0.0%)\n"), "{text}");
        let jsonl = summary(&state, LineFormat::Jsonl);
        assert!(jsonl.lines().last().unwrap().starts_with(r#"{"warning":"1 of 1 samples"#), "{jsonl}");
    }

    #[test]
    fn a_lost_snapshot_fails_the_run() {
        let e = || ExportError::new("cannot write", Path::new("x"), &io::Error::from(io::ErrorKind::StorageFull));
        let lost = FinalSnapshot::Lost { error: e(), fallback: e() };
        assert!(outcome(&End::Duration, &timed_state(), &lost, Duration::ZERO)
            .unwrap_err()
            .to_string()
            .starts_with("snapshot failed"));
    }
}
