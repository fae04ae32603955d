//! Energy per inference: each system sample closes an interval whose mean power the sampler
//! knows ([`crate::core::machine::power::PowerReading::interval_watts`]); the inferences that arrived
//! in it (events come through one ordered channel, as for [`crate::core::state::timeline`]) are
//! charged that power for as long as each ran:
//!
//! ```text
//! energy of an inference (mJ) = interval's mean power (W) × its wall time (ms)
//! ```
//!
//! So the figure is what the whole source (the board, or the CPU package under RAPL) drew
//! while the model ran, idle parts included; time between inferences is charged to nobody.
//! Inferences of an interval without a power reading (the first, or on a machine without a
//! source) are left out, and a model with none charged has no figure: "n/a", never 0.

use std::sync::Arc;

/// The energy of `wall_ns` of running at `watts`, in mJ (W × ms = mJ).
#[must_use]
pub fn millijoules(watts: f64, wall_ns: u64) -> f64 {
    watts * wall_ns as f64 / 1e6
}

/// One model's energy over the inferences its latency statistics count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnergyTotals {
    /// Wall time and count of the inferences since the last sample, not charged yet.
    pending_ns: u64,
    pending: u64,
    /// Energy charged so far, in mJ.
    pub millijoules: f64,
    /// Inferences charged.
    pub inferences: u64,
    /// The source the latest charge came from (`ina3221/VDD_IN`).
    pub source: Option<Arc<str>>,
}

impl EnergyTotals {
    /// An inference of `wall_ns` ended in the open interval.
    pub(crate) fn ran(&mut self, wall_ns: u64) {
        self.pending_ns += wall_ns;
        self.pending += 1;
    }

    /// A sample closed the interval; `power` is its source and mean watts, when known.
    pub(crate) fn close(&mut self, power: Option<(&Arc<str>, f64)>) {
        if let Some((source, watts)) = power.filter(|_| self.pending > 0) {
            self.millijoules += millijoules(watts, self.pending_ns);
            self.inferences += self.pending;
            if self.source.as_ref() != Some(source) {
                self.source = Some(Arc::clone(source));
            }
        }
        self.pending_ns = 0;
        self.pending = 0;
    }

    /// Mean energy per charged inference, in mJ.
    #[must_use]
    pub fn per_inference_mj(&self) -> Option<f64> {
        (self.inferences > 0).then(|| self.millijoules / self.inferences as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inferences_are_charged_the_power_of_their_interval() {
        let source: Arc<str> = Arc::from("ina3221/VDD_IN");
        let mut e = EnergyTotals::default();
        e.ran(20_000_000);
        e.close(None);
        assert_eq!(e.per_inference_mj(), None, "no power known: nothing charged, not 0");
        // 6 W × 20 ms + 6 W × 30 ms = 120 + 180 mJ; then 8 W × 25 ms = 200 mJ.
        e.ran(20_000_000);
        e.ran(30_000_000);
        e.close(Some((&source, 6.0)));
        e.close(Some((&source, 7.0)));
        e.ran(25_000_000);
        e.close(Some((&source, 8.0)));
        assert_eq!(e.inferences, 3);
        assert!((e.millijoules - 500.0).abs() < 1e-9);
        assert!((e.per_inference_mj().unwrap() - 500.0 / 3.0).abs() < 1e-9);
        assert_eq!(e.source.as_deref(), Some("ina3221/VDD_IN"));
    }
}
