//! Statistics over bounded histories: ring buffers, percentiles, correlations.

use std::collections::VecDeque;

/// A first-in-first-out buffer of fixed capacity: hours of running use constant memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T> Ring<T> {
    /// An empty ring holding at most `capacity` items (at least one).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self { items: VecDeque::with_capacity(capacity), capacity }
    }

    /// Appends `item`, dropping the oldest when full.
    pub fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Oldest first.
    #[must_use]
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    #[must_use]
    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }
}

/// The `q`-quantile (0..=1) of sorted data, interpolating linearly between neighbours (the
/// method numpy and pandas use by default). `None` for empty data.
#[must_use]
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// A `q`-quantile needs at least this many samples to be more than a guess at the maximum:
/// 1 / (1 − q), so that the quantile lies below the largest sample (10 for p90, 100 for p99).
#[must_use]
pub fn min_samples_for(q: f64) -> usize {
    // The small margin keeps 1 / 0.1 = 10.000000000000002 from rounding up to 11.
    (1.0 / (1.0 - q.clamp(0.0, 0.999)) - 1e-9).ceil() as usize
}

/// A 95 % confidence interval for the median of sorted data, distribution-free: the order
/// statistics of ranks (n − 1.96 √n) / 2 and 1 + (n + 1.96 √n) / 2 (the normal approximation to
/// the binomial, as in Conover's *Practical Nonparametric Statistics*). `None` below 6 samples,
/// where no such interval exists at 95 %.
#[must_use]
pub fn median_ci_sorted(sorted: &[f64]) -> Option<(f64, f64)> {
    let n = sorted.len();
    if n < 6 {
        return None;
    }
    let spread = 1.96 * (n as f64).sqrt();
    let lo_rank = (((n as f64 - spread) / 2.0).floor() as usize).max(1);
    let hi_rank = ((1.0 + f64::midpoint(n as f64, spread)).ceil() as usize).min(n);
    Some((sorted[lo_rank - 1], sorted[hi_rank - 1]))
}

/// Latency percentiles and extremes of one model.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct LatencySummary {
    /// Inferences since the last reset.
    pub count: u64,
    /// Inferences the percentiles come from (the latest ones, up to the window).
    pub window: u64,
    /// 95 % confidence interval of `p50_ms` (see [`median_ci_sorted`]).
    pub p50_ci_ms: Option<(f64, f64)>,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
}

impl LatencySummary {
    /// p90, from enough samples (see [`min_samples_for`]).
    #[must_use]
    pub fn p90(&self) -> Option<f64> {
        (self.window as usize >= min_samples_for(0.9)).then_some(self.p90_ms)
    }

    /// p99, from enough samples (see [`min_samples_for`]).
    #[must_use]
    pub fn p99(&self) -> Option<f64> {
        (self.window as usize >= min_samples_for(0.99)).then_some(self.p99_ms)
    }
}

/// Latencies of one model: a window of recent values for percentiles, running totals since
/// the last reset for mean and extremes.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyStats {
    window: Ring<f64>,
    count: u64,
    sum_ms: f64,
    min_ms: f64,
    max_ms: f64,
}

impl LatencyStats {
    /// Percentiles are taken over the last `window` inferences.
    #[must_use]
    pub fn new(window: usize) -> Self {
        Self { window: Ring::new(window), count: 0, sum_ms: 0.0, min_ms: f64::INFINITY, max_ms: 0.0 }
    }

    pub fn record(&mut self, ms: f64) {
        self.window.push(ms);
        self.count += 1;
        self.sum_ms += ms;
        self.min_ms = self.min_ms.min(ms);
        self.max_ms = self.max_ms.max(ms);
    }

    /// The recent latencies, oldest first (for sparklines).
    #[must_use]
    pub fn recent(&self) -> impl DoubleEndedIterator<Item = f64> + ExactSizeIterator + '_ {
        self.window.iter().copied()
    }

    /// Summary, or `None` before the first inference.
    #[must_use]
    pub fn summary(&self) -> Option<LatencySummary> {
        if self.count == 0 {
            return None;
        }
        let mut sorted: Vec<f64> = self.window.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let q = |p| quantile_sorted(&sorted, p).unwrap_or(f64::NAN);
        Some(LatencySummary {
            count: self.count,
            window: sorted.len() as u64,
            p50_ci_ms: median_ci_sorted(&sorted),
            mean_ms: self.sum_ms / self.count as f64,
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p99_ms: q(0.99),
            min_ms: self.min_ms,
            max_ms: self.max_ms,
        })
    }
}

