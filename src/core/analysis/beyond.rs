//! Beyond the MAC count, across models: how well latency follows MACs, parameters, op calls
//! and bytes moved (Pearson and Spearman), and how far each model's cost per MAC sits from the
//! median model's. Pure functions of the state, shared by the TUI and the export.

use std::sync::Arc;

use crate::core::analysis::model_profile::ModelProfile;
use crate::core::common::stats::{pearson, spearman};
use crate::core::run::event::ModelId;
use crate::core::state::monitor::MonitorState;

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

/// Fewer models than this draw no reference line and name no best predictor: two points always
/// lie on a line.
pub const MIN_MODELS: usize = 3;

/// The reference line `latency = median ms/GMAC × GMACs`: slope one on log–log axes, through
/// the median model's cost per MAC. A least-squares line with an intercept would make every
/// small model look fast; against the median, a model's distance is its own ms/GMAC over the
/// median's, so the ranking is the Models view's ms/GMAC ranking.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MedianLine {
    pub ms_per_gmac: f64,
}

impl MedianLine {
    /// The latency the line gives `macs`.
    #[must_use]
    pub fn predict_ms(self, macs: f64) -> f64 {
        self.ms_per_gmac * macs / 1e9
    }
}

/// How far one model is from the median line.
#[derive(Clone, Debug, PartialEq)]
pub struct MacGap {
    pub model: ModelId,
    pub name: Arc<str>,
    pub measured_ms: f64,
    /// What the median cost per MAC gives its MACs.
    pub predicted_ms: f64,
    pub ms_per_gmac: f64,
}

impl MacGap {
    /// Measured over the line: its ms/GMAC over the median's (`None` when the line gives no
    /// time).
    #[must_use]
    pub fn ratio(&self) -> Option<f64> {
        (self.predicted_ms > 0.0).then(|| self.measured_ms / self.predicted_ms)
    }

    /// Measured minus the line: positive means slower than its MACs suggest.
    #[must_use]
    pub fn gap_ms(&self) -> f64 {
        self.measured_ms - self.predicted_ms
    }
}

/// The whole cross-model comparison.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BeyondMacs {
    pub points: Vec<ModelPoint>,
    pub correlations: Vec<Correlation>,
    pub fit: Option<MedianLine>,
    /// Highest ms/GMAC first (the least efficient per MAC).
    pub gaps: Vec<MacGap>,
    /// The factor latency follows best (largest |Spearman|, then |Pearson|) with enough models.
    pub best_predictor: Option<Factor>,
}

