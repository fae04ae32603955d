//! Rows of `models.csv`, `ops.csv` and `layers.csv`: serde structs whose field names are the
//! column headers, built from the state with the same analysis the TUI shows.
//!
//! Times and MACs are per inference (one forward pass of the whole batch). Rates derived from
//! latency use the median (p50), as the headless lines do. An `Option` that is `None` is an
//! empty field: not measured (not profiled, no MAC count, no peak), never zero.

use serde::Serialize;

use crate::core::analysis::observations;
use crate::core::analysis::op_rows as model_op_rows;
use crate::core::analysis::ModelSummary;
use crate::core::analysis::{comparisons, Comparison};
use crate::core::analysis::{leave_one_out, Prediction};
use crate::core::analysis::{model_roofline, Split};
use crate::core::analysis::{predict_model, ModelPrediction};
use crate::core::models::OutputCheck;
use crate::core::state::LeftOut;
use crate::core::state::{ModelState, MonitorState, LATENCY_WINDOW};

mod layers;
pub use layers::{layer_rows, LayerRecord};

/// One row of `models.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ModelRecord<'a> {
    pub model: &'a str,
    pub params: Option<u64>,
    /// Per inference (whole batch), from the calibration pass.
    pub macs: Option<f64>,
    /// Inferences since the start or the last reset.
    pub iterations: u64,
    pub latency_ms_mean: Option<f64>,
    /// Percentiles cover the latest `percentile_window` inferences; mean, min and max all.
    pub latency_ms_p50: Option<f64>,
    /// 95 % confidence interval of the median (distribution-free, from order statistics).
    pub latency_ms_p50_ci_low: Option<f64>,
    pub latency_ms_p50_ci_high: Option<f64>,
    /// Empty below 10 samples in the window.
    pub latency_ms_p90: Option<f64>,
    /// Empty below 100 samples in the window.
    pub latency_ms_p99: Option<f64>,
    pub latency_ms_min: Option<f64>,
    pub latency_ms_max: Option<f64>,
    /// Images per second: batch / mean latency.
    pub inferences_per_s: Option<f64>,
    /// Median latency per billion MACs.
    pub ms_per_gmac: Option<f64>,
    /// MACs over median latency.
    pub gmacs_per_s: Option<f64>,
    /// `gmacs_per_s` over the machine's measured peak.
    pub peak_share: Option<f64>,
    pub share_conv2d: Option<f64>,
    pub share_batchnorm: Option<f64>,
    pub share_relu: Option<f64>,
    pub share_concat: Option<f64>,
    pub share_add: Option<f64>,
    pub share_pool: Option<f64>,
    pub share_linear: Option<f64>,
    pub share_bookkeeping: Option<f64>,
    pub share_other: Option<f64>,
    /// Throttled mean latency over unthrottled mean, minus one.
    pub throttle_penalty: Option<f64>,
    /// 95 % confidence interval of the penalty (delta method); one that includes 0 is noise.
    pub throttle_penalty_ci_low: Option<f64>,
    pub throttle_penalty_ci_high: Option<f64>,
    /// Mean latency scaled to the full clock.
    pub latency_ms_full_clock: Option<f64>,
    pub throttled_inferences: Option<u64>,
    /// `loading`, `running` or `failed`.
    pub status: &'static str,
    pub error: Option<&'a str>,
    /// Reference top-1 error in %, from the manifest.
    pub top1_error_pct: Option<f64>,
    /// `arch:<name>`, or the path of a scripted model (`model.pt`).
    pub source: Option<&'a str>,
    pub batch: Option<i64>,
    /// Input shape per image, `3x224x224`.
    pub input_chw: Option<String>,
    pub macs_per_image: Option<f64>,
    /// Bytes of the top-level ops' inputs and outputs per inference.
    pub bytes: Option<f64>,
    /// Profiled inferences (their latency includes the profiler's cost).
    pub profiled_iterations: u64,
    /// Of the latest profiled inferences (`core::state::profiled_window`), those whose op times are in
    /// the shares, `op_ms` and `ops.csv`/`layers.csv`, and those left out: stalled (wall time
    /// far above the others') or run while other work competed for the cores.
    pub profiled_kept: u64,
    pub profiled_stalled: u64,
    pub profiled_contended: u64,
    pub percentile_window: u64,
    /// Sum of the top-level ops' time per inference: what the shares divide.
    pub op_ms: Option<f64>,
    /// Mean wall time of the profiled inferences (`op_ms` is part of it).
    pub latency_ms_profiled_mean: Option<f64>,
    /// What the op profiler adds to the inferences it records (0.06: 6 % slower; see
    /// `core::analysis::summary`); empty with `--profile-every 1`.
    pub profiler_cost: Option<f64>,
    pub peak_gmacs_per_s: Option<f64>,
    /// First inferences after a switch from another model (dwell schedule), kept out of the
    /// latency columns above.
    pub cold_iterations: u64,
    pub cold_latency_ms_p50: Option<f64>,
    /// Cold p50 minus warm p50: what switching models costs this one.
    pub switch_cost_ms: Option<f64>,
    /// Minor page faults per warm inference (the process's, all threads).
    pub minor_faults_per_inference: Option<f64>,
    pub context_switches_per_inference: Option<f64>,
    /// Energy per warm inference in mJ: each inference's wall time times the mean power of the
    /// sample interval it ran in, averaged (see `core::state::energy`); empty without a power source.
    pub energy_mj_per_inference: Option<f64>,
    /// `energy_mj_per_inference` per billion MACs.
    pub energy_mj_per_gmac: Option<f64>,
    /// Inferences behind the energy figures (those of intervals with a power reading).
    pub energy_iterations: u64,
    /// What the watts came from (`ina3221/VDD_IN`, `RAPL package-0`, `PMIC rails`); empty when
    /// there is no energy figure.
    pub power_source: Option<&'a str>,
    /// The machine's memory bandwidth through libtorch (GB/s), beside `peak_gmacs_per_s`.
    pub bandwidth_gb_per_s: Option<f64>,
    /// The roofline split of `op_ms` (see `core::analysis::roofline`): time the MACs at the peak explain
    /// (compute floor), time the bytes at the bandwidth explain (memory floor), time inside the
    /// convolution and matrix-multiply kernels beyond their floor (below peak), and the rest
    /// (outside kernels: dispatch, bookkeeping, allocation, ops without such a kernel). The four
    /// add up to `op_ms`.
    pub compute_ms: Option<f64>,
    pub memory_ms: Option<f64>,
    pub below_peak_ms: Option<f64>,
    pub outside_kernels_ms: Option<f64>,
    /// The latency the MAC-only model (latency = a·MACs + c) fitted on the other models gives
    /// this one (leave-one-model-out; empty below three measured models).
    pub latency_ms_left_out_mac_fit: Option<f64>,
    /// The same from the op-level model (per op kind: a·MACs + b·bytes + c·calls).
    pub latency_ms_left_out_op_fit: Option<f64>,
    /// The latency this machine's kernel calibration predicts from the model's shapes alone
    /// (`core::limits::kernels`; no timing of the model in it); empty without a calibration.
    pub latency_ms_predicted: Option<f64>,
    /// For a what-if variant's row (`resnet50 ⟨fold-bn⟩`): the change (`fold-bn`,
    /// `threads=1`) and the model it changes; empty for a model of the manifest.
    pub variant: Option<String>,
    pub base_model: Option<&'a str>,
    /// The variant's output against the original's on the same input: largest absolute
    /// difference, and that over the largest |original output|.
    pub output_max_abs_diff: Option<f64>,
    pub output_max_rel_diff: Option<f64>,
    /// Whether `output_max_rel_diff` is within the stated tolerance (1e-4); a variant that
    /// does not agree is never called faster.
    pub output_agrees: Option<bool>,
    /// Median latency over the original's, minus one (−0.2: 20 % faster), with a conservative
    /// 95 % interval from the two medians' intervals.
    pub delta_p50: Option<f64>,
    pub delta_p50_ci_low: Option<f64>,
    pub delta_p50_ci_high: Option<f64>,
    /// `faster`, `slower`, `no clear change` (the interval holds 0), `output differs`, `pending`.
    pub what_if_verdict: Option<&'static str>,
}