/// Pearson's correlation of paired samples; `None` with fewer than 3 pairs or no variance.
#[must_use]
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n < 3 {
        return None;
    }
    let mean = |v: &[f64]| v[..n].iter().sum::<f64>() / n as f64;
    let (mx, my) = (mean(xs), mean(ys));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs[..n].iter().zip(&ys[..n]) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    let denom = (sxx * syy).sqrt();
    (denom > 0.0).then(|| sxy / denom)
}

/// Spearman's rank correlation (Pearson on ranks, ties get their average rank).
#[must_use]
pub fn spearman(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    pearson(&ranks(&xs[..n]), &ranks(&ys[..n]))
}

fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]].total_cmp(&values[order[i]]).is_eq() {
            j += 1;
        }
        let average = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = average;
        }
        i = j + 1;
    }
    ranks
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // Expected values here are exact in binary floating point.
mod tests {
    use super::*;

    #[test]
    fn the_median_interval_uses_the_order_statistics_of_known_ranks() {
        // n = 100: ranks floor((100 − 19.6) / 2) = 40 and ceil(1 + 119.6 / 2) = 61.
        let data: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(median_ci_sorted(&data), Some((40.0, 61.0)));
        // n = 9: ranks floor((9 − 5.88) / 2) = 1 and ceil(1 + 14.88 / 2) = 9.
        let nine: Vec<f64> = (1..=9).map(f64::from).collect();
        assert_eq!(median_ci_sorted(&nine), Some((1.0, 9.0)));
        assert_eq!(median_ci_sorted(&[1.0, 2.0, 3.0, 4.0, 5.0]), None);
    }

    #[test]
    fn tail_percentiles_need_enough_samples() {
        assert_eq!((min_samples_for(0.9), min_samples_for(0.99)), (10, 100));
        let mut s = LatencyStats::new(512);
        for i in 0..99 {
            s.record(f64::from(i));
        }
        let few = s.summary().unwrap();
        assert!(few.p90().is_some() && few.p99().is_none());
        s.record(99.0);
        let enough = s.summary().unwrap();
        assert_eq!(enough.window, 100);
        assert!((enough.p99().unwrap() - 98.01).abs() < 1e-9);
        let (lo, hi) = enough.p50_ci_ms.unwrap();
        assert_eq!((lo, hi), (39.0, 60.0));
    }

    #[test]
    fn ring_keeps_only_the_newest() {
        let mut r = Ring::new(3);
        for i in 0..5 {
            r.push(i);
        }
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let data: Vec<f64> = (1..=10).map(f64::from).collect();
        // numpy.percentile(range(1, 11), [50, 90, 99]) == [5.5, 9.1, 9.91]
        assert!((quantile_sorted(&data, 0.5).unwrap() - 5.5).abs() < 1e-12);
        assert!((quantile_sorted(&data, 0.9).unwrap() - 9.1).abs() < 1e-12);
        assert!((quantile_sorted(&data, 0.99).unwrap() - 9.91).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[], 0.5), None);
        assert_eq!(quantile_sorted(&[7.0], 0.9), Some(7.0));
    }

    #[test]
    fn latency_percentiles_use_the_window_and_totals_use_everything() {
        let mut s = LatencyStats::new(4);
        for ms in [100.0, 1.0, 2.0, 3.0, 4.0] {
            s.record(ms);
        }
        let sum = s.summary().unwrap();
        assert_eq!(sum.count, 5);
        assert!((sum.mean_ms - 22.0).abs() < 1e-12);
        assert_eq!(sum.max_ms, 100.0);
        assert_eq!(sum.min_ms, 1.0);
        // The 100 ms outlier has left the 4-wide window.
        assert!((sum.p50_ms - 2.5).abs() < 1e-12);
        assert!(sum.p50_ms <= sum.p90_ms && sum.p90_ms <= sum.p99_ms);
        assert_eq!(LatencyStats::new(4).summary(), None);
    }

    #[test]
    fn correlations_on_known_data() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 4.0, 6.0, 8.0, 10.0];
        assert!((pearson(&x, &y).unwrap() - 1.0).abs() < 1e-12);
        let cubic: Vec<f64> = x.iter().map(|v| v * v * v).collect();
        assert!(pearson(&x, &cubic).unwrap() < 0.99);
        assert!((spearman(&x, &cubic).unwrap() - 1.0).abs() < 1e-12);
        let rev: Vec<f64> = x.iter().rev().copied().collect();
        assert!((spearman(&x, &rev).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(pearson(&[1.0, 2.0], &[1.0, 2.0]), None);
        // Ties get average ranks: scipy.stats.spearmanr([1,2,2,3],[1,2,3,4]) = 0.9486832980505138
        let s = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((s - 0.948_683_298_050_513_8).abs() < 1e-12);
    }
}
