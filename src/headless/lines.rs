//! The headless front end's lines: one per model and one for the machine, in text or JSON,
//! the closing summary, and where snapshots went. Pure formatting of the core's state.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::LineFormat;
use crate::core::contention;
use crate::core::sampler::SystemSample;
use crate::core::state::MonitorState;
use crate::core::summary::ModelSummary;
use crate::export::{ExportError, FinalSnapshot};

/// The closing lines: `summary after 12.0s (reason):` in text mode, then one line per model,
/// then a warning when other work competed for the cores during the run.
pub(super) fn summary_lines(
    out: &mut impl Write,
    state: &MonitorState,
    elapsed: Duration,
    reason: &str,
    format: LineFormat,
) -> io::Result<()> {
    if format == LineFormat::Text {
        writeln!(out, "summary after {:.1}s ({reason}):", elapsed.as_secs_f64())?;
    }
    print_lines(out, state, elapsed, format)?;
    match (state.contention.warning(), format) {
        (Some(warning), LineFormat::Text) => writeln!(out, "warning: {warning}"),
        (Some(warning), LineFormat::Jsonl) => writeln!(out, "{}", serde_json::json!({ "warning": warning })),
        (None, _) => Ok(()),
    }
}

/// The final snapshot's line, in the output format.
pub(super) fn final_snapshot_line(last: &FinalSnapshot, format: LineFormat) -> String {
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
pub(super) fn snapshot_line(result: &Result<PathBuf, ExportError>, format: LineFormat) -> String {
    match (result, format) {
        (Ok(path), LineFormat::Text) => format!("snapshot: {}", path.display()),
        (Err(e), LineFormat::Text) => format!("snapshot failed: {e}"),
        (Ok(path), LineFormat::Jsonl) => serde_json::json!({ "snapshot": path }).to_string(),
        (Err(e), LineFormat::Jsonl) => serde_json::json!({ "snapshot_error": e.to_string() }).to_string(),
    }
}

/// One line per model, then one for the machine.
pub(super) fn print_lines(
    out: &mut impl Write,
    state: &MonitorState,
    elapsed: Duration,
    format: LineFormat,
) -> io::Result<()> {
    if let Some(sample) = state.system.last() {
        let line = match format {
            LineFormat::Text => system_line(sample, elapsed),
            LineFormat::Jsonl => {
                let throttle = sample.throttle_verdict();
                serde_json::json!({
                    "elapsed_s": elapsed.as_secs_f64(),
                    "system": sample,
                    "throttle": { "now": throttle.now(), "during_run": throttle.during_run(), "since_boot": throttle.since_boot() },
                })
                .to_string()
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
            let energy =
                summary.energy_mj_per_inference.map_or_else(String::new, |mj| format!("  {} mJ/inf", figure(mj)));
            format!(
                "{head} n={:<6} prof={:<4} p50 {:>8.2} ms{ci}  p90 {}  p99 {}  {:>7.1} inf/s{faults}{cold}{energy}{work}",
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
pub(super) fn json_line(summary: &ModelSummary, elapsed: Duration) -> serde_json::Value {
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
        "energy_mj_per_inference": summary.energy_mj_per_inference,
        "energy_mj_per_gmac": summary.energy_mj_per_gmac,
        "power_source": summary.power_source,
    })
}

/// A positive figure with three significant digits or more (`0.0421`, `4.21`, `42.1`, `421`).
fn figure(v: f64) -> String {
    match v.abs() {
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        a if a >= 1.0 => format!("{v:.2}"),
        _ => format!("{v:.3}"),
    }
}

/// `6.41 W ina3221/VDD_IN`, `needs root (RAPL package-0)`, or `n/a`.
fn power_text(sample: &SystemSample) -> String {
    match sample.power.as_deref() {
        None => "n/a".into(),
        Some(p) if p.needs_root => format!("needs root ({})", p.source),
        Some(p) => match p.watts {
            Some(w) => format!("{w:.2} W {}", p.source),
            None => format!("n/a ({})", p.source),
        },
    }
}

/// `[  12.0s] system  clock 1500 MHz (max 1500, measured 1498)  temp 61.2°C cpu-thermal  power 6.41 W
/// ina3221/VDD_IN  throttle now no, this run no, since boot yes (firmware now none, this run none)  ...
/// contention: other 0.80 cores, steal 3.0%, load 2.10/2` (or `contention: none`). Sensors a machine lacks
/// read "n/a", a power source only root may read "needs root"; throttling no source can tell about reads
/// "unknown".
#[must_use]
pub fn system_line(sample: &SystemSample, elapsed: Duration) -> String {
    let mhz = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.0}"));
    let temp = sample.hottest().map_or_else(|| "n/a".to_string(), |t| format!("{:.1}°C {}", t.celsius, t.name));
    let throttle = throttle_text(sample);
    let mem = sample.memory.map_or_else(
        || "n/a".to_string(),
        |m| format!("{:.1}/{:.1} GiB", m.used_bytes as f64 / GIB, m.total_bytes as f64 / GIB),
    );
    let rss = sample.process_rss_bytes.map_or_else(|| "n/a".to_string(), |b| format!("{:.0} MiB", b as f64 / MIB));
    let cpu = sample.process_cpu_pct.map_or_else(|| "n/a".to_string(), |p| format!("{p:.0}%"));
    format!(
        "[{:>7.1}s] system  clock {} MHz (max {}, measured {})  temp {temp}  power {}  throttle {throttle}  mem {mem}  rss {rss}  cpu {cpu}  contention: {}",
        elapsed.as_secs_f64(),
        mhz(sample.max_cur_mhz()),
        mhz(sample.max_policy_mhz()),
        mhz(sample.measured_mhz),
        power_text(sample),
        contention::describe(sample.contention.as_deref()),
    )
}

/// The throttle verdict, and the firmware's own flags where there are some.
fn throttle_text(sample: &SystemSample) -> String {
    let verdict = sample.throttle_verdict();
    if verdict.findings.is_empty() {
        return "unknown".into();
    }
    let word = |v: Option<bool>| match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    let firmware = sample.throttle.report().map_or_else(String::new, |r| {
        format!(" (firmware now {}, this run {})", r.now.describe(), r.during_run.describe())
    });
    format!(
        "now {}, this run {}, since boot {}{firmware}",
        word(verdict.now()),
        word(verdict.during_run()),
        word(verdict.since_boot())
    )
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::power::{PowerReading, PowerScope};

    fn with_power(power: Option<PowerReading>) -> String {
        system_line(&SystemSample { power: power.map(Box::new), ..SystemSample::default() }, Duration::ZERO)
    }

    #[test]
    fn power_reads_as_watts_needs_root_or_n_a_never_zero() {
        let mut jetson = PowerReading::new("ina3221/VDD_IN".into(), PowerScope::BoardInput);
        jetson.watts = Some(6.238_848);
        assert!(with_power(Some(jetson)).contains("  power 6.24 W ina3221/VDD_IN  "));
        let mut rapl = PowerReading::new("RAPL package-0".into(), PowerScope::CpuPackage);
        assert!(with_power(Some(rapl.clone())).contains("  power n/a (RAPL package-0)  "), "one reading so far");
        rapl.needs_root = true;
        assert!(with_power(Some(rapl)).contains("  power needs root (RAPL package-0)  "));
        assert!(with_power(None).contains("  power n/a  "));
    }

    #[test]
    fn figures_keep_three_digits() {
        assert_eq!([figure(0.042_13), figure(4.213), figure(42.13), figure(421.3)], ["0.042", "4.21", "42.1", "421"]);
    }
}
