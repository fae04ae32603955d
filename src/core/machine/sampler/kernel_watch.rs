//! The kernel's throttle sources over a run: each sample reads the x86 counters, cooling
//! devices and trip points, and this keeps the counters' first and latest readings and what
//! slowed the CPU so far, for "since the sample before" and "during this run".

use std::path::Path;

use crate::core::machine::kernel_throttle::{KernelThrottle, SeenDuringRun, ThrottleCounters};
use crate::core::machine::sysfs::{self, CpuFreqPolicy, CpuThrottleCounters};

/// Readings kept between samples.
#[derive(Default)]
pub(super) struct KernelWatch {
    /// The run's first non-empty counter reading.
    first: Option<Vec<CpuThrottleCounters>>,
    /// The latest non-empty one.
    previous: Option<Vec<CpuThrottleCounters>>,
    seen: SeenDuringRun,
}

impl KernelWatch {
    /// Reads the sources under `root` for a sample whose policies are `policies`.
    pub(super) fn next(&mut self, root: &Path, policies: &[CpuFreqPolicy]) -> KernelThrottle {
        let cpus = sysfs::read_throttle_counters(root);
        // A machine without counters, or a reading that found none, leaves the history as it is.
        if !cpus.is_empty() && self.first.is_none() {
            self.first = Some(cpus.clone());
        }
        let first = self.first.as_deref().unwrap_or_default();
        let counters = ThrottleCounters::summarise(&cpus, self.previous.as_deref(), first);
        if !cpus.is_empty() {
            self.previous = Some(cpus);
        }
        let mut report = KernelThrottle {
            counters,
            cooling: sysfs::read_cooling_devices(root),
            zones: sysfs::read_zone_trips(root),
            seen: self.seen,
        };
        report.note_seen(policies);
        self.seen = report.seen;
        report
    }
}