/// The roofline columns of a row (compute, memory, below peak, outside kernels), all empty
/// when unmeasured.
pub(super) fn split_columns(split: Option<Split>) -> [Option<f64>; 4] {
    split.map_or([None; 4], |s| s.parts().map(Some))
}

/// One row of `ops.csv`: an op under one parent op, per inference.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OpRecord<'a> {
    pub model: &'a str,
    pub op: String,
    /// The op it ran under; empty for top-level ops (whose `total_ms` add up to `op_ms`).
    pub parent_op: Option<String>,
    /// `conv2d`, `batchnorm`, ... as in the `share_*` columns.
    pub category: &'static str,
    pub calls_per_inference: Option<f64>,
    pub self_ms: Option<f64>,
    /// Counted only where no op of the same name is above it, so recursion is not counted
    /// twice: a call nested in its namesake shows 0 here (its time is in the outer call's).
    pub total_ms: Option<f64>,
    /// Counted like `total_ms`.
    pub macs: f64,
    pub bytes: f64,
    pub gmacs_per_s: Option<f64>,
    /// Roofline split of `total_ms`, for top-level ops (a nested op's time is in its parent's):
    /// the four add up to `total_ms`.
    pub compute_ms: Option<f64>,
    pub memory_ms: Option<f64>,
    pub below_peak_ms: Option<f64>,
    pub outside_kernels_ms: Option<f64>,
}

