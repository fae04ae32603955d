//! RAPL energy counters through powercap (`/sys/class/powercap/`): Intel CPUs since Sandy Bridge
//! and AMD ones since Zen, under the same `intel-rapl` name.
//!
//! `intel-rapl:N` is a top-level zone: a package (`name` `package-N`) or, on laptops since
//! Skylake, `psys`, the whole platform as the processor sees it; `intel-rapl:N:M` is one of a
//! package's parts (`core`, `uncore`, `dram`). Each has `energy_uj`, the energy used since some
//! unknown start in µJ, which wraps to 0 after `max_energy_range_uj`. Since the fix for
//! CVE-2020-8694 (November 2020: Linux 5.10 and the stable kernels it was backported to)
//! `energy_uj` is mode 0400, readable by root only, while the rest stays world-readable: a
//! zone whose counter is refused is [`Access::Denied`], never 0 and never absent.
//! `intel-rapl-mmio:*` repeats the package through another register window for power limits,
//! and the control folder `intel-rapl` holds no counter: neither is read.

use std::path::{Path, PathBuf};

use super::read::{dir_entries, read_access, read_parsed, read_trimmed, Access};

/// One zone with an energy counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaplZone {
    /// The folder's name, `intel-rapl:0:1`.
    pub id: String,
    /// `package-0`, `psys`; a part is named under its package, `package-0/core`.
    pub name: String,
    /// Whether it is a top-level zone (a package or `psys`), not a part of one.
    pub top_level: bool,
    /// Where the counter wraps, in µJ.
    pub max_range_uj: Option<u64>,
    energy_file: PathBuf,
}

impl RaplZone {
    /// The counter now, in µJ; [`Access::Denied`] when only root may read it.
    #[must_use]
    pub fn read_energy(&self) -> Access<u64> {
        read_access(&self.energy_file).and_then(|text| text.parse().ok())
    }

    /// Whether the zone is `psys`, the platform.
    #[must_use]
    pub fn is_platform(&self) -> bool {
        self.top_level && self.name == "psys"
    }

    /// Whether the zone is a whole package.
    #[must_use]
    pub fn is_package(&self) -> bool {
        self.top_level && self.name.starts_with("package-")
    }
}

/// The energy used between two readings of a counter, in µJ: the difference, or across one
/// wrap at `max_range_uj`. `None` when the counter went back and the range is unknown or too
/// small to explain it (a reset, not a wrap).
#[must_use]
pub fn energy_delta_uj(before: u64, after: u64, max_range_uj: Option<u64>) -> Option<u64> {
    if after >= before {
        return Some(after - before);
    }
    let range = max_range_uj.filter(|range| *range >= before)?;
    Some(range - before + after)
}

/// Every RAPL zone under `root` with an `energy_uj` file (readable or not), packages before
/// their parts, in numeric order (`intel-rapl:10` after `intel-rapl:2`).
#[must_use]
pub fn find_rapl_zones(root: &Path) -> Vec<RaplZone> {
    let dir = root.join("sys/class/powercap");
    let mut found: Vec<(Vec<u32>, PathBuf)> = dir_entries(&dir)
        .filter_map(|entry| {
            let name = entry.file_name();
            let numbers: Option<Vec<u32>> =
                name.to_str()?.strip_prefix("intel-rapl:")?.split(':').map(|n| n.parse().ok()).collect();
            Some((numbers?, entry.path()))
        })
        .filter(|(numbers, path)| numbers.len() <= 2 && path.join("energy_uj").is_file())
        .collect();
    found.sort();
    let names: Vec<(Vec<u32>, String)> = found
        .iter()
        .map(|(numbers, path)| (numbers.clone(), read_trimmed(&path.join("name")).unwrap_or_else(|| id(numbers))))
        .collect();
    found
        .into_iter()
        .zip(&names)
        .map(|((numbers, path), (_, own))| {
            let package = names.iter().find(|(n, _)| numbers.len() == 2 && n.as_slice() == &numbers[..1]);
            let name = package.map_or_else(|| own.clone(), |(_, package)| format!("{package}/{own}"));
            RaplZone {
                id: id(&numbers),
                name,
                top_level: numbers.len() == 1,
                max_range_uj: read_parsed(&path.join("max_energy_range_uj")),
                energy_file: path.join("energy_uj"),
            }
        })
        .collect()
}

/// `intel-rapl:0:1` from `[0, 1]`.
fn id(numbers: &[u32]) -> String {
    let parts: Vec<String> = numbers.iter().map(u32::to_string).collect();
    format!("intel-rapl:{}", parts.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_cross_one_wrap_and_refuse_a_reset() {
        assert_eq!(energy_delta_uj(1_000, 4_500, None), Some(3_500));
        // Wrapped at 262143328850 µJ, the usual range: 1000 µJ to the top, then 500.
        assert_eq!(energy_delta_uj(262_143_327_850, 500, Some(262_143_328_850)), Some(1_500));
        assert_eq!(energy_delta_uj(5_000, 10, None), None, "no range: cannot tell a wrap");
        assert_eq!(energy_delta_uj(5_000, 10, Some(1_000)), None, "beyond the range: a reset");
    }

    #[test]
    fn zones_are_named_under_their_package_and_sorted_numerically() {
        let root = tempfile::tempdir().unwrap();
        let powercap = root.path().join("sys/class/powercap");
        for (zone, name) in [
            ("intel-rapl:0", "package-0"),
            ("intel-rapl:0:1", "uncore"),
            ("intel-rapl:0:0", "core"),
            ("intel-rapl:10", "package-10"),
            ("intel-rapl:2", "psys"),
            ("intel-rapl-mmio:0", "package-0"),
        ] {
            let dir = powercap.join(zone);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("name"), format!("{name}\n")).unwrap();
            std::fs::write(dir.join("energy_uj"), "1\n").unwrap();
        }
        std::fs::create_dir_all(powercap.join("intel-rapl")).unwrap();
        let zones = find_rapl_zones(root.path());
        let found: Vec<(&str, &str, bool)> =
            zones.iter().map(|z| (z.id.as_str(), z.name.as_str(), z.top_level)).collect();
        assert_eq!(
            found,
            [
                ("intel-rapl:0", "package-0", true),
                ("intel-rapl:0:0", "package-0/core", false),
                ("intel-rapl:0:1", "package-0/uncore", false),
                ("intel-rapl:2", "psys", true),
                ("intel-rapl:10", "package-10", true),
            ]
        );
        assert!(zones[3].is_platform() && zones[0].is_package() && !zones[1].is_package());
        assert_eq!(zones[0].read_energy(), Access::Read(1));
    }
}
