//! The roofline split: how much of each op's time its MACs at the machine's peak explain
//! (compute floor), how much its bytes at the machine's bandwidth explain (memory floor), and
//! what it took beyond the larger of the two (overhead: dispatch, bookkeeping, allocation,
//! synchronisation, cache misses). Summed per layer, category, op name and model; the three parts
//! always add up to the op time they split.

use std::collections::HashMap;
use std::sync::Arc;

use crate::core::analysis::top_level_ops;
use crate::core::ops::Category;
use crate::core::optree::OpTree;
use crate::core::state::{ModelState, MonitorState};

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

/// Time in milliseconds (per inference) split three ways.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Split {
    /// Time an op bound by its MACs could not have avoided.
    pub compute_ms: f64,
    /// Time an op bound by its bytes could not have avoided.
    pub memory_ms: f64,
    /// Everything beyond the bound.
    pub overhead_ms: f64,
}

impl Split {
    /// Splits one op's `ms`: the larger floor is the bound (capped at the time measured, since a
    /// floor above it only means the limits were measured low); the rest is overhead.
    #[must_use]
    pub fn of_op(macs: f64, bytes: f64, ms: f64, limits: &Limits) -> Self {
        let ms = ms.max(0.0);
        let compute = limits.compute_floor_ms(macs.max(0.0));
        let memory = limits.memory_floor_ms(bytes.max(0.0));
        let bound = compute.max(memory).min(ms);
        if compute >= memory {
            Self { compute_ms: bound, memory_ms: 0.0, overhead_ms: ms - bound }
        } else {
            Self { compute_ms: 0.0, memory_ms: bound, overhead_ms: ms - bound }
        }
    }

    #[must_use]
    pub fn total_ms(&self) -> f64 {
        self.compute_ms + self.memory_ms + self.overhead_ms
    }

    /// The three parts as fractions of their sum (all 0 for no time).
    #[must_use]
    pub fn shares(&self) -> [f64; 3] {
        let total = self.total_ms();
        if total > 0.0 {
            [self.compute_ms / total, self.memory_ms / total, self.overhead_ms / total]
        } else {
            [0.0; 3]
        }
    }

    fn add(&mut self, other: Self) {
        self.compute_ms += other.compute_ms;
        self.memory_ms += other.memory_ms;
        self.overhead_ms += other.overhead_ms;
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

/// The split of every top-level op of `model`, summed.
#[must_use]
pub fn roofline(tree: &OpTree, model: &ModelState, limits: &Limits) -> Roofline {
    let mut out = Roofline::default();
    let root = model.scope;
    for op in top_level_ops(tree, model) {
        let Some(node) = tree.get(op.id) else { continue };
        let split = Split::of_op(node.macs, node.bytes, op.ms, limits);
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

#[cfg(test)]
#[allow(clippy::float_cmp)] // a floor of zero is exactly zero
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { peak_gmacs: 100.0, bandwidth_gbs: 10.0 };

    #[test]
    fn a_compute_heavy_op_is_bound_by_its_macs() {
        // 1 GMAC at 100 GMAC/s: 10 ms floor; 1 MB at 10 GB/s: 0.1 ms.
        let s = Split::of_op(1e9, 1e6, 12.0, &LIMITS);
        assert!((s.compute_ms - 10.0).abs() < 1e-12 && s.memory_ms == 0.0);
        assert!((s.overhead_ms - 2.0).abs() < 1e-12);
    }

    #[test]
    fn an_elementwise_op_is_bound_by_its_bytes() {
        // No MACs, 50 MB: 5 ms floor.
        let s = Split::of_op(0.0, 50e6, 8.0, &LIMITS);
        assert_eq!((s.compute_ms, s.memory_ms), (0.0, 5.0));
        assert!((s.overhead_ms - 3.0).abs() < 1e-12);
        assert_eq!(s.shares().map(|v| (v * 1000.0).round()), [0.0, 625.0, 375.0]);
    }

    #[test]
    fn a_floor_above_the_time_measured_is_capped_and_leaves_no_negative_overhead() {
        let s = Split::of_op(1e9, 0.0, 4.0, &LIMITS);
        assert_eq!((s.compute_ms, s.memory_ms, s.overhead_ms), (4.0, 0.0, 0.0));
        assert_eq!(Split::of_op(0.0, 0.0, 0.0, &LIMITS).shares(), [0.0; 3]);
    }

    #[test]
    fn the_parts_add_up_to_the_time_for_any_op() {
        for (macs, bytes, ms) in [(3e7, 4e6, 0.9), (0.0, 1e3, 0.01), (5e9, 5e9, 100.0), (1.0, 1.0, 1e-6)] {
            let s = Split::of_op(macs, bytes, ms, &LIMITS);
            assert!((s.total_ms() - ms).abs() <= 1e-12 * ms.max(1.0), "{macs} {bytes} {ms}: {s:?}");
            assert!(s.compute_ms >= 0.0 && s.memory_ms >= 0.0 && s.overhead_ms >= 0.0);
        }
    }
}
