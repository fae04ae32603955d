//! The headless front end's lines: one per model and one for the machine, in text or JSON,
//! the closing summary, and where snapshots went. Pure formatting of the core's state.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use super::records::{model_records, summary_records, system_record, Record};
use crate::cli::LineFormat;
use crate::core::analysis::ModelSummary;
use crate::core::analysis::{comparisons, Comparison, Verdict};
use crate::core::machine::SystemSample;
use crate::core::machine::{describe as describe_contention, ContentionSummary};
use crate::core::models::OUTPUT_TOLERANCE;
use crate::core::profiling::Category;
use crate::core::state::MonitorState;
use crate::export::{ExportError, FinalSnapshot, Report};

/// What the text lines' short fields mean, printed once before the first line (text format
/// only: JSON records name their fields). It holds none of the words tests and scripts look for
/// in a model's line (`p50`, `inf/s`), so it is never taken for one.
pub(super) const LEGEND: &str = "\
lines: n= timed inferences; prof= profiled ones (op times, kept out of latency); [a-b] after \
the median: its 95% interval; ops: share of op time by kind; flt/inf: page faults per \
inference; cold: first inference after a model switch minus the warm median";

/// Writes [`LEGEND`] in text format.
pub(super) fn legend(out: &mut impl Write, format: LineFormat) -> io::Result<()> {
    match format {
        LineFormat::Text => writeln!(out, "{LEGEND}"),
        LineFormat::Jsonl => Ok(()),
    }
}

/// The closing lines: `summary after 12.0s (reason):` in text mode, then the machine's line and
/// one line per model (`summary` records in JSON), then a warning when other work competed for
/// the cores during the run, with the `--threads` that would have left it room when fewer than
/// the run's `threads`.
pub(super) fn summary_lines(
    out: &mut impl Write,
    state: &MonitorState,
    (elapsed, threads): (Duration, usize),
    reason: &str,
    format: LineFormat,
) -> io::Result<()> {
    match format {
        LineFormat::Text => {
            writeln!(out, "summary after {:.1}s ({reason}):", elapsed.as_secs_f64())?;
            print_lines(out, state, elapsed, format)?;
        }
        LineFormat::Jsonl => {
            let records = system_record(state, elapsed).into_iter().chain(summary_records(state, elapsed, reason));
            for record in records {
                writeln!(out, "{}", record.line())?;
            }
        }
    }
    if let Some(message) = state.contention.warning() {
        writeln!(out, "{}", warning_line(message, format))?;
    }
    if let Some(hint) = fewer_threads_hint(&state.contention, threads) {
        match format {
            LineFormat::Text => writeln!(out, "hint: {hint}")?,
            LineFormat::Jsonl => writeln!(out, "{}", warning_line(hint, format))?,
        }
    }
    Ok(())
}

/// `--threads N leaves the other work room ...` when contention was measured and fewer threads
/// than the run's would leave the cores other work used.
fn fewer_threads_hint(contention: &ContentionSummary, threads: usize) -> Option<String> {
    let (n, cores, other) = contention.fewer_threads(threads)?;
    Some(format!(
        "--threads {n} leaves room for the other work (it used up to {other:.2} of {cores} cores), so inferences \
         stop competing with it"
    ))
}

/// `warning: <message>`, or a `warning` record.
pub(super) fn warning_line(message: String, format: LineFormat) -> String {
    match format {
        LineFormat::Text => format!("warning: {message}"),
        LineFormat::Jsonl => Record::Warning { message }.line(),
    }
}

/// The final snapshot's line, in the output format.
pub(super) fn final_snapshot_line(last: &FinalSnapshot, format: LineFormat) -> String {
    match format {
        LineFormat::Text => last.describe(),
        LineFormat::Jsonl => {
            let (path, error) = match last {
                FinalSnapshot::Written(path) => (Some(path.as_path()), None),
                FinalSnapshot::Elsewhere { path, error } => (Some(path.as_path()), Some(error.to_string())),
                FinalSnapshot::Lost { .. } => (None, Some(last.describe())),
            };
            Record::Snapshot { path, error, last: true }.line()
        }
    }
}

/// What the run folder's writer reported, as a line: where a periodic export went, or that rows
/// could not be written.
pub(super) fn report_line(report: Report, format: LineFormat) -> String {
    match report {
        Report::Exported(result) => snapshot_line(&result, format),
        Report::RowsLost(why) => warning_line(why, format),
    }
}

/// `snapshot: <path>` or `snapshot failed: <reason>` for a periodic export.
fn snapshot_line(result: &Result<PathBuf, ExportError>, format: LineFormat) -> String {
    match (result, format) {
        (Ok(path), LineFormat::Text) => format!("snapshot: {}", path.display()),
        (Err(e), LineFormat::Text) => format!("snapshot failed: {e}"),
        (Ok(path), LineFormat::Jsonl) => Record::Snapshot { path: Some(path), error: None, last: false }.line(),
        (Err(e), LineFormat::Jsonl) => Record::Snapshot { path: None, error: Some(e.to_string()), last: false }.line(),
    }
}

