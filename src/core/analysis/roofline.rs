//! The roofline split: each op's time in four parts that add up to it.
//!
//! - *compute floor*: what its MACs take at the machine's peak;
//! - *memory floor*: what its bytes take at the machine's bandwidth (only the larger of the two
//!   floors counts: it is the op's bound);
//! - *kernel below peak*: time inside its convolution or matrix-multiply kernels beyond that
//!   floor (the kernel computed, but slower than the machine can);
//! - *outside kernels*: everything else: dispatch through the wrappers above the kernel,
//!   bookkeeping and allocation beside it, and for an op without such a kernel (`BatchNorm`,
//!   `ReLU`, add, concatenation, pooling, views) its time beyond its floor.
//!
//! An op's kernel time `K` is the total time of the kernel nodes below it in the op tree
//! ([`is_kernel`]: convolution and matrix-multiply kernels; the op itself when it is one), what
//! they call included (a kernel's own allocation is part of the kernel). A kernel that calls
//! another kernel only wraps it: the innermost one is what computes, so nested kernels are
//! counted once, as the innermost. With `T` the op's total time, the floor `F` (the larger of
//! the two) is capped at `K` for an op with a kernel and at `T` otherwise (a floor above the
//! time measured only means the limits were measured low); then below peak = `K − F`, outside
//! = `T − K` (with a kernel), or below peak = 0, outside = `T − F` (without one). All four parts
//! are ≥ 0 and add up to `T`. Summed over the top-level ops per layer, category, op name and
//! model, so a model's four parts add up to its op time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::core::analysis::model_profile::top_level_ops;
use crate::core::profiling::ops::{is_kernel, Category};
use crate::core::profiling::optree::OpTree;
use crate::core::profiling::profiler::{NodeId, NodeKind};
use crate::core::state::monitor::{ModelState, MonitorState};

/// The machine's two limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub peak_gmacs: f64,
    pub bandwidth_gbs: f64,
}

impl Limits {
    /// Both limits once measured (and positive).
    #[must_use]
    pub fn of(state: &MonitorState) -> Option<Self> {
        let peak_gmacs = state.peak_gmacs.filter(|v| *v > 0.0)?;
        let bandwidth_gbs = state.bandwidth_gbs.filter(|v| *v > 0.0)?;
        Some(Self { peak_gmacs, bandwidth_gbs })
    }

    /// Milliseconds `macs` take at the peak.
    #[must_use]
    pub fn compute_floor_ms(&self, macs: f64) -> f64 {
        macs / (self.peak_gmacs * 1e6)
    }

    /// Milliseconds moving `bytes` takes at the bandwidth.
    #[must_use]
    pub fn memory_floor_ms(&self, bytes: f64) -> f64 {
        bytes / (self.bandwidth_gbs * 1e6)
    }
}

/// The parts' keys in [`Split::shares`] order: the `part` label of `/metrics`, and the stems
/// of the CSV columns (`below_peak_ms`).
pub const PARTS: [&str; 4] = ["compute", "memory", "below_peak", "outside_kernels"];

/// Time in milliseconds (per inference) split four ways (see the module's documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Split {
    /// Time an op bound by its MACs could not have avoided.
    pub compute_ms: f64,
    /// Time an op bound by its bytes could not have avoided.
    pub memory_ms: f64,
    /// Time inside convolution and matrix-multiply kernels beyond their floor.
    pub below_peak_ms: f64,
    /// Time outside those kernels beyond the floor: dispatch, bookkeeping, allocation, and
    /// ops without such a kernel.
    pub outside_kernels_ms: f64,
}

