//! One summary per model: every derived figure (rates, shares, status), computed once here and
//! only formatted by the front ends and the export. An unknown figure is `None`, never 0, so a
//! CSV field is empty, a JSON value `null` and a table cell a dash alike.

use std::sync::OnceLock;

use crate::core::analysis::model_profile::{model_profile, profiled_latency_ms, ModelProfile};
use crate::core::analysis::roofline::{model_roofline, Limits, Roofline};
use crate::core::common::stats::LatencySummary;
use crate::core::profiling::ops::Category;
use crate::core::run::event::ModelId;
use crate::core::state::monitor::{ModelState, ModelStatus, MonitorState};

/// A model's figures, per inference (one forward pass of the whole batch).
#[derive(Clone, Debug)]
pub struct ModelSummary<'a> {
    pub id: ModelId,
    pub model: &'a ModelState,
    /// The state the figures come from (for the roofline, worked out on first use).
    state: &'a MonitorState,
    /// The machine's limits, once both are measured.
    pub limits: Option<Limits>,
    /// See [`Self::roofline`].
    roofline: OnceLock<Option<Roofline>>,
    pub profile: ModelProfile,
    /// Latency of the timed (unprofiled) inferences.
    pub latency: Option<LatencySummary>,
    /// MACs per inference, known once the model is calibrated and MACs were counted in it.
    pub macs: Option<f64>,
    /// Images per second: batch / mean latency.
    pub inferences_per_s: Option<f64>,
    /// Median latency per billion MACs: what one unit of arithmetic costs in time.
    pub ms_per_gmac: Option<f64>,
    /// Achieved GMAC/s at the median latency.
    pub gmacs_per_s: Option<f64>,
    /// `gmacs_per_s` over the machine's measured peak.
    pub peak_share: Option<f64>,
    /// Share of op time per category, in [`Category::ALL`] order; `None` before op time.
    pub shares: [Option<f64>; Category::ALL.len()],
    /// Share of op time spent outside convolutions.
    pub non_conv_share: Option<f64>,
    /// Throttled mean latency over unthrottled mean, minus one.
    pub throttle_penalty: Option<f64>,
    /// Sum of the top-level ops' time: what the shares divide.
    pub op_ms: Option<f64>,
    /// Mean wall time of the profiled inferences (`op_ms` is part of it).
    pub profiled_latency_ms: Option<f64>,
    /// What the op profiler adds to an inference it records: the profiled inferences' mean wall
    /// time over the warm p50, minus 1 (0.06: 6 % slower). `None` until both are known, and when
    /// every inference is profiled (`--profile-every 1`: the p50 is of profiled ones too).
    pub profiler_cost: Option<f64>,
    /// Latency of the first inference after a switch (dwell schedule).
    pub cold: Option<LatencySummary>,
    /// What a switch from another model costs: cold p50 minus warm p50.
    pub switch_cost_ms: Option<f64>,
    /// Minor page faults per warm inference.
    pub faults_per_inference: Option<f64>,
    /// Context switches per warm inference.
    pub context_switches_per_inference: Option<f64>,
    /// Energy per warm inference, in mJ (see [`crate::core::state::energy`]); `None` without a power
    /// source or before a measured interval.
    pub energy_mj_per_inference: Option<f64>,
    /// The same per billion MACs.
    pub energy_mj_per_gmac: Option<f64>,
    /// Where the energy figures come from (`ina3221/VDD_IN`, `RAPL package-0`).
    pub power_source: Option<&'a str>,
    /// The latency the kernel calibration predicts (the sum of its ops, issue #29).
    pub predicted_ms: Option<f64>,
    /// Warm p50 over `predicted_ms`: what even a per-kernel model cannot see (1.3: 30 % more
    /// time than its kernels account for).
    pub measured_over_predicted: Option<f64>,
}

impl<'a> ModelSummary<'a> {
    /// The summary of model `id`.
    #[must_use]
    pub fn new(state: &'a MonitorState, id: ModelId, model: &'a ModelState) -> Self {
        let profile = model_profile(&state.tree, model);
        let latency = model.latency.summary();
        // A calibration that found no op it can count MACs for knows nothing: unknown, not 0.
        let macs = model.scope.map(|_| profile.macs).filter(|m| *m > 0.0);
        let p50 = latency.map(|s| s.p50_ms).filter(|ms| *ms > 0.0);
        let gmacs_per_s = macs.zip(p50).map(|(macs, ms)| macs / (ms * 1e6));
        let measured = model.scope.is_some() && model.profiled > 0;
        let shares = shares(&profile);
        let energy = model.energy.per_inference_mj();
        let predicted_ms = model.prediction.as_ref().map(|p| p.ms).filter(|ms| *ms > 0.0);
        Self {
            id,
            model,
            state,
            limits: Limits::of(state),
            roofline: OnceLock::new(),
            latency,
            macs,
            inferences_per_s: latency.and_then(|s| images_per_s(model, s.mean_ms)),
            ms_per_gmac: macs.zip(p50).map(|(macs, ms)| ms / (macs / 1e9)),
            gmacs_per_s,
            peak_share: gmacs_per_s.zip(state.peak_gmacs.filter(|p| *p > 0.0)).map(|(g, p)| g / p),
            non_conv_share: non_conv_share(&profile),
            shares,
            throttle_penalty: model.throttle.penalty(),
            op_ms: measured.then_some(profile.op_ms),
            profiled_latency_ms: profiled_latency_ms(model),
            profiler_cost: profiled_latency_ms(model)
                .zip(p50)
                .filter(|_| state.profile_every > 1)
                .map(|(profiled, p50)| profiled / p50 - 1.0),
            cold: model.cold.summary(),
            switch_cost_ms: model.cold.summary().zip(latency).map(|(cold, warm)| cold.p50_ms - warm.p50_ms),
            faults_per_inference: model.usage.faults_per_inference(),
            context_switches_per_inference: model.usage.switches_per_inference(),
            energy_mj_per_inference: energy,
            energy_mj_per_gmac: energy.zip(macs).map(|(mj, macs)| mj / (macs / 1e9)),
            power_source: energy.and(model.energy.source.as_deref()),
            predicted_ms,
            measured_over_predicted: p50.zip(predicted_ms).map(|(measured, predicted)| measured / predicted),
            profile,
        }
    }