/// `models.csv`, in model order.
#[must_use]
pub fn model_rows(state: &MonitorState) -> Vec<ModelRecord<'_>> {
    let fitted = leave_one_out(&observations(state));
    let compared = comparisons(state);
    ModelSummary::all(state)
        .into_iter()
        .enumerate()
        .map(|(id, sum)| {
            let left_out = fitted.as_ref().and_then(|f| f.predictions.iter().find(|p| p.model == id));
            let mut record = model_record(state, &sum, left_out);
            if let Some(c) = compared.iter().find(|c| c.model == id) {
                add_what_if(&mut record, state, c);
            }
            record
        })
        .collect()
}

/// The what-if columns of a variant's row.
fn add_what_if<'a>(record: &mut ModelRecord<'a>, state: &'a MonitorState, c: &Comparison) {
    let check = c.check.as_ref().ok();
    record.variant = Some(c.variant.to_string());
    record.base_model = state.models.get(c.base).map(|m| &*m.name);
    record.output_max_abs_diff = check.map(|k| k.max_abs);
    record.output_max_rel_diff = check.map(|k| k.max_rel);
    record.output_agrees = Some(check.is_some_and(OutputCheck::agrees));
    record.delta_p50 = c.delta_p50;
    record.delta_p50_ci_low = c.delta_ci.map(|ci| ci.0);
    record.delta_p50_ci_high = c.delta_ci.map(|ci| ci.1);
    record.what_if_verdict = Some(c.verdict.label());
}