impl Split {
    /// Splits one op's `ms`, of which `kernel_ms` ran inside its kernels (`None`: it ran no
    /// kernel). Negative or non-finite inputs count as 0; kernel time above `ms` as `ms`.
    #[must_use]
    pub fn of_op(macs: f64, bytes: f64, ms: f64, kernel_ms: Option<f64>, limits: &Limits) -> Self {
        let ms = finite(ms);
        let kernel = kernel_ms.map(|k| finite(k).min(ms));
        let compute = limits.compute_floor_ms(finite(macs));
        let memory = limits.memory_floor_ms(finite(bytes));
        let floor = compute.max(memory);
        let bound = if floor.is_nan() { 0.0 } else { floor.clamp(0.0, kernel.unwrap_or(ms)) };
        let (compute_ms, memory_ms) = if compute >= memory { (bound, 0.0) } else { (0.0, bound) };
        let (below_peak_ms, outside_kernels_ms) = match kernel {
            Some(k) => (k - bound, ms - k),
            None => (0.0, ms - bound),
        };
        Self { compute_ms, memory_ms, below_peak_ms, outside_kernels_ms }
    }

    #[must_use]
    pub fn total_ms(&self) -> f64 {
        self.compute_ms + self.memory_ms + self.below_peak_ms + self.outside_kernels_ms
    }

    /// The four parts in [`PARTS`] order.
    #[must_use]
    pub fn parts(&self) -> [f64; 4] {
        [self.compute_ms, self.memory_ms, self.below_peak_ms, self.outside_kernels_ms]
    }

    /// The four parts as fractions of their sum, in [`PARTS`] order (all 0 for no time).
    #[must_use]
    pub fn shares(&self) -> [f64; 4] {
        let total = self.total_ms();
        if total > 0.0 {
            self.parts().map(|p| p / total)
        } else {
            [0.0; 4]
        }
    }

    fn add(&mut self, other: Self) {
        self.compute_ms += other.compute_ms;
        self.memory_ms += other.memory_ms;
        self.below_peak_ms += other.below_peak_ms;
        self.outside_kernels_ms += other.outside_kernels_ms;
    }
}

/// `v` when finite and positive, else 0.
fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v.max(0.0)
    } else {
        0.0
    }
}

/// A model's split, whole and by category, layer and op name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Roofline {
    /// All top-level ops: its total is the model's op time.
    pub model: Split,
    pub categories: HashMap<Category, Split>,
    /// By layer name; a layer holds the ops of the layers nested in it.
    pub layers: HashMap<Arc<str>, Split>,
    /// By top-level op name (ops nested in another op are inside their parent's time).
    pub ops: HashMap<Arc<str>, Split>,
}

/// A model's roofline once it has profiled inferences and the machine's limits are measured:
/// the one rule every consumer goes through, by way of
/// [`ModelSummary::roofline`](crate::core::analysis::summary::ModelSummary::roofline).
#[must_use]
pub fn model_roofline(state: &MonitorState, model: &ModelState) -> Option<Roofline> {
    let limits = Limits::of(state)?;
    (model.scope.is_some() && model.profiled > 0).then(|| roofline(&state.tree, model, &limits))
}

/// The split of every top-level op of `model`, summed.
#[must_use]
pub fn roofline(tree: &OpTree, model: &ModelState, limits: &Limits) -> Roofline {
    let mut out = Roofline::default();
    let root = model.scope;
    let kernels = kernel_ns(tree, model);
    let per_inference = |ns: u64| ns as f64 / 1e6 / model.profiled.max(1) as f64;
    for op in top_level_ops(tree, model) {
        let Some(node) = tree.get(op.id) else { continue };
        let kernel_ms = kernels.get(&op.id).map(|ns| per_inference(*ns));
        let split = Split::of_op(node.macs, node.bytes, op.ms, kernel_ms, limits);
        out.model.add(split);
        out.categories.entry(node.category).or_default().add(split);
        out.ops.entry(Arc::clone(&node.name)).or_default().add(split);
        let mut scope = node.scope;
        while let Some(s) = scope.filter(|s| Some(*s) != root) {
            let Some(layer) = tree.get(s) else { break };
            out.layers.entry(Arc::clone(&layer.name)).or_default().add(split);
            scope = layer.scope;
        }
    }
    out
}

