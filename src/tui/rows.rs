//! One derived row per model (the numbers the models view shows) and their sort orders. Kept
//! apart from drawing because the selection moves through the same order.

use std::cmp::Ordering;

use crate::core::analysis::ModelSummary;
use crate::core::state::MonitorState;
use crate::tui::variants::WhatIf;

/// A column of the models table to sort by (`s` cycles, `S` reverses). Numeric keys sort the
/// largest first, names A to Z; unknown values last in either direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Manifest order.
    #[default]
    Order,
    /// The what-if column (only in runs with variants): the change of median latency.
    WhatIf,
    Latency,
    Macs,
    MsPerGmac,
    Gmacs,
    NonConv,
    Penalty,
    Name,
    Params,
    P90,
    P99,
    InferencesPerS,
    PeakShare,
    Samples,
    Faults,
    ColdCost,
    Energy,
    Predicted,
    OverPredicted,
}

impl SortKey {
    /// The cycle of `s`: the usual questions first, then every other column.
    pub const ALL: [SortKey; 20] = [
        SortKey::Order,
        SortKey::WhatIf,
        SortKey::Latency,
        SortKey::Macs,
        SortKey::MsPerGmac,
        SortKey::Gmacs,
        SortKey::NonConv,
        SortKey::Penalty,
        SortKey::Name,
        SortKey::Params,
        SortKey::P90,
        SortKey::P99,
        SortKey::InferencesPerS,
        SortKey::PeakShare,
        SortKey::Samples,
        SortKey::Faults,
        SortKey::ColdCost,
        SortKey::Energy,
        SortKey::Predicted,
        SortKey::OverPredicted,
    ];

    /// The key after this one; [`SortKey::WhatIf`] only when the run has variants (`what_if`),
    /// since without them there is no such column.
    #[must_use]
    pub fn next(self, what_if: bool) -> Self {
        let i = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        let next = Self::ALL[(i + 1) % Self::ALL.len()];
        if next == SortKey::WhatIf && !what_if {
            next.next(what_if)
        } else {
            next
        }
    }

    /// The keys `s` cycles through in a run with (`what_if`) or without variants.
    #[must_use]
    pub fn cycle(what_if: bool) -> Vec<SortKey> {
        Self::ALL.into_iter().filter(|k| what_if || *k != SortKey::WhatIf).collect()
    }

    /// Shown in the status line and the table's title.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Order => "manifest order",
            SortKey::WhatIf => "what-if Δp50",
            SortKey::Latency => "p50 latency",
            SortKey::Macs => "MACs",
            SortKey::MsPerGmac => "ms per GMAC",
            SortKey::Gmacs => "achieved MAC/s",
            SortKey::NonConv => "time outside conv",
            SortKey::Penalty => "throttle penalty",
            SortKey::Name => "name",
            SortKey::Params => "params",
            SortKey::P90 => "p90 latency",
            SortKey::P99 => "p99 latency",
            SortKey::InferencesPerS => "inferences/s",
            SortKey::PeakShare => "% of peak",
            SortKey::Samples => "samples",
            SortKey::Faults => "page faults",
            SortKey::ColdCost => "switch cost",
            SortKey::Energy => "energy",
            SortKey::Predicted => "predicted latency",
            SortKey::OverPredicted => "measured ÷ predicted",
        }
    }

    /// Whether the key's natural direction is ascending (manifest order, names, and the what-if
    /// change, whose largest speed-up is its most negative value).
    #[must_use]
    pub fn ascending_by_default(self) -> bool {
        matches!(self, SortKey::Order | SortKey::Name | SortKey::WhatIf)
    }
}

/// A model's numbers as the models view shows them: the core's summary.
pub type ModelRow<'a> = ModelSummary<'a>;

