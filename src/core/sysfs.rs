//! Pure readers of Linux sysfs (thermal zones, hwmon, cpufreq, Raspberry Pi throttle flags),
//! all taking the filesystem root as an argument: `/` on a board, a recorded tree in tests.
//!
//! Nothing here fails: a missing, unreadable or malformed file reads as `None` (or is left out
//! of a list), because a VM without sensors is a normal place to run.

pub mod cpufreq;
pub mod thermal;
pub mod throttle;

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use cpufreq::{read_policies, CpuFreqPolicy};
pub use thermal::{read_temperatures, TempReading};
pub use throttle::{ThrottleBits, ThrottleReport, ThrottleSource, ThrottleState};

/// The file's contents without surrounding whitespace; `None` when it cannot be read or is
/// empty.
pub(crate) fn read_trimmed(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The file parsed as one value; `None` when missing or malformed.
pub(crate) fn read_parsed<T: FromStr>(path: &Path) -> Option<T> {
    read_trimmed(path)?.parse().ok()
}

/// Entries of `dir` named `<prefix><number>` (such as `thermal_zone3`), sorted by number so
/// that `thermal_zone10` comes after `thermal_zone2`. A missing directory gives none.
pub(crate) fn numbered_entries(dir: &Path, prefix: &str) -> Vec<(u32, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let number = name.to_str()?.strip_prefix(prefix)?.parse().ok()?;
            Some((number, entry.path()))
        })
        .collect();
    found.sort_unstable_by_key(|(number, _)| *number);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_entries_sort_numerically_and_skip_others() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["zone10", "zone2", "zone", "zonex", "other1"] {
            fs::create_dir(dir.path().join(name)).unwrap();
        }
        let numbers: Vec<u32> = numbered_entries(dir.path(), "zone").into_iter().map(|(n, _)| n).collect();
        assert_eq!(numbers, [2, 10]);
        assert!(numbered_entries(&dir.path().join("missing"), "zone").is_empty());
    }

    #[test]
    fn read_parsed_treats_garbage_and_empty_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("temp");
        fs::write(&path, "garbage\n").unwrap();
        assert_eq!(read_parsed::<i64>(&path), None);
        fs::write(&path, "\n").unwrap();
        assert_eq!(read_parsed::<i64>(&path), None);
        fs::write(&path, " 48686\n").unwrap();
        assert_eq!(read_parsed::<i64>(&path), Some(48686));
    }
}
