//! Two snapshots side by side: per model the latency ratio B/A with its interval, the shift in
//! category shares, and the ops that moved most. A model in only one snapshot is listed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::chart::{self, Ratio};
use super::html::{self, escape, num};
use super::snapshot::{ModelRecord, Snapshot, CATEGORIES};
use super::ReportError;

/// Ops listed per model in "which ops moved most".
pub const TOP_OPS: usize = 5;

/// A model's name, and for a what-if variant what it varies: a variant's row is not a model of
/// its own, and its ratio reads differently (the change it makes, run against itself).
fn model_cell(m: &ModelRecord) -> String {
    match &m.variant {
        Some(change) => format!(
            "{} <span class=\"variant\">(what-if: {} of {})</span>",
            escape(&m.model),
            escape(change),
            escape(m.base_model.as_deref().unwrap_or("?"))
        ),
        None => escape(&m.model),
    }
}

/// Latency ratio B/A of the median, with an interval from the two medians' 95% intervals
/// (B's low over A's high to B's high over A's low: conservative, both bounds at once).
#[must_use]
pub fn latency_ratio(a: &ModelRecord, b: &ModelRecord) -> Option<Ratio> {
    let (pa, pb) = (a.latency_ms_p50?, b.latency_ms_p50?);
    if pa <= 0.0 || pb <= 0.0 {
        return None;
    }
    let interval =
        match (a.latency_ms_p50_ci_low, a.latency_ms_p50_ci_high, b.latency_ms_p50_ci_low, b.latency_ms_p50_ci_high) {
            (Some(al), Some(ah), Some(bl), Some(bh)) if al > 0.0 && ah > 0.0 => Some((bl / ah, bh / al)),
            _ => None,
        };
    Some(Ratio { model: a.model.clone(), ratio: pb / pa, interval })
}

/// Per top-level op of `model`: (op, ms per inference in A, in B), sorted by how far it moved
/// (absolute difference), at most `TOP_OPS`.
#[must_use]
pub fn moved_ops(a: &Snapshot, b: &Snapshot, model: &str) -> Vec<(String, f64, f64)> {
    let mut times: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (snap, side) in [(a, 0), (b, 1)] {
        for op in snap.ops.iter().filter(|o| o.model == model && o.parent_op.is_none()) {
            let t = times.entry(&op.op).or_default();
            let ms = op.total_ms.unwrap_or(0.0);
            if side == 0 {
                t.0 += ms;
            } else {
                t.1 += ms;
            }
        }
    }
    let mut moved: Vec<(String, f64, f64)> = times.into_iter().map(|(op, (x, y))| (op.to_string(), x, y)).collect();
    moved.sort_by(|p, q| (q.2 - q.1).abs().total_cmp(&(p.2 - p.1).abs()).then_with(|| p.0.cmp(&q.0)));
    moved.truncate(TOP_OPS);
    moved
}

/// The comparison page of A and B.
///
/// # Errors
/// When a figure cannot be drawn.
pub fn compare_page(a: &Snapshot, b: &Snapshot) -> Result<String, ReportError> {
    let mut body = format!("<h1>infertop compare: {} (A) and {} (B)</h1>\n", escape(&a.name()), escape(&b.name()));
    body.push_str(&machines(a, b));
    let in_b: BTreeMap<&str, &ModelRecord> = b.models.iter().map(|m| (m.model.as_str(), m)).collect();
    let in_a: BTreeMap<&str, &ModelRecord> = a.models.iter().map(|m| (m.model.as_str(), m)).collect();
    let both: Vec<(&ModelRecord, &ModelRecord)> =
        a.models.iter().filter_map(|m| Some((m, *in_b.get(m.model.as_str())?))).collect();
    body.push_str(&only_in_one(a, b, &in_a, &in_b));
    body.push_str(&ratios_section(&both)?);
    body.push_str(&shares_section(&both));
    body.push_str(&ops_section(a, b, &both));
    Ok(html::page(&format!("infertop compare: {} and {}", a.name(), b.name()), &body))
}

fn machines(a: &Snapshot, b: &Snapshot) -> String {
    let row = |label: &str, s: &Snapshot| {
        let m = &s.run.machine;
        let threads = s.run.settings.get("threads").map_or_else(|| "n/a".into(), ToString::to_string);
        vec![
            label.to_string(),
            escape(&s.folder.display().to_string()),
            escape(&format!("{} ({})", m.board.as_deref().unwrap_or(&m.cpu_model), m.arch)),
            escape(&threads),
            escape(&s.run.started_at),
        ]
    };
    format!(
        "<h2 id=\"snapshots\">Snapshots</h2>\n{}",
        html::table("snapshots", &["", "folder", "machine", "threads", "started"], &[row("A", a), row("B", b)])
    )
}

