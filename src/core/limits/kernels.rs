//! Predicting a model's latency on this machine before it runs, layer by layer (issue #29), as
//! nn-Meter does: single ops timed across a sampled configuration space on the machine
//! ([`calibration`]), one predictor per kernel kind fitted on them ([`forest`]), and a model
//! predicted as the sum of its top-level ops, each from its shapes in the calibration pass.
//! What even this cannot see (fusion, caches warmed by the previous layer, framework glue) is
//! the measured ÷ predicted ratio.

pub mod calibration;
pub mod features;
pub mod forest;
pub mod model;
pub mod space;
pub mod timing;

use std::sync::{Arc, OnceLock};

pub use calibration::{Calibration, Options};
pub use forest::{Basis, Predictor};
pub use model::{predict_scope, ModelPrediction, OpPrediction};

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

/// The calibration for this machine at `threads` cached in `path`, if there is a readable one.
#[must_use]
pub fn cached(path: &std::path::Path, threads: usize) -> Option<CalibrationHandle> {
    let found = calibration::load(path, threads).ok()??;
    Some(CalibrationHandle(Calibrated::new(found)))
}
