//! What the `OpenMetrics` endpoint (`--listen`, [`crate::export::listen`]) serves: a small,
//! immutable [`MetricsSnapshot`] of the state, taken on the front end's thread when a scrape
//! asks for one, and encoded on the server's thread ([`exposition`]), so that neither the
//! engine nor the state loop ever waits for a scraper.
//!
//! Figures are in base units (seconds, bytes, hertz, joules, ratios); an unknown figure is
//! absent from the snapshot and so from the exposition, never 0.

mod exposition;

use std::sync::Arc;

use crate::core::analysis::ModelSummary;
use crate::core::analysis::PARTS;
use crate::core::machine::MemoryUsage;
use crate::core::machine::ThrottleVerdict;
use crate::core::profiling::Category;
use crate::core::state::LatencyHistogram;
use crate::core::state::MonitorState;

pub use exposition::{encode, CONTENT_TYPE};

/// One model's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelMetrics {
    pub name: Arc<str>,
    /// `loading`, `running` or `failed`.
    pub status: &'static str,
    /// Every inference since the start (never reset).
    pub inferences: u64,
    /// Warm timed latencies since the start (never reset).
    pub latency: LatencyHistogram,
    /// The percentiles the screen shows, over the recent window, in seconds; p90 and p99 only
    /// once the window holds enough inferences for them.
    pub p50_s: Option<f64>,
    pub p90_s: Option<f64>,
    pub p99_s: Option<f64>,
    /// MACs per inference.
    pub macs: Option<f64>,
    /// Median latency per billion MACs, in seconds.
    pub per_gmac_s: Option<f64>,
    /// The latency the kernel calibration predicts, in seconds, and the median over it; absent
    /// without a calibration for this machine.
    pub predicted_s: Option<f64>,
    pub over_predicted: Option<f64>,
    /// Share of op time per category (key, ratio); empty before any profiled inference.
    pub shares: Vec<(&'static str, f64)>,
    pub page_faults_per_inference: Option<f64>,
    pub context_switches_per_inference: Option<f64>,
    /// Energy per warm inference, in joules, with the power source it comes from.
    pub energy_j: Option<(f64, Arc<str>)>,
    /// The roofline split of op time as shares (`compute`, `memory`, `below_peak`,
    /// `outside_kernels`: [`crate::core::analysis::PARTS`]); empty until the machine's limits and
    /// a profiled inference are known.
    pub roofline: Vec<(&'static str, f64)>,
}

/// The clock of one cpufreq policy, in hertz.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolicyClock {
    pub policy: u32,
    pub reported_hz: Option<f64>,
    pub max_hz: Option<f64>,
}

/// The machine as of the latest system sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MachineMetrics {
    /// The clock the engine measured, in hertz.
    pub measured_hz: Option<f64>,
    pub clocks: Vec<PolicyClock>,
    /// (zone or sensor name, °C); names made unique.
    pub temperatures: Vec<(String, f64)>,
    /// All throttle sources together: (now, during the run, since boot).
    pub throttled: [Option<bool>; 3],
    /// Each source's finding: (source, now, during the run, since boot).
    pub throttle_sources: Vec<(&'static str, [Option<bool>; 3])>,
    pub memory: Option<MemoryUsage>,
    pub process_rss_bytes: Option<u64>,
    /// CPU time infertop has used so far, in seconds.
    pub process_cpu_s: Option<f64>,
    /// The machine's power now, in watts, with its source.
    pub power_w: Option<(f64, String)>,
}

/// Everything the endpoint serves, as of one moment of the state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsSnapshot {
    pub models: Vec<ModelMetrics>,
    pub machine: MachineMetrics,
    /// The machine's measured peak MAC rate, in MACs per second.
    pub peak_macs_per_s: Option<f64>,
    /// The machine's measured memory bandwidth, in bytes per second.
    pub bandwidth_bytes_per_s: Option<f64>,
}