fn only_in_one(
    a: &Snapshot,
    b: &Snapshot,
    in_a: &BTreeMap<&str, &ModelRecord>,
    in_b: &BTreeMap<&str, &ModelRecord>,
) -> String {
    let mut rows = Vec::new();
    for m in a.models.iter().filter(|m| !in_b.contains_key(m.model.as_str())) {
        rows.push(vec![model_cell(m), "A only".into(), num(m.latency_ms_p50, 3)]);
    }
    for m in b.models.iter().filter(|m| !in_a.contains_key(m.model.as_str())) {
        rows.push(vec![model_cell(m), "B only".into(), num(m.latency_ms_p50, 3)]);
    }
    let mut out = String::from("<h2 id=\"only-in-one\">Models in only one snapshot</h2>\n");
    if rows.is_empty() {
        out.push_str("<p>None: both snapshots have the same models.</p>\n");
    } else {
        out.push_str(&html::table("only-in-one", &["model", "in", "median latency (ms)"], &rows));
    }
    out
}

fn ratios_section(both: &[(&ModelRecord, &ModelRecord)]) -> Result<String, ReportError> {
    let mut out = String::from("<h2 id=\"ratios\">Latency B / A</h2>\n");
    let mut rows = Vec::new();
    let mut ratios = Vec::new();
    for (ma, mb) in both {
        let r = latency_ratio(ma, mb);
        let interval =
            r.as_ref().and_then(|r| r.interval).map_or_else(|| "n/a".into(), |(l, h)| format!("{l:.3} – {h:.3}"));
        let ratio = r.as_ref().map_or_else(|| "n/a".into(), |r| format!("{:.3}", r.ratio));
        let attr = r.as_ref().map_or_else(String::new, |r| format!("{:e}", r.ratio));
        rows.push(vec![
            model_cell(ma),
            num(ma.latency_ms_p50, 3),
            num(mb.latency_ms_p50, 3),
            format!("<span class=\"ratio\" data-model=\"{}\" data-ratio=\"{attr}\">{ratio}</span>", escape(&ma.model)),
            interval,
        ]);
        ratios.extend(r);
    }
    if ratios.is_empty() {
        out.push_str(&html::absent("No model has a median latency in both snapshots: the ratio figure is not drawn."));
    } else {
        let svg = chart::ratios("latency ratio B / A per model", &ratios)?;
        out.push_str(&html::figure("ratios", "ratios", &svg, "Median latency of B over A per model; whiskers span the ratio's interval from both medians' 95% intervals; the line is 1 (no change)."));
    }
    out.push_str(&html::table("ratios", &["model", "A p50 (ms)", "B p50 (ms)", "B / A", "interval"], &rows));
    Ok(out)
}

fn shares_section(both: &[(&ModelRecord, &ModelRecord)]) -> String {
    let mut headers = vec!["model"];
    headers.extend(CATEGORIES);
    let rows: Vec<Vec<String>> = both
        .iter()
        .map(|(ma, mb)| {
            let mut row = vec![model_cell(ma)];
            match (ma.shares(), mb.shares()) {
                (Some(sa), Some(sb)) => row.extend(sa.iter().zip(sb).map(|(x, y)| format!("{:+.1}", (y - x) * 100.0))),
                _ => row.extend(CATEGORIES.iter().map(|_| "n/a".to_string())),
            }
            row
        })
        .collect();
    let mut out =
        String::from("<h2 id=\"shares\">Shift in category shares (B minus A, percentage points of op time)</h2>\n");
    out.push_str(&html::table("shares", &headers, &rows));
    out
}

fn ops_section(a: &Snapshot, b: &Snapshot, both: &[(&ModelRecord, &ModelRecord)]) -> String {
    let mut rows = Vec::new();
    for (ma, _) in both {
        for (op, x, y) in moved_ops(a, b, &ma.model) {
            let mut change = format!("{:+.3}", y - x);
            if x > 0.0 {
                let _ = write!(change, " ({:+.0}%)", (y / x - 1.0) * 100.0);
            }
            rows.push(vec![model_cell(ma), escape(&op), format!("{x:.3}"), format!("{y:.3}"), change]);
        }
    }
    let mut out =
        format!("<h2 id=\"ops\">Ops that moved most (top-level, ms per inference, {TOP_OPS} per model)</h2>\n");
    out.push_str(&html::table("moved-ops", &["model", "op", "A ms", "B ms", "B − A ms"], &rows));
    out
}