/// The machine's line, then one line per model.
pub(super) fn print_lines(
    out: &mut impl Write,
    state: &MonitorState,
    elapsed: Duration,
    format: LineFormat,
) -> io::Result<()> {
    match format {
        LineFormat::Text => {
            if let Some(sample) = state.system.last() {
                writeln!(out, "{}", system_line(sample, elapsed))?;
            }
            let compared = comparisons(state);
            for (id, summary) in ModelSummary::all(state).into_iter().enumerate() {
                writeln!(out, "{}", text_line(&summary, state.peak_gmacs, elapsed))?;
                if let Some(c) = compared.iter().find(|c| c.model == id) {
                    writeln!(out, "{}", what_if_line(c, state))?;
                }
            }
        }
        LineFormat::Jsonl => {
            for record in system_record(state, elapsed).into_iter().chain(model_records(state, elapsed)) {
                writeln!(out, "{}", record.line())?;
            }
        }
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
            let ops = op_shares(summary);
            let energy =
                summary.energy_mj_per_inference.map_or_else(String::new, |mj| format!("  {} mJ/inf", figure(mj)));
            format!(
                "{head} n={:<6} prof={:<4} p50 {:>8.2} ms{ci}  p90 {}  p99 {}  {:>7.1} inf/s{ops}{faults}{cold}{energy}{work}",
                s.count,
                model.window.seen(),
                s.p50_ms,
                tail(s.p90()),
                tail(s.p99()),
                summary.inferences_per_s.unwrap_or(0.0),
            )
        }
    }
}

/// `  ops Conv2D 62% BatchNorm 12% ReLU 8% rest 18%`: the three largest shares of op time by
/// kind, the rest together; empty before a profiled inference.
fn op_shares(summary: &ModelSummary) -> String {
    let mut shares: Vec<(Category, f64)> =
        Category::ALL.iter().zip(summary.shares).filter_map(|(c, s)| Some((*c, s?))).collect();
    if shares.is_empty() {
        return String::new();
    }
    shares.sort_by(|a, b| b.1.total_cmp(&a.1));
    let rest: f64 = shares.iter().skip(3).map(|(_, s)| s).sum();
    let mut text = String::from("  ops");
    for (category, share) in shares.iter().take(3) {
        let _ = write!(text, " {} {:.0}%", category.label(), 100.0 * share);
    }
    if shares.len() > 3 {
        let _ = write!(text, " rest {:.0}%", 100.0 * rest);
    }
    text
}

/// Under a variant's line: how it compares with its original.
/// `           vs resnet50: p50 -12.3% [-15.0%, -9.1%] faster; output max rel diff 3.1e-07 (agrees)`
#[must_use]
pub fn what_if_line(c: &Comparison, state: &MonitorState) -> String {
    let base = state.models.get(c.base).map_or("?", |m| &*m.name);
    let pct = |v: f64| format!("{:+.1}%", 100.0 * v);
    let delta = match (c.delta_p50, c.delta_ci) {
        // Until both medians have an interval, one side may still be a first, cold inference
        // (a 3 s first run against a 40 ms variant read "-98.8% pending"): no figure yet.
        _ if c.verdict == Verdict::Pending => "p50 not compared yet (too few inferences for an interval)".into(),
        (Some(d), Some((lo, hi))) => format!("p50 {} [{}, {}]", pct(d), pct(lo), pct(hi)),
        (Some(d), None) => format!("p50 {}", pct(d)),
        _ => "p50 -".into(),
    };
    let verdict = if c.verdict == Verdict::Pending { String::new() } else { format!(" {}", c.verdict.label()) };
    let check = match &c.check {
        Ok(k) => format!(
            "output max rel diff {:.1e} ({} tolerance {OUTPUT_TOLERANCE:.0e})",
            k.max_rel,
            if k.agrees() { "within" } else { "beyond" }
        ),
        Err(e) => format!("output not checked: {e}"),
    };
    format!("{:12}vs {base}: {delta}{verdict}; {check}", "")
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
    let temp = sample.headline_temp().map_or_else(|| "n/a".to_string(), |t| format!("{:.1}°C {}", t.celsius, t.name));
    let throttle = throttle_text(sample);
    let mem = sample.memory.map_or_else(
        || "n/a".to_string(),
        |m| format!("{:.1}/{:.1} GiB", m.used_bytes as f64 / GIB, m.total_bytes as f64 / GIB),
    );
    let rss = sample.process_rss_bytes.map_or_else(|| "n/a".to_string(), |b| format!("{:.0} MiB", b as f64 / MIB));
    let cpu = sample.process_cpu_pct.map_or_else(|| "n/a".to_string(), |p| format!("{p:.0}%"));
    format!(
        "[{:>7.1}s] system  clock {}  temp {temp}  power {}  throttle {throttle}  mem {mem}  rss {rss}  cpu {cpu}  contention: {}",
        elapsed.as_secs_f64(),
        clock_text(sample),
        power_text(sample),
        describe_contention(sample.contention.as_deref()),
    )
}

/// `1500 MHz (max 1500, measured 1498)` from cpufreq, `2954 MHz measured (no cpufreq)` from the
/// engine's own loop alone, or `n/a`; a figure missing in the parentheses is left out.
fn clock_text(sample: &SystemSample) -> String {
    let known = |label: &str, v: Option<f64>| v.map(|v| format!("{label} {v:.0}"));
    match (sample.max_cur_mhz(), sample.measured_mhz) {
        (Some(cur), measured) => {
            let others: Vec<String> =
                [known("max", sample.max_policy_mhz()), known("measured", measured)].into_iter().flatten().collect();
            if others.is_empty() {
                format!("{cur:.0} MHz")
            } else {
                format!("{cur:.0} MHz ({})", others.join(", "))
            }
        }
        (None, Some(measured)) => format!("{measured:.0} MHz measured (no cpufreq)"),
        (None, None) => "n/a".into(),
    }
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
mod tests;
