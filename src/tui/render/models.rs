//! The models view: one row per model with latency, throughput and what a MAC costs, the share
//! of time outside convolutions, the throttle penalty, energy per inference (on wide screens)
//! and a latency sparkline; below it, where rows allow, each model's op time by kind and a
//! taller latency sparkline (`breakdown.rs`).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::Frame;

use super::columns::{self, Column};
use super::units::{ms, ms_opt, num, pct_opt, ratio, si, si_known, spark, NONE};
use super::{breakdown, what_if, Ctx};
use crate::core::state::ModelStatus;
use crate::tui::mouse::TableHit;
use crate::tui::rows::{ModelRow, SortKey};
use crate::tui::tables::{arrow, TableId};

/// The longest name the model column makes room for.
pub const NAME_MAX: usize = 18;

/// Where the what-if column goes, when the run has variants: beside the median it compares.
const WHAT_IF_COLUMN: usize = 4;

/// Column index of the sort key (to mark its title), if it has one; `what_if` when the run's
/// table has the what-if column.
fn sorted_column(sort: SortKey, what_if: bool) -> Option<usize> {
    let i = match sort {
        SortKey::Order => return None,
        SortKey::WhatIf => return what_if.then_some(WHAT_IF_COLUMN),
        SortKey::Name => 0,
        SortKey::Params => 1,
        SortKey::Macs => 2,
        SortKey::Latency => 3,
        SortKey::P90 => 4,
        SortKey::P99 => 5,
        SortKey::InferencesPerS => 6,
        SortKey::MsPerGmac => 7,
        SortKey::Gmacs => 8,
        SortKey::PeakShare => 9,
        SortKey::NonConv => 10,
        SortKey::Penalty => 11,
        SortKey::Samples => 12,
        SortKey::Faults => 13,
        SortKey::ColdCost => 14,
        SortKey::Energy => 15,
        SortKey::Predicted => 16,
        SortKey::OverPredicted => 17,
    };
    Some(if what_if && i >= WHAT_IF_COLUMN { i + 1 } else { i })
}

/// Width of the model column: the longest name and the focus mark.
fn name_width(ctx: &Ctx) -> usize {
    ctx.rows.iter().map(|r| ctx.name(r.id).chars().count()).max().unwrap_or(5).clamp(5, NAME_MAX) + 2
}

fn columns(ctx: &Ctx) -> Vec<Column> {
    let name_width = name_width(ctx);
    let mut cols = vec![
        Column::left("model", u16::try_from(name_width).unwrap_or(20), 0),
        Column::right("params", 6, 3),
        Column::right("MACs", 6, 1),
        Column::right("p50 ms", 7, 0),
        Column::right("p90 ms", 7, 3),
        Column::right("p99 ms", 7, 1),
        Column::right("inf/s", 7, 3),
        Column::right("ms/GMAC", 7, 1),
        // The inverse of ms/GMAC: only when there is room for everything else.
        Column::right("MAC/s", 6, 5).spare(),
        Column::right("%peak", 5, 1),
        Column::right("¬conv", 6, 2),
        Column::right("thr+", 5, 1),
        Column::right("n", 6, 1),
        Column::right("faults", 6, 4),
        Column::right("cold+", 6, 4),
        Column::right("mJ/inf", 6, 4),
        Column::right("pred ms", 7, 4),
        Column::right("×pred", 5, 3),
        Column::left("latency", 8, 2).growing(),
    ];
    if ctx.what_if.any() {
        cols.insert(WHAT_IF_COLUMN, Column::right("what-if", what_if::CELL_WIDTH, 0));
    }
    if let Some(i) = sorted_column(ctx.ui.sort, ctx.what_if.any()) {
        cols[i].title.push(arrow(ctx.ui.sort.ascending_by_default() != ctx.ui.sort_reversed));
    }
    cols
}

/// Measured ÷ predicted: within ±10 % the calibration's kernels explain the latency; above,
/// the model spends time they do not see (warned above 1.5×).
fn over_predicted(ctx: &Ctx, measured_over_predicted: Option<f64>) -> Span<'static> {
    match measured_over_predicted {
        Some(r) if r > 1.5 => Span::styled(ratio(r), ctx.theme.warn),
        Some(r) => Span::raw(ratio(r)),
        None => Span::raw(NONE),
    }
}

/// Draws the models table as tall as its rows, and the breakdown panel under it when at least
/// its legend and one model's line fit.
pub fn render(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let n = u16::try_from(ctx.rows.len()).unwrap_or(u16::MAX);
    let table_height = n.saturating_add(3);
    // The panel needs its borders, the legend and one model; with fewer lines than models it
    // shows those around the selection.
    if ctx.rows.is_empty() || area.height < table_height.saturating_add(4) {
        return table(frame, area, ctx);
    }
    let [top, bottom] = Layout::vertical([Constraint::Length(table_height), Constraint::Min(0)]).areas(area);
    table(frame, top, ctx);
    breakdown::render(frame, bottom, ctx, name_width(ctx));
}

