//! Beyond the MAC count, across models: how well latency follows MACs, parameters, op calls
//! and bytes moved (Pearson and Spearman), and how far each model sits from the latency its
//! MACs predict under a least-squares line fitted through all models. Pure functions of the
//! state, shared by the TUI and the export.

use std::sync::Arc;

use crate::core::analysis::{model_profile, ModelProfile};
use crate::core::event::ModelId;
use crate::core::state::MonitorState;
use crate::core::stats::{pearson, spearman};

/// One measured model as a point of the cross-model comparison (per inference, batch included).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelPoint {
    pub model: ModelId,
    pub name: Arc<str>,
    /// Median latency over the recent window.
    pub latency_ms: f64,
    pub macs: f64,
    pub params: f64,
    /// Calls of top-level ops.
    pub op_calls: f64,
    pub bytes: f64,
}

/// What latency is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factor {
    Macs,
    Params,
    OpCalls,
    Bytes,
}

impl Factor {
    pub const ALL: [Factor; 4] = [Factor::Macs, Factor::Params, Factor::OpCalls, Factor::Bytes];

    /// Display label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Factor::Macs => "MACs",
            Factor::Params => "params",
            Factor::OpCalls => "op calls",
            Factor::Bytes => "bytes moved",
        }
    }

    fn of(self, p: &ModelPoint) -> f64 {
        match self {
            Factor::Macs => p.macs,
            Factor::Params => p.params,
            Factor::OpCalls => p.op_calls,
            Factor::Bytes => p.bytes,
        }
    }
}

/// Correlation of latency with one factor across models; `None` with fewer than three models
/// or when either side does not vary.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Correlation {
    pub factor: Factor,
    pub pearson: Option<f64>,
    pub spearman: Option<f64>,
    /// Models behind the numbers.
    pub n: usize,
}

/// The least-squares line `latency_ms = intercept_ms + ms_per_gmac × GMACs`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MacFit {
    pub intercept_ms: f64,
    pub ms_per_gmac: f64,
}

impl MacFit {
    /// The latency the line predicts for `macs`.
    #[must_use]
    pub fn predict_ms(&self, macs: f64) -> f64 {
        self.intercept_ms + self.ms_per_gmac * macs / 1e9
    }
}

/// How far one model is from what its MACs predict.
#[derive(Clone, Debug, PartialEq)]
pub struct MacGap {
    pub model: ModelId,
    pub name: Arc<str>,
    pub measured_ms: f64,
    pub predicted_ms: f64,
    /// Measured minus predicted: positive means slower than its MACs suggest.
    pub gap_ms: f64,
}

impl MacGap {
    /// Measured over predicted (`None` when the line predicts no positive time).
    #[must_use]
    pub fn ratio(&self) -> Option<f64> {
        (self.predicted_ms > 0.0).then(|| self.measured_ms / self.predicted_ms)
    }
}

/// The whole cross-model comparison.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BeyondMacs {
    pub points: Vec<ModelPoint>,
    pub correlations: Vec<Correlation>,
    pub fit: Option<MacFit>,
    /// Largest gap first.
    pub gaps: Vec<MacGap>,
}

/// Models with a latency and known MACs, as points. `profiles` are the models' profiles in
/// model order (pass them when already computed; see [`beyond_macs`]).
#[must_use]
pub fn model_points(state: &MonitorState, profiles: &[ModelProfile]) -> Vec<ModelPoint> {
    state
        .models
        .iter()
        .zip(profiles)
        .enumerate()
        .filter_map(|(id, (m, profile))| {
            let summary = m.latency.summary()?;
            (profile.macs > 0.0 && summary.p50_ms.is_finite()).then(|| ModelPoint {
                model: id,
                name: Arc::clone(&m.name),
                latency_ms: summary.p50_ms,
                macs: profile.macs,
                params: m.info.as_ref().map_or(0.0, |i| i.params as f64),
                op_calls: profile.top_level_calls,
                bytes: profile.bytes,
            })
        })
        .collect()
}

/// Pearson and Spearman of latency with each [`Factor`].
#[must_use]
pub fn correlations(points: &[ModelPoint]) -> Vec<Correlation> {
    let latency: Vec<f64> = points.iter().map(|p| p.latency_ms).collect();
    Factor::ALL
        .iter()
        .map(|&factor| {
            let xs: Vec<f64> = points.iter().map(|p| factor.of(p)).collect();
            Correlation { factor, pearson: pearson(&xs, &latency), spearman: spearman(&xs, &latency), n: points.len() }
        })
        .collect()
}