fn model_record<'a>(state: &MonitorState, sum: &ModelSummary<'a>, left_out: Option<&Prediction>) -> ModelRecord<'a> {
    let m = sum.model;
    let lat = sum.latency;
    let info = m.info.as_ref();
    let shares = sum.shares;
    let [compute_ms, memory_ms, below_peak_ms, outside_kernels_ms] = split_columns(sum.roofline().map(|r| r.model));
    ModelRecord {
        model: &m.name,
        params: info.map(|i| i.params),
        macs: sum.macs,
        iterations: lat.map_or(0, |s| s.count),
        latency_ms_mean: lat.map(|s| s.mean_ms),
        latency_ms_p50: lat.map(|s| s.p50_ms),
        latency_ms_p50_ci_low: lat.and_then(|s| s.p50_ci_ms).map(|ci| ci.0),
        latency_ms_p50_ci_high: lat.and_then(|s| s.p50_ci_ms).map(|ci| ci.1),
        latency_ms_p90: lat.and_then(|s| s.p90()),
        latency_ms_p99: lat.and_then(|s| s.p99()),
        latency_ms_min: lat.map(|s| s.min_ms),
        latency_ms_max: lat.map(|s| s.max_ms),
        inferences_per_s: sum.inferences_per_s,
        ms_per_gmac: sum.ms_per_gmac,
        gmacs_per_s: sum.gmacs_per_s,
        peak_share: sum.peak_share,
        share_conv2d: shares[0],
        share_batchnorm: shares[1],
        share_relu: shares[2],
        share_concat: shares[3],
        share_add: shares[4],
        share_pool: shares[5],
        share_linear: shares[6],
        share_bookkeeping: shares[7],
        share_other: shares[8],
        throttle_penalty: sum.throttle_penalty,
        throttle_penalty_ci_low: m.throttle.penalty_ci().map(|ci| ci.0),
        throttle_penalty_ci_high: m.throttle.penalty_ci().map(|ci| ci.1),
        latency_ms_full_clock: m.throttle.full_clock_ms(),
        throttled_inferences: m.throttle.throttled_count(),
        status: sum.status_key(),
        error: sum.error(),
        top1_error_pct: info.and_then(|i| i.top1_error),
        source: info.map(|i| i.source.as_str()),
        batch: sum.batch(),
        input_chw: info.map(|i| i.input.map(|d| d.to_string()).join("x")),
        macs_per_image: sum.macs_per_image(),
        bytes: m.scope.map(|_| sum.profile.bytes),
        profiled_iterations: m.window.seen(),
        profiled_kept: m.profiled,
        profiled_stalled: m.window.left_out(LeftOut::Stalled) as u64,
        profiled_contended: m.window.left_out(LeftOut::Contended) as u64,
        percentile_window: lat.map_or(0, |s| s.count.min(LATENCY_WINDOW as u64)),
        op_ms: sum.op_ms,
        latency_ms_profiled_mean: sum.profiled_latency_ms,
        profiler_cost: sum.profiler_cost,
        peak_gmacs_per_s: state.peak_gmacs,
        cold_iterations: sum.cold.map_or(0, |c| c.count),
        cold_latency_ms_p50: sum.cold.map(|c| c.p50_ms),
        switch_cost_ms: sum.switch_cost_ms,
        minor_faults_per_inference: sum.faults_per_inference,
        context_switches_per_inference: sum.context_switches_per_inference,
        energy_mj_per_inference: sum.energy_mj_per_inference,
        energy_mj_per_gmac: sum.energy_mj_per_gmac,
        energy_iterations: m.energy.inferences,
        power_source: sum.power_source,
        bandwidth_gb_per_s: state.bandwidth_gbs,
        compute_ms,
        memory_ms,
        below_peak_ms,
        outside_kernels_ms,
        latency_ms_left_out_mac_fit: left_out.map(|p| p.mac_model_ms),
        latency_ms_left_out_op_fit: left_out.map(|p| p.op_model_ms),
        latency_ms_predicted: prediction(state, m).map(|p| p.ms),
        ..ModelRecord::default()
    }
}

/// A count as a float; counts of MACs, bytes and nanoseconds stay far below 2^52.
#[allow(clippy::cast_precision_loss)]
pub(super) fn as_f64(n: u64) -> f64 {
    n as f64
}

/// Whether op times have been measured for the model.
pub(super) fn profiled(m: &ModelState) -> bool {
    m.scope.is_some() && m.profiled > 0
}

/// `ops.csv`: per model (in model order), its ops by parent op, largest self time first.
#[must_use]
pub fn op_rows(state: &MonitorState) -> Vec<OpRecord<'_>> {
    let mut out = Vec::new();
    for m in &state.models {
        let measured = profiled(m);
        let timed = |v: f64| measured.then_some(v);
        let split = model_roofline(state, m);
        for r in model_op_rows(&state.tree, m, true) {
            let top_level = r.parent_op.is_none();
            let [compute_ms, memory_ms, below_peak_ms, outside_kernels_ms] =
                split_columns(split.as_ref().filter(|_| top_level).and_then(|s| s.ops.get(&r.op).copied()));
            out.push(OpRecord {
                model: &m.name,
                op: r.op.to_string(),
                parent_op: r.parent_op.as_deref().map(str::to_string),
                category: r.category.key(),
                calls_per_inference: timed(r.calls),
                self_ms: timed(r.self_ms),
                total_ms: timed(r.total_ms),
                macs: r.macs,
                bytes: r.bytes,
                gmacs_per_s: timed(r.gmacs_per_s()),
                compute_ms,
                memory_ms,
                below_peak_ms,
                outside_kernels_ms,
            });
        }
    }
    out
}

/// `model` predicted from the state's kernel calibration, if it has one.
fn prediction(state: &MonitorState, model: &ModelState) -> Option<ModelPrediction> {
    let calibration = state.calibration.as_ref()?;
    predict_model(&state.tree, model, calibration.0.predictor())
}
