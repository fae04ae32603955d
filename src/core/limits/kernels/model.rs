//! A model predicted from its calibration pass: each top-level op from its recorded shapes by
//! the calibration's predictors, summed per layer and per model. It reads only the op tree
//! under the model's scope, so the state can keep each model's prediction beside its
//! measurements (computed once: the shapes do not change after the calibration pass).

use std::collections::HashMap;
use std::sync::Arc;

use super::forest::{Basis, Predictor};
use crate::core::profiling::optree::OpTree;
use crate::core::profiling::profiler::{NodeId, OpShapes};

/// One top-level op of a model, predicted.
#[derive(Clone, Debug, PartialEq)]
pub struct OpPrediction {
    pub id: NodeId,
    pub op: Arc<str>,
    /// The innermost layer it ran in (`None`: in the model itself).
    pub layer: Option<Arc<str>>,
    /// Calls per inference.
    pub calls: u64,
    /// Predicted milliseconds per inference (all its calls).
    pub ms: f64,
    pub basis: Basis,
}

/// A model's predicted latency, its parts and its layers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelPrediction {
    /// Sum over the top-level ops.
    pub ms: f64,
    /// Of `ms`: ops a kernel predictor covers.
    pub kernel_ms: f64,
    /// Of `ms`: views and identities at their measured dispatch time.
    pub dispatch_ms: f64,
    /// Of `ms`: ops calibration never timed, at the median dispatch time.
    pub unmodelled_ms: f64,
    pub ops: Vec<OpPrediction>,
    /// Per layer name: its ops' predicted ms, nested layers' included.
    pub layers: HashMap<Arc<str>, f64>,
}

/// Predicts the model under `root` (its scope) from the shapes its calibration pass recorded;
/// `None` when the pass recorded no op.
#[must_use]
pub fn predict_scope(tree: &OpTree, root: NodeId, predictor: &Predictor) -> Option<ModelPrediction> {
    let mut out = ModelPrediction::default();
    for id in tree.descendants(root) {
        let Some(node) = tree.get(id).filter(|n| n.is_top_level_op() && n.calib_calls > 0) else { continue };
        let (ns, basis) = predict_calls(tree, id, predictor);
        let ms = ns / 1e6;
        match basis {
            Basis::Kernel => out.kernel_ms += ms,
            Basis::Dispatch => out.dispatch_ms += ms,
            Basis::Unmodelled => out.unmodelled_ms += ms,
        }
        out.ms += ms;
        let mut scope = node.scope.filter(|s| *s != root);
        let layer = scope.and_then(|s| tree.get(s)).map(|l| Arc::clone(&l.name));
        while let Some(s) = scope.and_then(|s| tree.get(s)) {
            *out.layers.entry(Arc::clone(&s.name)).or_default() += ms;
            scope = s.scope.filter(|p| *p != root);
        }
        out.ops.push(OpPrediction { id, op: Arc::clone(&node.name), layer, calls: node.calib_calls, ms, basis });
    }
    (!out.ops.is_empty()).then_some(out)
}

/// Nanoseconds per inference of all calls of op `id`, each predicted from its own shapes: one
/// node holds every call of an op name under one scope, and those may differ (a traced model
/// with no modules runs all its convolutions under the model's scope). Calls past the shapes
/// kept are predicted at the mean of those kept; an op with none at its name alone.
///
/// A call whose arguments the pass could not read (seen in a traced
/// `SqueezeNet`: its padded 3x3 convolutions came with no weight) is predicted at the mean of
/// the node's readable calls rather than as an op calibration never timed.
fn predict_calls(tree: &OpTree, id: NodeId, predictor: &Predictor) -> (f64, Basis) {
    let Some(node) = tree.get(id) else { return (0.0, Basis::Unmodelled) };
    let calls = node.calib_calls as f64;
    if node.call_shapes.is_empty() {
        let (ns, basis) = predictor.predict(&node.name, None);
        return (ns * calls, basis);
    }
    let predicted: Vec<(f64, Basis)> = node
        .call_shapes
        .iter()
        .enumerate()
        .map(|(call, shapes)| predictor.predict(&node.name, Some(&op_shapes(tree, id, call, shapes))))
        .collect();
    let kernels: Vec<f64> = predicted.iter().filter(|(_, b)| *b == Basis::Kernel).map(|(ns, _)| *ns).collect();
    let (sum, basis) = if kernels.is_empty() {
        (predicted.iter().map(|(ns, _)| ns).sum::<f64>(), predicted[0].1)
    } else {
        let known: f64 = kernels.iter().sum();
        let unreadable = (predicted.len() - kernels.len()) as f64;
        (known + unreadable * known / kernels.len() as f64, Basis::Kernel)
    };
    (sum * (calls / predicted.len() as f64).max(1.0), basis)
}

/// Call `call` of a top-level op's shapes, with a convolution's geometry taken from the op below
/// it (its same call) when the op itself did not record one.
fn op_shapes(tree: &OpTree, id: NodeId, call: usize, shapes: &OpShapes) -> OpShapes {
    let mut shapes = shapes.clone();
    if shapes.conv.is_none() && tree.get(id).is_some_and(|n| n.name.contains("conv")) {
        shapes.conv = tree.descendants(id).into_iter().find_map(|d| {
            let below = tree.get(d)?;
            below.call_shapes.get(call).or(below.shapes())?.conv.clone()
        });
    }
    shapes
}
