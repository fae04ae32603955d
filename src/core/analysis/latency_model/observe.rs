//! What the latency model is fitted on, taken from the state: each measured model's median
//! latency and its top-level ops grouped by kind.

use std::collections::HashMap;
use std::sync::Arc;

use super::{KindTime, Observation};
use crate::core::analysis::model_profile::{conv_kernels, top_level_ops};
use crate::core::profiling::ops::Category;
use crate::core::profiling::optree::OpTree;
use crate::core::profiling::profiler::NodeId;
use crate::core::state::monitor::{ModelState, MonitorState};

/// The kind a top-level op is fitted as: its name, and for convolutions the kernel that ran,
/// since a depthwise or slow-path convolution costs far more per MAC than a oneDNN one.
fn kind_name(tree: &OpTree, id: NodeId, kernels: &HashMap<NodeId, NodeId>) -> Arc<str> {
    let name = tree.name_of(id);
    match kernels.get(&id) {
        Some(k) if tree.get(id).is_some_and(|n| n.category == Category::Conv2d) => {
            let kernel = tree.name_of(*k);
            format!("{name}/{}", kernel.rsplit("::").next().unwrap_or(kernel)).into()
        }
        _ => name.into(),
    }
}

/// One model as the latency model sees it; `None` before it has a latency and op times. Op
/// times come from profiled inferences and the latency from the others, and the time between
/// ops is in neither kind: the kinds' times are scaled to add up to the latency. What-if
/// variants are not observed: the same network twice would weigh it twice in the fit.
#[must_use]
pub fn observation(tree: &OpTree, id: usize, model: &ModelState) -> Option<Observation> {
    if model.is_variant() {
        return None;
    }
    let latency_ms = model.latency.summary()?.p50_ms;
    let ops = top_level_ops(tree, model);
    let op_ms: f64 = ops.iter().map(|o| o.ms).sum();
    if !(latency_ms > 0.0 && op_ms > 0.0) {
        return None;
    }
    let kernels = conv_kernels(tree, model);
    let n = model.profiled as f64;
    let scale = latency_ms / op_ms;
    let mut kinds: HashMap<Arc<str>, KindTime> = HashMap::new();
    for op in ops {
        let Some(node) = tree.get(op.id) else { continue };
        let kind = kind_name(tree, op.id, &kernels);
        let entry = kinds.entry(Arc::clone(&kind)).or_insert_with(|| KindTime {
            kind,
            macs: 0.0,
            bytes: 0.0,
            calls: 0.0,
            ms: 0.0,
        });
        entry.macs += node.macs;
        entry.bytes += node.bytes;
        entry.calls += tree.totals(op.id).calls as f64 / n;
        entry.ms += op.ms * scale;
    }
    let mut kinds: Vec<KindTime> = kinds.into_values().collect();
    kinds.sort_by(|a, b| a.kind.cmp(&b.kind));
    Some(Observation {
        model: id,
        name: Arc::clone(&model.name),
        latency_ms,
        macs: kinds.iter().map(|k| k.macs).sum(),
        kinds,
    })
}

/// Every model measured so far.
#[must_use]
pub fn observations(state: &MonitorState) -> Vec<Observation> {
    state.models.iter().enumerate().filter_map(|(id, m)| observation(&state.tree, id, m)).collect()
}
