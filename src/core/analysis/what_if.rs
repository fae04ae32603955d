//! Each what-if variant against its original: the change in median latency with an interval,
//! in category shares and in the roofline split, and a verdict that never calls a variant
//! faster when its output disagrees with the original's or could not be checked.

use crate::core::analysis::model_profile::model_profile;
use crate::core::analysis::roofline::model_roofline;
use crate::core::models::variant::{OutputCheck, Variant};
use crate::core::profiling::ops::Category;
use crate::core::run::event::ModelId;
use crate::core::state::monitor::{ModelState, MonitorState};

/// What a variant did, as far as measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not enough latency samples yet for an interval on either side.
    Pending,
    /// Outputs differ beyond the tolerance (or could not be compared): no speed-up is claimed.
    Disagrees,
    /// The whole interval of the change lies below zero.
    Faster,
    /// The whole interval lies above zero.
    Slower,
    /// The interval holds zero: no change this run can tell apart from noise.
    NoClearChange,
}

impl Verdict {
    /// A short word for tables and lines.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pending => "pending",
            Verdict::Disagrees => "output differs",
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::NoClearChange => "no clear change",
        }
    }
}

/// One variant against its original.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub model: ModelId,
    pub base: ModelId,
    pub variant: Variant,
    /// The output comparison, or why it could not run.
    pub check: Result<OutputCheck, String>,
    /// Median latency of the variant over the original's, minus 1 (−0.2: 20 % faster).
    pub delta_p50: Option<f64>,
    /// 95 % interval of `delta_p50`, from the two medians' intervals (the variant's low over the
    /// original's high to its high over the original's low: conservative).
    pub delta_ci: Option<(f64, f64)>,
    /// Change in each category's share of op time, in fractions (0.05: five points more).
    pub delta_shares: Vec<(Category, f64)>,
    /// Change in the roofline's four shares of op time (compute, memory, kernel below peak,
    /// outside kernels).
    pub delta_split: Option<[f64; 4]>,
    pub verdict: Verdict,
}

/// Every variant row of `state` that has been loaded, against its original, in row order.
#[must_use]
pub fn comparisons(state: &MonitorState) -> Vec<Comparison> {
    state.models.iter().enumerate().filter_map(|(id, m)| compare(state, id, m)).collect()
}

/// The original row a variant row varies.
#[must_use]
pub fn base_of(state: &MonitorState, model: &ModelState) -> Option<ModelId> {
    let of = &model.info.as_ref()?.variant.as_ref()?.of;
    state.models.iter().position(|m| *m.name == *of.base)
}

fn compare(state: &MonitorState, id: ModelId, model: &ModelState) -> Option<Comparison> {
    let info = model.info.as_ref()?.variant.as_ref()?;
    let base_id = base_of(state, model)?;
    let base = &state.models[base_id];
    let (ours, theirs) = (model.latency.summary(), base.latency.summary());
    let delta_p50 = match (ours, theirs) {
        (Some(o), Some(t)) if t.p50_ms > 0.0 => Some(o.p50_ms / t.p50_ms - 1.0),
        _ => None,
    };
    let delta_ci = match (ours.and_then(|o| o.p50_ci_ms), theirs.and_then(|t| t.p50_ci_ms)) {
        (Some((ol, oh)), Some((tl, th))) if tl > 0.0 && th > 0.0 => Some((ol / th - 1.0, oh / tl - 1.0)),
        _ => None,
    };
    let agrees = info.check.as_ref().is_ok_and(OutputCheck::agrees);
    let verdict = match delta_ci {
        _ if !agrees => Verdict::Disagrees,
        None => Verdict::Pending,
        Some((_, hi)) if hi < 0.0 => Verdict::Faster,
        Some((lo, _)) if lo > 0.0 => Verdict::Slower,
        Some(_) => Verdict::NoClearChange,
    };
    Some(Comparison {
        model: id,
        base: base_id,
        variant: info.of.variant,
        check: info.check.clone(),
        delta_p50,
        delta_ci,
        delta_shares: delta_shares(state, model, base),
        delta_split: delta_split(state, model, base),
        verdict,
    })
}

/// Category shares of op time, variant minus original, once both are profiled.
fn delta_shares(state: &MonitorState, model: &ModelState, base: &ModelState) -> Vec<(Category, f64)> {
    let shares = |m: &ModelState| {
        let p = model_profile(&state.tree, m);
        (p.inferences > 0 && p.op_ms > 0.0).then(|| p.categories.iter().map(|c| c.ms / p.op_ms).collect::<Vec<_>>())
    };
    match (shares(model), shares(base)) {
        (Some(ours), Some(theirs)) => {
            Category::ALL.iter().zip(ours.iter().zip(&theirs)).map(|(c, (o, t))| (*c, o - t)).collect()
        }
        _ => Vec::new(),
    }
}

/// Roofline shares, variant minus original, once both are profiled and the limits measured.
fn delta_split(state: &MonitorState, model: &ModelState, base: &ModelState) -> Option<[f64; 4]> {
    let split = |m: &ModelState| model_roofline(state, m).map(|r| r.model.shares());
    let (ours, theirs) = (split(model)?, split(base)?);
    Some(std::array::from_fn(|i| ours[i] - theirs[i]))
}

/// The best intra-op thread count measured for `base`: its own (`run_threads`) or a
/// `threads=N` variant's whose output agrees, by median latency. `compared` is
/// [`comparisons`] of `state`, which callers already hold. `None` until the original and at
/// least one such variant have latencies.
#[must_use]
pub fn best_threads(
    state: &MonitorState,
    compared: &[Comparison],
    base: ModelId,
    run_threads: usize,
) -> Option<(usize, f64)> {
    let own = state.models.get(base)?.latency.summary()?.p50_ms;
    let mut best = (run_threads, own);
    let mut others = 0;
    for c in compared.iter().filter(|c| c.base == base) {
        let Variant::Threads(n) = c.variant else { continue };
        let agrees = c.check.as_ref().is_ok_and(OutputCheck::agrees);
        let Some(p50) = state.models[c.model].latency.summary().map(|s| s.p50_ms).filter(|_| agrees) else {
            continue;
        };
        others += 1;
        if p50 < best.1 {
            best = (n, p50);
        }
    }
    (others > 0).then_some(best)
}
