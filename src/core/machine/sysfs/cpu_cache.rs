//! CPU caches: `/sys/devices/system/cpu/cpuN/cache/indexM/` (`level`, `type`, `size` such as
//! `2048K`, `shared_cpu_list`). Each core lists every cache it uses, so a cache shared by four
//! cores appears four times; [`read_cpu_caches`] keeps one entry per cache.
//!
//! A board whose kernel has no cache description (older arm64 device trees) has no `cache`
//! folders: none are read, and callers fall back to a size of their own.

use std::collections::BTreeSet;
use std::path::Path;

use super::read::{numbered_entries, read_parsed, read_trimmed};

/// One cache of the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuCache {
    pub level: u32,
    /// `Data`, `Instruction` or `Unified`.
    pub kind: String,
    pub bytes: u64,
    /// The cores that share it, as the kernel writes them (`0-3`).
    pub shared_cpus: String,
}

/// `48K`, `2048K`, `480M`, or plain bytes.
fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) = match text.strip_suffix(['K', 'k']) {
        Some(d) => (d, 1 << 10),
        None => match text.strip_suffix(['M', 'm']) {
            Some(d) => (d, 1 << 20),
            None => (text, 1),
        },
    };
    digits.trim().parse::<u64>().ok().map(|n| n * unit)
}

/// Every cache under `root`, once each, ordered by level; none when the kernel lists none.
/// An entry with a missing or malformed level or size is left out.
#[must_use]
pub fn read_cpu_caches(root: &Path) -> Vec<CpuCache> {
    let mut seen = BTreeSet::new();
    let mut caches = Vec::new();
    for (_, cpu) in numbered_entries(&root.join("sys/devices/system/cpu"), "cpu") {
        for (_, index) in numbered_entries(&cpu.join("cache"), "index") {
            let (Some(level), Some(bytes)) = (
                read_parsed::<u32>(&index.join("level")),
                read_trimmed(&index.join("size")).and_then(|s| parse_size(&s)),
            ) else {
                continue;
            };
            let kind = read_trimmed(&index.join("type")).unwrap_or_else(|| "Unified".into());
            let shared_cpus = read_trimmed(&index.join("shared_cpu_list")).unwrap_or_else(|| cpu.display().to_string());
            if seen.insert((level, kind.clone(), shared_cpus.clone())) {
                caches.push(CpuCache { level, kind, bytes, shared_cpus });
            }
        }
    }
    caches.sort_by_key(|c| c.level);
    caches
}

/// Bytes of all level-2 caches together (the per-core caches on servers, the last level on a
/// Raspberry Pi); `None` when the kernel lists none.
#[must_use]
pub fn level2_bytes(caches: &[CpuCache]) -> Option<u64> {
    let total: u64 = caches.iter().filter(|c| c.level == 2 && c.kind != "Instruction").map(|c| c.bytes).sum();
    (total > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// Writes `cpuN/cache/indexM` for each (cpu, index, level, type, size, shared) under `root`.
    fn write(root: &Path, entries: &[(u32, u32, u32, &str, &str, &str)]) {
        for (cpu, index, level, kind, size, shared) in entries {
            let dir = root.join(format!("sys/devices/system/cpu/cpu{cpu}/cache/index{index}"));
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("level"), format!("{level}\n")).unwrap();
            fs::write(dir.join("type"), format!("{kind}\n")).unwrap();
            fs::write(dir.join("size"), format!("{size}\n")).unwrap();
            fs::write(dir.join("shared_cpu_list"), format!("{shared}\n")).unwrap();
        }
    }

    #[test]
    fn a_raspberry_pi_4s_shared_level_2_counts_once() {
        // Cortex-A72 x4: 32K data and 48K instruction per core, one 1M L2 for all four.
        let dir = tempfile::tempdir().unwrap();
        let mut entries = Vec::new();
        for cpu in 0..4 {
            let own = cpu.to_string();
            entries.push((cpu, 0, 1, "Data", "32K", own.clone()));
            entries.push((cpu, 1, 1, "Instruction", "48K", own));
            entries.push((cpu, 2, 2, "Unified", "1024K", "0-3".to_string()));
        }
        let entries: Vec<_> = entries.iter().map(|(c, i, l, k, s, sh)| (*c, *i, *l, *k, *s, sh.as_str())).collect();
        write(dir.path(), &entries);
        let caches = read_cpu_caches(dir.path());
        assert_eq!(caches.iter().filter(|c| c.level == 1).count(), 8);
        assert_eq!(caches.iter().filter(|c| c.level == 2).count(), 1);
        assert_eq!(level2_bytes(&caches), Some(1 << 20));
    }

    #[test]
    fn a_servers_per_core_level_2_caches_add_up_and_its_level_3_is_not_counted() {
        // This VM: 2 cores, 2M L2 each, one 480M L3.
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (0, 0, 1, "Data", "48K", "0"),
                (0, 2, 2, "Unified", "2048K", "0"),
                (0, 3, 3, "Unified", "491520K", "0-1"),
                (1, 0, 1, "Data", "48K", "1"),
                (1, 2, 2, "Unified", "2048K", "1"),
                (1, 3, 3, "Unified", "491520K", "0-1"),
            ],
        );
        let caches = read_cpu_caches(dir.path());
        assert_eq!(caches.iter().filter(|c| c.level == 3).count(), 1);
        assert_eq!(caches.last().map(|c| c.bytes), Some(480 << 20));
        assert_eq!(level2_bytes(&caches), Some(4 << 20));
    }

    #[test]
    fn no_cache_folders_or_malformed_sizes_read_as_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_cpu_caches(dir.path()).is_empty());
        write(dir.path(), &[(0, 2, 2, "Unified", "lots", "0")]);
        let caches = read_cpu_caches(dir.path());
        assert!(caches.is_empty());
        assert_eq!(level2_bytes(&caches), None);
    }

    #[test]
    fn sizes_read_in_the_units_the_kernel_writes() {
        assert_eq!(parse_size("48K"), Some(48 << 10));
        assert_eq!(parse_size("2M"), Some(2 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("K"), None);
    }
}
