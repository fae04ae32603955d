//! What the kernel says about throttling, gathered by the sampler at every sample: the x86
//! `thermal_throttle` counters with what changed since the sample before and since the run
//! began, the cooling devices, the zones' trip points, and which of them slowed the CPU at
//! some sample of the run.

use serde::Serialize;

use crate::core::machine::sysfs::{CoolingDevice, CoolingKind, CpuFreqPolicy, CpuThrottleCounters, ZoneTrips};

/// The kernel's throttle sources at one sample. Empty where the kernel exposes none (a VM).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KernelThrottle {
    /// x86 event counters; `None` where there are none (Arm boards, AMD, most VMs).
    pub counters: Option<ThrottleCounters>,
    /// Every cooling device, fans included.
    pub cooling: Vec<CoolingDevice>,
    /// Zones with a readable temperature and at least one trip point set.
    pub zones: Vec<ZoneTrips>,
    /// What slowed the CPU at some sample of this run, this one included.
    pub seen: SeenDuringRun,
}

/// The `thermal_throttle` counters of all CPUs in one summary. Per-CPU figures are summarised
/// by their maximum, the CPU that saw the most: every CPU of a package counts the package's
/// events, so a sum would count them once per CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ThrottleCounters {
    /// CPUs whose counters were read.
    pub cpus: usize,
    /// Core throttle events since boot.
    pub core_events: Option<u64>,
    /// Package throttle events since boot.
    pub package_events: Option<u64>,
    /// Time throttled since boot, where the kernel keeps it.
    pub core_ms: Option<u64>,
    pub package_ms: Option<u64>,
    /// Events (core and package) since the sample before; `None` at the first reading.
    pub interval_events: Option<u64>,
    /// Events since the first reading of the run.
    pub run_events: u64,
}

impl ThrottleCounters {
    /// The summary of `now`, compared with the reading before (`None` at the first) and with
    /// the run's first reading. `None` without counters.
    #[must_use]
    pub fn summarise(
        now: &[CpuThrottleCounters],
        previous: Option<&[CpuThrottleCounters]>,
        first: &[CpuThrottleCounters],
    ) -> Option<Self> {
        let most = |field: fn(&CpuThrottleCounters) -> Option<u64>| now.iter().filter_map(field).max();
        (!now.is_empty()).then(|| Self {
            cpus: now.len(),
            core_events: most(|c| c.core_events),
            package_events: most(|c| c.package_events),
            core_ms: most(|c| c.core_ms),
            package_ms: most(|c| c.package_ms),
            interval_events: previous.map(|before| events_since(now, before)),
            run_events: events_since(now, first),
        })
    }

    /// Whether any throttle event happened since boot.
    #[must_use]
    pub fn any_since_boot(&self) -> bool {
        self.core_events.unwrap_or(0) > 0 || self.package_events.unwrap_or(0) > 0
    }
}

/// The most events any CPU counted since `before`. CPUs missing from either reading (taken
/// offline or brought online in between) are not compared; a counter that went down counts 0.
fn events_since(now: &[CpuThrottleCounters], before: &[CpuThrottleCounters]) -> u64 {
    now.iter()
        .filter_map(|cpu| {
            let earlier = before.iter().find(|b| b.cpu == cpu.cpu)?;
            Some(cpu.events().saturating_sub(earlier.events()))
        })
        .max()
        .unwrap_or(0)
}

/// Which sources slowed the CPU at some sample of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SeenDuringRun {
    /// A clock or idle-injection cooling device above state 0.
    pub cooling: bool,
    /// A zone at or above a passive, hot or critical trip.
    pub trip: bool,
    /// A frequency cap ([`freq_capped`]).
    pub cap: bool,
}

impl KernelThrottle {
    /// Whether a clock or idle-injection cooling device works now; `None` without any whose
    /// state can be read.
    #[must_use]
    pub fn cooling_slows_cpu(&self) -> Option<bool> {
        self.cooling
            .iter()
            .filter(|d| d.kind.slows_cpu() && d.cur_state.is_some())
            .map(CoolingDevice::slows_cpu_now)
            .reduce(|a, b| a || b)
    }

    /// Whether a zone is at or above a passive, hot or critical trip: `Some(true)` then;
    /// `Some(false)` when none is and some zone has a passive trip to be below; `None` when no
    /// zone has one (a trip that only shuts the machine down says nothing while not reached).
    #[must_use]
    pub fn trip_reached(&self) -> Option<bool> {
        if self.zones.iter().any(|zone| zone.throttling_trip_reached().is_some()) {
            Some(true)
        } else {
            self.zones.iter().any(|zone| zone.passive_celsius().is_some()).then_some(false)
        }
    }

    /// Records in `seen` what slows the CPU at this sample, given the sample's policies.
    pub fn note_seen(&mut self, policies: &[CpuFreqPolicy]) {
        self.seen.cooling |= self.cooling_slows_cpu() == Some(true);
        self.seen.trip |= self.trip_reached() == Some(true);
        self.seen.cap |= freq_capped(policies, &self.cooling) == Some(true);
    }
}