/// Models with a latency and known MACs, as points. `profiles` are the models' profiles in
/// model order (pass them when already computed; see [`beyond_macs`]). What-if variants are
/// left out: a second point of the same MACs would weigh that network twice in the study.
#[must_use]
pub fn model_points(state: &MonitorState, profiles: &[ModelProfile]) -> Vec<ModelPoint> {
    state
        .models
        .iter()
        .zip(profiles)
        .enumerate()
        .filter(|(_, (m, _))| !m.is_variant())
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

/// The median ms/GMAC line; `None` below [`MIN_MODELS`] points with MACs.
#[must_use]
pub fn median_line(points: &[ModelPoint]) -> Option<MedianLine> {
    let mut costs: Vec<f64> = points.iter().filter(|p| p.macs > 0.0).map(|p| p.latency_ms / (p.macs / 1e9)).collect();
    if costs.len() < MIN_MODELS {
        return None;
    }
    costs.sort_by(f64::total_cmp);
    crate::core::common::stats::quantile_sorted(&costs, 0.5).map(|ms_per_gmac| MedianLine { ms_per_gmac })
}

/// Each model against the line, highest ms/GMAC first.
#[must_use]
pub fn mac_gaps(points: &[ModelPoint], line: MedianLine) -> Vec<MacGap> {
    let mut gaps: Vec<MacGap> = points
        .iter()
        .filter(|p| p.macs > 0.0)
        .map(|p| MacGap {
            model: p.model,
            name: Arc::clone(&p.name),
            measured_ms: p.latency_ms,
            predicted_ms: line.predict_ms(p.macs),
            ms_per_gmac: p.latency_ms / (p.macs / 1e9),
        })
        .collect();
    gaps.sort_by(|a, b| b.ms_per_gmac.total_cmp(&a.ms_per_gmac).then_with(|| a.name.cmp(&b.name)));
    gaps
}

/// The factor with the strongest rank correlation (then linear), from [`MIN_MODELS`] models.
#[must_use]
pub fn best_predictor(correlations: &[Correlation]) -> Option<Factor> {
    let strength = |c: &Correlation| (c.spearman.map_or(-1.0, f64::abs), c.pearson.map_or(-1.0, f64::abs));
    correlations
        .iter()
        .filter(|c| c.n >= MIN_MODELS && c.spearman.is_some())
        .max_by(|a, b| {
            let (sa, pa) = strength(a);
            let (sb, pb) = strength(b);
            sa.total_cmp(&sb).then(pa.total_cmp(&pb))
        })
        .map(|c| c.factor)
}

/// Everything above from profiles already computed (one per model, in model order).
#[must_use]
pub fn beyond_macs_with(state: &MonitorState, profiles: &[ModelProfile]) -> BeyondMacs {
    let points = model_points(state, profiles);
    let fit = median_line(&points);
    let correlations = correlations(&points);
    BeyondMacs {
        best_predictor: best_predictor(&correlations),
        correlations,
        gaps: fit.map(|f| mac_gaps(&points, f)).unwrap_or_default(),
        fit,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::analysis::model_profile::model_profile;

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
    fn the_line_is_the_median_cost_per_mac_and_ranks_like_ms_per_gmac() {
        // 12, 11 and 10.5 ms/GMAC: the median is 11.
        let points = [point("a", 12.0, 1.0, 10.0), point("b", 22.0, 2.0, 30.0), point("c", 42.0, 4.0, 20.0)];
        let line = median_line(&points).unwrap();
        assert!((line.ms_per_gmac - 11.0).abs() < 1e-9, "{line:?}");
        let gaps = mac_gaps(&points, line);
        let names: Vec<&str> = gaps.iter().map(|g| &*g.name).collect();
        assert_eq!(names, ["a", "b", "c"], "highest ms/GMAC first");
        for g in &gaps {
            assert!((g.ratio().unwrap() - g.ms_per_gmac / line.ms_per_gmac).abs() < 1e-12);
        }
        let corr = correlations(&points);
        assert!((corr[0].pearson.unwrap() - 1.0).abs() < 1e-3);
        // Op calls rank b above c while latency ranks c above b.
        assert!(corr[2].spearman.unwrap() < 1.0);
        assert_eq!(best_predictor(&corr), Some(Factor::Macs));
    }

    #[test]
    fn a_slow_model_stands_out_above_the_line() {
        let points = [
            point("a", 10.0, 1.0, 1.0),
            point("b", 20.0, 2.0, 1.0),
            point("c", 30.0, 3.0, 1.0),
            point("d", 40.0, 4.0, 1.0),
            point("slow", 150.0, 2.5, 1.0),
        ];
        let gaps = mac_gaps(&points, median_line(&points).unwrap());
        assert_eq!(&*gaps[0].name, "slow");
        assert!(gaps[0].gap_ms() > 0.0 && gaps[0].ratio().unwrap() > 1.0);
    }

    #[test]
    fn fewer_than_three_models_draw_no_line_and_name_no_predictor() {
        assert_eq!(median_line(&[point("a", 1.0, 1.0, 1.0)]), None);
        let two = [point("a", 1.0, 1.0, 1.0), point("b", 2.0, 3.0, 1.0)];
        assert_eq!(median_line(&two), None);
        assert_eq!(best_predictor(&correlations(&two)), None);
        assert!(correlations(&[]).iter().all(|c| c.pearson.is_none() && c.n == 0));
        assert_eq!(
            {
                let state = MonitorState::new(&["x"]);
                let profiles: Vec<ModelProfile> = state.models.iter().map(|m| model_profile(&state.tree, m)).collect();
                beyond_macs_with(&state, &profiles)
            },
            BeyondMacs { correlations: correlations(&[]), ..BeyondMacs::default() }
        );
    }
}
