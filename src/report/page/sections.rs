//! The report's sections other than the study plots.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::report::breakdown::{category_split, conv_breakdown};
use crate::report::chart::{self, Bar};
use crate::report::html::{self, escape, num};
use crate::report::snapshot::{Metric, Snapshot, CATEGORIES};
use crate::report::timeline::{latency_lines, metric_lines, throttled_intervals};
use crate::report::ReportError;

use super::FEW_SAMPLES;

/// The machine, versions, threads and settings from `run.json`.
pub fn run_section(snap: &Snapshot) -> String {
    let run = &snap.run;
    let m = &run.machine;
    let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "n/a".to_string(), escape);
    let mut rows = vec![
        vec![
            "machine".into(),
            format!("{} ({}), {} cores", escape(&m.cpu_model), escape(&m.arch), num(m.cores.map(|c| c as f64), 0)),
        ],
        vec!["board".into(), opt(&m.board)],
        vec!["OS, kernel".into(), format!("{}, {}", escape(&m.os), opt(&m.kernel))],
        vec!["host".into(), opt(&m.hostname)],
        vec![
            "versions".into(),
            format!("infertop {}, libtorch {}", escape(&run.infertop_version), escape(&run.libtorch_version)),
        ],
        vec![
            "started, snapshot".into(),
            format!("{} to {} ({:.0} s)", escape(&run.started_at), escape(&run.snapshot_at), run.elapsed_s),
        ],
        vec!["peak (GMAC/s)".into(), num(run.peak_gmacs_per_s, 1)],
        vec!["folder layout".into(), escape(&run.layout)],
    ];
    for (key, value) in &run.settings {
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => {
                a.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect::<Vec<_>>().join(" ")
            }
            other => other.to_string(),
        };
        rows.push(vec![format!("setting: {}", escape(key)), escape(&text)]);
    }
    format!("<h2 id=\"run\">Run</h2>\n{}", html::table("run", &["what", "value"], &rows))
}

/// The warnings the run raised: contention, few samples, failures.
pub fn warnings_section(snap: &Snapshot) -> String {
    let mut warnings = Vec::new();
    if let Some(w) = &snap.run.contention.warning {
        warnings.push(format!("contention: {w}"));
    }
    for m in &snap.models {
        if let Some(e) = &m.error {
            warnings.push(format!("{}: failed: {e}", m.model));
        } else if m.iterations < FEW_SAMPLES {
            warnings.push(format!("{}: few samples: {} inferences (fewer than {FEW_SAMPLES})", m.model, m.iterations));
        }
    }
    if let Some(e) = &snap.run.engine_error {
        warnings.push(format!("the engine failed: {e}"));
    }
    let mut out = String::from("<h2 id=\"warnings\">Warnings</h2>\n");
    if warnings.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<ul class=\"warnings\">\n");
        for w in warnings {
            let _ = writeln!(out, "<li class=\"warning\">{}</li>", escape(&w));
        }
        out.push_str("</ul>\n");
    }
    out
}

/// Time against MACs by category per model, and the convolution's kernels.
pub fn breakdown_section(snap: &Snapshot) -> Result<String, ReportError> {
    let mut out = String::from("<h2 id=\"breakdown\">Where the time goes</h2>\n");
    let mut groups = Vec::new();
    let mut bars = Vec::new();
    for m in &snap.models {
        let Some(split) = category_split(&snap.ops, &m.model) else { continue };
        let (time, macs) = split.shares();
        let group = groups.len();
        groups.push(m.model.clone());
        bars.push(Bar { group, label: "time", shares: time.unwrap_or([0.0; 9]).to_vec() });
        bars.push(Bar { group, label: "MACs", shares: macs.unwrap_or([0.0; 9]).to_vec() });
    }
    if groups.is_empty() {
        out.push_str(&html::absent(
            "No model was profiled (ops.csv has no top-level ops): the category bars are not drawn.",
        ));
    } else {
        let layers: Vec<String> = CATEGORIES.iter().map(|c| (*c).to_string()).collect();
        let svg = chart::stacked_bars("time and MACs by category", &groups, &layers, &bars, 2)?;
        let caption = "Per model, the share of profiled op time (left bar) and of MACs (right bar) in each category, from the top-level ops of ops.csv.";
        out.push_str(&html::figure("categories", "stacked-bars", &svg, caption));
    }
    out.push_str(&conv_section(snap)?);
    Ok(out)
}

