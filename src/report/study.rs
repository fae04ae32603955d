//! The study's four scatter plots: accuracy against size, size against computations, accuracy
//! against time, time against computations, each over the models that have both values, with
//! Pearson's and Spearman's coefficients.

use super::snapshot::ModelRecord;
use crate::core::common::{pearson, spearman};

/// One of the model quantities plotted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// Top-1 accuracy in % (100 minus the manifest's `top1_error_pct`).
    Accuracy,
    /// Parameters, in millions.
    Size,
    /// MACs per image, in millions.
    Computations,
    /// Median latency per inference, ms.
    Time,
}

impl Quantity {
    /// The axis title.
    #[must_use]
    pub fn axis(self) -> &'static str {
        match self {
            Self::Accuracy => "top-1 accuracy (%)",
            Self::Size => "parameters (millions)",
            Self::Computations => "MACs per image (millions)",
            Self::Time => "median latency (ms)",
        }
    }

    /// A short name for ids and captions.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Accuracy => "accuracy",
            Self::Size => "size",
            Self::Computations => "computations",
            Self::Time => "time",
        }
    }

    /// Whether the axis is logarithmic: sizes, MACs and times span orders of magnitude.
    #[must_use]
    pub fn log_axis(self) -> bool {
        !matches!(self, Self::Accuracy)
    }

    /// The model's value, if known (and positive where the axis is logarithmic).
    #[must_use]
    pub fn of(self, m: &ModelRecord) -> Option<f64> {
        let v = match self {
            Self::Accuracy => m.accuracy_pct(),
            Self::Size => m.params.map(|p| p as f64 / 1e6),
            Self::Computations => m.macs_per_image.map(|p| p / 1e6),
            Self::Time => m.latency_ms_p50,
        }?;
        (v.is_finite() && (!self.log_axis() || v > 0.0)).then_some(v)
    }
}

/// The four plots, as (y, x).
pub const PLOTS: [(Quantity, Quantity); 4] = [
    (Quantity::Accuracy, Quantity::Size),
    (Quantity::Size, Quantity::Computations),
    (Quantity::Accuracy, Quantity::Time),
    (Quantity::Time, Quantity::Computations),
];

/// One scatter plot's points and coefficients.
#[derive(Clone, Debug, PartialEq)]
pub struct Scatter {
    pub y: Quantity,
    pub x: Quantity,
    /// (model, x, y)
    pub points: Vec<(String, f64, f64)>,
    /// `None` with fewer than three points or no spread.
    pub pearson: Option<f64>,
    pub spearman: Option<f64>,
}

impl Scatter {
    /// The id of its figure in the page: `scatter-accuracy-size`.
    #[must_use]
    pub fn id(&self) -> String {
        format!("scatter-{}-{}", self.y.key(), self.x.key())
    }
}

/// The plot of `y` against `x` over `models` that have both. What-if variants are left out, as
/// in the live view: the same network twice would weigh it twice.
#[must_use]
pub fn scatter(models: &[ModelRecord], y: Quantity, x: Quantity) -> Scatter {
    let points: Vec<(String, f64, f64)> = models
        .iter()
        .filter(|m| m.variant.is_none())
        .filter_map(|m| Some((m.model.clone(), x.of(m)?, y.of(m)?)))
        .collect();
    let xs: Vec<f64> = points.iter().map(|p| p.1).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.2).collect();
    Scatter { y, x, pearson: pearson(&xs, &ys), spearman: spearman(&xs, &ys), points }
}

/// The four plots of [`PLOTS`].
#[must_use]
pub fn all(models: &[ModelRecord]) -> Vec<Scatter> {
    PLOTS.iter().map(|&(y, x)| scatter(models, y, x)).collect()
}
