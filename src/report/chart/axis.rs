//! Axes for the report's figures: ranges that an outlier does not flatten, series split where
//! they have no data, and log-axis ticks spaced so their labels never touch.

/// Values above an axis's top: the figure draws them at the top and says so.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OffScale {
    /// The top of the axis.
    pub ceiling: f64,
    /// How many values lie above it.
    pub above: usize,
    /// The largest of them.
    pub highest: f64,
}

/// Fewer values than this are all shown: with a handful, a high one is no outlier to hide.
const MIN_VALUES: usize = 20;

/// The top that `values` need without their outliers, when the largest lies beyond it: one and
/// a half times the 98th percentile. A run's 8–45 ms latencies then fill the figure although a
/// 3 s first inference reaches far above them. `None` when every value fits (or too few).
#[must_use]
pub fn off_scale(values: impl Iterator<Item = f64>) -> Option<OffScale> {
    let mut sorted: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    if sorted.len() < MIN_VALUES {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let q98 = sorted[(sorted.len() - 1) * 98 / 100];
    let ceiling = 1.5 * q98;
    let highest = *sorted.last()?;
    (q98 > 0.0 && highest > ceiling).then(|| OffScale {
        ceiling,
        above: sorted.iter().filter(|v| **v > ceiling).count(),
        highest,
    })
}

/// `points` (in time order) split where a gap is wider than three times their usual spacing
/// (the median step): a model that does not run between its turns gets no line across the
/// time it did not run.
#[must_use]
pub fn segments(points: &[(f64, f64)]) -> Vec<&[(f64, f64)]> {
    let mut steps: Vec<f64> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
    if steps.len() < 2 {
        return if points.is_empty() { Vec::new() } else { vec![points] };
    }
    steps.sort_by(f64::total_cmp);
    let limit = 3.0 * steps[steps.len() / 2];
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        if points[i].0 - points[i - 1].0 > limit {
            out.push(&points[start..i]);
            start = i;
        }
    }
    out.push(&points[start..]);
    out
}

/// Ticks for a log axis over `lo..hi` drawn `pixels` long: the 1-2-5 values in range, thinned
/// so that each label (of about `label_px` plus a gap) keeps clear of the one before; whole
/// decades are preferred. Never empty for a positive range.
#[must_use]
pub fn log_ticks(lo: f64, hi: f64, pixels: f64, label_px: impl Fn(f64) -> f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let at = |v: f64| pixels * (v / lo).ln() / (hi / lo).ln();
    let fits = |ticks: &[f64]| {
        ticks.windows(2).all(|w| at(w[1]) - at(w[0]) >= f64::midpoint(label_px(w[0]), label_px(w[1])) + 8.0)
    };
    let candidates = |mantissas: &[f64]| -> Vec<f64> {
        let first = lo.log10().floor() as i32;
        let last = hi.log10().ceil() as i32;
        (first..=last)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| *v >= lo && *v <= hi)
            .collect()
    };
    let every_digit = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    for mantissas in [&every_digit[..], &[1.0, 2.0, 5.0], &[1.0, 3.0], &[1.0]] {
        let ticks = candidates(mantissas);
        if ticks.len() >= 2 && fits(&ticks) {
            return ticks;
        }
    }
    // Decades too close (a very wide range): every other one, or every third, ...
    let decades = candidates(&[1.0]);
    for every in 2..=decades.len().max(2) {
        let ticks: Vec<f64> = decades.iter().copied().step_by(every).collect();
        if fits(&ticks) && !ticks.is_empty() {
            return ticks;
        }
    }
    // Within less than a decade with no 1-2-5 value in it: the two ends.
    vec![lo, hi]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outlier_goes_off_scale_and_is_counted() {
        let values: Vec<f64> = (0..100).map(|i| 8.0 + f64::from(i % 40)).chain([3208.0, 1200.0]).collect();
        let off = off_scale(values.iter().copied()).unwrap();
        assert!(off.ceiling < 100.0 && off.ceiling >= 47.0, "{off:?}");
        assert_eq!((off.above, off.highest), (2, 3208.0));
        assert_eq!(off_scale((0..100).map(f64::from)), None, "an even spread keeps its top");
        assert_eq!(off_scale([1.0, 1000.0].into_iter()), None, "too few to call one an outlier");
    }

    #[test]
    fn gaps_split_a_series() {
        let turns = [(0.0, 1.0), (0.1, 1.0), (0.2, 1.0), (5.0, 2.0), (5.1, 2.0), (9.0, 3.0)];
        let parts = segments(&turns);
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [3, 2, 1]);
        assert_eq!(segments(&[(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)]).len(), 1);
        assert!(segments(&[]).is_empty());
        assert_eq!(segments(&[(0.0, 1.0)]).len(), 1);
    }

    #[test]
    fn log_ticks_keep_their_labels_apart() {
        let width = |v: f64| 7.0 * super::super::tick(v).len() as f64;
        // 550..1100 over 500 px once gave 600 700 800 900 1000, touching.
        let ticks = log_ticks(550.0, 1100.0, 500.0, width);
        assert!(ticks.len() >= 2, "{ticks:?}");
        for (lo, hi, px) in [(550.0, 1100.0, 500.0), (0.01, 1e6, 480.0), (3.0, 40_000.0, 300.0), (1.0, 10.0, 60.0)] {
            let ticks = log_ticks(lo, hi, px, width);
            let at = |v: f64| px * (v / lo).ln() / (hi / lo).ln();
            for w in ticks.windows(2) {
                assert!(at(w[1]) - at(w[0]) >= f64::midpoint(width(w[0]), width(w[1])), "{lo}..{hi}: {ticks:?}");
            }
            assert!(!ticks.is_empty() && ticks.iter().all(|t| (lo..=hi).contains(t)), "{ticks:?}");
        }
    }
}