    /// The model's op time split four ways by the roofline ([`model_roofline`]), worked out
    /// once, the first time a consumer asks (the table of every frame does not); `None` before
    /// profiled inferences or the machine's limits.
    pub fn roofline(&self) -> Option<&Roofline> {
        self.roofline.get_or_init(|| model_roofline(self.state, self.model)).as_ref()
    }

    /// The profiler's cost over every model that knows it: the median of their
    /// [`Self::profiler_cost`], and that spread over the run's inferences (one in
    /// `profile_every` pays it).
    #[must_use]
    pub fn profiler_cost_of_run(summaries: &[Self], profile_every: u32) -> Option<(f64, f64)> {
        let mut costs: Vec<f64> = summaries.iter().filter_map(|s| s.profiler_cost).filter(|c| c.is_finite()).collect();
        costs.sort_by(f64::total_cmp);
        let median = crate::core::common::stats::quantile_sorted(&costs, 0.5)?;
        Some((median, median / f64::from(profile_every.max(1))))
    }

    /// Every model's summary, in model order.
    #[must_use]
    pub fn all(state: &'a MonitorState) -> Vec<Self> {
        state.models.iter().enumerate().map(|(id, m)| Self::new(state, id, m)).collect()
    }

    /// Images per inference.
    #[must_use]
    pub fn batch(&self) -> Option<i64> {
        self.model.info.as_ref().map(|i| i.batch)
    }

    /// MACs per image.
    #[must_use]
    pub fn macs_per_image(&self) -> Option<f64> {
        let batch = self.batch()?.max(1);
        self.macs.filter(|m| *m > 0.0).map(|m| m / batch as f64)
    }

    /// `loading`, `running` or `failed`, as every front end names it.
    #[must_use]
    pub fn status_key(&self) -> &'static str {
        self.model.status.key()
    }

    /// The failure, for a failed model.
    #[must_use]
    pub fn error(&self) -> Option<&'a str> {
        match &self.model.status {
            ModelStatus::Failed(e) => Some(e.as_str()),
            ModelStatus::Loading | ModelStatus::Running => None,
        }
    }
}

/// Images per second at a mean latency of `mean_ms`.
fn images_per_s(model: &ModelState, mean_ms: f64) -> Option<f64> {
    let batch = model.info.as_ref().map_or(1, |i| i.batch) as f64;
    (mean_ms > 0.0).then(|| batch * 1000.0 / mean_ms)
}

/// The share of op time outside convolutions: one minus the `Conv2D` share Detail shows.
#[must_use]
pub fn non_conv_share(profile: &ModelProfile) -> Option<f64> {
    profile.time_share(Category::Conv2d).map(|s| (1.0 - s).clamp(0.0, 1.0))
}

/// Category shares of op time, in [`Category::ALL`] order; all `None` before any op time.
fn shares(profile: &ModelProfile) -> [Option<f64>; Category::ALL.len()] {
    Category::ALL.map(|c| profile.time_share(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::run::event::{Event, Inference};

    fn inference(seq: u64, ms: u64, profiled: bool) -> Event {
        Event::Inference(Inference {
            model: 0,
            seq,
            wall_ns: ms * 1_000_000,
            at_ns: seq * 100_000_000,
            profiled,
            cold: false,
            usage: None,
            ops: Vec::new(),
        })
    }

    #[test]
    fn the_profilers_cost_is_the_profiled_mean_over_the_warm_p50() {
        let mut state = MonitorState::new(&["m"]);
        state.apply(Event::Profiling { every: 4 });
        for seq in 0..12 {
            let profiled = seq % 4 == 0;
            state.apply(inference(seq, if profiled { 11 } else { 10 }, profiled));
        }
        let all = ModelSummary::all(&state);
        assert!((all[0].profiler_cost.unwrap() - 0.1).abs() < 1e-9, "{:?}", all[0].profiler_cost);
        let (median, run) = ModelSummary::profiler_cost_of_run(&all, 4).unwrap();
        assert!((median - 0.1).abs() < 1e-9 && (run - 0.025).abs() < 1e-9);
        // Every inference profiled: the p50 is of profiled ones, there is nothing to compare.
        state.apply(Event::Profiling { every: 1 });
        assert_eq!(ModelSummary::all(&state)[0].profiler_cost, None);
        assert_eq!(ModelSummary::profiler_cost_of_run(&ModelSummary::all(&state), 1), None);
    }
}
