//! Rows of `inferences.csv`: one per inference, timed or profiled, written as the run goes.
//!
//! Which inferences feed which statistic: warm unprofiled ones are `models.csv`'s latency
//! (`iterations`), cold ones its `cold_*` columns, profiled ones its op times
//! (`profiled_iterations`; with `--profile-every 1` they are the latency too). Here each is one
//! row, flagged, so the statistics can be recomputed any way one likes.

use std::borrow::Cow;

use crate::core::machine::PowerReading;
use crate::core::machine::SystemSample;
use crate::core::run::InferenceEntry;
use crate::core::state::millijoules;
pub use crate::schema::InferenceRecord;

impl<'a> InferenceRecord<'a> {
    /// The row of `e`, with its energy when known.
    #[must_use]
    pub fn new(e: &'a InferenceEntry, energy_mj: Option<f64>) -> Self {
        Self {
            t_ms: e.at_ns as f64 / 1e6,
            seq: e.seq,
            model: Cow::Borrowed(&e.model),
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
