//! Rows of `inferences.csv`: one per inference, timed or profiled, written as the run goes.
//!
//! Which inferences feed which statistic: warm unprofiled ones are `models.csv`'s latency
//! (`iterations`), cold ones its `cold_*` columns, profiled ones its op times
//! (`profiled_iterations`; with `--profile-every 1` they are the latency too). Here each is one
//! row, flagged, so the statistics can be recomputed any way one likes.

use serde::Serialize;

use crate::core::machine::PowerReading;
use crate::core::machine::SystemSample;
use crate::core::run::InferenceEntry;
use crate::core::state::millijoules;

/// One row of `inferences.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InferenceRecord<'a> {
    /// When the inference ended, in ms since the session's epoch (`core::run::epoch`), as
    /// `system.csv`'s `t_ms` (which is whole ms).
    pub t_ms: f64,
    /// The engine's count of inferences in this run, across models (1 for the first).
    pub seq: u64,
    pub model: &'a str,
    /// Wall time of the forward pass.
    pub latency_ms: f64,
    /// Recorded by the op profiler, whose overhead is then in `latency_ms`.
    pub profiled: bool,
    /// The first inference after a switch from another model.
    pub cold: bool,
    /// The machine as of the latest system sample (none before the first): the clock the
    /// engine measured, the highest cpufreq reported, the hardware maximum, the headline
    /// temperature (the hottest CPU sensor, see `SystemSample::headline_temp`),
    /// and the throttle verdict from every source (`machine_throttled` in `system.csv`).
    pub freq_measured_mhz: Option<f64>,
    pub freq_cur_mhz: Option<f64>,
    pub freq_max_mhz: Option<f64>,
    pub temp_c: Option<f64>,
    pub throttled: Option<bool>,
    /// What the process incurred during the inference (all threads).
    pub minor_faults: Option<u64>,
    pub context_switches: Option<u64>,
    /// The energy the machine's power source measured over the inference: the mean power of
    /// the sample interval it ran in times its wall time (see `core::state::energy`). Empty without a
    /// power source, in the first interval (no mean power yet), and for the inferences of an
    /// interval no sample closed (the run's last).
    pub energy_mj: Option<f64>,
}

impl<'a> InferenceRecord<'a> {
    /// The row of `e`, with its energy when known.
    #[must_use]
    pub fn new(e: &'a InferenceEntry, energy_mj: Option<f64>) -> Self {
        Self {
            t_ms: e.at_ns as f64 / 1e6,
            seq: e.seq,
            model: &e.model,
            latency_ms: e.wall_ns as f64 / 1e6,
            profiled: e.profiled,
            cold: e.cold,
            freq_measured_mhz: e.machine.measured_mhz,
            freq_cur_mhz: e.machine.reported_mhz,
            freq_max_mhz: e.machine.max_mhz,
            temp_c: e.machine.celsius,
            throttled: e.machine.throttled,
            minor_faults: e.usage.map(|u| u.minor_faults),
            context_switches: e.usage.map(|u| u.context_switches),
            energy_mj,
        }
    }
}

/// Inferences held back until the sample that closes their interval, whose mean power gives
/// their energy. Only while the machine has a power source: elsewhere each row is written at
/// once, its energy empty.
#[derive(Debug, Default)]
pub(super) struct AwaitingEnergy {
    held: Vec<InferenceEntry>,
    /// The latest sample read a power source that may give the next interval's mean power.
    source: bool,
}

/// Inferences held at most: a few MB, seconds of the fastest model. A sampler that falls that
/// far behind gives no energy; the rows are written without it.
const MAX_HELD: usize = 20_000;

impl AwaitingEnergy {
    /// Holds `entry` until the next sample, if its energy can come; `false` when it is to be
    /// written now, without energy.
    pub(super) fn hold(&mut self, entry: &InferenceEntry) -> bool {
        if self.source && self.held.len() < MAX_HELD {
            self.held.push(entry.clone());
            return true;
        }
        false
    }

    /// The held inferences, each with its energy from `sample`, which closes their interval.
    pub(super) fn close(&mut self, sample: &SystemSample) -> Vec<(InferenceEntry, Option<f64>)> {
        let power = sample.power.as_deref();
        let watts = power.and_then(PowerReading::attributable_watts);
        self.source = power.is_some_and(|p| !p.needs_root);
        self.held
            .drain(..)
            .map(|e| {
                let energy = watts.map(|w| millijoules(w, e.wall_ns));
                (e, energy)
            })
            .collect()
    }

    /// The held inferences, whose interval no sample will close (the run ends).
    pub(super) fn release(&mut self) -> Vec<InferenceEntry> {
        std::mem::take(&mut self.held)
    }

    /// Inferences held now.
    pub(super) fn len(&self) -> usize {
        self.held.len()
    }
}
