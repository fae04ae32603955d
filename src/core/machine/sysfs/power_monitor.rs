//! Power monitor chips on hwmon (`/sys/class/hwmon/hwmon*`): bus voltage in mV, current in mA
//! and, where the chip computes it, power in µW, one set of files per channel.
//!
//! - TI INA3221 (`name` `ina3221`; Jetson modules carry one): three channels, each with
//!   `inN_input` (bus voltage) and `currN_input` for N = 1..3, labelled by the device tree
//!   (`inN_label`: `VDD_IN`, `VDD_CPU_GPU_CV`, `VDD_SOC` on an Orin Nano). The chip has no
//!   power register: power is V × I. `in4..in6` are the shunt voltages in µV, `in7` and
//!   `curr4` the sum over the channels; none of those is a rail, so none is read. A channel
//!   switched off (`inN_enable` 0) fails its reads and is left out.
//! - TI's one-channel monitors (`ina219`, `ina226`, `ina230`, `ina260`, `ina238`, ...; Raspberry Pi
//!   HATs carry an INA219 or INA226): one channel, `in1_input` (bus voltage), `curr1_input` and
//!   the chip's own `power1_input`; `in0_input` is the shunt voltage and not read.
//!
//! Other chips with power files (a GPU's `power1_average`, a battery's) measure something other
//! than the board, and are not read.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::read::{dir_entries, numbered_entries, read_parsed, read_trimmed};

/// One rail as last read. `watts` is the chip's power reading where it has one, else V × I.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RailPower {
    /// `chip/label` (`ina3221/VDD_IN`); unlabelled, `chip/inN` on a three-channel chip and the
    /// chip's name (`ina219`) on a one-channel one.
    pub name: String,
    pub volts: Option<f64>,
    pub amps: Option<f64>,
    pub watts: Option<f64>,
}

/// The files of one monitored rail, found once and read at every sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RailFiles {
    /// `ina3221`, `ina219`, ...
    pub chip: String,
    /// The channel's label, where the device tree or driver gives one.
    pub label: Option<String>,
    pub name: String,
    voltage_mv: PathBuf,
    current_ma: PathBuf,
    power_uw: Option<PathBuf>,
}

/// The most a board rail can plausibly draw; a reading above is a driver's garbage.
const PLAUSIBLE_WATTS: f64 = 10_000.0;

impl RailFiles {
    /// Reads the rail now. Each file read is a bus transfer to the chip (about half a
    /// millisecond on a Raspberry Pi's 100 kHz I2C: a register address out, two bytes back),
    /// so a chip with a power register is asked for that alone, and for voltage and current
    /// only when it fails.
    #[must_use]
    pub fn read(&self) -> RailPower {
        let plausible = |w: &f64| w.abs() <= PLAUSIBLE_WATTS;
        let chip_watts = self.power_uw.as_deref().and_then(read_parsed::<i64>).map(|uw| uw as f64 / 1e6);
        if let Some(watts) = chip_watts.filter(plausible) {
            return RailPower { name: self.name.clone(), volts: None, amps: None, watts: Some(watts) };
        }
        let millis = |path: &Path| read_parsed::<i64>(path).map(|v| v as f64 / 1000.0);
        let volts = millis(&self.voltage_mv);
        let amps = millis(&self.current_ma);
        let watts = volts.zip(amps).map(|(v, a)| v * a).filter(plausible);
        RailPower { name: self.name.clone(), volts, amps, watts }
    }

    /// Whether the chip is a one-channel monitor (an INA219, INA226, ...; not the INA3221).
    #[must_use]
    pub fn single_channel(&self) -> bool {
        self.chip != INA3221
    }
}

const INA3221: &str = "ina3221";

/// Every rail of every power monitor chip under `root`, in hwmon then channel order.
#[must_use]
pub fn find_power_rails(root: &Path) -> Vec<RailFiles> {
    let mut rails = Vec::new();
    for (_, dir) in numbered_entries(&root.join("sys/class/hwmon"), "hwmon") {
        let Some(chip) = read_trimmed(&dir.join("name")) else { continue };
        if chip == INA3221 {
            rails.extend((1..=3).filter_map(|n| channel(&dir, &chip, n, false)));
        } else if chip.starts_with("ina") && has_file(&dir, "curr1_input") {
            rails.extend(channel(&dir, &chip, 1, true));
        }
    }
    rails
}

