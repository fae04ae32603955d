//! Power and energy: which source a machine has ([`source`]), what it read at a sample
//! ([`PowerReading`]), and the mean power over the interval before it, which the state
//! attributes to the inferences that ran then ([`crate::core::state::energy`]).
//!
//! Sources, best first: a power monitor on the board's input rail (a Jetson's INA3221
//! `VDD_IN`, a Raspberry Pi HAT's INA219/INA226); RAPL's `psys`, then its packages (x86: the
//! CPU package, not the whole machine); a power monitor's CPU and system-on-chip rails added up; the
//! Raspberry Pi 5 PMIC's rails through `vcgencmd pmic_read_adc` ([`pmic`]). A machine with none
//! has no reading: "n/a", never 0 W.

pub mod pmic;
pub mod source;

use serde::Serialize;

pub use crate::core::machine::sysfs::power_monitor::RailPower;

/// What a source's watts cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PowerScope {
    /// The board's input: everything on it.
    BoardInput,
    /// RAPL `psys`: the platform as the processor sees it (on laptops, most of the machine).
    Platform,
    /// RAPL packages: cores, caches, memory controller and integrated GPU only.
    CpuPackage,
    /// A power monitor's CPU and system-on-chip rails, without the rest of the board.
    CpuRails,
    /// The Raspberry Pi 5 PMIC's rails: the system on chip, memory and I/O supplies, without USB devices, the
    /// fan or the conversion losses.
    PmicRails,
}

impl PowerScope {
    /// What the watts cover, for the screen.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::BoardInput => "board input",
            Self::Platform => "platform",
            Self::CpuPackage => "CPU package only",
            Self::CpuRails => "CPU and SoC rails only",
            Self::PmicRails => "PMIC rails, not USB or losses",
        }
    }
}

/// One RAPL counter as read at a sample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnergyCounter {
    /// `package-0`, `package-0/core`, `psys`.
    pub name: String,
    /// µJ since the counter's own start; `None` when unreadable.
    pub energy_uj: Option<u64>,
    /// The file is there and only root may read it.
    pub needs_root: bool,
}

/// The machine's power at one sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PowerReading {
    /// What the watts are: `ina3221/VDD_IN`, `RAPL package-0`, `PMIC rails`.
    pub source: String,
    pub scope: PowerScope,
    /// The source exists but only root may read it (RAPL since Linux 5.10): no watts, and not 0.
    pub needs_root: bool,
    /// Power now: a monitor's latest reading; for counters, which have no "now", the mean over
    /// the interval since the sample before.
    pub watts: Option<f64>,
    /// Mean power over the interval since the sample before: the energy the interval used over
    /// its length. Counters give it exactly; a monitor's readings are averaged (trapezoid).
    /// `None` at the first sample and after a failed reading.
    pub interval_watts: Option<f64>,
    /// Every monitored rail (the source's and the others), for the screen and `system.csv`.
    pub rails: Vec<RailPower>,
    /// Every RAPL counter.
    pub counters: Vec<EnergyCounter>,
}

impl PowerReading {
    /// A reading of `source` with nothing read yet.
    #[must_use]
    pub fn new(source: String, scope: PowerScope) -> Self {
        Self {
            source,
            scope,
            needs_root: false,
            watts: None,
            interval_watts: None,
            rails: Vec::new(),
            counters: Vec::new(),
        }
    }

    /// The interval's mean power when it can be attributed: known, finite and not negative
    /// (a rail's offset can read a little below zero at idle; a whole source below zero is
    /// no measurement).
    #[must_use]
    pub fn attributable_watts(&self) -> Option<f64> {
        self.interval_watts.filter(|w| w.is_finite() && *w >= 0.0)
    }
}

/// The sum of `values` when every one is known.
pub(crate) fn sum_all(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    values.into_iter().try_fold(0.0, |sum, v| Some(sum + v?))
}
