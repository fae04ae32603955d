//! Thermal cooling devices: `/sys/class/thermal/cooling_deviceN/{type,cur_state,max_state}`.
//!
//! A cooling device is whatever the kernel turns up or down to cool a zone: state 0 does
//! nothing, `max_state` cools hardest. What a state means depends on the device, which only
//! its `type` tells:
//!
//! - the CPU clock: `cpufreq-cpu0` (the policy's first CPU; kernels before 5.12 said
//!   `thermal-cpufreq-0`), registered for every cpufreq policy whose CPUs the device tree
//!   marks `#cooling-cells` (Tegra234, not a Raspberry Pi), and `Processor` for each ACPI
//!   processor on x86 (P-state and T-state limits);
//! - idle injection: `intel_powerclamp` (reads −1 while not clamping) and `idle-cpuN`;
//! - fans: `pwm-fan` (Jetson, Raspberry Pi 5), `gpio-fan`, ACPI `Fan`; they cool without
//!   slowing anything;
//! - anything else (`TCC Offset`, `LCD`, `devfreq-…` for a GPU) is listed but says nothing
//!   about the CPU's speed.

use std::path::Path;

use serde::Serialize;

use super::read::{numbered_entries, read_parsed, read_trimmed, unique_names};

/// What a cooling device acts on, from its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CoolingKind {
    /// Caps the CPU clock (`cpufreq-*`, `thermal-cpufreq-*`, `Processor`).
    CpuFreq,
    /// Forces CPUs idle (`intel_powerclamp`, `idle-*`).
    IdleInjection,
    /// A fan: cooling that costs no speed.
    Fan,
    Other,
}

impl CoolingKind {
    /// The kind of a device of type `name`.
    #[must_use]
    pub fn of(name: &str) -> Self {
        if name.starts_with("cpufreq-") || name.starts_with("thermal-cpufreq-") || name == "Processor" {
            Self::CpuFreq
        } else if name == "intel_powerclamp" || name.starts_with("idle-") {
            Self::IdleInjection
        } else if name.to_ascii_lowercase().contains("fan") {
            Self::Fan
        } else {
            Self::Other
        }
    }

    /// Whether a state above 0 slows the CPU down.
    #[must_use]
    pub fn slows_cpu(self) -> bool {
        matches!(self, Self::CpuFreq | Self::IdleInjection)
    }
}

/// One cooling device as last read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CoolingDevice {
    /// The type made unique among the devices (`Processor`, `Processor#2`, ...).
    pub name: String,
    pub kind: CoolingKind,
    /// `cur_state`; `None` when unreadable. Negative means inactive (`intel_powerclamp`).
    pub cur_state: Option<i64>,
    /// `max_state`; `None` when unreadable or negative.
    pub max_state: Option<u64>,
}

impl CoolingDevice {
    /// Whether the device is working now (state above 0).
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.cur_state.is_some_and(|state| state > 0)
    }

    /// Whether it slows the CPU now: a clock or idle-injection device in a state above 0.
    #[must_use]
    pub fn slows_cpu_now(&self) -> bool {
        self.kind.slows_cpu() && self.is_active()
    }
}

/// Every cooling device under `root` whose type can be read, in device order.
#[must_use]
pub fn read_cooling_devices(root: &Path) -> Vec<CoolingDevice> {
    let found: Vec<(String, std::path::PathBuf)> = numbered_entries(&root.join("sys/class/thermal"), "cooling_device")
        .into_iter()
        .filter_map(|(_, dir)| Some((read_trimmed(&dir.join("type"))?, dir)))
        .collect();
    let names = unique_names(found.iter().map(|(kind, _)| kind.as_str()));
    found
        .into_iter()
        .zip(names)
        .map(|((kind, dir), name)| CoolingDevice {
            kind: CoolingKind::of(&kind),
            name,
            cur_state: read_parsed(&dir.join("cur_state")),
            max_state: read_parsed::<i64>(&dir.join("max_state")).and_then(|state| u64::try_from(state).ok()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_type() {
        for (name, kind) in [
            ("cpufreq-cpu0", CoolingKind::CpuFreq),
            ("cpufreq-cpu4", CoolingKind::CpuFreq),
            ("thermal-cpufreq-0", CoolingKind::CpuFreq),
            ("Processor", CoolingKind::CpuFreq),
            ("intel_powerclamp", CoolingKind::IdleInjection),
            ("idle-cpu2", CoolingKind::IdleInjection),
            ("pwm-fan", CoolingKind::Fan),
            ("Fan", CoolingKind::Fan),
            ("gpio-fan", CoolingKind::Fan),
            ("TCC Offset", CoolingKind::Other),
            ("LCD", CoolingKind::Other),
            ("devfreq-17000000.gpu", CoolingKind::Other),
        ] {
            assert_eq!(CoolingKind::of(name), kind, "{name}");
        }
    }

    #[test]
    fn only_cpu_devices_above_zero_slow_the_cpu() {
        let device = |name: &str, cur_state| CoolingDevice {
            name: name.into(),
            kind: CoolingKind::of(name),
            cur_state,
            max_state: Some(3),
        };
        assert!(device("cpufreq-cpu0", Some(2)).slows_cpu_now());
        assert!(!device("cpufreq-cpu0", Some(0)).slows_cpu_now());
        assert!(!device("cpufreq-cpu0", None).slows_cpu_now());
        assert!(!device("intel_powerclamp", Some(-1)).slows_cpu_now(), "−1: not clamping");
        assert!(device("intel_powerclamp", Some(25)).slows_cpu_now());
        assert!(!device("pwm-fan", Some(3)).slows_cpu_now());
        assert!(device("pwm-fan", Some(3)).is_active());
        assert!(!device("TCC Offset", Some(10)).slows_cpu_now());
    }
}
