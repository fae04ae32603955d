//! Temperatures from thermal zones (`/sys/class/thermal/thermal_zone*/{type,temp}`) and hwmon
//! chips (`/sys/class/hwmon/hwmon*/{name,temp*_input,temp*_label}`), both in millidegrees C.
//!
//! Zone names are listed, never assumed: Jetson boards call theirs `cpu-thermal` or
//! `CPU-therm` depending on the release.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::{dir_entries, numbered_entries, read_parsed, read_trimmed};

/// One temperature sensor's reading.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TempReading {
    /// The zone type (`cpu-thermal`, `x86_pkg_temp`) or `chip/label` for hwmon
    /// (`coretemp/Package id 0`, `nvme/temp1` when unlabelled).
    pub name: String,
    pub celsius: f64,
}

/// Readings outside this range are sentinels of absent sensors (an Orin Nano reports its
/// missing DLA zones at −256 °C), not temperatures.
const PLAUSIBLE_CELSIUS: std::ops::RangeInclusive<f64> = -60.0..=200.0;

/// Millidegrees as read from sysfs to °C, dropping implausible values.
fn millis_to_celsius(millis: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)] // sensor values are far below 2^52
    let celsius = millis as f64 / 1000.0;
    PLAUSIBLE_CELSIUS.contains(&celsius).then_some(celsius)
}

/// All readable temperatures: thermal zones first, then hwmon sensors that do not merely
/// mirror a zone. A missing or malformed sensor is left out.
#[must_use]
pub fn read_temperatures(root: &Path) -> Vec<TempReading> {
    let zones = read_thermal_zones(root);
    let zone_types: HashSet<String> = zones.iter().map(|(kind, _)| hwmon_style(kind)).collect();
    let mut readings = unique_names(zones);
    readings.extend(read_hwmon_temps(root, &zone_types));
    readings
}

/// `(type, reading)` for each zone; the reading is `None` when missing or implausible.
fn read_thermal_zones(root: &Path) -> Vec<(String, Option<f64>)> {
    numbered_entries(&root.join("sys/class/thermal"), "thermal_zone")
        .into_iter()
        // Unreadable zones are kept here: their hwmon mirror must still be recognised.
        .map(|(number, dir)| {
            let kind = read_trimmed(&dir.join("type")).unwrap_or_else(|| format!("thermal_zone{number}"));
            (kind, read_parsed(&dir.join("temp")).and_then(millis_to_celsius))
        })
        .collect()
}

/// Drops unreadable zones and makes repeated zone types (several `acpitz` zones on a laptop)
/// distinguishable as `acpitz`, `acpitz#2`, ...
fn unique_names(zones: Vec<(String, Option<f64>)>) -> Vec<TempReading> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    zones
        .into_iter()
        .filter_map(|(kind, celsius)| {
            let count = seen.entry(kind.clone()).or_insert(0);
            *count += 1;
            let name = if *count == 1 { kind } else { format!("{kind}#{count}") };
            Some(TempReading { name, celsius: celsius? })
        })
        .collect()
}

/// The name the kernel gives a zone's hwmon mirror (`cpu-thermal` becomes `cpu_thermal`).
fn hwmon_style(name: &str) -> String {
    name.replace('-', "_")
}

/// Temperatures of hwmon chips, skipping chips named after a thermal zone: the kernel registers
/// such a mirror for many zones (`cpu_thermal` on a Pi, `acpitz` on a laptop).
fn read_hwmon_temps(root: &Path, zone_types: &HashSet<String>) -> Vec<TempReading> {
    let mut readings = Vec::new();
    for (number, dir) in numbered_entries(&root.join("sys/class/hwmon"), "hwmon") {
        let chip = read_trimmed(&dir.join("name"))
            .or_else(|| read_trimmed(&dir.join("device/name")))
            .unwrap_or_else(|| format!("hwmon{number}"));
        if zone_types.contains(&hwmon_style(&chip)) {
            continue;
        }
        for index in temp_indices(&dir) {
            let Some(celsius) = read_parsed(&dir.join(format!("temp{index}_input"))).and_then(millis_to_celsius) else {
                continue;
            };
            let label = read_trimmed(&dir.join(format!("temp{index}_label"))).unwrap_or_else(|| format!("temp{index}"));
            readings.push(TempReading { name: format!("{chip}/{label}"), celsius });
        }
    }
    readings
}

/// The `N` of every `tempN_input` in a hwmon directory, ascending.
fn temp_indices(dir: &Path) -> Vec<u32> {
    let mut indices: Vec<u32> = dir_entries(dir)
        .filter_map(|entry| {
            let name = entry.file_name();
            name.to_str()?.strip_prefix("temp")?.strip_suffix("_input")?.parse().ok()
        })
        .collect();
    indices.sort_unstable();
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinels_and_ordinary_values() {
        assert_eq!(millis_to_celsius(48_686), Some(48.686));
        assert_eq!(millis_to_celsius(-256_000), None);
        assert_eq!(millis_to_celsius(-5_000), Some(-5.0));
        assert_eq!(millis_to_celsius(1_000_000), None);
    }

    #[test]
    fn repeated_zone_types_get_numbered_and_unreadable_ones_vanish() {
        let zones =
            vec![("acpitz".to_owned(), Some(27.8)), ("acpitz".to_owned(), Some(29.8)), ("iwlwifi_1".to_owned(), None)];
        let names: Vec<String> = unique_names(zones).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["acpitz", "acpitz#2"]);
    }
}
