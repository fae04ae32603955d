//! Throttling, explained: each inference is tagged with the clock, temperature and throttle
//! verdict ([`verdict`]) current when it ran; per model this keeps latency while throttled vs
//! not, and latency normalised to the full clock.

pub mod verdict;

use crate::core::common::stats::Ring;
use crate::core::machine::sample::SystemSample;
use verdict::ThrottleVerdict;

/// What the machine looked like while one inference ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct MachineTag {
    /// The clock the engine measured (see [`crate::core::machine::clock`]).
    pub measured_mhz: Option<f64>,
    /// The highest clock cpufreq reported, which on a Pi can be the unthrottled one.
    pub reported_mhz: Option<f64>,
    /// The hardware maximum clock.
    pub max_mhz: Option<f64>,
    /// The headline temperature ([`SystemSample::headline_temp`]).
    pub celsius: Option<f64>,
    /// The verdict now, from every throttle source ([`ThrottleVerdict::now`]); `None` where no
    /// source can tell.
    pub throttled: Option<bool>,
}

impl MachineTag {
    /// The tag for inferences that run while `sample` is the latest system sample.
    #[must_use]
    pub fn from_sample(sample: &SystemSample) -> Self {
        Self {
            measured_mhz: sample.measured_mhz,
            reported_mhz: sample.max_cur_mhz(),
            max_mhz: sample.max_policy_mhz(),
            celsius: sample.headline_temp().map(|t| t.celsius),
            throttled: ThrottleVerdict::of(sample).now(),
        }
    }

    /// The clock the CPU ran at: the measured one where known, else the highest reported.
    #[must_use]
    pub fn mhz(&self) -> Option<f64> {
        self.measured_mhz.or(self.reported_mhz)
    }
}

/// Sum, sum of squares and count, for a mean and its standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Mean {
    sum: f64,
    sum_sq: f64,
    count: u64,
}

impl Mean {
    fn add(&mut self, v: f64) {
        self.sum += v;
        self.sum_sq += v * v;
        self.count += 1;
    }

    fn get(self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// The squared standard error of the mean; `None` below two values.
    fn variance_of_mean(self) -> Option<f64> {
        let n = self.count as f64;
        let mean = self.get()?;
        (self.count >= 2).then(|| ((self.sum_sq - n * mean * mean) / (n - 1.0)).max(0.0) / n)
    }
}

/// Per model: latency split by throttle state, normalised latency, and recent (clock, latency)
/// pairs for a latency-against-frequency view.
#[derive(Clone, Debug, PartialEq)]
pub struct ThrottleStats {
    throttled: Mean,
    unthrottled: Mean,
    full_clock: Mean,
    /// Recent (MHz, ms) pairs.
    pub by_clock: Ring<(f64, f64)>,
}

impl Default for ThrottleStats {
    fn default() -> Self {
        Self {
            throttled: Mean::default(),
            unthrottled: Mean::default(),
            full_clock: Mean::default(),
            by_clock: Ring::new(256),
        }
    }
}

impl ThrottleStats {
    /// Adds one inference that took `ms` under `tag`.
    pub fn record(&mut self, ms: f64, tag: &MachineTag) {
        match tag.throttled {
            Some(true) => self.throttled.add(ms),
            Some(false) => self.unthrottled.add(ms),
            None => {}
        }
        if let (Some(mhz), Some(max)) = (tag.mhz(), tag.max_mhz) {
            if mhz > 0.0 && max > 0.0 {
                // Compute-bound work scales with the clock: at full clock it would take
                // ms × (clock / max).
                self.full_clock.add(ms * (mhz / max).min(1.0));
            }
            self.by_clock.push((mhz, ms));
        } else if let Some(mhz) = tag.mhz() {
            self.by_clock.push((mhz, ms));
        }
    }

    /// Throttled mean latency over unthrottled mean, minus one (0.25 = 25 % slower while
    /// throttled). `None` until both kinds of inference have been seen.
    #[must_use]
    pub fn penalty(&self) -> Option<f64> {
        Some(self.throttled.get()? / self.unthrottled.get()? - 1.0)
    }

