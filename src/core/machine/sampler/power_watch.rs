//! The machine's power over a run: the source is looked for at the first sample, then each
//! sample reads it and works out the mean power over the interval since the sample before,
//! from two monitor readings or from the counters' difference (across a wrap).

use std::time::{Duration, Instant};

use super::config::SamplerConfig;
use super::throttle_watch::run_command;
use crate::core::machine::power::pmic::parse_pmic_adc;
use crate::core::machine::power::source::{Choice, PowerSources};
use crate::core::machine::power::{sum_all, EnergyCounter, PowerReading, RailPower};
use crate::core::machine::sysfs::rapl::energy_delta_uj;
use crate::core::machine::sysfs::{Access, RailFiles, RaplZone};

/// The shortest time between two runs of the PMIC command: each is a process start and a
/// firmware mailbox call, a few milliseconds on a Pi 5, too many for every sample at 20 Hz.
/// Samples in between keep the latest reading.
pub(super) const PMIC_INTERVAL: Duration = Duration::from_secs(1);

/// The reading the next interval starts from.
enum Previous {
    Watts(f64),
    Counters { at: Instant, uj: Vec<u64> },
}

pub(super) struct PowerWatch {
    sources: PowerSources,
    command: Option<Vec<String>>,
    /// The PMIC command's latest rails and when it ran.
    pmic: Option<(Instant, Vec<RailPower>)>,
    previous: Option<Previous>,
}

impl PowerWatch {
    pub(super) fn new(config: &SamplerConfig) -> Self {
        let command = config.power_command.clone().filter(|command| !command.is_empty());
        Self { sources: PowerSources::find(&config.root, command.is_some()), command, pmic: None, previous: None }
    }

    /// The reading for a sample at `now`; `None` where the machine has no source.
    pub(super) fn next(&mut self, now: Instant) -> Option<PowerReading> {
        let (source, scope) = self.sources.describe()?;
        let mut reading = PowerReading::new(source, scope);
        reading.rails = self.sources.rails.iter().map(RailFiles::read).collect();
        let counters: Vec<Access<u64>> = self.sources.zones.iter().map(RaplZone::read_energy).collect();
        reading.counters = self
            .sources
            .zones
            .iter()
            .zip(&counters)
            .map(|(zone, access)| EnergyCounter {
                name: zone.name.clone(),
                energy_uj: access.clone().value(),
                needs_root: *access == Access::Denied,
            })
            .collect();
        match self.sources.choice.clone() {
            Choice::Rails { rails, .. } => {
                let watts = sum_all(rails.iter().map(|&i| reading.rails[i].watts));
                self.instant(&mut reading, watts);
            }
            Choice::Counters { zones, .. } => self.counters(&mut reading, &counters, &zones, now),
            Choice::Pmic => {
                let rails = self.pmic_rails(now)?;
                let watts = sum_all(rails.iter().map(|rail| rail.watts));
                reading.rails.extend(rails);
                self.instant(&mut reading, watts);
            }
            Choice::Nothing => return None,
        }
        Some(reading)
    }

    /// A monitor's reading: the interval's mean is that of its two ends.
    fn instant(&mut self, reading: &mut PowerReading, watts: Option<f64>) {
        reading.watts = watts;
        if let (Some(Previous::Watts(before)), Some(after)) = (&self.previous, watts) {
            reading.interval_watts = Some(f64::midpoint(*before, after));
        }
        self.previous = watts.map(Previous::Watts);
    }

    /// Counters: the energy since the sample before over the time since then. A refused
    /// counter makes the reading "needs root"; a missing one leaves it without watts.
    fn counters(&mut self, reading: &mut PowerReading, counters: &[Access<u64>], zones: &[usize], now: Instant) {
        reading.needs_root = zones.iter().any(|&i| counters[i] == Access::Denied);
        let values: Option<Vec<u64>> = zones.iter().map(|&i| counters[i].clone().value()).collect();
        let Some(values) = values else {
            self.previous = None;
            return;
        };
        if let Some(Previous::Counters { at, uj }) = &self.previous {
            let seconds = now.saturating_duration_since(*at).as_secs_f64();
            let used: Option<u64> = zones
                .iter()
                .zip(uj.iter().zip(&values))
                .map(|(&i, (&before, &after))| energy_delta_uj(before, after, self.sources.zones[i].max_range_uj))
                .sum();
            reading.interval_watts = used.filter(|_| seconds > 0.0).map(|uj| uj as f64 / 1e6 / seconds);
            reading.watts = reading.interval_watts;
        }
        self.previous = Some(Previous::Counters { at: now, uj: values });
    }

    /// The PMIC's rails, read again at most every [`PMIC_INTERVAL`]. A command that fails (not
    /// installed, no access to `/dev/vcio`, a board without the chip) is given up for the run.
    fn pmic_rails(&mut self, now: Instant) -> Option<Vec<RailPower>> {
        let fresh = self.pmic.as_ref().is_none_or(|(at, _)| now.saturating_duration_since(*at) >= PMIC_INTERVAL);
        if fresh {
            let Some(rails) = self.command.as_deref().and_then(run_command).as_deref().and_then(parse_pmic_adc) else {
                self.command = None;
                self.sources.choice = Choice::Nothing;
                self.pmic = None;
                return None;
            };
            self.pmic = Some((now, rails));
        }
        self.pmic.as_ref().map(|(_, rails)| rails.clone())
    }
}
