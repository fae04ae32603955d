//! The headless front end: one line per model every `--print-every`, a summary at the end.
//! Chosen with `--headless` or automatically when stdout is not a terminal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::cli::{Cli, LineFormat};
use crate::core::analysis::{inferences_per_s, model_profile, rate};
use crate::core::sampler::SystemSample;
use crate::core::session::{Plan, Session};
use crate::core::state::{ModelState, ModelStatus, MonitorState};
use crate::export::{self, ExportError};
use crate::Outcome;

/// Runs until `--duration`, SIGINT/SIGTERM/SIGHUP, or until no model can run. Writes a
/// snapshot every `--export-every` and always one at the end, so a Ctrl-C loses nothing.
///
/// # Errors
/// When no model could run at all, the final snapshot cannot be written, or signals cannot be
/// set up.
pub async fn run(cli: &Cli, plan: &Plan, export_base: &Path) -> anyhow::Result<Outcome> {
    let mut session = Session::start(plan, false)?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let meta = crate::run_meta(cli, plan, "headless");
    let started = Instant::now();
    let deadline = cli.duration.map(|d| started + d);
    let mut ticker = interval_at(started + cli.print_every, cli.print_every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut exports = cli.export_every.map(|every| interval_at(started + every, every));
    let mut out = std::io::stdout().lock();
    let reason = loop {
        tokio::select! {
            Some(event) = session.events.recv() => {
                session.state.apply(event);
                session.drain();
                if session.state.engine_stopped { break "engine stopped"; }
            }
            _ = ticker.tick() => {
                print_lines(&mut out, &session.state, started.elapsed(), cli.format)?;
            }
            () = next_tick(exports.as_mut()) => {
                // A failed periodic snapshot is reported and measuring goes on; the final one
                // is tried again at exit.
                let line = snapshot_line(&export::write_snapshot(export_base, &session.state, &meta), cli.format);
                writeln!(out, "{line}")?;
            }
            () = sleep_until_deadline(deadline) => break "duration reached",
            _ = sigint.recv() => break "interrupted",
            _ = sigterm.recv() => break "terminated",
            _ = sighup.recv() => break "hung up",
        }
    };
    session.stop();
    let elapsed = started.elapsed();
    if cli.format == LineFormat::Text {
        writeln!(out, "summary after {:.1}s ({reason}):", elapsed.as_secs_f64())?;
    }
    print_lines(&mut out, &session.state, elapsed, cli.format)?;
    let last = export::write_snapshot(export_base, &session.state, &meta);
    writeln!(out, "{}", snapshot_line(&last, cli.format))?;
    out.flush()?;
    let ran = session.state.models.iter().any(|m| m.latency.summary().is_some());
    if !ran && session.state.models.iter().all(|m| matches!(m.status, ModelStatus::Failed(_))) {
        anyhow::bail!("no model could run: {}", failures(&session.state));
    }
    last.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Outcome::Stopped)
}

/// `snapshot: <path>` or `snapshot failed: <reason>`.
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
fn print_lines(out: &mut impl Write, state: &MonitorState, elapsed: Duration, format: LineFormat) -> std::io::Result<()> {
    if let Some(sample) = state.system.last() {
        let line = match format {
            LineFormat::Text => system_line(sample, elapsed),
            LineFormat::Jsonl => serde_json::json!({ "elapsed_s": elapsed.as_secs_f64(), "system": sample }).to_string(),
        };
        writeln!(out, "{line}")?;
    }
    for model in &state.models {
        let line = match format {
            LineFormat::Text => text_line(state, model, elapsed),
            LineFormat::Jsonl => json_line(state, model, elapsed).to_string(),
        };
        writeln!(out, "{line}")?;
    }
    out.flush()
}

