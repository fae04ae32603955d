//! cpufreq policies: `/sys/devices/system/cpu/cpufreq/policy*/` (frequencies in kHz).
//!
//! One policy covers the cores that share a clock: all four on a Raspberry Pi, one cluster
//! on a Jetson, a single core on an `intel_pstate` laptop.
//!
//! On a Raspberry Pi `scaling_cur_freq` shows the requested clock, not what the firmware runs
//! while it throttles; the throttle flags and the measured clock tell the truth there.

use std::path::Path;

use serde::Serialize;

use super::{numbered_entries, read_parsed, read_trimmed};

/// One cpufreq policy. Every value is `None` when its file is missing or malformed, and a
/// clock also when implausible ([`PLAUSIBLE_KHZ`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CpuFreqPolicy {
    /// The `N` of `policyN` (the first core of the policy).
    pub policy: u32,
    /// Cores sharing this clock (`related_cpus`); empty when unknown.
    pub cpus: Vec<u32>,
    /// `scaling_cur_freq`: what the kernel last asked for (or read back).
    pub cur_khz: Option<u64>,
    /// `cpuinfo_min_freq`: the hardware minimum.
    pub min_khz: Option<u64>,
    /// `cpuinfo_max_freq`: the hardware maximum.
    pub max_khz: Option<u64>,
    /// `scaling_max_freq`: the current upper limit (user, power mode or thermal cooling).
    pub scaling_max_khz: Option<u64>,
    /// `scaling_governor` (`ondemand`, `schedutil`, `powersave`, ...).
    pub governor: Option<String>,
}

impl CpuFreqPolicy {
    /// The current frequency in MHz.
    #[must_use]
    pub fn cur_mhz(&self) -> Option<f64> {
        self.cur_khz.map(khz_to_mhz)
    }

    /// The hardware maximum in MHz.
    #[must_use]
    pub fn max_mhz(&self) -> Option<f64> {
        self.max_khz.map(khz_to_mhz)
    }

    /// Whether the current limit is below the hardware maximum (a power mode, a user setting
    /// or a thermal cooling device holds the clock down).
    #[must_use]
    pub fn is_limited(&self) -> Option<bool> {
        Some(self.scaling_max_khz? < self.max_khz?)
    }
}

/// Clocks outside this range, in kHz (1 MHz to 100 GHz), are not clocks: a broken driver or a
/// bad tree (`18446744073709551615`, which would show as an 18-digit MHz figure).
pub const PLAUSIBLE_KHZ: std::ops::RangeInclusive<u64> = 1_000..=100_000_000;

/// kHz to MHz.
#[must_use]
#[allow(clippy::cast_precision_loss)] // kHz values are far below 2^52
pub fn khz_to_mhz(khz: u64) -> f64 {
    khz as f64 / 1000.0
}

/// A clock file in kHz; `None` when missing, malformed or outside [`PLAUSIBLE_KHZ`].
fn read_khz(path: &Path) -> Option<u64> {
    read_parsed(path).filter(|khz| PLAUSIBLE_KHZ.contains(khz))
}

/// Every policy under `root`, in policy order; none on a machine without cpufreq.
#[must_use]
pub fn read_policies(root: &Path) -> Vec<CpuFreqPolicy> {
    numbered_entries(&root.join("sys/devices/system/cpu/cpufreq"), "policy")
        .into_iter()
        .map(|(policy, dir)| CpuFreqPolicy {
            policy,
            cpus: read_trimmed(&dir.join("related_cpus"))
                .or_else(|| read_trimmed(&dir.join("affected_cpus")))
                .and_then(|text| parse_cpu_list(&text))
                .unwrap_or_default(),
            cur_khz: read_khz(&dir.join("scaling_cur_freq")),
            min_khz: read_khz(&dir.join("cpuinfo_min_freq")),
            max_khz: read_khz(&dir.join("cpuinfo_max_freq")),
            scaling_max_khz: read_khz(&dir.join("scaling_max_freq")),
            governor: read_trimmed(&dir.join("scaling_governor")),
        })
        .collect()
}

/// The most CPUs a list may name: the largest `NR_CPUS` a Linux kernel is built with.
const MAX_CPUS: usize = 8192;

/// Parses `related_cpus` (`0 1 2 3`) and also the kernel's range form (`0-3,6`); `None`
/// when malformed or naming more than [`MAX_CPUS`] CPUs (repeated ranges in a bad file
/// would otherwise make millions).
#[must_use]
pub fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for part in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last): (u32, u32) = (first.parse().ok()?, last.parse().ok()?);
                if last < first || last - first > 4096 {
                    return None;
                }
                cpus.extend(first..=last);
            }
            None => cpus.push(part.parse().ok()?),
        }
        if cpus.len() > MAX_CPUS {
            return None;
        }
    }
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0 1 2 3"), Some(vec![0, 1, 2, 3]));
        assert_eq!(parse_cpu_list("4 5\n"), Some(vec![4, 5]));
        assert_eq!(parse_cpu_list("0-3,6"), Some(vec![0, 1, 2, 3, 6]));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("zero"), None);
        assert_eq!(parse_cpu_list(&"0-4000,".repeat(3)), None);
    }

    #[test]
    fn implausible_clocks_read_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cpuinfo_max_freq");
        for (text, khz) in [
            ("18446744073709551615", None),
            ("100000001", None),
            ("999", None),
            ("0", None),
            ("100000000", Some(100_000_000)),
            ("1000", Some(1000)),
            ("1800000", Some(1_800_000)),
        ] {
            std::fs::write(&path, format!("{text}\n")).unwrap();
            assert_eq!(read_khz(&path), khz, "{text}");
        }
    }

    #[test]
    fn limited_needs_both_values() {
        let mut policy = CpuFreqPolicy { max_khz: Some(1_800_000), ..CpuFreqPolicy::default() };
        assert_eq!(policy.is_limited(), None);
        policy.scaling_max_khz = Some(1_500_000);
        assert_eq!(policy.is_limited(), Some(true));
    }
}
