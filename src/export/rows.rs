//! Rows of `models.csv`, `ops.csv` and `layers.csv`: serde structs whose field names are the
//! column headers, built from the state with the same analysis the TUI shows.
//!
//! Times and MACs are per inference (one forward pass of the whole batch). Rates derived from
//! latency use the median (p50), as the headless lines do. An `Option` that is `None` is an
//! empty field: not measured (not profiled, no MAC count, no peak), never zero.

use crate::core::analysis::observations;
use crate::core::analysis::op_rows as model_op_rows;
use crate::core::analysis::ModelSummary;
use crate::core::analysis::{comparisons, Comparison};
use crate::core::analysis::{leave_one_out, Prediction};
use crate::core::analysis::{model_roofline, Split};
use crate::core::models::OutputCheck;
use crate::core::state::LeftOut;
use crate::core::state::{ModelState, MonitorState, LATENCY_WINDOW};
pub use crate::schema::{ModelRecord, OpRecord};

mod layers;
pub use layers::{layer_rows, LayerRecord};

/// The roofline columns of a row (compute, memory, below peak, outside kernels), all empty
/// when unmeasured.
pub(super) fn split_columns(split: Option<Split>) -> [Option<f64>; 4] {
    split.map_or([None; 4], |s| s.parts().map(Some))
}

/// `models.csv`, in model order.
#[must_use]
pub fn model_rows(state: &MonitorState) -> Vec<ModelRecord> {
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
fn add_what_if(record: &mut ModelRecord, state: &MonitorState, c: &Comparison) {
    let check = c.check.as_ref().ok();
    record.variant = Some(c.variant.to_string());
    record.base_model = state.models.get(c.base).map(|m| m.name.to_string());
    record.output_max_abs_diff = check.map(|k| k.max_abs);
    record.output_max_rel_diff = check.map(|k| k.max_rel);
    record.output_agrees = Some(check.is_some_and(OutputCheck::agrees));
    record.delta_p50 = c.delta_p50;
    record.delta_p50_ci_low = c.delta_ci.map(|ci| ci.0);
    record.delta_p50_ci_high = c.delta_ci.map(|ci| ci.1);
    record.what_if_verdict = Some(c.verdict.label().to_string());
}

fn model_record(state: &MonitorState, sum: &ModelSummary, left_out: Option<&Prediction>) -> ModelRecord {
    let m = sum.model;
    let lat = sum.latency;
    let info = m.info.as_ref();
    let shares = sum.shares;
    let [compute_ms, memory_ms, below_peak_ms, outside_kernels_ms] = split_columns(sum.roofline().map(|r| r.model));
    ModelRecord {
        model: m.name.to_string(),
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
        status: sum.status_key().to_string(),
        error: sum.error().map(str::to_string),
        top1_error_pct: info.and_then(|i| i.top1_error),
        source: info.map(|i| i.source.clone()),
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
        power_source: sum.power_source.map(str::to_string),
        bandwidth_gb_per_s: state.bandwidth_gbs,
        compute_ms,
        memory_ms,
        below_peak_ms,
        outside_kernels_ms,
        latency_ms_left_out_mac_fit: left_out.map(|p| p.mac_model_ms),
        latency_ms_left_out_op_fit: left_out.map(|p| p.op_model_ms),
        latency_ms_predicted: m.prediction.as_ref().map(|p| p.ms),
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
pub fn op_rows(state: &MonitorState) -> Vec<OpRecord> {
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
                model: m.name.to_string(),
                op: r.op.to_string(),
                parent_op: r.parent_op.as_deref().map(str::to_string),
                category: r.category.key().to_string(),
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
