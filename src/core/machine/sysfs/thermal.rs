//! Temperatures from thermal zones (`/sys/class/thermal/thermal_zone*/{type,temp}`) and hwmon
//! chips (`/sys/class/hwmon/hwmon*/{name,temp*_input,temp*_label}`), both in millidegrees C.
//!
//! Zone names are listed, never assumed: Jetson boards call theirs `cpu-thermal` or
//! `CPU-therm` depending on the release.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::read::{dir_entries, numbered_entries, read_parsed, read_trimmed, unique_names};

/// One temperature sensor's reading.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TempReading {
    /// The zone type (`cpu-thermal`, `x86_pkg_temp`) or `chip/label` for hwmon
    /// (`coretemp/Package id 0`, `nvme/temp1` when unlabelled).
    pub name: String,
    pub celsius: f64,
}

impl TempReading {
    /// Whether this is one of the CPU's own sensors (see [`super::cpu_sensor`]).
    #[must_use]
    pub fn is_cpu(&self) -> bool {
        super::cpu_sensor::is_cpu_sensor(&self.name)
    }
}

/// Readings outside this range are sentinels of absent sensors (an Orin Nano reports its
/// missing DLA zones at −256 °C), not temperatures.
const PLAUSIBLE_CELSIUS: std::ops::RangeInclusive<f64> = -60.0..=200.0;

/// Millidegrees as read from sysfs to °C, dropping implausible values.
pub(crate) fn millis_to_celsius(millis: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)] // sensor values are far below 2^52
    let celsius = millis as f64 / 1000.0;
    PLAUSIBLE_CELSIUS.contains(&celsius).then_some(celsius)
}

/// All readable temperatures: thermal zones first, then hwmon sensors that do not merely
/// mirror a zone. A missing or malformed sensor is left out.
#[must_use]
pub fn read_temperatures(root: &Path) -> Vec<TempReading> {
    let zones = zones(root);
    // Unreadable zones count here too: their hwmon mirror must still be recognised.
    let zone_types: HashSet<String> = zones.iter().map(|zone| hwmon_style(&zone.kind)).collect();
    let mut readings: Vec<TempReading> = zones
        .into_iter()
        .filter_map(|zone| Some(TempReading { celsius: read_celsius(&zone.dir.join("temp"))?, name: zone.name }))
        .collect();
    readings.extend(read_hwmon_temps(root, &zone_types));
    readings
}

/// A thermal zone's folder and the names it goes by.
pub(crate) struct Zone {
    /// `type` as the kernel writes it; `thermal_zoneN` when unreadable.
    pub kind: String,
    /// The type made unique among the zones (`acpitz`, `acpitz#2`): what readings are called.
    pub name: String,
    pub dir: PathBuf,
}

/// Every zone under `root`, in zone order, readable or not.
pub(crate) fn zones(root: &Path) -> Vec<Zone> {
    let found: Vec<(String, PathBuf)> = numbered_entries(&root.join("sys/class/thermal"), "thermal_zone")
        .into_iter()
        .map(|(number, dir)| (read_trimmed(&dir.join("type")).unwrap_or_else(|| format!("thermal_zone{number}")), dir))
        .collect();
    let names = unique_names(found.iter().map(|(kind, _)| kind.as_str()));
    found.into_iter().zip(names).map(|((kind, dir), name)| Zone { kind, name, dir }).collect()
}

/// A millidegree file as °C; `None` when missing, malformed or implausible.
pub(crate) fn read_celsius(path: &Path) -> Option<f64> {
    read_parsed(path).and_then(millis_to_celsius)
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
            let Some(celsius) = read_celsius(&dir.join(format!("temp{index}_input"))) else {
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
}
