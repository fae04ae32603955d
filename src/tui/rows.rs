//! One derived row per model (the numbers the models view shows) and their sort orders. Kept
//! apart from drawing because the selection moves through the same order.

use crate::core::state::MonitorState;
use crate::core::summary::ModelSummary;

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
            SortKey::Gmacs => "achieved MAC/s",
            SortKey::NonConv => "time outside conv",
            SortKey::Penalty => "throttle penalty",
        }
    }
}

/// A model's numbers as the models view shows them: the core's summary.
pub type ModelRow<'a> = ModelSummary<'a>;

/// The value `sort` orders by; `None` sorts last.
fn key(row: &ModelRow, sort: SortKey) -> Option<f64> {
    match sort {
        SortKey::Order => Some(-(row.id as f64)),
        SortKey::Latency => row.latency.map(|s| s.p50_ms),
        SortKey::Macs => row.macs.filter(|m| *m > 0.0),
        SortKey::MsPerGmac => row.ms_per_gmac,
        SortKey::Gmacs => row.gmacs_per_s,
        SortKey::NonConv => row.non_conv_share,
        SortKey::Penalty => row.throttle_penalty,
    }
}

/// Every model's row, in `sort` order.
#[must_use]
pub fn model_rows(state: &MonitorState, sort: SortKey) -> Vec<ModelRow<'_>> {
    let mut rows = ModelSummary::all(state);
    sort_rows(&mut rows, sort);
    rows
}

/// Sorts rows by `sort`, largest first; unknown values go last, ties keep manifest order.
pub fn sort_rows(rows: &mut [ModelRow], sort: SortKey) {
    rows.sort_by(|a, b| match (key(a, sort), key(b, sort)) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.id.cmp(&b.id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.id.cmp(&b.id),
    });
}
