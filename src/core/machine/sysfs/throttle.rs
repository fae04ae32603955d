//! Raspberry Pi firmware throttle flags and the types that report them.
//!
//! The firmware keeps one word: bit 0 under-voltage, bit 1 ARM frequency capped, bit 2
//! throttled, bit 3 soft temperature limit, each "now"; bits 16–19 the same "has occurred since
//! boot". The kernel shows it in a `get_throttled` file of the firmware device (hex without
//! `0x`), deprecated upstream; `vcgencmd get_throttled` prints it as `throttled=0x50005`; the
//! `rpi_volt` hwmon chip's `in0_lcrit_alarm` knows under-voltage only.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::read::{dir_entries, numbered_entries, read_trimmed, MAX_DIR_ENTRIES};

/// The four conditions of one half (now, or since boot) of the firmware word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[allow(clippy::struct_excessive_bools)] // they are four independent hardware flags
pub struct ThrottleBits {
    pub under_voltage: bool,
    pub freq_capped: bool,
    pub throttled: bool,
    pub soft_temp_limit: bool,
}

impl ThrottleBits {
    /// The four low bits of `nibble`, in the firmware's order.
    #[must_use]
    pub fn from_nibble(nibble: u32) -> Self {
        Self {
            under_voltage: nibble & 1 != 0,
            freq_capped: nibble & 2 != 0,
            throttled: nibble & 4 != 0,
            soft_temp_limit: nibble & 8 != 0,
        }
    }

    /// The bits back in the firmware's order.
    #[must_use]
    pub fn to_nibble(self) -> u32 {
        u32::from(self.under_voltage)
            | u32::from(self.freq_capped) << 1
            | u32::from(self.throttled) << 2
            | u32::from(self.soft_temp_limit) << 3
    }

    /// The "now" half of a firmware word.
    #[must_use]
    pub fn now_of(word: u32) -> Self {
        Self::from_nibble(word & 0xF)
    }

    /// The "since boot" half of a firmware word.
    #[must_use]
    pub fn since_boot_of(word: u32) -> Self {
        Self::from_nibble((word >> 16) & 0xF)
    }

    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self::from_nibble(self.to_nibble() | other.to_nibble())
    }

    /// The bits of `self` not in `other`.
    #[must_use]
    pub fn minus(self, other: Self) -> Self {
        Self::from_nibble(self.to_nibble() & !other.to_nibble())
    }

    /// Whether any condition is set.
    #[must_use]
    pub fn any(self) -> bool {
        self.to_nibble() != 0
    }

    /// `none`, or the set conditions joined by `+` (`capped+throttled`).
    #[must_use]
    pub fn describe(self) -> String {
        let names: Vec<&str> = [
            (self.under_voltage, "under-voltage"),
            (self.freq_capped, "capped"),
            (self.throttled, "throttled"),
            (self.soft_temp_limit, "soft-temp-limit"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join("+")
        }
    }
}

/// Where throttle flags came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ThrottleSource {
    /// The firmware device's `get_throttled` sysfs file.
    FirmwareSysfs,
    /// The `vcgencmd get_throttled` command (or whatever command was configured).
    Vcgencmd,
    /// The `rpi_volt` hwmon `in0_lcrit_alarm`: under-voltage only, no history.
    UnderVoltageAlarm,
}

/// Throttle flags as last read, with what happened during this run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ThrottleReport {
    pub source: ThrottleSource,
    /// The firmware word; `None` from the under-voltage alarm.
    pub raw: Option<u32>,
    /// Conditions now. From the alarm only `under_voltage` is meaningful.
    pub now: ThrottleBits,
    /// Conditions seen since boot; `None` where the source keeps no history (the alarm).
    pub since_boot: Option<ThrottleBits>,
    /// Conditions seen during this run: "since boot" bits that were not set at the first
    /// reading (or were set "now" then), plus every "now" bit read during the run.
    pub during_run: ThrottleBits,
}

/// The throttle state of a sample: `Unknown` where nothing can be read (any board other than a
/// Raspberry Pi), which is not the same as "not throttled".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub enum ThrottleState {
    #[default]
    Unknown,
    Known(ThrottleReport),
}

impl ThrottleState {
    /// The report, when the flags could be read.
    #[must_use]
    pub fn report(&self) -> Option<&ThrottleReport> {
        match self {
            Self::Unknown => None,
            Self::Known(report) => Some(report),
        }
    }

