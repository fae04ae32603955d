//! Tables of the detail view: the op table, what convolutions spend inside, and the top
//! (leaf) layers, each with time shares next to MAC shares.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::columns::{self, Column};
use super::units::{count, ms, pct, si, si_known, NONE};
use super::Ctx;
use crate::core::analysis::{conv_breakdown, layer_rows, op_rows, OpRow};
use crate::core::ops::{is_conv_kernel, Category};
use crate::tui::rows::ModelRow;

/// A share of `whole`, or "–" when there is no whole.
fn share(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        pct(part / whole)
    } else {
        NONE.into()
    }
}

/// Draws a titled table, or a message in its place when there are no rows.
fn panel(
    frame: &mut Frame,
    area: Rect,
    ctx: &Ctx,
    title: &str,
    cols: &[Column],
    rows: &[Vec<Span<'static>>],
    empty: &str,
) {
    let block = ctx.panel(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        ctx.message(frame, inner, empty);
        return;
    }
    let shown = columns::layout(cols, inner.width);
    let lines: Vec<Line<'static>> = rows.iter().map(|cells| columns::row(cols, &shown, cells)).collect();
    columns::draw(frame, inner, columns::header(cols, &shown, ctx.theme.header), lines, None, ctx.theme.highlight);
}

const NO_PROFILE: &str = "no profiled inference yet (op times need the profiler: run without --no-op-profile)";

/// The op table: every op by self time, with calls, total time, share, MACs and MAC/s.
pub fn table(frame: &mut Frame, area: Rect, ctx: &Ctx, row: &ModelRow) {
    let cols = [
        Column::left("op", 16, 0).growing().cut_middle(),
        Column::right("calls", 6, 3),
        Column::right("self ms", 8, 0),
        Column::right("total ms", 8, 2),
        Column::right("% time", 6, 1),
        Column::right("MACs", 6, 2),
        Column::right("MAC/s", 6, 3),
    ];
    let op_ms = row.profile.op_ms;
    let rows: Vec<Vec<Span<'static>>> = if row.profile.inferences == 0 {
        Vec::new()
    } else {
        op_rows(&ctx.state.tree, row.model, false).iter().map(|r| op_cells(r, op_ms)).collect()
    };
    let title = format!("ops by self time · per inference over {}", count(row.profile.inferences, "run"));
    panel(frame, area, ctx, &title, &cols, &rows, NO_PROFILE);
}

fn op_cells(r: &OpRow, op_ms: f64) -> Vec<Span<'static>> {
    let gmacs = r.gmacs_per_s();
    vec![
        Span::raw(r.op.to_string()),
        Span::raw(format!("{:.0}", r.calls)),
        Span::raw(ms(r.self_ms)),
        Span::raw(ms(r.total_ms)),
        Span::raw(share(r.self_ms, op_ms)),
        Span::raw(si_known(Some(r.macs))),
        Span::raw(if gmacs > 0.0 { si(gmacs * 1e9) } else { NONE.into() }),
    ]
}

/// Inside `Conv2D`: the kernels that ran and what went to allocation, slicing and views.
pub fn conv(frame: &mut Frame, area: Rect, ctx: &Ctx, row: &ModelRow) {
    let cols = [
        Column::left("inside conv", 12, 0).growing().cut_middle(),
        Column::left("kind", 8, 1),
        Column::right("calls", 6, 3),
        Column::right("self ms", 8, 0),
        Column::right("% conv", 6, 0),
    ];
    let breakdown = if row.profile.inferences == 0 { Vec::new() } else { conv_breakdown(&ctx.state.tree, row.model) };
    let total: f64 = breakdown.iter().map(|r| r.self_ms).sum();
    let rows: Vec<Vec<Span<'static>>> = breakdown
        .iter()
        .map(|r| {
            let (kind, style) = if is_conv_kernel(&r.op) {
                ("kernel", ctx.theme.good)
            } else if r.category == Category::Conv2d {
                ("dispatch", ctx.theme.text)
            } else {
                (if r.category == Category::Bookkeeping { "bookkeep" } else { r.category.label() }, ctx.theme.warn)
            };
            vec![
                Span::raw(r.op.to_string()),
                Span::styled(kind.to_lowercase(), style),
                Span::raw(format!("{:.0}", r.calls)),
                Span::raw(ms(r.self_ms)),
                Span::raw(share(r.self_ms, total)),
            ]
        })
        .collect();
    let title = format!("inside Conv2D · {} ms", ms(total));
    panel(frame, area, ctx, &title, &cols, &rows, NO_PROFILE);
}

/// The leaf layers by time, time share next to MAC share.
pub fn layers(frame: &mut Frame, area: Rect, ctx: &Ctx, row: &ModelRow) {
    let cols = [
        Column::left("layer", 12, 0).growing().cut_middle(),
        Column::right("ms", 7, 0),
        Column::right("time", 6, 0),
        Column::right("MACs", 6, 1),
    ];
    let (op_ms, macs) = (row.profile.op_ms, row.profile.macs);
    let rows: Vec<Vec<Span<'static>>> = layer_rows(&ctx.state.tree, row.model)
        .iter()
        .filter(|l| l.leaf)
        .map(|l| {
            vec![
                Span::raw(l.layer.to_string()),
                Span::raw(ms(l.ms)),
                Span::raw(share(l.ms, op_ms)),
                Span::raw(share(l.macs, macs)),
            ]
        })
        .collect();
    panel(frame, area, ctx, "top layers", &cols, &rows, "no layers recorded for this model");
}