    /// A 95 % confidence interval of [`penalty`](Self::penalty), from the two means' standard
    /// errors by the delta method: se(a/b) ≈ (a/b) √(se(a)²/a² + se(b)²/b²). `None` until
    /// each side has two inferences.
    #[must_use]
    pub fn penalty_ci(&self) -> Option<(f64, f64)> {
        let (a, b) = (self.throttled.get()?, self.unthrottled.get()?);
        let (va, vb) = (self.throttled.variance_of_mean()?, self.unthrottled.variance_of_mean()?);
        if a <= 0.0 || b <= 0.0 {
            return None;
        }
        let ratio = a / b;
        let se = ratio * (va / (a * a) + vb / (b * b)).sqrt();
        Some((ratio - 1.0 - 1.96 * se, ratio - 1.0 + 1.96 * se))
    }

    /// Whether the penalty is told apart from noise: its interval excludes 0. `None` while no
    /// interval exists.
    #[must_use]
    pub fn penalty_significant(&self) -> Option<bool> {
        self.penalty_ci().map(|(lo, hi)| lo > 0.0 || hi < 0.0)
    }

    /// Inferences seen while throttled; `None` when the throttle state was never known (a
    /// machine without any throttle source, see [`verdict`]), which is not the same as zero.
    #[must_use]
    pub fn throttled_count(&self) -> Option<u64> {
        (self.throttled.count + self.unthrottled.count > 0).then_some(self.throttled.count)
    }

    /// Mean latency expected at the full clock.
    #[must_use]
    pub fn full_clock_ms(&self) -> Option<f64> {
        self.full_clock.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(mhz: f64, throttled: bool) -> MachineTag {
        MachineTag {
            measured_mhz: Some(mhz),
            reported_mhz: None,
            max_mhz: Some(1500.0),
            celsius: Some(60.0),
            throttled: Some(throttled),
        }
    }

    #[test]
    fn penalty_compares_throttled_with_unthrottled_runs() {
        let mut s = ThrottleStats::default();
        assert_eq!(s.penalty(), None);
        s.record(10.0, &tag(1500.0, false));
        s.record(10.0, &tag(1500.0, false));
        assert_eq!(s.penalty(), None);
        s.record(15.0, &tag(1000.0, true));
        assert!((s.penalty().unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(s.throttled_count(), Some(1));
        // 15 ms at 1000 of 1500 MHz is 10 ms at full clock.
        assert!((s.full_clock_ms().unwrap() - 10.0).abs() < 1e-12);
    }

    #[test]
    fn the_penalty_interval_follows_the_delta_method_and_flags_noise() {
        let mut s = ThrottleStats::default();
        // Unthrottled 9, 11 (mean 10, variance 2, se² 1); throttled 14, 16 (mean 15, se² 1).
        for ms in [9.0, 11.0] {
            s.record(ms, &tag(1500.0, false));
        }
        s.record(14.0, &tag(1000.0, true));
        assert_eq!(s.penalty_ci(), None);
        s.record(16.0, &tag(1000.0, true));
        // se = 1.5 × √(1/225 + 1/100) = 0.18028; interval 0.5 ± 0.35335.
        let (lo, hi) = s.penalty_ci().unwrap();
        assert!((lo - 0.146_65).abs() < 1e-4 && (hi - 0.853_35).abs() < 1e-4, "{lo} {hi}");
        assert_eq!(s.penalty_significant(), Some(true));
        // Widely spread throttled latencies: the same mean penalty is noise.
        let mut noisy = ThrottleStats::default();
        for ms in [9.0, 11.0] {
            noisy.record(ms, &tag(1500.0, false));
        }
        for ms in [5.0, 25.0] {
            noisy.record(ms, &tag(1000.0, true));
        }
        assert_eq!(noisy.penalty_significant(), Some(false));
    }

    #[test]
    fn unknown_state_is_neither_throttled_nor_not() {
        let mut s = ThrottleStats::default();
        s.record(10.0, &MachineTag::default());
        assert_eq!(s.penalty(), None);
        assert_eq!(s.throttled_count(), None);
        assert_eq!(s.full_clock_ms(), None);
        assert!(s.by_clock.is_empty());
    }
}
