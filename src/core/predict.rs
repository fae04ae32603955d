//! Predicting a model's latency on this machine before it runs, layer by layer (issue #29), as
//! nn-Meter does: single ops timed across a sampled configuration space on the machine
//! ([`calibration`]), one predictor per kernel kind fitted on them ([`forest`]), and a model
//! predicted as the sum of its top-level ops, each from its shapes in the calibration pass.
//! What even this cannot see (fusion, caches warmed by the previous layer, framework glue) is
//! the measured ÷ predicted ratio.

pub mod calibration;
pub mod features;
pub mod forest;
pub mod space;
pub mod timing;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::core::optree::OpTree;
use crate::core::profiler::{NodeId, OpShapes};
use crate::core::state::ModelState;
pub use calibration::{Calibration, Options};
pub use forest::{Basis, Predictor};

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

/// Predicts `model` from the shapes its calibration pass recorded; `None` before that pass.
#[must_use]
pub fn predict_model(tree: &OpTree, model: &ModelState, predictor: &Predictor) -> Option<ModelPrediction> {
    let root = model.scope?;
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

/// A calibration with its predictors fitted on first use, shared by the state and the export.
#[derive(Debug)]
pub struct Calibrated {
    pub calibration: Calibration,
    fitted: OnceLock<Predictor>,
}

impl Calibrated {
    #[must_use]
    pub fn new(calibration: Calibration) -> Arc<Self> {
        Arc::new(Self { calibration, fitted: OnceLock::new() })
    }

    /// The predictors (fitted the first time).
    pub fn predictor(&self) -> &Predictor {
        self.fitted.get_or_init(|| self.calibration.predictor())
    }
}

/// The state's handle on a calibration: equal when it is the same one.
#[derive(Clone, Debug)]
pub struct CalibrationHandle(pub Arc<Calibrated>);

impl PartialEq for CalibrationHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The cached calibration for this machine at `threads`, if there is a readable one.
#[must_use]
pub fn cached(threads: usize) -> Option<CalibrationHandle> {
    let path = calibration::cache_path()?;
    let found = calibration::load(&path, threads).ok()??;
    Some(CalibrationHandle(Calibrated::new(found)))
}