    /// Whether any condition holds now (under-voltage included: the firmware caps the clock
    /// then). `None` when unknown, and from the under-voltage alarm when it is clear, since the
    /// alarm cannot tell about heat.
    #[must_use]
    pub fn is_throttled(&self) -> Option<bool> {
        let report = self.report()?;
        match report.source {
            ThrottleSource::UnderVoltageAlarm => report.now.under_voltage.then_some(true),
            ThrottleSource::FirmwareSysfs | ThrottleSource::Vcgencmd => Some(report.now.any()),
        }
    }
}

/// Where older boards put the firmware file; checked before searching.
const USUAL_FIRMWARE_FILE: &str = "sys/devices/platform/soc/soc:firmware/get_throttled";
/// Levels of folders searched below `platform`. The firmware node sits two levels down on every
/// board seen (`soc/soc:firmware`, `soc@107c000000/soc@107c000000:firmware`), so the file is at
/// level 3; one more level is slack. The search runs once, when the sampler is made.
const SEARCH_DEPTH: usize = 4;

/// Finds the firmware's `get_throttled` file under `<root>/sys/devices/platform/`, wherever the
/// board's device tree put the firmware node. Symbolic links are not followed (sysfs is full of
/// loops), entries are visited in name order so the answer is stable, and at most
/// [`MAX_DIR_ENTRIES`] folders are searched per level.
#[must_use]
pub fn find_firmware_file(root: &Path) -> Option<PathBuf> {
    let usual = root.join(USUAL_FIRMWARE_FILE);
    if usual.is_file() {
        return Some(usual);
    }
    let mut level = vec![root.join("sys/devices/platform")];
    for _ in 0..SEARCH_DEPTH {
        let mut next = Vec::new();
        for dir in level {
            let mut entries: Vec<_> = dir_entries(&dir).collect();
            entries.sort_by_key(fs::DirEntry::file_name);
            for entry in entries {
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_file() && entry.file_name() == "get_throttled" {
                    return Some(entry.path());
                }
                // A bound on the work a strange tree can make: a real level has hundreds.
                if kind.is_dir() && next.len() < MAX_DIR_ENTRIES {
                    next.push(entry.path());
                }
            }
        }
        level = next;
    }
    None
}

/// Parses the firmware word from the sysfs file (`50005`), from `vcgencmd`
/// (`throttled=0x50005`) or with a bare `0x`; `None` when malformed.
#[must_use]
pub fn parse_firmware_word(text: &str) -> Option<u32> {
    let text = text.trim();
    let value = text.strip_prefix("throttled=").unwrap_or(text);
    let value = value.strip_prefix("0x").or_else(|| value.strip_prefix("0X")).unwrap_or(value);
    u32::from_str_radix(value, 16).ok()
}

/// Reads and parses a firmware `get_throttled` file.
#[must_use]
pub fn read_firmware_file(path: &Path) -> Option<u32> {
    parse_firmware_word(&read_trimmed(path)?)
}

/// The under-voltage alarm of the `rpi_volt` hwmon chip; `None` where there is none. Other
/// chips' `in0_lcrit_alarm` (current monitors, for example) mean something else and are not read.
#[must_use]
pub fn read_under_voltage_alarm(root: &Path) -> Option<bool> {
    numbered_entries(&root.join("sys/class/hwmon"), "hwmon")
        .into_iter()
        .filter(|(_, dir)| read_trimmed(&dir.join("name")).as_deref() == Some("rpi_volt"))
        .find_map(|(_, dir)| match read_trimmed(&dir.join("in0_lcrit_alarm"))?.as_str() {
            "0" => Some(false),
            "1" => Some(true),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_every_spelling() {
        assert_eq!(parse_firmware_word("50005\n"), Some(0x50005));
        assert_eq!(parse_firmware_word("throttled=0x50000\n"), Some(0x50000));
        assert_eq!(parse_firmware_word("0x0"), Some(0));
        assert_eq!(parse_firmware_word("throttled="), None);
        assert_eq!(parse_firmware_word("VCHI initialization failed"), None);
    }

    #[test]
    fn halves_of_a_word() {
        let word = 0x5_0005;
        let now = ThrottleBits::now_of(word);
        assert!(now.under_voltage && now.throttled && !now.freq_capped && !now.soft_temp_limit);
        assert_eq!(ThrottleBits::since_boot_of(word), now);
        assert_eq!(ThrottleBits::since_boot_of(0x8_0000).to_nibble(), 8);
        assert_eq!(now.minus(ThrottleBits::from_nibble(1)).to_nibble(), 4);
        assert_eq!(now.union(ThrottleBits::from_nibble(8)).to_nibble(), 0xD);
    }

    #[test]
    fn unknown_is_not_unthrottled() {
        assert_eq!(ThrottleState::Unknown.is_throttled(), None);
    }
}
