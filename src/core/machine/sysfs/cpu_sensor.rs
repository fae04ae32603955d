//! Which temperature sensors measure the CPU itself, told from the names the kernel gives them:
//! the headline temperature is the CPU's, and a machine's hottest chip is often something else
//! (a Wi-Fi radio, an SSD, a GPU).
//!
//! - hwmon chips of CPU drivers: `coretemp` (Intel: `Package id 0`, `Core N`), `k10temp` (AMD:
//!   `Tctl`, `Tdie`, `TccdN`), `zenpower` (AMD, out of tree), `k8temp`, `via_cputemp`;
//! - thermal zones: `x86_pkg_temp`; `cpu-thermal` (Raspberry Pi, Jetson Orin), `CPU-therm`
//!   (older Jetsons), `cpu_thermal`, and the per-cluster Arm zones whose type starts with `cpu`
//!   (`cpu0-thermal`, `cpu-1-0-thermal`, `cpuss-0-thermal`); `soc-thermal` (Rockchip's CPU
//!   zone); `bigcore0-thermal` and `littlecore-thermal` (RK3588); `mpu-thermal` (TI);
//! - the hwmon mirrors of those zones (`cpu_thermal`).
//!
//! Numbered system-on-chip zones (`soc0-thermal` on a Jetson) and junction maxima (`tj-thermal`) cover
//! more than the CPU and are not counted.

/// hwmon drivers whose every sensor is on the CPU.
const CPU_CHIPS: [&str; 5] = ["coretemp", "k10temp", "zenpower", "k8temp", "via_cputemp"];

/// Whether the reading called `name` (a zone type, made unique with `#N`, or hwmon
/// `chip/label`) is one of the CPU's own sensors.
#[must_use]
pub fn is_cpu_sensor(name: &str) -> bool {
    match name.split_once('/') {
        Some((chip, _label)) => CPU_CHIPS.contains(&chip) || is_cpu_zone(chip),
        // `unique_names` numbers repeated zone types: `x86_pkg_temp#2` is the second package.
        None => is_cpu_zone(name.rsplit_once('#').map_or(name, |(kind, _)| kind)),
    }
}

/// Whether a thermal zone type (or the hwmon name of its mirror) is the CPU's.
fn is_cpu_zone(kind: &str) -> bool {
    // Zones spell words with `-`, their hwmon mirrors with `_`; Jetsons capitalise.
    let kind = kind.to_ascii_lowercase().replace('_', "-");
    let thermal = kind.contains("therm");
    kind == "x86-pkg-temp"
        || kind == "soc-thermal"
        || kind == "mpu-thermal"
        || (thermal && ["cpu", "bigcore", "littlecore"].iter().any(|prefix| kind.starts_with(prefix)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_sensors_by_driver_and_zone_type() {
        for name in [
            "coretemp/Package id 0",
            "coretemp/Core 3",
            "k10temp/Tctl",
            "k10temp/Tdie",
            "zenpower/Tccd1",
            "x86_pkg_temp",
            "x86_pkg_temp#2",
            "cpu-thermal",
            "cpu_thermal/temp1",
            "CPU-therm",
            "cpu0-thermal",
            "cpu-1-0-thermal",
            "cpuss-0-thermal",
            "soc-thermal",
            "bigcore0-thermal",
            "littlecore-thermal",
        ] {
            assert!(is_cpu_sensor(name), "{name}");
        }
    }

    #[test]
    fn other_chips_are_not_the_cpu() {
        for name in [
            "mt7996_phy0_2/temp1",
            "iwlwifi_1",
            "nvme/Composite",
            "acpitz",
            "acpitz#2",
            "amdgpu/edge",
            "gpu-thermal",
            "soc0-thermal",
            "tj-thermal",
            "GPU-therm",
            "pch_cannonlake",
            "hwmon3/temp1",
            "cpufan/temp1",
        ] {
            assert!(!is_cpu_sensor(name), "{name}");
        }
    }
}