/// Draws the models table.
fn table(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let arrow = arrow(ctx.ui.sort.ascending_by_default() != ctx.ui.sort_reversed);
    let block = ctx.panel(&format!("Models · sorted by {} {arrow}", ctx.ui.sort.label()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if ctx.rows.is_empty() {
        ctx.message(frame, inner, "no models in this run");
        return;
    }
    let cols = columns(ctx);
    let shown = columns::layout(&cols, inner.width);
    let spark_width = shown.iter().find(|(i, _)| *i == cols.len() - 1).map_or(0, |(_, w)| usize::from(*w));
    let lines: Vec<_> = ctx.rows.iter().map(|row| line(ctx, row, &cols, &shown, spark_width)).collect();
    let selected = ctx.rows.iter().position(|r| r.id == ctx.ui.selected);
    let header = columns::header(&cols, &shown, ctx.theme.header);
    let len = lines.len();
    let offset = columns::draw(frame, inner, header, lines, selected, ctx.theme.highlight);
    let body = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner };
    ctx.record_table(TableHit {
        table: TableId::Models,
        body,
        offset,
        selected: selected.unwrap_or(0),
        len,
        shown_columns: u64::MAX,
    });
}

fn line(
    ctx: &Ctx,
    row: &ModelRow,
    cols: &[Column],
    shown: &[(usize, u16)],
    spark_width: usize,
) -> ratatui::text::Line<'static> {
    let mark = if ctx.ui.focused == Some(row.id) { "» " } else { "  " };
    let name = format!("{mark}{}", ctx.name(row.id));
    let theme = ctx.theme;
    let (Some(s), false) = (row.latency, matches!(row.model.status, ModelStatus::Failed(_))) else {
        let message = match &row.model.status {
            ModelStatus::Failed(e) => Span::styled(format!("failed: {}", e.lines().next().unwrap_or("")), theme.bad),
            ModelStatus::Loading => Span::styled("loading…", theme.dim),
            // Loaded and calibrated: what the model is, before how fast it runs.
            ModelStatus::Running => Span::styled(
                format!(
                    "{} params · {} MACs · no inference timed yet",
                    si_known(row.model.info.as_ref().map(|i| i.params as f64)),
                    si_known(row.macs)
                ),
                theme.dim,
            ),
        };
        return columns::spanning(cols, shown, &name, message);
    };
    // A penalty whose confidence interval includes 0 is noise, and says so.
    let penalty = match (row.throttle_penalty, row.model.throttle.penalty_significant()) {
        (Some(_), Some(false)) => Span::styled("n.s.", theme.dim),
        (Some(p), _) if p > 0.05 => Span::styled(format!("{:+.0}%", p * 100.0), theme.warn),
        (Some(p), _) => Span::raw(format!("{:+.0}%", p * 100.0)),
        (None, _) => Span::raw(NONE),
    };
    let mut recent: Vec<f64> = row.model.latency.recent().rev().take(spark_width).collect();
    recent.reverse();
    let mut cells = vec![
        Span::raw(name),
        Span::raw(si_known(row.model.info.as_ref().map(|i| i.params as f64))),
        Span::raw(si_known(Some(row.profile.macs))),
        Span::raw(ms(s.p50_ms)),
        Span::raw(ms_opt(s.p90())),
        Span::raw(ms_opt(s.p99())),
        Span::raw(num(row.inferences_per_s, 1)),
        Span::raw(ms_opt(row.ms_per_gmac)),
        Span::raw(row.gmacs_per_s.map_or_else(|| NONE.into(), |g| si(g * 1e9))),
        Span::raw(row.peak_share.map_or_else(|| NONE.into(), |p| format!("{:.0}%", p * 100.0))),
        Span::raw(pct_opt(row.non_conv_share)),
        penalty,
        Span::raw(s.count.to_string()),
        Span::raw(num(row.faults_per_inference, 0)),
        Span::raw(row.switch_cost_ms.map_or_else(|| NONE.into(), |c| format!("{c:+.2}"))),
        Span::raw(ms_opt(row.energy_mj_per_inference)),
        Span::raw(ms_opt(row.predicted_ms)),
        over_predicted(ctx, row.measured_over_predicted),
        Span::styled(spark(&recent, spark_width), theme.sparkline),
    ];
    if ctx.what_if.any() {
        cells.insert(WHAT_IF_COLUMN, what_if::cell(ctx, row.id));
    }
    columns::row(cols, shown, &cells)
}
