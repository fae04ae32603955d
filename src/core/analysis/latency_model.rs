//! A latency model fitted on the board, from what it has measured: per op kind, time as a
//! non-negative combination of MACs, bytes and calls; a model's latency predicted as the sum
//! over its ops. Judged by leaving each model out of the fit in turn and predicting it, side by
//! side with the MAC-only model (latency = a·MACs + c, also non-negative). Pure arithmetic; what
//! it is fed comes from [`observe`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::core::run::event::ModelId;

mod nnls;
pub mod observe;

pub use nnls::nnls;

/// Fewer models than this give no fit (leave-one-out would fit on one).
pub const MIN_MODELS: usize = 3;

/// A prediction within this fraction of the measured latency counts as good.
pub const GOOD_WITHIN: f64 = 0.10;

/// One op kind's work and time in one model, per inference.
#[derive(Clone, Debug, PartialEq)]
pub struct KindTime {
    /// The op name, with the kernel path for convolutions (`aten::conv2d/mkldnn_convolution`).
    pub kind: Arc<str>,
    pub macs: f64,
    pub bytes: f64,
    pub calls: f64,
    pub ms: f64,
}

impl KindTime {
    fn features(&self) -> [f64; 3] {
        [self.macs, self.bytes, self.calls]
    }
}

/// One measured model: its latency and its op kinds (whose times add up to the latency).
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub model: ModelId,
    pub name: Arc<str>,
    pub latency_ms: f64,
    pub macs: f64,
    pub kinds: Vec<KindTime>,
}

/// One model predicted by both models fitted without it.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub model: ModelId,
    pub name: Arc<str>,
    pub measured_ms: f64,
    pub op_model_ms: f64,
    pub mac_model_ms: f64,
}

impl Prediction {
    /// Predicted over measured, minus one, for the op-level model.
    #[must_use]
    pub fn op_model_error(&self) -> f64 {
        self.op_model_ms / self.measured_ms - 1.0
    }

    /// The same for the MAC-only model.
    #[must_use]
    pub fn mac_model_error(&self) -> f64 {
        self.mac_model_ms / self.measured_ms - 1.0
    }
}

/// Both models' leave-one-out predictions for every model.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyModels {
    pub predictions: Vec<Prediction>,
}

impl LatencyModels {
    /// Share of models the op-level model predicts within [`GOOD_WITHIN`].
    #[must_use]
    pub fn op_model_good_share(&self) -> f64 {
        self.good_share(Prediction::op_model_error)
    }

    /// Share of models the MAC-only model predicts within [`GOOD_WITHIN`].
    #[must_use]
    pub fn mac_model_good_share(&self) -> f64 {
        self.good_share(Prediction::mac_model_error)
    }

    fn good_share(&self, error: impl Fn(&Prediction) -> f64) -> f64 {
        let good = self.predictions.iter().filter(|p| error(p).abs() <= GOOD_WITHIN).count();
        good as f64 / self.predictions.len().max(1) as f64
    }
}

/// Each observation predicted from all the others; `None` below [`MIN_MODELS`] usable ones.
#[must_use]
pub fn leave_one_out(observations: &[Observation]) -> Option<LatencyModels> {
    let usable: Vec<&Observation> = observations.iter().filter(|o| o.latency_ms > 0.0).collect();
    if usable.len() < MIN_MODELS {
        return None;
    }
    let predictions = usable
        .iter()
        .map(|held_out| {
            let training: Vec<&Observation> = usable.iter().copied().filter(|o| o.model != held_out.model).collect();
            Prediction {
                model: held_out.model,
                name: Arc::clone(&held_out.name),
                measured_ms: held_out.latency_ms,
                op_model_ms: OpModel::fit(&training).predict(held_out),
                mac_model_ms: mac_model(&training).predict(held_out.macs),
            }
        })
        .collect();
    Some(LatencyModels { predictions })
}

/// `ms = a·MACs + b·bytes + c·calls` per op kind, with a pooled fit over all kinds for a kind
/// the training models never ran.
#[derive(Clone, Debug, PartialEq)]
pub struct OpModel {
    pub per_kind: HashMap<Arc<str>, [f64; 3]>,
    pub pooled: [f64; 3],
}

impl OpModel {
    /// Fits every kind on the training models' rows of it. Each row is weighted by its model's
    /// latency so that every model counts alike, small or large (the error that matters is
    /// relative).
    #[must_use]
    pub fn fit(training: &[&Observation]) -> Self {
        let mut by_kind: HashMap<Arc<str>, WeightedRows> = HashMap::new();
        let (mut all_rows, mut all_y) = (Vec::new(), Vec::new());
        for o in training {
            let w = 1.0 / o.latency_ms;
            for k in &o.kinds {
                let row: Vec<f64> = k.features().iter().map(|v| v * w).collect();
                let entry = by_kind.entry(Arc::clone(&k.kind)).or_default();
                entry.0.push(row.clone());
                entry.1.push(k.ms * w);
                all_rows.push(row);
                all_y.push(k.ms * w);
            }
        }
        let per_kind = by_kind.into_iter().map(|(kind, (rows, y))| (kind, coefficients(&rows, &y))).collect();
        Self { per_kind, pooled: coefficients(&all_rows, &all_y) }
    }

    /// The sum over the observation's op kinds.
    #[must_use]
    pub fn predict(&self, o: &Observation) -> f64 {
        o.kinds
            .iter()
            .map(|k| {
                let c = self.per_kind.get(&k.kind).unwrap_or(&self.pooled);
                k.features().iter().zip(c).map(|(x, c)| x * c).sum::<f64>()
            })
            .sum()
    }
}

/// Feature rows and targets, each scaled by its model's weight.
type WeightedRows = (Vec<Vec<f64>>, Vec<f64>);

fn coefficients(rows: &[Vec<f64>], y: &[f64]) -> [f64; 3] {
    let x = nnls(rows, y);
    [x.first().copied().unwrap_or(0.0), x.get(1).copied().unwrap_or(0.0), x.get(2).copied().unwrap_or(0.0)]
}

/// `latency = ms_per_mac·MACs + constant_ms`, both non-negative.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MacModel {
    pub ms_per_mac: f64,
    pub constant_ms: f64,
}

impl MacModel {
    #[must_use]
    pub fn predict(&self, macs: f64) -> f64 {
        self.ms_per_mac * macs + self.constant_ms
    }
}

/// The MAC-only model fitted on `training`, weighted like the op-level one.
#[must_use]
pub fn mac_model(training: &[&Observation]) -> MacModel {
    let rows: Vec<Vec<f64>> = training.iter().map(|o| vec![o.macs / o.latency_ms, 1.0 / o.latency_ms]).collect();
    let y = vec![1.0; training.len()];
    let x = nnls(&rows, &y);
    MacModel { ms_per_mac: x.first().copied().unwrap_or(0.0), constant_ms: x.get(1).copied().unwrap_or(0.0) }
}

#[cfg(test)]
mod tests;
