//! Per-model counts since the start of the run that nothing resets, not even the live screen's
//! `r`: monitoring systems (the `OpenMetrics` endpoint, [`crate::export::metrics`]) take counters
//! to only ever grow, and read a drop as a restart of the process.
//!
//! The latency histogram counts the same inferences as the model's latency statistics (warm,
//! and unprofiled while the profiler samples), but all of them, where the statistics keep a
//! window of recent ones for their percentiles.

/// Upper bounds of the latency histogram's buckets, in seconds: 0.1 ms to 70 s in steps of
/// 1, 1.5, 2, 3, 5, 7 per decade (at most a factor 5/3 between neighbours), so one set fits a
/// 3 ms `ShuffleNet` on a laptop and a multi-second VGG on a Raspberry Pi alike, and a fleet's
/// histograms add up bucket by bucket.
pub const LATENCY_BOUNDS_S: [f64; 36] = [
    0.0001, 0.00015, 0.0002, 0.0003, 0.0005, 0.0007, //
    0.001, 0.0015, 0.002, 0.003, 0.005, 0.007, //
    0.01, 0.015, 0.02, 0.03, 0.05, 0.07, //
    0.1, 0.15, 0.2, 0.3, 0.5, 0.7, //
    1.0, 1.5, 2.0, 3.0, 5.0, 7.0, //
    10.0, 15.0, 20.0, 30.0, 50.0, 70.0,
];

/// Latencies counted into the buckets of [`LATENCY_BOUNDS_S`], plus one above the last bound.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyHistogram {
    /// Inferences per bucket (not cumulative); the last one is above every bound.
    counts: [u64; LATENCY_BOUNDS_S.len() + 1],
    sum_s: f64,
    count: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self { counts: [0; LATENCY_BOUNDS_S.len() + 1], sum_s: 0.0, count: 0 }
    }
}

impl LatencyHistogram {
    /// Counts one latency of `seconds` (into the first bucket whose bound is not below it).
    pub fn record(&mut self, seconds: f64) {
        let bucket = LATENCY_BOUNDS_S.partition_point(|bound| *bound < seconds);
        self.counts[bucket] += 1;
        self.sum_s += seconds;
        self.count += 1;
    }

    /// Latencies counted.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Their sum, in seconds.
    #[must_use]
    pub fn sum_s(&self) -> f64 {
        self.sum_s
    }

    /// (upper bound in seconds, count in that bucket alone) for every bucket, the last with
    /// an infinite bound.
    pub fn buckets(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        LATENCY_BOUNDS_S.iter().copied().chain([f64::INFINITY]).zip(self.counts.iter().copied())
    }
}

/// A model's counts since the start of the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunCounters {
    /// Every inference of the model: warm, cold and profiled alike.
    pub inferences: u64,
    /// The latencies the model's latency statistics take in, every one of them.
    pub latency: LatencyHistogram,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_goes_into_the_first_bucket_whose_bound_is_not_below_it() {
        let mut h = LatencyHistogram::default();
        // On a bound (le means "less or equal"), just above it, below the first, above the last.
        for s in [0.001, 0.0011, 0.00001, 100.0] {
            h.record(s);
        }
        let counts: Vec<(f64, u64)> = h.buckets().filter(|(_, n)| *n > 0).collect();
        assert_eq!(counts, vec![(0.0001, 1), (0.001, 1), (0.0015, 1), (f64::INFINITY, 1)]);
        assert_eq!(h.count(), 4);
        assert!((h.sum_s() - 100.00211).abs() < 1e-9);
    }

    #[test]
    fn bounds_rise_by_at_most_five_thirds_and_are_the_round_numbers_they_look_like() {
        for pair in LATENCY_BOUNDS_S.windows(2) {
            let step = pair[1] / pair[0];
            assert!(step > 1.0 && step <= 5.0 / 3.0 + 1e-12, "{pair:?}");
        }
        // Shortest round-trip formatting is what the exposition prints as `le`.
        assert_eq!(format!("{}", LATENCY_BOUNDS_S[1]), "0.00015");
        assert_eq!(LATENCY_BOUNDS_S.len() + 1, LatencyHistogram::default().buckets().count());
    }
}
