//! The Raspberry Pi 5 PMIC's rails, as `vcgencmd pmic_read_adc` prints them: one line per ADC
//! channel, currents first, then voltages, each rail twice under its name with `_A` or `_V`:
//!
//! ```text
//!   VDD_CORE_A current(7)=2.81000000A
//!   VDD_CORE_V volt(15)=0.88000000V
//!      EXT5V_V volt(24)=5.11000000V
//! ```
//!
//! A rail's power is its current times its voltage; `EXT5V` (the 5 V input) and `BATT` (the
//! RTC cell) have a voltage only and are no rail. The sum covers what the PMIC supplies (the
//! system on chip, memory, I/O), not USB devices or the PMIC's own losses. The command needs
//! access to `/dev/vcio` (the `video` group); a board without the chip (a Pi 4) answers with an
//! error line, which parses as nothing.

use std::collections::BTreeMap;

use super::RailPower;

/// The rails with both a current and a voltage, in name order, named `pmic/<rail>`; `None`
/// when there is none (an error message, an empty output).
#[must_use]
pub fn parse_pmic_adc(text: &str) -> Option<Vec<RailPower>> {
    let mut rails: BTreeMap<&str, (Option<f64>, Option<f64>)> = BTreeMap::new();
    for line in text.lines() {
        let Some((channel, value)) = line.trim().split_once('=') else { continue };
        let Some((name, kind)) = channel.split_whitespace().next().and_then(|n| n.rsplit_once('_')) else {
            continue;
        };
        let unit = match kind {
            "A" => 'A',
            "V" => 'V',
            _ => continue,
        };
        let Some(number) = value.trim().strip_suffix(unit).and_then(|v| v.parse::<f64>().ok()) else {
            continue;
        };
        if !number.is_finite() {
            continue;
        }
        let entry = rails.entry(name).or_default();
        if unit == 'A' {
            entry.0 = Some(number);
        } else {
            entry.1 = Some(number);
        }
    }
    let paired: Vec<RailPower> = rails
        .into_iter()
        .filter_map(|(name, (amps, volts))| {
            let (amps, volts) = (amps?, volts?);
            Some(RailPower {
                name: format!("pmic/{name}"),
                volts: Some(volts),
                amps: Some(amps),
                watts: Some(volts * amps),
            })
        })
        .collect();
    (!paired.is_empty()).then_some(paired)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Pi 5 running inference on four cores, in the layout `vcgencmd pmic_read_adc` prints
    /// (12 currents, then 14 voltages; values written for the test, see the fixtures README).
    const RECORDED: &str = include_str!("../../../../tests/fixtures/commands/rpi5-pmic_read_adc.txt");

    #[test]
    fn rails_pair_current_and_voltage_and_add_up() {
        let rails = parse_pmic_adc(RECORDED).expect("rails");
        assert_eq!(rails.len(), 12, "EXT5V and BATT have no current");
        let core = rails.iter().find(|r| r.name == "pmic/VDD_CORE").unwrap();
        assert_eq!((core.amps, core.volts), (Some(3.65), Some(0.88)));
        assert!((core.watts.unwrap() - 3.212).abs() < 1e-9);
        // By hand: 0.021643776 + 0.24156 + 0.289872 + 0.169092 + 0.005856 + 0.209352
        // + 0.257664 + 3.212 + 0.00161172 + 0.001410255 + 0.00424908 + 0.0871794 = 4.50149 W.
        let total: f64 = rails.iter().filter_map(|r| r.watts).sum();
        assert!((total - 4.501_49).abs() < 1e-5, "{total}");
    }

    #[test]
    fn errors_and_odd_lines_parse_as_nothing() {
        assert_eq!(parse_pmic_adc("error=1 error_msg=\"Command not registered\"\n"), None);
        assert_eq!(parse_pmic_adc(""), None);
        // A voltage without its current, NaN, a unit that does not match the kind.
        assert_eq!(parse_pmic_adc("BATT_V volt(25)=nanV\nX_A current(1)=3.0V\nEXT5V_V volt(24)=5.1V\n"), None);
        let one = parse_pmic_adc("  A_A current(1)=2.0A\n  A_V volt(2)=0.5V\n").unwrap();
        assert_eq!(one[0].watts, Some(1.0));
    }
}