/// Per top-level op of `model` that ran a kernel, the total time of its kernels (ns, summed over
/// the profiled inferences), each counted once: a kernel that wraps another is left out, the
/// innermost one counts.
#[must_use]
pub fn kernel_ns(tree: &OpTree, model: &ModelState) -> HashMap<NodeId, u64> {
    let Some(root) = model.scope else { return HashMap::new() };
    let is_kernel_op = |id: NodeId| tree.get(id).is_some_and(|n| n.kind == NodeKind::Op && is_kernel(&n.name));
    let mut found: Vec<(NodeId, NodeId)> = Vec::new();
    let mut wrappers: HashSet<NodeId> = HashSet::new();
    for id in tree.descendants(root).into_iter().filter(|id| is_kernel_op(*id)) {
        let mut top = id;
        while let Some(parent) = tree.get(top).and_then(|n| n.parent_op) {
            if is_kernel_op(parent) {
                wrappers.insert(parent);
            }
            top = parent;
        }
        found.push((id, top));
    }
    let mut out: HashMap<NodeId, u64> = HashMap::new();
    for (kernel, top) in found.into_iter().filter(|(k, _)| !wrappers.contains(k)) {
        *out.entry(top).or_default() += tree.totals(kernel).total_ns;
    }
    out
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // a floor of zero is exactly zero
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { peak_gmacs: 100.0, bandwidth_gbs: 10.0 };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn a_convolution_splits_into_its_floor_its_kernel_beyond_it_and_the_rest() {
        // 1 GMAC at 100 GMAC/s: 10 ms floor; 1 MB at 10 GB/s: 0.1 ms. The kernel took 11 of 12 ms.
        let s = Split::of_op(1e9, 1e6, 12.0, Some(11.0), &LIMITS);
        assert_eq!((s.compute_ms, s.memory_ms), (10.0, 0.0));
        assert!(close(s.below_peak_ms, 1.0) && close(s.outside_kernels_ms, 1.0), "{s:?}");
    }

    #[test]
    fn an_elementwise_op_has_no_kernel_below_peak_and_the_rest_is_outside() {
        // No MACs, 50 MB: 5 ms floor.
        let s = Split::of_op(0.0, 50e6, 8.0, None, &LIMITS);
        assert_eq!((s.compute_ms, s.memory_ms, s.below_peak_ms), (0.0, 5.0, 0.0));
        assert!(close(s.outside_kernels_ms, 3.0));
        assert_eq!(s.shares().map(|v| (v * 1000.0).round()), [0.0, 625.0, 0.0, 375.0]);
    }

    #[test]
    fn a_floor_is_capped_at_the_kernel_time_and_the_kernel_at_the_op_time() {
        // A 10 ms floor over a 4 ms kernel: the limits were measured low; the floor is the kernel.
        let s = Split::of_op(1e9, 0.0, 6.0, Some(4.0), &LIMITS);
        assert_eq!(s.parts(), [4.0, 0.0, 0.0, 2.0]);
        // Kernel time above the op's (clock noise) counts as the op's.
        let s = Split::of_op(0.0, 10e6, 3.0, Some(5.0), &LIMITS);
        assert_eq!(s.parts(), [0.0, 1.0, 2.0, 0.0]);
        let s = Split::of_op(1e9, 0.0, 4.0, None, &LIMITS);
        assert_eq!(s.parts(), [4.0, 0.0, 0.0, 0.0]);
        assert_eq!(Split::of_op(0.0, 0.0, 0.0, None, &LIMITS).shares(), [0.0; 4]);
    }

    #[test]
    fn bad_numbers_never_make_a_part_negative_or_not_a_number() {
        for (macs, bytes, ms, kernel) in [
            (f64::NAN, 1e6, 1.0, Some(0.5)),
            (1e6, f64::INFINITY, 1.0, None),
            (-1e9, -5.0, 2.0, Some(-1.0)),
            (1e6, 1e6, f64::NAN, Some(f64::NAN)),
            (1e6, 1e6, -3.0, Some(1.0)),
        ] {
            let s = Split::of_op(macs, bytes, ms, kernel, &LIMITS);
            assert!(s.parts().iter().all(|p| p.is_finite() && *p >= 0.0), "{macs} {bytes} {ms} {kernel:?}: {s:?}");
        }
        let zero = Limits { peak_gmacs: 0.0, bandwidth_gbs: 0.0 };
        let s = Split::of_op(1e9, 1e6, 2.0, Some(1.5), &zero);
        assert!(close(s.total_ms(), 2.0) && s.parts().iter().all(|p| *p >= 0.0), "{s:?}");
    }

    #[test]
    fn the_four_parts_add_up_to_the_time_for_any_op() {
        let mut cases = 0;
        for macs in [0.0, 1.0, 3e7, 5e9] {
            for bytes in [0.0, 1e3, 4e6, 5e9] {
                for ms in [1e-6, 0.01, 0.9, 100.0] {
                    for kernel in [None, Some(0.0), Some(ms * 0.3), Some(ms), Some(ms * 2.0)] {
                        let s = Split::of_op(macs, bytes, ms, kernel, &LIMITS);
                        assert!(close(s.total_ms(), ms), "{macs} {bytes} {ms} {kernel:?}: {s:?}");
                        assert!(s.parts().iter().all(|p| *p >= 0.0), "{macs} {bytes} {ms} {kernel:?}: {s:?}");
                        // Only time in a kernel can be below peak; the time outside it is outside.
                        match kernel.map(|k| k.min(ms)) {
                            Some(k) => {
                                assert!(s.below_peak_ms <= k + 1e-12 * ms.max(1.0), "{s:?}");
                                assert!(close(s.outside_kernels_ms, ms - k), "{kernel:?}: {s:?}");
                            }
                            None => assert_eq!(s.below_peak_ms, 0.0),
                        }
                        assert!(s.compute_ms == 0.0 || s.memory_ms == 0.0, "one floor binds: {s:?}");
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 320);
    }

    /// A model whose op tree has a slow-path convolution (wrapper and check included), a linear
    /// layer whose kernel calls another kernel, and a `BatchNorm`; each node's self time is
    /// `self_us` and its total the sum over its subtree.
    fn model_with_kernels() -> MonitorState {
        use crate::core::profiling::profiler::{NodeInfo, NodeTiming};
        use crate::core::run::event::{Event, Inference};
        /// Parent, kind, name, self µs, MACs, bytes.
        type Spec<'a> = (Option<NodeId>, NodeKind, &'a str, u64, f64, f64);
        let nodes: [Spec; 14] = [
            (None, NodeKind::Scope, "model:m", 1, 0.0, 0.0),
            (Some(0), NodeKind::Scope, "conv", 1, 0.0, 0.0),
            (Some(1), NodeKind::Op, "aten::conv2d", 10, 2e8, 1e6),
            (Some(2), NodeKind::Op, "aten::_convolution", 20, 2e8, 1e6),
            (Some(3), NodeKind::Op, "aten::thnn_conv2d", 5, 2e8, 1e6),
            (Some(4), NodeKind::Op, "aten::_slow_conv2d_forward", 3000, 2e8, 1e6),
            (Some(5), NodeKind::Op, "aten::empty", 15, 0.0, 0.0),
            (Some(3), NodeKind::Op, "aten::_nnpack_available", 2, 0.0, 0.0),
            (Some(0), NodeKind::Scope, "fc", 1, 0.0, 0.0),
            (Some(8), NodeKind::Op, "aten::linear", 8, 1e6, 4e6),
            (Some(9), NodeKind::Op, "aten::t", 4, 0.0, 0.0),
            (Some(9), NodeKind::Op, "aten::addmm", 100, 1e6, 4e6),
            (Some(11), NodeKind::Op, "aten::mm", 500, 1e6, 4e6),
            (Some(0), NodeKind::Op, "aten::batch_norm", 300, 0.0, 2e6),
        ];
        let infos = nodes
            .iter()
            .enumerate()
            .map(|(id, (parent, kind, name, _, macs, bytes))| NodeInfo {
                id: id as NodeId,
                parent: *parent,
                kind: *kind,
                name: (*name).into(),
                calib_calls: 1,
                macs: *macs,
                bytes: *bytes,
                call_shapes: Arc::default(),
            })
            .collect();
        let mut total: Vec<u64> = nodes.iter().map(|n| n.3 * 1000).collect();
        for id in (0..nodes.len()).rev() {
            if let Some(p) = nodes[id].0 {
                total[p as usize] += total[id];
            }
        }
        let mut state = MonitorState::new(&["m"]);
        state.apply(Event::Nodes(infos));
        state.apply(Event::ModelScope { model: 0, scope: 0 });
        for seq in 0..2 {
            let ops = (0..nodes.len())
                .map(|id| NodeTiming { node: id as NodeId, calls: 1, total_ns: total[id], self_ns: nodes[id].3 * 1000 })
                .collect();
            let wall_ns = total[0];
            let inference =
                Inference { model: 0, seq, wall_ns, at_ns: 0, profiled: true, cold: false, usage: None, ops };
            state.apply(Event::Inference(inference));
        }
        state
    }

    #[test]
    fn the_summary_holds_the_roofline_once_both_limits_are_measured() {
        let mut state = model_with_kernels();
        let summary = crate::core::analysis::summary::ModelSummary::new(&state, 0, &state.models[0]);
        assert!(summary.limits.is_none() && summary.roofline().is_none(), "no limits, no roofline");
        state.peak_gmacs = Some(LIMITS.peak_gmacs);
        state.bandwidth_gbs = Some(LIMITS.bandwidth_gbs);
        let summary = crate::core::analysis::summary::ModelSummary::new(&state, 0, &state.models[0]);
        let direct = roofline(&state.tree, &state.models[0], &LIMITS);
        assert_eq!(summary.roofline(), Some(&direct));
        // Asked twice, worked out once: the same value both times.
        assert!(std::ptr::eq(summary.roofline().unwrap(), summary.roofline().unwrap()));
        // A model with no profiled inference has none, limits or not.
        state.models[0].profiled = 0;
        assert!(crate::core::analysis::summary::ModelSummary::new(&state, 0, &state.models[0]).roofline().is_none());
    }

    #[test]
    fn kernels_in_a_real_shaped_op_tree_are_counted_once_and_wrappers_are_outside() {
        let state = model_with_kernels();
        let model = &state.models[0];
        let r = roofline(&state.tree, model, &LIMITS);
        // conv2d: 3.052 ms; its kernel is _slow_conv2d_forward (3.015 ms with its allocation);
        // the wrapper, the check and the dispatch above are outside. Floor: 2e8 MACs → 2 ms.
        let conv = r.ops[&Arc::<str>::from("aten::conv2d")];
        assert!(close(conv.compute_ms, 2.0) && close(conv.below_peak_ms, 1.015), "{conv:?}");
        assert!(close(conv.outside_kernels_ms, 3.052 - 3.015), "{conv:?}");
        // linear: addmm wraps mm, so only mm's 0.5 ms is kernel time; floor 4 MB → 0.4 ms.
        let linear = r.ops[&Arc::<str>::from("aten::linear")];
        assert!(close(linear.memory_ms, 0.4) && close(linear.below_peak_ms, 0.1), "{linear:?}");
        assert!(close(linear.outside_kernels_ms, 0.612 - 0.5), "{linear:?}");
        // BatchNorm runs no kernel of the roofline's: all beyond its 0.2 ms floor is outside.
        let bn = r.categories[&Category::BatchNorm];
        assert_eq!(bn.below_peak_ms, 0.0);
        assert!(close(bn.memory_ms, 0.2) && close(bn.outside_kernels_ms, 0.1), "{bn:?}");
        // Per model, category, layer and op name the parts add up to the op time.
        let op_ms = crate::core::analysis::model_profile::model_profile(&state.tree, model).op_ms;
        assert!(close(r.model.total_ms(), op_ms) && close(op_ms, 3.052 + 0.612 + 0.3), "{op_ms}");
        for group in [&r.ops, &r.layers] {
            let summed: f64 = group.values().map(Split::total_ms).sum();
            assert!(summed <= op_ms + 1e-9, "{summed} {op_ms}");
        }
        assert!(close(r.categories.values().map(Split::total_ms).sum(), op_ms));
        assert!(close(r.ops.values().map(Split::total_ms).sum(), op_ms));
        assert!(close(r.layers[&Arc::<str>::from("conv")].total_ms(), conv.total_ms()));
        let kernels = kernel_ns(&state.tree, model);
        assert_eq!(kernels.len(), 2, "conv2d and linear ran kernels: {kernels:?}");
    }
}
