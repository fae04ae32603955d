//! x86 thermal throttle event counters: `/sys/devices/system/cpu/cpuN/thermal_throttle/`.
//!
//! On Intel CPUs the kernel counts, per logical CPU, how often the core and the package went
//! over their throttle temperature (PROCHOT) since boot: `core_throttle_count`, and
//! `package_throttle_count` where the CPU has package thermal status. Kernels since 5.5 also
//! keep the time spent throttled (`core_throttle_total_time_ms`,
//! `package_throttle_total_time_ms`). A package event is delivered to every CPU of the
//! package, so each CPU's package count is that package's count, not a share of it.
//!
//! A count that rose between two readings means the CPU was throttled in between; a count
//! above 0 means it happened since boot. An offline CPU's files read empty and it is left out.

use std::path::Path;

use serde::Serialize;

use super::read::{numbered_entries, read_parsed};

/// One CPU's counters; each `None` where the file is missing or malformed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CpuThrottleCounters {
    /// The `N` of `cpuN`.
    pub cpu: u32,
    pub core_events: Option<u64>,
    pub package_events: Option<u64>,
    pub core_ms: Option<u64>,
    pub package_ms: Option<u64>,
}

impl CpuThrottleCounters {
    /// Core and package events together (a missing counter counts 0).
    #[must_use]
    pub fn events(&self) -> u64 {
        self.core_events.unwrap_or(0).saturating_add(self.package_events.unwrap_or(0))
    }

    fn has_events(&self) -> bool {
        self.core_events.is_some() || self.package_events.is_some()
    }
}

/// The counters of every CPU that has a readable one, in CPU order; none on machines without
/// them (Arm boards, AMD CPUs, most VMs).
#[must_use]
pub fn read_throttle_counters(root: &Path) -> Vec<CpuThrottleCounters> {
    // `cpufreq`, `cpuidle` and the like do not parse as numbers and are skipped.
    numbered_entries(&root.join("sys/devices/system/cpu"), "cpu")
        .into_iter()
        .map(|(cpu, dir)| {
            let dir = dir.join("thermal_throttle");
            CpuThrottleCounters {
                cpu,
                core_events: read_parsed(&dir.join("core_throttle_count")),
                package_events: read_parsed(&dir.join("package_throttle_count")),
                core_ms: read_parsed(&dir.join("core_throttle_total_time_ms")),
                package_ms: read_parsed(&dir.join("package_throttle_total_time_ms")),
            }
        })
        .filter(CpuThrottleCounters::has_events)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_without_counters_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let cpu = dir.path().join("sys/devices/system/cpu");
        for (path, text) in [
            ("cpu0/thermal_throttle/core_throttle_count", "3"),
            ("cpu0/thermal_throttle/package_throttle_count", "12"),
            ("cpu0/thermal_throttle/package_throttle_total_time_ms", "4410"),
            // Offline: the kernel prints nothing.
            ("cpu1/thermal_throttle/core_throttle_count", ""),
            ("cpu2/thermal_throttle/core_throttle_count", "-4"),
            ("cpufreq/policy0/scaling_cur_freq", "800000"),
        ] {
            let file = cpu.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, format!("{text}\n")).unwrap();
        }
        let counters = read_throttle_counters(dir.path());
        assert_eq!(
            counters,
            [CpuThrottleCounters {
                cpu: 0,
                core_events: Some(3),
                package_events: Some(12),
                core_ms: None,
                package_ms: Some(4410),
            }]
        );
        assert_eq!(counters[0].events(), 15);
    }
}
