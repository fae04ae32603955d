//! Per-kernel predictors: one random forest (smartcore) per kernel kind and cache state (see
//! `timing.rs`), fitted on the log of time per unit of work (ns per MAC, or per element) against the op's features, so that an op
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

/// One timed op: its name, shapes and median times in the states calibration times (see
/// `Sample`).
#[derive(Clone, Debug, PartialEq)]
pub struct Timed {
    pub op: String,
    pub shapes: OpShapes,
    /// Swept, any weights from memory.
    pub ns: f64,
    /// Swept, the weights in the last-level cache (ops with weights only).
    pub ns_warm: Option<f64>,
    /// Not swept before each call (see `Sample::ns_hot`).
    pub ns_hot: Option<f64>,
}

/// Where an op's data is when a net calls it, as shares from 0 to 1 (see `context.rs`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CacheContext {
    /// How far the rest of the net has swept the private caches since the op last ran.
    pub swept: f64,
    /// The share of the op's weights read from memory rather than the last-level cache.
    pub from_memory: f64,
}

impl CacheContext {
    /// Everything swept, weights from memory: the state calibration's `ns` is timed in.
    pub const COLD: Self = Self { swept: 1.0, from_memory: 1.0 };
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
    /// Weights (of the kinds that have them) read from memory.
    kinds: HashMap<String, KindModel>,
    /// The kinds with weights, fitted on their times with the weights in the cache.
    warm: HashMap<String, KindModel>,
    /// Fitted on the times not swept.
    hot: HashMap<String, KindModel>,
    /// The calibration's level-2 caches together (see `Calibration::l2_bytes`).
    l2_bytes: Option<u64>,
    /// The calibration's last-level cache (see `Calibration::cache_bytes`).
    cache_bytes: Option<u64>,
    dispatch: HashMap<String, f64>,
    /// The median of the dispatch times, for ops calibration never saw.
    unmodelled_ns: f64,
}

impl Predictor {
    /// Fits one predictor per kernel kind and state on `samples`: swept, not swept, and for the
    /// kinds with weights swept with the weights in cache.
    #[must_use]
    pub fn fit(samples: &[Timed]) -> Self {
        let mut by_kind: BTreeMap<String, (Vec<Vec<f64>>, Vec<f64>)> = BTreeMap::new();
        let mut warm: BTreeMap<String, (Vec<Vec<f64>>, Vec<f64>)> = BTreeMap::new();
        let mut hot: BTreeMap<String, (Vec<Vec<f64>>, Vec<f64>)> = BTreeMap::new();
        let mut dispatch: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for s in samples.iter().filter(|s| s.ns.is_finite() && s.ns > 0.0) {
            match features(&s.op, &s.shapes) {
                Some(Features { kind, values, work }) => {
                    for (ns, table) in [(s.ns_warm, &mut warm), (s.ns_hot, &mut hot)] {
                        if let Some(ns) = ns.filter(|ns| ns.is_finite() && *ns > 0.0) {
                            let entry = table.entry(kind.clone()).or_default();
                            entry.0.push(values.clone());
                            entry.1.push((ns / work).ln());
                        }
                    }
                    let entry = by_kind.entry(kind).or_default();
                    entry.0.push(values);
                    entry.1.push((s.ns / work).ln());
                }
                None => dispatch.entry(s.op.clone()).or_default().push(s.ns),
            }
        }
        let kinds = by_kind.into_iter().map(|(kind, (x, y))| (kind, fit_kind(&x, &y))).collect();
        let warm = warm.into_iter().map(|(kind, (x, y))| (kind, fit_kind(&x, &y))).collect();
        let hot = hot.into_iter().map(|(kind, (x, y))| (kind, fit_kind(&x, &y))).collect();
        let dispatch: HashMap<String, f64> = dispatch.into_iter().map(|(op, mut v)| (op, median(&mut v))).collect();
        let mut all: Vec<f64> = dispatch.values().copied().collect();
        let unmodelled_ns = if all.is_empty() { 0.0 } else { median(&mut all) };
        Self { kinds, warm, hot, l2_bytes: None, cache_bytes: None, dispatch, unmodelled_ns }
    }

    /// The same predictors, knowing the machine's level-2 and last-level caches.
    #[must_use]
    pub fn with_caches(self, l2_bytes: Option<u64>, cache_bytes: Option<u64>) -> Self {
        Self { l2_bytes, cache_bytes, ..self }
    }

    /// The calibration's level-2 caches together, if the kernel described them.
    #[must_use]
    pub fn l2_bytes(&self) -> Option<u64> {
        self.l2_bytes
    }

    /// The calibration's last-level cache, if it found one.
    #[must_use]
    pub fn cache_bytes(&self) -> Option<u64> {
        self.cache_bytes
    }

    /// Predicted nanoseconds of one call of op `name` with `shapes`, and how, in the state
    /// calibration's main figure is timed in ([`CacheContext::COLD`]).
    #[must_use]
    pub fn predict(&self, name: &str, shapes: Option<&OpShapes>) -> (f64, Basis) {
        self.predict_in(name, shapes, CacheContext::COLD)
    }

    /// As [`predict`](Self::predict), in `context`: the time not swept, plus the swept share of
    /// what the sweep adds, plus the share from memory of what reading the weights from memory
    /// adds. A state the calibration has no times for counts as swept, weights from memory.
    #[must_use]
    pub fn predict_in(&self, name: &str, shapes: Option<&OpShapes>, context: CacheContext) -> (f64, Basis) {
        if let Some(f) = shapes.and_then(|s| features(name, s)) {
            if let Some(model) = self.kinds.get(&f.kind) {
                let at = |m: &KindModel| m.log_rate(&f.values).exp() * f.work;
                let cold = at(model);
                let warm = self.warm.get(&f.kind).map_or(cold, at);
                let ns = match self.hot.get(&f.kind) {
                    Some(hot) => {
                        let hot = at(hot);
                        let (swept, from_memory) = (context.swept.clamp(0.0, 1.0), context.from_memory.clamp(0.0, 1.0));
                        (hot + swept * (warm - hot) + from_memory * (cold - warm)).max(hot.min(warm).min(cold))
                    }
                    None => cold,
                };
                return (ns, Basis::Kernel);
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

impl KindModel {
    /// The predicted ln(ns per unit of work) for `values`.
    fn log_rate(&self, values: &[f64]) -> f64 {
        self.forest
            .as_ref()
            .and_then(|forest| {
                let x = DenseMatrix::from_2d_vec(&vec![values.to_vec()]).ok()?;
                forest.predict(&x).ok()?.first().copied()
            })
            .unwrap_or(self.mean)
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
