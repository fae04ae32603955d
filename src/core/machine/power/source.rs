//! Which power source a machine has: looked for once, when the sampler starts (hwmon chips and
//! powercap zones do not come and go during a run), and named for the user.

use std::path::Path;

use super::PowerScope;
use crate::core::machine::sysfs::{find_power_rails, find_rapl_zones, RailFiles, RaplZone};

/// What the machine's watts come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The sum of these rails (indices into [`PowerSources::rails`]).
    Rails { rails: Vec<usize>, scope: PowerScope },
    /// The sum of these counters (indices into [`PowerSources::zones`]).
    Counters { zones: Vec<usize>, scope: PowerScope },
    /// The Raspberry Pi 5 PMIC through its command.
    Pmic,
    /// Nothing: power is n/a.
    Nothing,
}

/// Every power file found under a root, and the choice among them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PowerSources {
    pub rails: Vec<RailFiles>,
    pub zones: Vec<RaplZone>,
    pub choice: Choice,
}

impl PowerSources {
    /// Looks under `root`; `has_command` says whether the PMIC command may be tried when no
    /// file source exists.
    #[must_use]
    pub fn find(root: &Path, has_command: bool) -> Self {
        let rails = find_power_rails(root);
        let zones = find_rapl_zones(root);
        let choice = choose(&rails, &zones, has_command);
        Self { rails, zones, choice }
    }

    /// The chosen source's name (`ina3221/VDD_IN`, `RAPL package-0`, `PMIC rails`) and scope.
    #[must_use]
    pub fn describe(&self) -> Option<(String, PowerScope)> {
        match &self.choice {
            Choice::Rails { rails, scope } => {
                let names: Vec<&str> = rails.iter().map(|&i| self.rails[i].name.as_str()).collect();
                Some((names.join("+"), *scope))
            }
            Choice::Counters { zones, scope } => {
                let names: Vec<&str> = zones.iter().map(|&i| self.zones[i].name.as_str()).collect();
                Some((format!("RAPL {}", names.join("+")), *scope))
            }
            Choice::Pmic => Some(("PMIC rails".into(), PowerScope::PmicRails)),
            Choice::Nothing => None,
        }
    }
}

/// Labels of a board's input rail: `VDD_IN` on Jetson Xavier and Orin modules, `POM_5V_IN` on
/// older Jetsons' power monitors.
fn is_input_label(label: &str) -> bool {
    label == "VDD_IN" || label == "VIN" || label.starts_with("POM_5V_IN")
}

fn is_cpu_label(label: &str) -> bool {
    let label = label.to_ascii_uppercase();
    label.contains("CPU") || label.contains("SOC")
}

/// The best source, in the order of the module documentation of [`crate::core::machine::power`].
fn choose(rails: &[RailFiles], zones: &[RaplZone], has_command: bool) -> Choice {
    let indices = |keep: &dyn Fn(&RailFiles) -> bool| -> Vec<usize> {
        rails.iter().enumerate().filter(|(_, r)| keep(r)).map(|(i, _)| i).collect()
    };
    let labelled_input = indices(&|r| r.label.as_deref().is_some_and(is_input_label));
    // A one-channel monitor on a board with no other (a Pi HAT) sits on the supply it was
    // wired into, the board's input as HATs are built.
    let single = indices(&|r| r.single_channel());
    if let Some(&first) = labelled_input.first().or(single.first()) {
        return Choice::Rails { rails: vec![first], scope: PowerScope::BoardInput };
    }
    if let Some(psys) = zones.iter().position(RaplZone::is_platform) {
        return Choice::Counters { zones: vec![psys], scope: PowerScope::Platform };
    }
    let packages: Vec<usize> = zones.iter().enumerate().filter(|(_, z)| z.is_package()).map(|(i, _)| i).collect();
    if !packages.is_empty() {
        return Choice::Counters { zones: packages, scope: PowerScope::CpuPackage };
    }
    let cpu = indices(&|r| r.label.as_deref().is_some_and(is_cpu_label));
    if !cpu.is_empty() {
        return Choice::Rails { rails: cpu, scope: PowerScope::CpuRails };
    }
    if has_command {
        Choice::Pmic
    } else {
        Choice::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, format!("{text}\n")).unwrap();
        }
    }

    /// An INA3221 without an input rail (as on a Jetson AGX Orin): its CPU and `SOC` rails.
    #[test]
    fn without_an_input_rail_the_cpu_rails_add_up() {
        let root = tempfile::tempdir().unwrap();
        let chip = "sys/class/hwmon/hwmon0";
        let mut files = vec![(format!("{chip}/name"), "ina3221".to_owned())];
        for (n, label) in [(1, "VDD_GPU_SOC"), (2, "VDD_CPU_CV"), (3, "VIN_SYS_5V0")] {
            files.push((format!("{chip}/in{n}_label"), label.to_owned()));
            files.push((format!("{chip}/in{n}_input"), "5000".to_owned()));
            files.push((format!("{chip}/curr{n}_input"), "100".to_owned()));
        }
        let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        write(root.path(), &files);
        let sources = PowerSources::find(root.path(), true);
        assert_eq!(sources.choice, Choice::Rails { rails: vec![0, 1], scope: PowerScope::CpuRails });
        assert_eq!(sources.describe(), Some(("ina3221/VDD_GPU_SOC+ina3221/VDD_CPU_CV".into(), PowerScope::CpuRails)));
    }

    #[test]
    fn psys_wins_over_packages_and_the_command_comes_last() {
        let root = tempfile::tempdir().unwrap();
        let zone = |n: &str, name: &str| {
            [
                (format!("sys/class/powercap/intel-rapl:{n}/name"), name.to_owned()),
                (format!("sys/class/powercap/intel-rapl:{n}/energy_uj"), "1".to_owned()),
            ]
        };
        let files: Vec<(String, String)> = [zone("0", "package-0"), zone("1", "psys")].concat();
        let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        write(root.path(), &files);
        let sources = PowerSources::find(root.path(), true);
        assert_eq!(sources.describe(), Some(("RAPL psys".into(), PowerScope::Platform)));

        let empty = tempfile::tempdir().unwrap();
        assert_eq!(PowerSources::find(empty.path(), true).choice, Choice::Pmic);
        assert_eq!(PowerSources::find(empty.path(), false).describe(), None);
    }
}
