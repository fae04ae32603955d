//! Rows of `inferences.csv`: one per inference, timed or profiled, written as the run goes.
//!
//! Which inferences feed which statistic: warm unprofiled ones are `models.csv`'s latency
//! (`iterations`), cold ones its `cold_*` columns, profiled ones its op times
//! (`profiled_iterations`; with `--profile-every 1` they are the latency too). Here each is one
//! row, flagged, so the statistics can be recomputed any way one likes.

use serde::Serialize;

use crate::core::journal::InferenceEntry;

/// One row of `inferences.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InferenceRecord<'a> {
    /// When the inference ended, in ms since the run's epoch: the clock of `system.csv`'s
    /// `t_ms` (which is whole ms).
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
    /// engine measured, the highest cpufreq reported, the hardware maximum, the hottest sensor,
    /// and the throttle verdict from every source (`machine_throttled` in `system.csv`).
    pub freq_measured_mhz: Option<f64>,
    pub freq_cur_mhz: Option<f64>,
    pub freq_max_mhz: Option<f64>,
    pub temp_c: Option<f64>,
    pub throttled: Option<bool>,
    /// What the process incurred during the inference (all threads).
    pub minor_faults: Option<u64>,
    pub context_switches: Option<u64>,
    /// Energy of the inference where the machine has an energy source; no source is read yet,
    /// so the column is always empty in this version.
    pub energy_mj: Option<f64>,
}

impl<'a> From<&'a InferenceEntry> for InferenceRecord<'a> {
    fn from(e: &'a InferenceEntry) -> Self {
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
            energy_mj: None,
        }
    }
}