/// Ordinary least squares of latency on MACs; `None` with fewer than two points or when all
/// models have the same MACs.
#[must_use]
pub fn mac_fit(points: &[ModelPoint]) -> Option<MacFit> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.macs / 1e9).sum::<f64>() / n;
    let my = points.iter().map(|p| p.latency_ms).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for p in points {
        let dx = p.macs / 1e9 - mx;
        sxy += dx * (p.latency_ms - my);
        sxx += dx * dx;
    }
    if sxx <= 0.0 {
        return None;
    }
    let ms_per_gmac = sxy / sxx;
    Some(MacFit { intercept_ms: my - ms_per_gmac * mx, ms_per_gmac })
}

/// Each model's distance from the line, largest positive gap first.
#[must_use]
pub fn mac_gaps(points: &[ModelPoint], fit: &MacFit) -> Vec<MacGap> {
    let mut gaps: Vec<MacGap> = points
        .iter()
        .map(|p| {
            let predicted_ms = fit.predict_ms(p.macs);
            MacGap {
                model: p.model,
                name: Arc::clone(&p.name),
                measured_ms: p.latency_ms,
                predicted_ms,
                gap_ms: p.latency_ms - predicted_ms,
            }
        })
        .collect();
    gaps.sort_by(|a, b| b.gap_ms.total_cmp(&a.gap_ms).then_with(|| a.name.cmp(&b.name)));
    gaps
}

/// Everything above from profiles already computed (one per model, in model order).
#[must_use]
pub fn beyond_macs_with(state: &MonitorState, profiles: &[ModelProfile]) -> BeyondMacs {
    let points = model_points(state, profiles);
    let fit = mac_fit(&points);
    BeyondMacs {
        correlations: correlations(&points),
        gaps: fit.as_ref().map(|f| mac_gaps(&points, f)).unwrap_or_default(),
        fit,
        points,
    }
}

/// Everything above, straight from the state.
#[must_use]
pub fn beyond_macs(state: &MonitorState) -> BeyondMacs {
    let profiles: Vec<ModelProfile> = state.models.iter().map(|m| model_profile(&state.tree, m)).collect();
    beyond_macs_with(state, &profiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(name: &str, latency_ms: f64, gmacs: f64, calls: f64) -> ModelPoint {
        ModelPoint {
            model: 0,
            name: name.into(),
            latency_ms,
            macs: gmacs * 1e9,
            params: gmacs * 1e6,
            op_calls: calls,
            bytes: gmacs * 4e6,
        }
    }

    #[test]
    fn a_line_through_exact_points_has_no_gaps() {
        let points = [point("a", 12.0, 1.0, 10.0), point("b", 22.0, 2.0, 30.0), point("c", 42.0, 4.0, 20.0)];
        let fit = mac_fit(&points).unwrap();
        assert!((fit.ms_per_gmac - 10.0).abs() < 1e-9);
        assert!((fit.intercept_ms - 2.0).abs() < 1e-9);
        assert!(mac_gaps(&points, &fit).iter().all(|g| g.gap_ms.abs() < 1e-9));
        let corr = correlations(&points);
        assert!((corr[0].pearson.unwrap() - 1.0).abs() < 1e-12);
        // Op calls rank b above c while latency ranks c above b.
        assert!(corr[2].spearman.unwrap() < 1.0);
    }

    #[test]
    fn a_slow_model_stands_out_with_a_positive_gap() {
        let points = [
            point("a", 10.0, 1.0, 1.0),
            point("b", 20.0, 2.0, 1.0),
            point("c", 30.0, 3.0, 1.0),
            point("d", 40.0, 4.0, 1.0),
            point("slow", 150.0, 2.5, 1.0),
        ];
        let gaps = mac_gaps(&points, &mac_fit(&points).unwrap());
        assert_eq!(&*gaps[0].name, "slow");
        assert!(gaps[0].gap_ms > 0.0 && gaps[0].ratio().unwrap() > 1.0);
    }

    #[test]
    fn too_few_or_flat_points_give_no_fit() {
        assert_eq!(mac_fit(&[point("a", 1.0, 1.0, 1.0)]), None);
        assert_eq!(mac_fit(&[point("a", 1.0, 1.0, 1.0), point("b", 2.0, 1.0, 1.0)]), None);
        assert!(correlations(&[]).iter().all(|c| c.pearson.is_none() && c.n == 0));
        assert_eq!(
            beyond_macs(&MonitorState::new(&["x"])),
            BeyondMacs { correlations: correlations(&[]), ..BeyondMacs::default() }
        );
    }
}