fn conv_section(snap: &Snapshot) -> Result<String, ReportError> {
    let mut out = String::from("<h3 id=\"convolution\">The convolution</h3>\n");
    let per_model: Vec<_> = snap
        .models
        .iter()
        .map(|m| (m.model.clone(), conv_breakdown(&snap.ops, &m.model)))
        .filter(|(_, c)| !c.kernels.is_empty())
        .collect();
    if per_model.is_empty() {
        out.push_str(&html::absent("No profiled convolution in ops.csv: the kernels are not drawn."));
        return Ok(out);
    }
    let kernels: Vec<String> = per_model
        .iter()
        .flat_map(|(_, c)| c.kernels.iter().map(|k| k.op.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let groups: Vec<String> = per_model.iter().map(|(m, _)| m.clone()).collect();
    let bars: Vec<Bar> = per_model
        .iter()
        .enumerate()
        .map(|(g, (_, c))| {
            let total: f64 = c.kernels.iter().map(|k| k.ms).sum();
            let shares = kernels
                .iter()
                .map(|name| {
                    c.kernels.iter().filter(|k| &k.op == name).map(|k| k.ms).sum::<f64>() / total.max(f64::MIN_POSITIVE)
                })
                .collect();
            Bar { group: g, label: "conv", shares }
        })
        .collect();
    let svg = chart::stacked_bars("convolution time by kernel", &groups, &kernels, &bars, 1)?;
    out.push_str(&html::figure(
        "conv-kernels",
        "stacked-bars",
        &svg,
        "Per model, the share of convolution kernel time in each kernel: the op that computed, named as on screen and in layers.csv (a wrapper such as thnn_conv2d is dispatch, not a kernel).",
    ));
    let mut rows = Vec::new();
    for (model, c) in &per_model {
        for op in c.sub_ops.iter().take(6) {
            rows.push(vec![escape(model), escape(&op.op), format!("{:.1}", op.calls), format!("{:.3}", op.ms)]);
        }
    }
    out.push_str("<p>The convolution's own sub-operations (self time per inference, the six longest per model):</p>\n");
    out.push_str(&html::table("conv-sub-ops", &["model", "op", "calls", "self ms"], &rows));
    Ok(out)
}

/// The roofline's four-way split and the latency models' left-out errors, as a table where the
/// snapshot has them (snapshots from before the bandwidth was measured do not; those from
/// before the four-way split have the time beyond the floors unsplit: said under the table).
pub fn split_section(snap: &Snapshot) -> String {
    let mut out = String::from("<h2 id=\"split\">Compute, memory, kernels below peak and outside kernels</h2>\n");
    let pct = |part: Option<f64>, whole: Option<f64>| match (part, whole) {
        (Some(p), Some(w)) if w > 0.0 => format!("{:.0} %", 100.0 * p / w),
        _ => "–".into(),
    };
    let error = |predicted: Option<f64>, measured: Option<f64>| match (predicted, measured) {
        (Some(p), Some(m)) if m > 0.0 => format!("{:+.1} %", 100.0 * (p / m - 1.0)),
        _ => "–".into(),
    };
    let shown: Vec<_> =
        snap.models.iter().filter(|m| m.compute_ms.is_some() || m.latency_ms_left_out_op_fit.is_some()).collect();
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|m| {
            vec![
                escape(&m.model),
                m.op_ms.map_or_else(|| "–".into(), |v| format!("{v:.2}")),
                pct(m.compute_ms, m.op_ms),
                pct(m.memory_ms, m.op_ms),
                pct(m.below_peak_ms, m.op_ms),
                pct(m.outside_kernels_ms, m.op_ms),
                error(m.latency_ms_left_out_mac_fit, m.latency_ms_p50),
                error(m.latency_ms_left_out_op_fit, m.latency_ms_p50),
            ]
        })
        .collect();
    if rows.is_empty() {
        out.push_str(&html::absent(
            "This snapshot has no roofline split and no latency-model errors (it was written before infertop measured the memory bandwidth): nothing is drawn.",
        ));
        return out;
    }
    out.push_str(
        "<p>Op time split by the roofline: the floor its MACs at the peak (compute) or its bytes at the bandwidth (memory) set, the time inside the convolution and matrix-multiply kernels beyond that floor (kernel below peak), and the rest (outside kernels: dispatch, bookkeeping, allocation, and the ops without such a kernel beyond their floor). The four add up to the op time. Beside them, each model's latency predicted from the other models, by MACs alone and by its ops (left out in turn):</p>\n",
    );
    out.push_str(&html::table(
        "split",
        &[
            "model",
            "op ms",
            "compute",
            "memory",
            "kernel below peak",
            "outside kernels",
            "MAC-only error",
            "op-level error",
        ],
        &rows,
    ));
    let unsplit: Vec<String> = shown
        .iter()
        .filter(|m| m.below_peak_ms.is_none() && m.overhead_ms.is_some())
        .map(|m| format!("{} {}", m.model, pct(m.overhead_ms, m.op_ms)))
        .collect();
    if !unsplit.is_empty() {
        out.push_str(&html::absent(&format!(
            "Written before the four-way split: the time beyond the floors is not split into kernels below peak and outside kernels ({}).",
            unsplit.join(", ")
        )));
    }
    out
}

/// How long the machine was throttled, or that nothing said: a snapshot without a throttle
/// series (no sensor reported one) reads "unknown", never "0 intervals".
fn throttling_note(snap: &Snapshot, shaded: &[(f64, f64)]) -> String {
    if !snap.system.iter().any(|p| p.metric == Metric::Throttled) {
        return "<p class=\"throttling\" data-intervals=\"unknown\">Throttled: unknown (no throttle sensor in this \
                snapshot).</p>\n"
            .into();
    }
    // `+ 0.0`: an empty float sum is -0.0, which would print as "-0.0 s".
    let throttled_s: f64 = shaded.iter().map(|(a, b)| b - a).sum::<f64>() + 0.0;
    format!(
        "<p class=\"throttling\" data-intervals=\"{0}\">Throttled: {0} interval{1} ({throttled_s:.1} s), shaded in red.</p>\n",
        shaded.len(),
        if shaded.len() == 1 { "" } else { "s" }
    )
}

/// A figure's caption, and what its axis leaves above it.
fn with_off_scale(caption: &str, off: Option<String>) -> String {
    off.map_or_else(|| caption.into(), |off| format!("{caption} <span class=\"off-scale\">{}</span>", escape(&off)))
}

/// Latency, clocks, temperature and power over time, throttled intervals shaded.
pub fn timeline_section(snap: &Snapshot) -> Result<String, ReportError> {
    let mut out = String::from("<h2 id=\"timeline\">Over time</h2>\n");
    let shaded = throttled_intervals(&snap.system);
    out.push_str(&throttling_note(snap, &shaded));
    let mut missing = Vec::new();
    let latency = latency_lines(&snap.inferences);
    if latency.is_empty() {
        missing.push("latency (no inferences.csv: a one-shot snapshot)");
    } else {
        let (svg, off) = chart::lines("warm latency per model", "latency (ms, median per bin)", &latency, &shaded)?;
        let caption = "Warm inference latency per model over the run (median of each time bin).";
        out.push_str(&html::figure("timeline-latency", "lines", &svg, &with_off_scale(caption, off)));
    }
    let panels = [
        (
            Metric::MeasuredClock,
            "timeline-clock",
            "measured clock",
            "MHz",
            "The clock the engine measured with a timed loop.",
        ),
        (
            Metric::ReportedClock,
            "timeline-reported-clock",
            "reported clock",
            "MHz",
            "The clock cpufreq reports, per policy (it can show the unthrottled clock while the firmware throttles).",
        ),
        (Metric::TempC, "timeline-temperature", "temperature", "°C", "Temperature per sensor."),
        (Metric::PowerW, "timeline-power", "power", "W", "Power per source."),
    ];
    for (metric, id, title, unit, caption) in panels {
        let lines = metric_lines(&snap.system, metric);
        if lines.is_empty() {
            missing.push(title);
            continue;
        }
        let (svg, off) = chart::lines(title, unit, &lines, &shaded)?;
        out.push_str(&html::figure(id, "lines", &svg, &with_off_scale(caption, off)));
    }
    if !missing.is_empty() {
        out.push_str(&html::absent(&format!("Not in this snapshot, not drawn: {}.", missing.join(", "))));
    }
    Ok(out)
}
