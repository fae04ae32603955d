//! The run's one time axis. Every time infertop records counts from the session's epoch, the
//! moment the session was created, on the monotonic clock: an inference's end
//! (`Inference::at_ns`), each span of a trace, a system sample's `at_ms`, a soak phase's start,
//! `system.csv`'s `t_ms` and a trace file's µs. Nanoseconds where the engine times ops and
//! inferences; milliseconds for samples and everything a person reads. One axis, so an
//! inference can be placed in the sample interval it ran in.

use std::time::Instant;

/// The session's time zero.
#[derive(Clone, Copy, Debug)]
pub struct Epoch(Instant);

impl Epoch {
    /// An epoch starting now.
    #[must_use]
    pub fn now() -> Self {
        Self(Instant::now())
    }

    /// Nanoseconds since the epoch (saturating: a run does not last 584 years).
    #[must_use]
    pub fn ns(self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Milliseconds since the epoch.
    #[must_use]
    pub fn ms(self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How long ago the epoch was.
    #[must_use]
    pub fn elapsed(self) -> std::time::Duration {
        self.0.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_units_count_from_the_same_moment() {
        let epoch = Epoch::now();
        let (ms, ns) = (epoch.ms(), epoch.ns());
        // ms read first, so it can be at most the ns reading, in ms.
        assert!(ms <= ns / 1_000_000, "{ms} ms then {ns} ns");
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(epoch.ns() >= 2_000_000 && epoch.ms() >= 2);
    }
}
