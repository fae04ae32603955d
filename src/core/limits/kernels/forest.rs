//! Per-kernel predictors: one random forest (smartcore) per kernel kind, fitted on the log of
//! time per unit of work (ns per MAC, or per element) against the op's features, so that an op
//! beyond the sampled sizes keeps the efficiency of the largest sampled ones instead of the
//! time. Ops no forest covers take a constant per call: their own measured dispatch time (views,
//! identities) or, for an op calibration never saw, the median of those ("unmodelled").

use std::collections::{BTreeMap, HashMap};

use smartcore::ensemble::random_forest_regressor::{RandomForestRegressor, RandomForestRegressorParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::features::{features, Features};
use crate::core::profiling::profiler::OpShapes;

type Forest = RandomForestRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>;

/// Samples of a kind below this count are predicted by their mean efficiency, not a forest.
const MIN_FOREST_SAMPLES: usize = 6;

/// One timed op: its name, shapes and median time.
#[derive(Clone, Debug, PartialEq)]
pub struct Timed {
    pub op: String,
    pub shapes: OpShapes,
    pub ns: f64,
}

/// How an op's predicted time was arrived at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Basis {
    /// A kernel kind's predictor.
    Kernel,
    /// The op's own measured dispatch time (a view, an identity).
    Dispatch,
    /// An op calibration never timed: the median dispatch time, counted as overhead.
    Unmodelled,
}

#[derive(Debug)]
struct KindModel {
    forest: Option<Forest>,
    /// Mean of ln(ns / work) over the kind's samples.
    mean: f64,
}

/// Predictors fitted on a calibration's samples.
#[derive(Debug)]
pub struct Predictor {
    kinds: HashMap<String, KindModel>,
    dispatch: HashMap<String, f64>,
    /// The median of the dispatch times, for ops calibration never saw.
    unmodelled_ns: f64,
}

impl Predictor {
    /// Fits one predictor per kernel kind on `samples`.
    #[must_use]
    pub fn fit(samples: &[Timed]) -> Self {
        let mut by_kind: BTreeMap<String, (Vec<Vec<f64>>, Vec<f64>)> = BTreeMap::new();
        let mut dispatch: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for s in samples.iter().filter(|s| s.ns.is_finite() && s.ns > 0.0) {
            match features(&s.op, &s.shapes) {
                Some(Features { kind, values, work }) => {
                    let entry = by_kind.entry(kind).or_default();
                    entry.0.push(values);
                    entry.1.push((s.ns / work).ln());
                }
                None => dispatch.entry(s.op.clone()).or_default().push(s.ns),
            }
        }
        let kinds = by_kind.into_iter().map(|(kind, (x, y))| (kind, fit_kind(&x, &y))).collect();
        let dispatch: HashMap<String, f64> = dispatch.into_iter().map(|(op, mut v)| (op, median(&mut v))).collect();
        let mut all: Vec<f64> = dispatch.values().copied().collect();
        let unmodelled_ns = if all.is_empty() { 0.0 } else { median(&mut all) };
        Self { kinds, dispatch, unmodelled_ns }
    }

    /// Predicted nanoseconds of one call of op `name` with `shapes`, and how.
    #[must_use]
    pub fn predict(&self, name: &str, shapes: Option<&OpShapes>) -> (f64, Basis) {
        if let Some(f) = shapes.and_then(|s| features(name, s)) {
            if let Some(model) = self.kinds.get(&f.kind) {
                let log_rate = model
                    .forest
                    .as_ref()
                    .and_then(|forest| {
                        let x = DenseMatrix::from_2d_vec(&vec![f.values.clone()]).ok()?;
                        forest.predict(&x).ok()?.first().copied()
                    })
                    .unwrap_or(model.mean);
                return (log_rate.exp() * f.work, Basis::Kernel);
            }
        }
        let name = if name == "aten::hardtanh_" { "aten::relu6_" } else { name };
        match self.dispatch.get(name) {
            Some(ns) => (*ns, Basis::Dispatch),
            None => (self.unmodelled_ns, Basis::Unmodelled),
        }
    }

    /// The kernel kinds with a predictor, and how many have a forest (the rest use a mean).
    #[must_use]
    pub fn kinds(&self) -> Vec<(&str, bool)> {
        let mut out: Vec<(&str, bool)> = self.kinds.iter().map(|(k, m)| (k.as_str(), m.forest.is_some())).collect();
        out.sort_unstable();
        out
    }
}

fn fit_kind(x: &[Vec<f64>], y: &[f64]) -> KindModel {
    let mean = y.iter().sum::<f64>() / y.len().max(1) as f64;
    let forest = (x.len() >= MIN_FOREST_SAMPLES)
        .then(|| {
            let matrix = DenseMatrix::from_2d_vec(&x.to_vec()).ok()?;
            let params = RandomForestRegressorParameters::default()
                .with_n_trees(40)
                .with_min_samples_leaf(1)
                .with_m(x[0].len())
                .with_seed(29);
            Forest::fit(&matrix, &y.to_vec(), params).ok()
        })
        .flatten();
    KindModel { forest, mean }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}
