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
        let shapes = op_shapes(tree, id);
        let (ns, basis) = predictor.predict(&node.name, shapes.as_ref());
        let ms = ns * node.calib_calls as f64 / 1e6;
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

/// A top-level op's shapes, with a convolution's geometry taken from the op below it when the
/// op itself did not record one.
fn op_shapes(tree: &OpTree, id: NodeId) -> Option<OpShapes> {
    let mut shapes = tree.get(id)?.shapes.as_deref()?.clone();
    if shapes.conv.is_none() && tree.get(id)?.name.contains("conv") {
        shapes.conv = tree.descendants(id).into_iter().find_map(|d| tree.get(d)?.shapes.as_ref()?.conv.clone());
    }
    Some(shapes)
}
