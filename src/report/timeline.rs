//! The run over time: latency per model (binned, so an hour of inferences stays a few hundred
//! points), the system metrics per source, and the intervals the machine was throttled.

use std::collections::BTreeMap;

use super::snapshot::{InferenceRow, Metric, SystemPoint};

/// Points per model in the latency-over-time figure at most.
pub const LATENCY_BINS: usize = 400;

/// A named line: (seconds since the start, value).
pub type Line = (String, Vec<(f64, f64)>);

/// Warm latency per model over time: the median of each of up to [`LATENCY_BINS`] equal time
/// bins over the run. Cold inferences (the first after a switch) are left out.
#[must_use]
pub fn latency_lines(inferences: &[InferenceRow]) -> Vec<Line> {
    let warm = || inferences.iter().filter(|i| !i.cold && i.latency_ms.is_finite());
    let (lo, hi) = warm().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), i| (lo.min(i.t_ms), hi.max(i.t_ms)));
    if lo > hi {
        return Vec::new();
    }
    let width = ((hi - lo) / LATENCY_BINS as f64).max(1.0);
    let mut bins: BTreeMap<&str, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for i in warm() {
        let bin = (((i.t_ms - lo) / width) as usize).min(LATENCY_BINS - 1);
        bins.entry(&i.model).or_default().entry(bin).or_default().push(i.latency_ms);
    }
    bins.into_iter()
        .map(|(model, bins)| {
            let points = bins
                .into_iter()
                .map(|(bin, mut v)| {
                    v.sort_by(f64::total_cmp);
                    let t_s = (lo + (bin as f64 + 0.5) * width) / 1000.0;
                    (t_s, v[v.len() / 2])
                })
                .collect();
            (model.to_string(), points)
        })
        .collect()
}

/// `metric` over time, one line per source, in seconds.
#[must_use]
pub fn metric_lines(system: &[SystemPoint], metric: Metric) -> Vec<Line> {
    let mut lines: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for p in system.iter().filter(|p| p.metric == metric && p.value.is_finite()) {
        lines.entry(&p.source).or_default().push((p.t_ms / 1000.0, p.value));
    }
    lines.into_iter().map(|(source, points)| (source.to_string(), points)).collect()
}

/// The intervals (start, end, in seconds) in which the machine was throttled: from a sample
/// that says so to the next sample that does not (or the last sample).
#[must_use]
pub fn throttled_intervals(system: &[SystemPoint]) -> Vec<(f64, f64)> {
    let mut flags: Vec<(f64, bool)> =
        system.iter().filter(|p| p.metric == Metric::Throttled).map(|p| (p.t_ms / 1000.0, p.value > 0.5)).collect();
    flags.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut intervals = Vec::new();
    let mut start = None;
    for &(t, throttled) in &flags {
        match (start, throttled) {
            (None, true) => start = Some(t),
            (Some(s), false) => {
                intervals.push((s, t));
                start = None;
            }
            _ => {}
        }
    }
    if let (Some(s), Some(&(last, _))) = (start, flags.last()) {
        intervals.push((s, last));
    }
    intervals
}
