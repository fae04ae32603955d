//! cpufreq policies: `/sys/devices/system/cpu/cpufreq/policy*/` (frequencies in kHz).
//!
//! One policy covers the cores that share a clock: all four on a Raspberry Pi, one cluster
//! on a Jetson, a single core on an `intel_pstate` laptop.
//!
//! The current clock is `cpuinfo_cur_freq` (read back from the hardware) where it can be read,
//! else `scaling_cur_freq`: `intel_pstate` and `amd-pstate` have no `cpuinfo_cur_freq`, and most
//! kernels let only root read it. On a Raspberry Pi `scaling_cur_freq` shows the requested
//! clock, not what the firmware runs while it throttles; the throttle flags and the measured
//! clock tell the truth there.
//!
//! Kernels before the `policyN` folders, and trees recorded through the per-CPU view (what
//! Prometheus' `node_exporter` and `lshw` read), have each policy only as `cpuN/cpufreq/`: read
//! there when no `policyN` exists.

use std::path::Path;

use serde::Serialize;

use super::read::{numbered_entries, read_parsed, read_trimmed};

/// One cpufreq policy. Every value is `None` when its file is missing or malformed, and a
/// clock also when implausible ([`PLAUSIBLE_KHZ`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CpuFreqPolicy {
    /// The `N` of `policyN` (the first core of the policy).
    pub policy: u32,
    /// Cores sharing this clock (`related_cpus`); empty when unknown.
    pub cpus: Vec<u32>,
    /// `cpuinfo_cur_freq` (read back from the hardware), else `scaling_cur_freq` (what the
    /// kernel last asked for, or read back).
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
    let cpu = root.join("sys/devices/system/cpu");
    let policies = numbered_entries(&cpu.join("cpufreq"), "policy");
    if !policies.is_empty() {
        return policies.into_iter().map(|(policy, dir)| read_policy(policy, &dir)).collect();
    }
    numbered_entries(&cpu, "cpu")
        .into_iter()
        .map(|(cpu, dir)| (cpu, dir.join("cpufreq")))
        .filter(|(_, dir)| dir.is_dir())
        .map(|(cpu, dir)| read_policy(cpu, &dir))
        // A CPU sharing its clock with a lower-numbered one shows that CPU's policy again.
        .filter(|policy| policy.cpus.first().is_none_or(|&first| first == policy.policy))
        .collect()
}

/// The policy in `dir`, numbered `policy` (its first CPU).
fn read_policy(policy: u32, dir: &Path) -> CpuFreqPolicy {
    CpuFreqPolicy {
        policy,
        cpus: read_trimmed(&dir.join("related_cpus"))
            .or_else(|| read_trimmed(&dir.join("affected_cpus")))
            .and_then(|text| parse_cpu_list(&text))
            .unwrap_or_default(),
        cur_khz: read_khz(&dir.join("cpuinfo_cur_freq")).or_else(|| read_khz(&dir.join("scaling_cur_freq"))),
        min_khz: read_khz(&dir.join("cpuinfo_min_freq")),
        max_khz: read_khz(&dir.join("cpuinfo_max_freq")),
        scaling_max_khz: read_khz(&dir.join("scaling_max_freq")),
        governor: read_trimmed(&dir.join("scaling_governor")),
    }
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

    /// A root holding `files` (path under `sys/devices/system/cpu`, contents), each ending in a
    /// newline as the kernel writes them.
    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = root.path().join("sys/devices/system/cpu").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, format!("{text}\n")).unwrap();
        }
        root
    }

    #[test]
    fn the_clock_read_back_from_the_hardware_comes_first() {
        let root = tree(&[
            ("cpufreq/policy0/cpuinfo_cur_freq", "1400000"),
            ("cpufreq/policy0/scaling_cur_freq", "1800000"),
            ("cpufreq/policy1/scaling_cur_freq", "3400000"),
        ]);
        let clocks: Vec<Option<u64>> = read_policies(root.path()).iter().map(|p| p.cur_khz).collect();
        assert_eq!(clocks, [Some(1_400_000), Some(3_400_000)]);
    }

    /// Only `cpuN/cpufreq/`: each policy once, under its first CPU; a CPU without a cpufreq
    /// folder has none.
    #[test]
    fn without_policy_folders_each_cpu_folder_is_read_once() {
        let root = tree(&[
            ("cpu0/cpufreq/related_cpus", "0 1"),
            ("cpu0/cpufreq/scaling_cur_freq", "1200000"),
            ("cpu1/cpufreq/related_cpus", "0 1"),
            ("cpu1/cpufreq/scaling_cur_freq", "1200000"),
            ("cpu2/cpufreq/related_cpus", "2 3"),
            ("cpu2/cpufreq/scaling_cur_freq", "800000"),
            ("cpu4/cpufreq/scaling_cur_freq", "2100000"),
            ("cpu5/online", "1"),
        ]);
        let found: Vec<(u32, Option<u64>)> = read_policies(root.path()).iter().map(|p| (p.policy, p.cur_khz)).collect();
        assert_eq!(found, [(0, Some(1_200_000)), (2, Some(800_000)), (4, Some(2_100_000))]);

        // Policy folders, when there are any, are the only ones read.
        let policy = root.path().join("sys/devices/system/cpu/cpufreq/policy0");
        std::fs::create_dir_all(&policy).unwrap();
        std::fs::write(policy.join("scaling_cur_freq"), "3000000\n").unwrap();
        let found: Vec<(u32, Option<u64>)> = read_policies(root.path()).iter().map(|p| (p.policy, p.cur_khz)).collect();
        assert_eq!(found, [(0, Some(3_000_000))]);
    }

    #[test]
    fn limited_needs_both_values() {
        let mut policy = CpuFreqPolicy { max_khz: Some(1_800_000), ..CpuFreqPolicy::default() };
        assert_eq!(policy.is_limited(), None);
        policy.scaling_max_khz = Some(1_500_000);
        assert_eq!(policy.is_limited(), Some(true));
    }
}
