//! The what-if section: each variant of a run against its original, as the live screen shows
//! it — the change of the median with its 95 % interval, the verdict, and whether the variant
//! still computes the same answer. A run without variants has no such section.

use std::fmt::Write as _;

use crate::report::html::{self, escape, num};
use crate::report::snapshot::{ModelRecord, Snapshot};

/// A change as a signed percentage (`-12.3%`), or `n/a`.
fn pct(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite()).map_or_else(|| "n/a".into(), |v| format!("{:+.1}%", 100.0 * v))
}

fn output_check(m: &ModelRecord) -> String {
    match (m.output_agrees, m.output_max_rel_diff) {
        (Some(true), Some(rel)) => format!("agrees (max rel diff {rel:.1e})"),
        (Some(false), Some(rel)) => format!("differs (max rel diff {rel:.1e})"),
        (Some(false), None) => "not checked".into(),
        _ => "n/a".into(),
    }
}

/// The section, or nothing when the snapshot has no variant rows.
#[must_use]
pub fn what_if_section(snap: &Snapshot) -> String {
    let variants: Vec<&ModelRecord> = snap.models.iter().filter(|m| m.variant.is_some()).collect();
    if variants.is_empty() {
        return String::new();
    }
    let p50_of = |name: &str| snap.models.iter().find(|m| m.model == name).and_then(|m| m.latency_ms_p50);
    let rows: Vec<Vec<String>> = variants
        .iter()
        .map(|m| {
            let base = m.base_model.as_deref().unwrap_or("?");
            let interval = match (m.delta_p50_ci_low, m.delta_p50_ci_high) {
                (Some(lo), Some(hi)) => format!("[{}, {}]", pct(Some(lo)), pct(Some(hi))),
                _ => "n/a".into(),
            };
            let attr = m.delta_p50.map_or_else(String::new, |d| format!("{d:e}"));
            vec![
                escape(m.variant.as_deref().unwrap_or("")),
                escape(base),
                num(p50_of(base), 3),
                num(m.latency_ms_p50, 3),
                format!("<span class=\"delta\" data-delta=\"{attr}\">{}</span>", pct(m.delta_p50)),
                interval,
                escape(m.what_if_verdict.as_deref().unwrap_or("n/a")),
                escape(&output_check(m)),
            ]
        })
        .collect();
    let mut out = String::from("<h2 id=\"what-if\">What if</h2>\n");
    let _ = writeln!(
        out,
        "<p>Each variant ran beside its original in the same session. Δp50 is the variant's median \
         over the original's, minus 1, with a conservative 95 % interval; \"faster\" or \"slower\" \
         only when the interval excludes 0, and only when the variant's output agrees with the \
         original's (max relative difference within 1e-4).</p>"
    );
    out.push_str(&html::table(
        "what-if",
        &["change", "of", "original p50 (ms)", "variant p50 (ms)", "Δp50", "95 % interval", "verdict", "output"],
        &rows,
    ));
    out
}
