//! The throttle verdict of a sample: every source the machine exposes, what each says about
//! now, this run and since boot, and all of them combined.
//!
//! A source speaks only where it can: the firmware flags about all three; the x86 counters
//! about the interval since the sample before ("now"), the run and boot; cooling devices, trip
//! points and a frequency cap about now, and about the run from what the sampler saw. A
//! combined answer is "yes" when any source says yes, "no" when at least one source can tell
//! and none says yes, and unknown only where no source can tell (a VM).

use serde::Serialize;

use crate::core::machine::kernel_throttle::{freq_capped, KernelThrottle};
use crate::core::machine::sample::SystemSample;
use crate::core::machine::sysfs::{ThrottleBits, ThrottleSource, ThrottleState};

/// Where a finding comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Source {
    /// The Raspberry Pi firmware's flags (or its under-voltage alarm).
    Firmware,
    /// x86 `thermal_throttle` event counters.
    ThermalThrottle,
    /// A CPU-clock or idle-injection cooling device above state 0.
    CoolingDevice,
    /// A zone at or above a passive (or hot, or critical) trip point.
    TripPoint,
    /// `scaling_max_freq` below `cpuinfo_max_freq`, or a CPU-clock cooling device working.
    FreqCap,
}

impl Source {
    /// A short name, as `system.csv` uses it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Firmware => "firmware",
            Self::ThermalThrottle => "thermal_throttle",
            Self::CoolingDevice => "cooling_device",
            Self::TripPoint => "trip_point",
            Self::FreqCap => "freq_cap",
        }
    }
}

/// What one source says; `None` where it cannot tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub source: Source,
    /// At the sample (for the counters: since the sample before).
    pub now: Option<bool>,
    pub during_run: Option<bool>,
    pub since_boot: Option<bool>,
}

/// Every source's finding at one sample.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ThrottleVerdict {
    /// One per source the machine has, in the order of [`Source`].
    pub findings: Vec<Finding>,
}

impl ThrottleVerdict {
    /// The verdict of `sample`.
    #[must_use]
    pub fn of(sample: &SystemSample) -> Self {
        let kernel = &sample.kernel_throttle;
        let findings = [
            firmware(&sample.throttle),
            counters(kernel),
            recent(Source::CoolingDevice, kernel.cooling_slows_cpu(), kernel.seen.cooling),
            recent(Source::TripPoint, kernel.trip_reached(), kernel.seen.trip),
            recent(Source::FreqCap, freq_capped(&sample.cpufreq, &kernel.cooling), kernel.seen.cap),
        ];
        Self { findings: findings.into_iter().flatten().collect() }
    }

    /// Throttled now, by any source.
    #[must_use]
    pub fn now(&self) -> Option<bool> {
        any(self.findings.iter().map(|f| f.now))
    }

    /// Throttled at some time during this run.
    #[must_use]
    pub fn during_run(&self) -> Option<bool> {
        any(self.findings.iter().map(|f| f.during_run))
    }

    /// Throttled at some time since boot.
    #[must_use]
    pub fn since_boot(&self) -> Option<bool> {
        any(self.findings.iter().map(|f| f.since_boot))
    }

    /// The finding of `source`, where the machine has that source.
    #[must_use]
    pub fn finding(&self, source: Source) -> Option<&Finding> {
        self.findings.iter().find(|f| f.source == source)
    }
}

/// `Some(true)` if any value is true, `Some(false)` if some are known and none is true.
fn any(values: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    values.flatten().reduce(|a, b| a || b)
}

/// The firmware's word speaks about now, the run and boot; its under-voltage alarm only when
/// set, since a clear alarm says nothing about heat.
fn firmware(state: &ThrottleState) -> Option<Finding> {
    let report = state.report()?;
    let (now, during_run, since_boot) = match report.source {
        ThrottleSource::UnderVoltageAlarm => {
            (report.now.under_voltage.then_some(true), report.during_run.under_voltage.then_some(true), None)
        }
        ThrottleSource::FirmwareSysfs | ThrottleSource::Vcgencmd => {
            (Some(report.now.any()), Some(report.during_run.any()), report.since_boot.map(ThrottleBits::any))
        }
    };
    Some(Finding { source: Source::Firmware, now, during_run, since_boot })
}

fn counters(kernel: &KernelThrottle) -> Option<Finding> {
    let counters = kernel.counters?;
    Some(Finding {
        source: Source::ThermalThrottle,
        now: counters.interval_events.map(|events| events > 0),
        during_run: Some(counters.run_events > 0),
        since_boot: Some(counters.any_since_boot()),
    })
}

/// A source that knows only the present; the run from what the sampler saw (and from now,
/// for samples made by hand).
fn recent(source: Source, now: Option<bool>, seen: bool) -> Option<Finding> {
    let now = now?;
    Some(Finding { source, now: Some(now), during_run: Some(seen || now), since_boot: None })
}

// The sample's own verdict methods are written here, beside the verdict, so that the sample
// (data) does not depend on the throttle sources that judge it.
impl SystemSample {
    /// What every throttle source says, and all of them together.
    #[must_use]
    pub fn throttle_verdict(&self) -> ThrottleVerdict {
        ThrottleVerdict::of(self)
    }

    /// Whether any source says the machine is throttled now; `None` where none can tell.
    #[must_use]
    pub fn is_throttled(&self) -> Option<bool> {
        self.throttle_verdict().now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::machine::sysfs::ThrottleReport;

    #[test]
    fn no_source_is_unknown_not_unthrottled() {
        let verdict = ThrottleVerdict::of(&SystemSample::default());
        assert!(verdict.findings.is_empty());
        assert_eq!((verdict.now(), verdict.during_run(), verdict.since_boot()), (None, None, None));
    }

    #[test]
    fn any_source_saying_yes_wins_and_unknowns_do_not_count() {
        assert_eq!(any([None, Some(false), None].into_iter()), Some(false));
        assert_eq!(any([Some(false), Some(true), None].into_iter()), Some(true));
        assert_eq!(any([None, None].into_iter()), None);
    }

    #[test]
    fn a_clear_under_voltage_alarm_tells_nothing() {
        let alarm = |on: bool| {
            let bits = ThrottleBits { under_voltage: on, ..ThrottleBits::default() };
            ThrottleState::Known(ThrottleReport {
                source: ThrottleSource::UnderVoltageAlarm,
                raw: None,
                now: bits,
                since_boot: None,
                during_run: bits,
            })
        };
        let clear = firmware(&alarm(false)).unwrap();
        assert_eq!((clear.now, clear.during_run, clear.since_boot), (None, None, None));
        let set = firmware(&alarm(true)).unwrap();
        assert_eq!((set.now, set.during_run), (Some(true), Some(true)));
    }
}
