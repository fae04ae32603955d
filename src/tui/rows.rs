//! One derived row per model (the numbers the models view shows) and their sort orders. Kept
//! apart from drawing because the selection moves through the same order.

use crate::core::analysis::{model_profile, rate, ModelProfile};
use crate::core::event::ModelId;
use crate::core::ops::Category;
use crate::core::state::{ModelState, MonitorState};
use crate::core::stats::LatencySummary;
use crate::core::analysis::inferences_per_s;

/// What `s` cycles through. Numeric keys sort the largest first, unknown values last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Manifest order.
    #[default]
    Order,
    Latency,
    Macs,
    MsPerGmac,
    Gmacs,
    NonConv,
    Penalty,
}

impl SortKey {
    const ALL: [SortKey; 7] = [
        SortKey::Order,
        SortKey::Latency,
        SortKey::Macs,
        SortKey::MsPerGmac,
        SortKey::Gmacs,
        SortKey::NonConv,
        SortKey::Penalty,
    ];

    #[must_use]
    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// Shown in the status line.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Order => "manifest order",
            SortKey::Latency => "p50 latency",
            SortKey::Macs => "MACs",
            SortKey::MsPerGmac => "ms per GMAC",
            SortKey::Gmacs => "achieved GMAC/s",
            SortKey::NonConv => "time outside conv",
            SortKey::Penalty => "throttle penalty",
        }
    }
}

/// A model's numbers as the models view shows them (per inference, batch included).
#[derive(Clone, Debug)]
pub struct ModelRow<'a> {
    pub id: ModelId,
    pub model: &'a ModelState,
    pub profile: ModelProfile,
    pub summary: Option<LatencySummary>,
    pub inferences_per_s: Option<f64>,
    /// Median latency per GMAC: what one unit of arithmetic costs in time.
    pub ms_per_gmac: Option<f64>,
    /// Achieved GMAC/s at the median latency.
    pub gmacs: Option<f64>,
    pub peak_share: Option<f64>,
    /// Share of op time spent outside convolutions.
    pub non_conv_share: Option<f64>,
    pub penalty: Option<f64>,
}

impl<'a> ModelRow<'a> {
    /// Derives the row of one model.
    #[must_use]
    pub fn new(state: &MonitorState, id: ModelId, model: &'a ModelState, profile: ModelProfile) -> Self {
        let summary = model.latency.summary();
        let p50 = summary.map(|s| s.p50_ms).filter(|ms| *ms > 0.0);
        let macs = Some(profile.macs).filter(|m| *m > 0.0);
        let gmacs = p50.zip(macs).map(|(ms, macs)| rate(macs, ms));
        let conv_ms = profile.categories.iter().find(|c| c.category == Some(Category::Conv2d)).map_or(0.0, |c| c.ms);
        let non_conv_share = (profile.op_ms > 0.0).then(|| (1.0 - conv_ms / profile.op_ms).clamp(0.0, 1.0));
        Self {
            id,
            model,
            summary,
            inferences_per_s: summary.map(|s| inferences_per_s(model, s.mean_ms)),
            ms_per_gmac: p50.zip(macs).map(|(ms, macs)| ms / (macs / 1e9)),
            peak_share: gmacs.zip(state.peak_gmacs.filter(|p| *p > 0.0)).map(|(g, peak)| g / peak),
            gmacs,
            non_conv_share,
            penalty: model.throttle.penalty(),
            profile,
        }
    }

    fn key(&self, sort: SortKey) -> Option<f64> {
        match sort {
            SortKey::Order => Some(-(self.id as f64)),
            SortKey::Latency => self.summary.map(|s| s.p50_ms),
            SortKey::Macs => Some(self.profile.macs).filter(|m| *m > 0.0),
            SortKey::MsPerGmac => self.ms_per_gmac,
            SortKey::Gmacs => self.gmacs,
            SortKey::NonConv => self.non_conv_share,
            SortKey::Penalty => self.penalty,
        }
    }
}

/// Every model's row, in `sort` order.
#[must_use]
pub fn model_rows(state: &MonitorState, sort: SortKey) -> Vec<ModelRow<'_>> {
    let mut rows: Vec<ModelRow> = state
        .models
        .iter()
        .enumerate()
        .map(|(id, m)| ModelRow::new(state, id, m, model_profile(&state.tree, m)))
        .collect();
    sort_rows(&mut rows, sort);
    rows
}

/// Sorts rows by `sort`, largest first; unknown values go last, ties keep manifest order.
pub fn sort_rows(rows: &mut [ModelRow], sort: SortKey) {
    rows.sort_by(|a, b| match (a.key(sort), b.key(sort)) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.id.cmp(&b.id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.id.cmp(&b.id),
    });
}