/// The value `sort` orders by; `None` sorts last.
fn key(row: &ModelRow, sort: SortKey) -> Option<f64> {
    let latency = row.latency.as_ref();
    match sort {
        SortKey::Order | SortKey::Name => Some(row.id as f64),
        // Needs every row's comparison: see `ordered_rows_with`.
        SortKey::WhatIf => None,
        SortKey::Latency => latency.map(|s| s.p50_ms),
        SortKey::Macs => row.macs.filter(|m| *m > 0.0),
        SortKey::MsPerGmac => row.ms_per_gmac,
        SortKey::Gmacs => row.gmacs_per_s,
        SortKey::NonConv => row.non_conv_share,
        SortKey::Penalty => row.throttle_penalty,
        SortKey::Params => row.model.info.as_ref().map(|i| i.params as f64),
        SortKey::P90 => latency.and_then(crate::core::common::LatencySummary::p90),
        SortKey::P99 => latency.and_then(crate::core::common::LatencySummary::p99),
        SortKey::InferencesPerS => row.inferences_per_s,
        SortKey::PeakShare => row.peak_share,
        SortKey::Samples => latency.map(|s| s.count as f64),
        SortKey::Faults => row.faults_per_inference,
        SortKey::ColdCost => row.switch_cost_ms,
        SortKey::Energy => row.energy_mj_per_inference,
        SortKey::Predicted => row.predicted_ms,
        SortKey::OverPredicted => row.measured_over_predicted,
    }
}

/// Every model's row, in `sort` order (its natural direction).
#[must_use]
pub fn model_rows(state: &MonitorState, sort: SortKey) -> Vec<ModelRow<'_>> {
    ordered_rows(state, sort, false)
}

/// Every model's row, in `sort` order, reversed from its natural direction when `reversed`.
#[must_use]
pub fn ordered_rows(state: &MonitorState, sort: SortKey, reversed: bool) -> Vec<ModelRow<'_>> {
    let what_if = if sort == SortKey::WhatIf { WhatIf::of(state) } else { WhatIf::default() };
    ordered_rows_with(state, sort, reversed, &what_if)
}

/// [`ordered_rows`] with the frame's what-if comparisons already at hand.
#[must_use]
pub fn ordered_rows_with<'a>(
    state: &'a MonitorState,
    sort: SortKey,
    reversed: bool,
    what_if: &WhatIf,
) -> Vec<ModelRow<'a>> {
    let mut rows = ModelSummary::all(state);
    if sort == SortKey::WhatIf {
        sort_rows_by(&mut rows, sort, reversed, |row| what_if.sort_value(row.id));
    } else {
        sort_rows_in(&mut rows, sort, reversed);
    }
    rows
}

/// Sorts rows by `sort` in its natural direction; unknown values go last, ties keep manifest order.
pub fn sort_rows(rows: &mut [ModelRow], sort: SortKey) {
    sort_rows_in(rows, sort, false);
}

/// Sorts rows by `sort`, flipped when `reversed`; unknown values stay last either way.
pub fn sort_rows_in(rows: &mut [ModelRow], sort: SortKey, reversed: bool) {
    sort_rows_by(rows, sort, reversed, |row| key(row, sort));
}

/// Sorts rows by `value` in `sort`'s direction, flipped when `reversed`; names by name.
fn sort_rows_by(rows: &mut [ModelRow], sort: SortKey, reversed: bool, value: impl Fn(&ModelRow) -> Option<f64>) {
    let ascending = sort.ascending_by_default() != reversed;
    rows.sort_by(|a, b| {
        let order = if sort == SortKey::Name {
            Some(a.model.name.to_lowercase().cmp(&b.model.name.to_lowercase()))
        } else {
            match (value(a), value(b)) {
                (Some(x), Some(y)) => Some(x.total_cmp(&y)),
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                (None, None) => None,
            }
        };
        let order = order.map_or(Ordering::Equal, |o| if ascending { o } else { o.reverse() });
        order.then(a.id.cmp(&b.id))
    });
}