/// `[  12.0s] resnet50      n=240  p50 11.20 ms  p90 11.90 ms  p99 13.00 ms   89.3 inf/s`
#[must_use]
pub fn text_line(state: &MonitorState, model: &ModelState, elapsed: Duration) -> String {
    let head = format!("[{:>7.1}s] {:<14}", elapsed.as_secs_f64(), model.name);
    match (&model.status, model.latency.summary()) {
        (ModelStatus::Failed(e), _) => format!("{head} failed: {e}"),
        (_, None) => format!("{head} {}", if model.info.is_some() { "waiting" } else { "loading" }),
        (_, Some(s)) => {
            let macs = model_profile(&state.tree, model).macs;
            let batch = model.info.as_ref().map_or(1, |i| i.batch) as f64;
            let macs = if macs > 0.0 {
                let gmacs = rate(macs, s.p50_ms);
                let peak = state.peak_gmacs.map_or(String::new(), |p| format!(" ({:.0}% of peak)", 100.0 * gmacs / p));
                format!("  {:>8.1} MMAC/img  {gmacs:>6.1} GMAC/s{peak}", macs / 1e6 / batch)
            } else {
                String::new()
            };
            format!(
                "{head} n={:<6} p50 {:>8.2} ms  p90 {:>8.2} ms  p99 {:>8.2} ms  {:>7.1} inf/s{macs}",
                s.count,
                s.p50_ms,
                s.p90_ms,
                s.p99_ms,
                inferences_per_s(model, s.mean_ms)
            )
        }
    }
}

fn json_line(state: &MonitorState, model: &ModelState, elapsed: Duration) -> serde_json::Value {
    let s = model.latency.summary();
    let status = match &model.status {
        ModelStatus::Loading => "loading".to_string(),
        ModelStatus::Running => "running".to_string(),
        ModelStatus::Failed(e) => format!("failed: {e}"),
    };
    serde_json::json!({
        "elapsed_s": elapsed.as_secs_f64(),
        "model": &*model.name,
        "status": status,
        "iterations": s.map_or(0, |s| s.count),
        "latency_ms_p50": s.map(|s| s.p50_ms),
        "latency_ms_p90": s.map(|s| s.p90_ms),
        "latency_ms_p99": s.map(|s| s.p99_ms),
        "inferences_per_s": s.map(|s| inferences_per_s(model, s.mean_ms)),
        "macs": model_profile(&state.tree, model).macs,
    })
}

/// `--summary`: load and calibrate every model, print parameters and MACs, and exit.
///
/// # Errors
/// When the engine thread cannot start.
pub async fn summary(plan: &Plan) -> anyhow::Result<Outcome> {
    let mut session = Session::start(plan, true)?;
    while let Some(event) = session.events.recv().await {
        session.state.apply(event);
        if session.state.engine_stopped {
            break;
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<14} {:>14} {:>16} {:>12}", "model", "params", "MACs", "GMAC")?;
    for m in &session.state.models {
        match (&m.status, &m.info) {
            (ModelStatus::Failed(e), _) => writeln!(out, "{:<14} failed: {e}", m.name)?,
            (_, Some(info)) => {
                let macs = model_profile(&session.state.tree, m).macs;
                writeln!(out, "{:<14} {:>14} {:>16.0} {:>12.3}", m.name, info.params, macs, macs / 1e9)?;
            }
            _ => writeln!(out, "{:<14} not loaded", m.name)?,
        }
    }
    Ok(Outcome::Stopped)
}

/// `[  12.0s] system  clock 1500 MHz (max 1500, measured 1498)  temp 61.2°C cpu-thermal  throttle none  ...`
/// Sensors a machine lacks read "n/a"; throttle flags that cannot be read read "unknown".
#[must_use]
pub fn system_line(sample: &SystemSample, elapsed: Duration) -> String {
    let mhz = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.0}"));
    let temp = sample
        .hottest()
        .map_or_else(|| "n/a".to_string(), |t| format!("{:.1}°C {}", t.celsius, t.name));
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
        "[{:>7.1}s] system  clock {} MHz (max {}, measured {})  temp {temp}  throttle {throttle}  mem {mem}  rss {rss}  cpu {cpu}",
        elapsed.as_secs_f64(),
        mhz(sample.max_cur_mhz()),
        mhz(sample.max_policy_mhz()),
        mhz(sample.measured_mhz),
    )
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;
