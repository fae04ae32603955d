//! What even a per-kernel model cannot see: models and layers ranked by measured ÷ predicted
//! (issue #29). The prediction sums each op timed alone on this machine; a model or layer that
//! takes longer in the net than that (caches the previous layer left cold, glue between ops,
//! allocation) shows here, largest ratio first.

use std::sync::Arc;

use crate::core::analysis::model_profile::layer_rows;
use crate::core::run::model_id::ModelId;
use crate::core::state::monitor::MonitorState;

/// A layer is ranked only when it takes at least this share of its model's op time: a view
/// that takes 3 µs against a predicted 1 µs says nothing about where the time goes.
pub const LAYER_MIN_SHARE: f64 = 0.02;

/// Measured against predicted for one model or layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Against {
    pub model: ModelId,
    /// The layer's path; `None` for the whole model.
    pub layer: Option<Arc<str>>,
    pub measured_ms: f64,
    pub predicted_ms: f64,
}

impl Against {
    /// Measured ÷ predicted (1.3: 30 % more than the calibrated kernels account for).
    #[must_use]
    pub fn ratio(&self) -> f64 {
        self.measured_ms / self.predicted_ms
    }
}

/// Models (warm p50 against the prediction) and the leaf layers of at least
/// [`LAYER_MIN_SHARE`] of their model's op time (profiled ms against predicted), each ranked by
/// measured ÷ predicted, largest first. Empty without a calibration.
#[must_use]
pub fn beyond_prediction(state: &MonitorState) -> (Vec<Against>, Vec<Against>) {
    let mut models = Vec::new();
    let mut layers = Vec::new();
    for (id, m) in state.models.iter().enumerate() {
        let Some(prediction) = m.prediction.as_deref() else { continue };
        if let Some(p50) = m.latency.summary().map(|s| s.p50_ms).filter(|ms| *ms > 0.0) {
            if prediction.ms > 0.0 {
                models.push(Against { model: id, layer: None, measured_ms: p50, predicted_ms: prediction.ms });
            }
        }
        if m.profiled == 0 {
            continue;
        }
        let rows = layer_rows(&state.tree, m);
        let total: f64 = rows.iter().filter(|r| r.leaf).map(|r| r.ms).sum();
        for r in rows.into_iter().filter(|r| r.leaf && r.ms > 0.0 && r.ms >= LAYER_MIN_SHARE * total) {
            let Some(predicted) = prediction.layers.get(&r.layer).copied().filter(|p| *p > 0.0) else { continue };
            layers.push(Against { model: id, layer: Some(r.layer), measured_ms: r.ms, predicted_ms: predicted });
        }
    }
    let by_ratio = |a: &Against, b: &Against| b.ratio().total_cmp(&a.ratio());
    models.sort_by(by_ratio);
    layers.sort_by(by_ratio);
    (models, layers)
}
