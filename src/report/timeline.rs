//! The run over time: latency per model (binned, so an hour of inferences stays a few hundred
//! points), the system metrics per source, and the intervals the machine was throttled.

use std::collections::BTreeMap;

use super::snapshot::{InferenceRecord, Metric, SystemPoint};

/// Points per model in the latency-over-time figure at most.
pub const LATENCY_BINS: usize = 400;

/// A named line: (seconds since the start, value).
pub type Line = (String, Vec<(f64, f64)>);

/// Warm latency per model over time: the median of each of up to [`LATENCY_BINS`] equal time
/// bins over the run. Cold inferences (the first after a switch) and profiled ones (slowed by
/// the op profiler) are left out, as the latency statistics leave them out.
#[must_use]
pub fn latency_lines(inferences: &[InferenceRecord<'static>]) -> Vec<Line> {
    let warm = || inferences.iter().filter(|i| !i.cold && !i.profiled && i.latency_ms.is_finite());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(t_ms: f64, throttled: bool) -> SystemPoint {
        SystemPoint { t_ms, metric: Metric::Throttled, source: "machine".into(), value: f64::from(u8::from(throttled)) }
    }

    #[test]
    fn throttled_intervals_run_from_the_first_flag_to_the_first_clear_sample_or_the_end() {
        let flags = [(0.0, false), (1000.0, true), (2000.0, true), (3000.0, false), (4000.0, true), (5000.0, true)];
        let system: Vec<SystemPoint> = flags.iter().map(|&(t, f)| flag(t, f)).collect();
        assert_eq!(throttled_intervals(&system), vec![(1.0, 3.0), (4.0, 5.0)]);
        assert!(throttled_intervals(&[]).is_empty());
    }

    fn inference(t_ms: f64, model: &str, latency_ms: f64, profiled: bool, cold: bool) -> InferenceRecord<'static> {
        InferenceRecord {
            t_ms,
            model: model.to_string().into(),
            latency_ms,
            profiled,
            cold,
            ..InferenceRecord::default()
        }
    }

    #[test]
    fn latency_lines_take_bin_medians_of_warm_unprofiled_inferences_only() {
        let mut rows = vec![inference(0.0, "a", 1000.0, false, true), inference(0.0, "a", 500.0, true, false)];
        // An hour of one inference a second: binned to at most LATENCY_BINS points.
        rows.extend((0..3600).map(|s| inference(f64::from(s) * 1000.0, "a", 10.0 + f64::from(s % 3), false, false)));
        let lines = latency_lines(&rows);
        assert_eq!(lines.len(), 1);
        let (name, points) = &lines[0];
        assert_eq!(name, "a");
        assert_eq!(points.len(), LATENCY_BINS);
        assert!(points.iter().all(|p| (10.0..=12.0).contains(&p.1)), "cold or profiled leaked in");
        assert!(latency_lines(&[]).is_empty());
    }
}