impl MetricsSnapshot {
    /// The figures of `state` now.
    #[must_use]
    pub fn of(state: &MonitorState) -> Self {
        let models = ModelSummary::all(state)
            .iter()
            .map(|summary| ModelMetrics {
                roofline: summary
                    .roofline()
                    .map_or_else(Vec::new, |r| PARTS.into_iter().zip(r.model.shares()).collect()),
                ..model_metrics(summary)
            })
            .collect();
        Self {
            models,
            machine: machine_metrics(state),
            peak_macs_per_s: state.peak_gmacs.map(|g| g * 1e9),
            bandwidth_bytes_per_s: state.bandwidth_gbs.map(|g| g * 1e9),
        }
    }
}

fn model_metrics(summary: &ModelSummary) -> ModelMetrics {
    let m = summary.model;
    let seconds = |ms: f64| ms / 1e3;
    let latency = summary.latency;
    ModelMetrics {
        name: Arc::clone(&m.name),
        status: summary.status_key(),
        inferences: m.counters.inferences,
        latency: m.counters.latency.clone(),
        p50_s: latency.map(|l| seconds(l.p50_ms)),
        p90_s: latency.and_then(|l| l.p90()).map(seconds),
        p99_s: latency.and_then(|l| l.p99()).map(seconds),
        macs: summary.macs,
        per_gmac_s: summary.ms_per_gmac.map(seconds),
        predicted_s: summary.predicted_ms.map(seconds),
        over_predicted: summary.measured_over_predicted,
        shares: Category::ALL.iter().zip(summary.shares).filter_map(|(c, share)| Some((c.key(), share?))).collect(),
        page_faults_per_inference: summary.faults_per_inference,
        context_switches_per_inference: summary.context_switches_per_inference,
        energy_j: summary.energy_mj_per_inference.zip(m.energy.source.clone()).map(|(mj, source)| (mj / 1e3, source)),
        roofline: Vec::new(),
    }
}

fn machine_metrics(state: &MonitorState) -> MachineMetrics {
    let measured_hz = state.machine.measured_mhz.map(|mhz| mhz * 1e6);
    let Some(sample) = state.system.last() else {
        return MachineMetrics { measured_hz, ..MachineMetrics::default() };
    };
    let hz = |khz: Option<u64>| khz.map(|k| k as f64 * 1e3);
    let verdict = ThrottleVerdict::of(sample);
    MachineMetrics {
        measured_hz,
        clocks: sample
            .cpufreq
            .iter()
            .map(|p| PolicyClock { policy: p.policy, reported_hz: hz(p.cur_khz), max_hz: hz(p.max_khz) })
            .collect(),
        temperatures: unique_names(sample.temps.iter().map(|t| (t.name.clone(), t.celsius))),
        throttled: [verdict.now(), verdict.during_run(), verdict.since_boot()],
        throttle_sources: verdict
            .findings
            .iter()
            .map(|f| (f.source.name(), [f.now, f.during_run, f.since_boot]))
            .collect(),
        memory: sample.memory,
        process_rss_bytes: sample.process_rss_bytes,
        process_cpu_s: sample.process_cpu_time_ms.map(|ms| ms as f64 / 1e3),
        power_w: sample.power.as_deref().and_then(|p| Some((p.watts.filter(|w| w.is_finite())?, p.source.clone()))),
    }
}

/// Readings with their names made unique (a second `nvme/temp1` becomes `nvme/temp1#2`): two
/// series with the same labels would make the whole exposition invalid.
fn unique_names(readings: impl Iterator<Item = (String, f64)>) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for (name, value) in readings {
        let mut unique = name.clone();
        let mut n = 1;
        while out.iter().any(|(taken, _)| *taken == unique) {
            n += 1;
            unique = format!("{name}#{n}");
        }
        out.push((unique, value));
    }
    out
}

#[cfg(test)]
mod tests;
