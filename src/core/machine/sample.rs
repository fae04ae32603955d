//! One sample of the machine: the data the sampler gathers, and the readings that need nothing
//! but the sample itself. Verdicts that weigh several sources live with those sources
//! ([`crate::core::machine::throttle::verdict`]), so this file depends only on the data types it holds.

use serde::Serialize;

use crate::core::machine::contention::Contention;
use crate::core::machine::kernel_throttle::{freq_capped, KernelThrottle};
use crate::core::machine::power::PowerReading;
use crate::core::machine::sysfs::{CpuFreqPolicy, TempReading, ThrottleState};

/// Memory and swap, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MemoryUsage {
    pub total_bytes: u64,
    pub used_bytes: u64,
    pub available_bytes: u64,
    pub swap_total_bytes: u64,
    pub swap_used_bytes: u64,
}

/// The load average over 1, 5 and 15 minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LoadAverage {
    pub one: f64,
    pub five: f64,
    pub fifteen: f64,
}

/// Everything measured about the machine at one moment. Every sensor is optional: `None` or an
/// empty list means "n/a" (a VM has no sensors), never zero.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SystemSample {
    /// When the sample was taken, in ms since the session's epoch ([`crate::core::run::epoch`]): the
    /// session stamps each sample it sends; a sampler used alone counts from its creation.
    pub at_ms: u64,
    /// Usage of each core in %, by core index; empty when unknown.
    pub usage_pct: Vec<f32>,
    /// One entry per cpufreq policy; empty without cpufreq.
    pub cpufreq: Vec<CpuFreqPolicy>,
    /// Thermal zones, then hwmon sensors; empty without sensors.
    pub temps: Vec<TempReading>,
    /// The Raspberry Pi firmware's flags.
    pub throttle: ThrottleState,
    /// The kernel's throttle sources: x86 counters, cooling devices, trip points. Boxed, as
    /// `contention` is, to keep events small.
    pub kernel_throttle: Box<KernelThrottle>,
    pub memory: Option<MemoryUsage>,
    pub load: Option<LoadAverage>,
    /// Resident memory of this process.
    pub process_rss_bytes: Option<u64>,
    /// CPU use of this process in % of one core (above 100 when it uses several, as in `top`).
    pub process_cpu_pct: Option<f32>,
    /// CPU time this process has used so far, in ms.
    pub process_cpu_time_ms: Option<u64>,
    /// The effective clock measured by [`crate::core::machine::clock`]; filled in by the engine.
    pub measured_mhz: Option<f64>,
    /// Competition for the cores since the sample before; `None` at the first sample and
    /// without `proc/stat` under the root. Boxed because every event takes the room of the
    /// largest in the engine's channel, and inferences, by far the most frequent, are small.
    pub contention: Option<Box<Contention>>,
    /// The machine's power and the interval's mean; `None` where no source exists. Boxed for
    /// the same reason.
    pub power: Option<Box<PowerReading>>,
}

impl SystemSample {
    /// The hottest sensor of any kind.
    #[must_use]
    pub fn hottest(&self) -> Option<&TempReading> {
        hottest(self.temps.iter())
    }

    /// The temperature infertop shows and tags inferences with: the hottest of the CPU's own
    /// sensors ([`TempReading::is_cpu`]), or, on a machine where none is known to be the CPU's,
    /// the hottest of any kind. A Wi-Fi chip or an SSD running hotter says nothing about
    /// whether the CPU is.
    #[must_use]
    pub fn headline_temp(&self) -> Option<&TempReading> {
        hottest(self.temps.iter().filter(|t| t.is_cpu())).or_else(|| self.hottest())
    }

    /// The highest current frequency of any policy, in MHz.
    #[must_use]
    pub fn max_cur_mhz(&self) -> Option<f64> {
        self.cpufreq.iter().filter_map(CpuFreqPolicy::cur_mhz).max_by(f64::total_cmp)
    }

    /// The highest hardware maximum of any policy, in MHz.
    #[must_use]
    pub fn max_policy_mhz(&self) -> Option<f64> {
        self.cpufreq.iter().filter_map(CpuFreqPolicy::max_mhz).max_by(f64::total_cmp)
    }

    /// Whether the clock is capped below the hardware maximum by a limit (see
    /// [`freq_capped`]); a clock that only runs below it is not capped. `None` when no limit can
    /// be read.
    #[must_use]
    pub fn is_freq_capped(&self) -> Option<bool> {
        freq_capped(&self.cpufreq, &self.kernel_throttle.cooling)
    }

    /// Whether other work competed for the cores since the sample before; `None` where unknown.
    #[must_use]
    pub fn is_contended(&self) -> Option<bool> {
        self.contention.as_deref().and_then(Contention::verdict)
    }
}

/// The hottest of `temps` (the last listed of equally hot ones).
fn hottest<'a>(temps: impl Iterator<Item = &'a TempReading>) -> Option<&'a TempReading> {
    temps.max_by(|a, b| a.celsius.total_cmp(&b.celsius))
}