/// Whether the clock is capped below the hardware maximum: a policy's `scaling_max_freq` is
/// below its `cpuinfo_max_freq` (a user, a power mode or thermal management set a limit) or a
/// CPU-clock cooling device is above state 0. A clock that merely runs below the maximum (an
/// idle core, the `powersave` governor, all-core turbo below single-core turbo) is not capped.
/// `None` when neither the limits nor such a device's state can be read, and also, unless
/// something is capped, when a policy has a limit but no `cpuinfo_max_freq` to hold it against
/// (a tree with only `scaling_*` files): that limit may be a cap. A policy with neither (an
/// offline CPU's) says nothing.
#[must_use]
pub fn freq_capped(policies: &[CpuFreqPolicy], cooling: &[CoolingDevice]) -> Option<bool> {
    let limits = policies.iter().filter_map(CpuFreqPolicy::is_limited);
    let devices = cooling
        .iter()
        .filter(|d| d.kind == CoolingKind::CpuFreq && d.cur_state.is_some())
        .map(CoolingDevice::is_active);
    let capped = limits.chain(devices).reduce(|a, b| a || b);
    let limit_unknown = policies.iter().any(|p| p.scaling_max_khz.is_some() && p.max_khz.is_none());
    if limit_unknown && capped != Some(true) {
        None
    } else {
        capped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(cpu: u32, core: u64, package: u64) -> CpuThrottleCounters {
        CpuThrottleCounters { cpu, core_events: Some(core), package_events: Some(package), ..Default::default() }
    }

    #[test]
    fn counters_are_summarised_by_the_cpu_that_saw_most() {
        let first = [cpu(0, 0, 14), cpu(1, 2, 14)];
        let now = [cpu(0, 0, 16), cpu(1, 2, 15), cpu(2, 9, 9)];
        let summary = ThrottleCounters::summarise(&now, Some(&first), &first).unwrap();
        assert_eq!((summary.cpus, summary.core_events, summary.package_events), (3, Some(9), Some(16)));
        // cpu2 came online in between and is not compared.
        assert_eq!((summary.interval_events, summary.run_events), (Some(2), 2));
        assert!(summary.any_since_boot());
        let first_reading = ThrottleCounters::summarise(&first, None, &first).unwrap();
        assert_eq!((first_reading.interval_events, first_reading.run_events), (None, 0));
        assert_eq!(ThrottleCounters::summarise(&[], None, &first), None);
        // A counter that went down (a CPU's state reset) is no event.
        assert_eq!(events_since(&[cpu(0, 0, 3)], &first), 0);
    }

    #[test]
    fn a_cap_needs_a_limit_not_a_low_clock() {
        let policy = |cur, scaling_max| CpuFreqPolicy {
            cur_khz: Some(cur),
            max_khz: Some(4_700_000),
            scaling_max_khz: Some(scaling_max),
            ..CpuFreqPolicy::default()
        };
        assert_eq!(freq_capped(&[], &[]), None);
        assert_eq!(freq_capped(&[policy(585_000, 4_700_000)], &[]), Some(false), "powersave, idle");
        assert_eq!(freq_capped(&[policy(585_000, 3_000_000)], &[]), Some(true));
        let device = |name: &str, state| CoolingDevice {
            name: name.into(),
            kind: CoolingKind::of(name),
            cur_state: Some(state),
            max_state: Some(19),
        };
        assert_eq!(freq_capped(&[], &[device("pwm-fan", 2)]), None, "a fan caps nothing");
        assert_eq!(freq_capped(&[], &[device("cpufreq-cpu0", 0)]), Some(false));
        assert_eq!(freq_capped(&[policy(585_000, 4_700_000)], &[device("cpufreq-cpu0", 3)]), Some(true));
    }

    /// A limit without the hardware maximum may or may not be a cap: unknown, whatever an idle
    /// cooling device says, unless another source shows a cap.
    #[test]
    fn a_limit_without_the_maximum_is_an_unknown_cap() {
        let only_scaling = CpuFreqPolicy { scaling_max_khz: Some(4_600_000), ..CpuFreqPolicy::default() };
        let device = |state| CoolingDevice {
            name: "Processor".into(),
            kind: CoolingKind::of("Processor"),
            cur_state: Some(state),
            max_state: Some(3),
        };
        assert_eq!(freq_capped(std::slice::from_ref(&only_scaling), &[]), None);
        assert_eq!(freq_capped(std::slice::from_ref(&only_scaling), &[device(0)]), None);
        assert_eq!(freq_capped(std::slice::from_ref(&only_scaling), &[device(2)]), Some(true));
        let offline = CpuFreqPolicy::default();
        let full = CpuFreqPolicy { max_khz: Some(4_600_000), ..only_scaling };
        assert_eq!(freq_capped(&[full, offline], &[device(0)]), Some(false));
    }
}