/// Channel `n` of a chip, when its voltage and current files exist and it is not switched off;
/// a one-channel chip (INA219, INA226, ...) also has a power register.
fn channel(dir: &Path, chip: &str, n: u32, one_channel: bool) -> Option<RailFiles> {
    let voltage_mv = dir.join(format!("in{n}_input"));
    let current_ma = dir.join(format!("curr{n}_input"));
    if !voltage_mv.is_file() || !current_ma.is_file() {
        return None;
    }
    if read_trimmed(&dir.join(format!("in{n}_enable"))).as_deref() == Some("0") {
        return None;
    }
    let label = ["in", "curr", "power"].iter().find_map(|kind| read_trimmed(&dir.join(format!("{kind}{n}_label"))));
    let name = match (&label, one_channel) {
        (Some(label), _) => format!("{chip}/{label}"),
        (None, true) => chip.to_owned(),
        (None, false) => format!("{chip}/in{n}"),
    };
    let power_uw = one_channel.then(|| dir.join(format!("power{n}_input"))).filter(|p| p.is_file());
    Some(RailFiles { chip: chip.to_owned(), label, name, voltage_mv, current_ma, power_uw })
}

fn has_file(dir: &Path, name: &str) -> bool {
    dir_entries(dir).any(|entry| entry.file_name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        std::fs::create_dir_all(dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), format!("{text}\n")).unwrap();
        }
    }

    #[test]
    fn ina3221_channels_are_v_times_i_and_sums_are_no_rail() {
        let root = tempfile::tempdir().unwrap();
        let chip = root.path().join("sys/class/hwmon/hwmon3");
        write(
            &chip,
            &[
                ("name", "ina3221"),
                ("in1_label", "VDD_IN"),
                ("in1_input", "5000"),
                ("curr1_input", "1200"),
                ("in2_input", "5000"),
                ("curr2_input", "-4"),
                ("in3_label", "VDD_SOC"),
                ("in3_enable", "0"),
                ("in3_input", "5000"),
                ("curr3_input", "300"),
                ("in7_input", "9000"),
                ("curr4_input", "1496"),
            ],
        );
        let rails = find_power_rails(root.path());
        let names: Vec<&str> = rails.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["ina3221/VDD_IN", "ina3221/in2"], "channel 3 is switched off");
        let vdd_in = rails[0].read();
        assert_eq!((vdd_in.volts, vdd_in.amps, vdd_in.watts), (Some(5.0), Some(1.2), Some(6.0)));
        // A rail near idle can read a little below zero; it is kept as read.
        assert_eq!(rails[1].read().watts, Some(-0.02));
        assert!(!rails[0].single_channel());
    }

    #[test]
    fn ina2xx_uses_its_own_power_register_and_other_chips_are_ignored() {
        let root = tempfile::tempdir().unwrap();
        let hwmon = root.path().join("sys/class/hwmon");
        write(
            &hwmon.join("hwmon0"),
            &[
                ("name", "ina219"),
                ("in0_input", "12"),
                ("in1_input", "5120"),
                ("curr1_input", "1210"),
                ("power1_input", "6200000"),
            ],
        );
        write(&hwmon.join("hwmon1"), &[("name", "amdgpu"), ("power1_average", "42000000"), ("curr1_input", "3")]);
        write(&hwmon.join("hwmon2"), &[("name", "ina226")]);
        let rails = find_power_rails(root.path());
        assert_eq!(rails.len(), 1, "{rails:?}");
        let rail = rails[0].read();
        assert_eq!(rail.name, "ina219");
        // 6.2 W from the chip, not 5.12 V × 1.21 A = 6.195 W; voltage and current are not asked.
        assert_eq!((rail.volts, rail.amps, rail.watts), (None, None, Some(6.2)));
        assert!(rails[0].single_channel());

        // Without a power reading, voltage times current; without a current, nothing.
        write(&hwmon.join("hwmon0"), &[("power1_input", "garbage")]);
        let rail = rails[0].read();
        assert_eq!((rail.volts, rail.amps), (Some(5.12), Some(1.21)));
        assert!((rail.watts.unwrap() - 6.1952).abs() < 1e-9);
        write(&hwmon.join("hwmon0"), &[("curr1_input", "")]);
        let rail = rails[0].read();
        assert_eq!((rail.volts, rail.amps, rail.watts), (Some(5.12), None, None));
    }
}
