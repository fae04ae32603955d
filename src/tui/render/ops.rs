//! Tables of the detail view: the op table, what convolutions spend inside, and the top
//! (leaf) layers, each with time shares next to MAC shares. Each scrolls, sorts on any column
//! and filters by name on its own ([`crate::tui::tables`]); the one in front is marked.

use std::fmt::Write as _;

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::columns::{self, Column};
use super::units::{count, ms, pct, ratio, si, si_known, NONE};
use super::Ctx;
use crate::core::analysis::layer_kinds;
use crate::core::analysis::layer_shapes;
use crate::core::analysis::{conv_breakdown, layer_rows, op_rows, OpRow};
use crate::core::profiling::dims_text;
use crate::core::profiling::{is_conv_kernel, kernel_name, Category};
use crate::tui::mouse::TableHit;
use crate::tui::rows::ModelRow;
use crate::tui::tables::{arrange, arrow, window, SortValue, TableId, TableRow};

/// Columns of the op table (for `s` to cycle through).
pub const OP_COLUMNS: usize = 7;
/// Columns of the inside-conv table.
pub const CONV_COLUMNS: usize = 5;
/// Columns of the layer table.
pub const LAYER_COLUMNS: usize = 6;

/// The namespace every libtorch op name starts with. The tables leave it out: in a narrow
/// column it took the room that tells `_convolution` from `convolution`.
const ATEN: &str = "aten::";

/// An op's name as the tables show it.
fn short_op(name: &str) -> String {
    name.strip_prefix(ATEN).unwrap_or(name).to_string()
}

/// A share of `whole`, or "–" when there is no whole.
fn share(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        pct(part / whole)
    } else {
        NONE.into()
    }
}

fn num(v: f64) -> SortValue {
    SortValue::Num(v)
}

/// What a table is and holds, before the person's filter and sort.
struct Table<'a> {
    id: TableId,
    title: String,
    /// Said after the title and the filter, as far as the width allows.
    about: String,
    /// Plural noun of its rows, for the filter's count.
    noun: &'a str,
    cols: Vec<Column>,
    rows: Vec<TableRow>,
    /// The column the table is in by default.
    natural: usize,
    empty: &'a str,
}

/// Draws a table filtered, sorted and scrolled as the UI state says, or a message in its place
/// when there are no rows, and notes where its rows went.
fn panel(frame: &mut Frame, area: Rect, ctx: &Ctx, table: Table) {
    let state = ctx.ui.table_state(table.id).cloned().unwrap_or_default();
    let front = table.id == ctx.ui.table;
    let all = table.rows.len();
    let (rows, column, ascending) = arrange(table.rows, &state, table.natural);
    let mut title = format!("{}{}", if front { "▸ " } else { "" }, table.title);
    if front && ctx.ui.typing {
        let _ = write!(title, " · /{}▏", state.filter);
    } else if !state.filter.is_empty() {
        let noun = table.noun.trim_end_matches('s');
        let _ = write!(title, " · /{} {} of {}", state.filter, rows.len(), count(all, noun));
    }
    if !table.about.is_empty() {
        let _ = write!(title, " · {}", table.about);
    }
    // The table in front (where keys, `s` and `/` go) has a lit border besides its ▸.
    let block = if front { ctx.panel(&title).border_style(ctx.theme.header) } else { ctx.panel(&title) };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        let text =
            if all == 0 { table.empty.to_string() } else { format!("no {} match /{}", table.noun, state.filter) };
        ctx.message(frame, inner, &text);
        return;
    }
    let mut cols = table.cols;
    if let Some(c) = cols.get_mut(column) {
        c.title.push(arrow(ascending));
    }
    let shown = columns::layout(&cols, inner.width);
    let visible = usize::from(inner.height.saturating_sub(1));
    let (selected, offset) = window(rows.len(), visible, state.selected, state.offset);
    let lines: Vec<Line<'static>> = rows.iter().map(|r| columns::row(&cols, &shown, &r.cells)).collect();
    let header = columns::header(&cols, &shown, ctx.theme.header);
    columns::draw_from(frame, inner, header, lines, front.then_some(selected), offset, ctx.theme.highlight);
    let body = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner };
    let shown_columns = shown.iter().filter(|(i, _)| *i < 64).fold(0u64, |mask, (i, _)| mask | (1 << i));
    ctx.record_table(TableHit { table: table.id, body, offset, selected, len: rows.len(), shown_columns });
}

const NO_PROFILE: &str = "no profiled inference yet (op times need the profiler: run without --no-op-profile)";

/// The op table: every op by self time, with calls, total time, share, MACs and MAC/s.
pub fn table(frame: &mut Frame, area: Rect, ctx: &Ctx, row: &ModelRow) {
    let cols = vec![
        Column::left("op", 16, 0).growing().cut_middle(),
        Column::right("calls", 6, 3),
        Column::right("self ms", 8, 0),
        Column::right("total ms", 8, 2),
        Column::right("% time", 6, 1),
        Column::right("MACs", 6, 2),
        Column::right("MAC/s", 6, 3),
    ];
    let op_ms = row.profile.op_ms;
    let rows = if row.profile.inferences == 0 {
        Vec::new()
    } else {
        op_rows(&ctx.state.tree, row.model, false).iter().map(|r| op_cells(r, op_ms)).collect()
    };
    let about = format!("per inference over {}", count(row.profile.inferences, "run"));
    let table = Table {
        id: TableId::Ops,
        title: "aten ops".into(),
        about,
        noun: "ops",
        cols,
        rows,
        natural: 2,
        empty: NO_PROFILE,
    };
    panel(frame, area, ctx, table);
}

fn op_cells(r: &OpRow, op_ms: f64) -> TableRow {
    let gmacs = r.gmacs_per_s();
    let name = short_op(&r.op);
    let known = |v: f64| if v > 0.0 { num(v) } else { SortValue::None };
    TableRow {
        cells: vec![
            Span::raw(name.clone()),
            Span::raw(format!("{:.0}", r.calls)),
            Span::raw(ms(r.self_ms)),
            Span::raw(ms(r.total_ms)),
            Span::raw(share(r.self_ms, op_ms)),
            Span::raw(si_known(Some(r.macs))),
            Span::raw(if gmacs > 0.0 { si(gmacs * 1e9) } else { NONE.into() }),
        ],
        keys: vec![
            SortValue::Text(name),
            num(r.calls),
            num(r.self_ms),
            num(r.total_ms),
            num(r.self_ms),
            known(r.macs),
            known(gmacs),
        ],
        also_matches: String::new(),
    }
}

/// Inside `Conv2D`: the kernels that ran and what went to allocation, slicing and views.
pub fn conv(frame: &mut Frame, area: Rect, ctx: &Ctx, row: &ModelRow) {
    let cols = vec![
        // Wide enough for a kernel's whole name (`_conv_depthwise2d`): which kernels ran is
        // what this table is for.
        Column::left("inside conv", 17, 0).growing().cut_middle(),
        Column::left("kind", 8, 0),
        Column::right("calls", 6, 3),
        Column::right("self ms", 8, 2),
        Column::right("% conv", 6, 0),
    ];
    let breakdown = if row.profile.inferences == 0 { Vec::new() } else { conv_breakdown(&ctx.state.tree, row.model) };
    let total: f64 = breakdown.iter().map(|r| r.self_ms).sum();
    let rows = breakdown
        .iter()
        .map(|r| {
            let (kind, style) = if is_conv_kernel(&r.op) {
                ("kernel", ctx.theme.good)
            } else if r.category == Category::Conv2d {
                ("dispatch", ctx.theme.text)
            } else {
                (if r.category == Category::Bookkeeping { "bookkeep" } else { r.category.label() }, ctx.theme.warn)
            };
            let (name, kind) = (short_op(&r.op), kind.to_lowercase());
            TableRow {
                cells: vec![
                    Span::raw(name.clone()),
                    Span::styled(kind.clone(), style),
                    Span::raw(format!("{:.0}", r.calls)),
                    Span::raw(ms(r.self_ms)),
                    Span::raw(share(r.self_ms, total)),
                ],
                keys: vec![SortValue::Text(name), SortValue::Text(kind), num(r.calls), num(r.self_ms), num(r.self_ms)],
                also_matches: String::new(),
            }
        })
        .collect();
    let about = format!("{} ms", ms(total));
    let table = Table {
        id: TableId::Conv,
        title: "inside Conv2D".into(),
        about,
        noun: "ops",
        cols,
        rows,
        natural: 3,
        empty: NO_PROFILE,
    };
    panel(frame, area, ctx, table);
}

/// The layer table's columns of the predicted ms and of measured ÷ predicted.
const PREDICTED: usize = 4;
const PREDICTED_RATIO: usize = 5;

/// The leaf layers by time, time share next to MAC share, with what each is (its kind, its
/// convolution's kernel path) and its output shape where the width allows. The
/// filter matches the kind and the kernel path too (`/slow` lists the slow-path convolutions).
pub fn layers(frame: &mut Frame, area: Rect, ctx: &Ctx, row: &ModelRow) {
    // What the kernel calibration predicts for the layer's ops: its columns only in a run with a
    // calibration (one without keeps the room for the shape).
    let predicted = row.model.prediction.as_deref();
    let mut cols = vec![
        // Widths leave room for the sort arrow in each title: a sorted column never pushes
        // another out of a 160-column screen.
        Column::left("layer", 11, 0).growing().cut_front(),
        Column::left("kind/kernel", 12, 2),
        Column::right("shape", 10, 3),
        Column::right("ms", 7, 0),
        Column::right("pred", 7, 2),
        // The ratio of the two before it: only when everything else fits.
        Column::right("×pred", 6, 4).spare(),
        Column::right("time", 5, 0),
        Column::right("%pk", 5, 1),
        Column::right("MACs", 6, 1),
    ];
    let peak = ctx.state.peak_gmacs.filter(|p| *p > 0.0);
    let (op_ms, macs) = (row.profile.op_ms, row.profile.macs);
    let mut kinds = layer_kinds(&ctx.state.tree, row.model);
    let mut shapes = layer_shapes(&ctx.state.tree, row.model);
    let mut rows: Vec<TableRow> = layer_rows(&ctx.state.tree, row.model)
        .iter()
        .filter(|l| l.leaf)
        .map(|l| {
            let kind = kinds.remove(&l.layer).unwrap_or_default();
            let shape = shapes.remove(&l.layer).unwrap_or_default();
            let output = shape.output.as_deref().map_or_else(String::new, dims_text);
            // A convolution layer says which kernel computed it (the kind is Conv2D for all).
            let label = match (&kind.kernels, kind.kind) {
                (Some(kernels), _) => kernels.split('+').map(kernel_name).collect::<Vec<_>>().join("+"),
                (None, "") => NONE.to_string(),
                (None, kind) => kind.to_string(),
            };
            // The layer's MACs over its own time, as a share of the machine's peak.
            let peak_share = peak.filter(|_| l.macs > 0.0 && l.ms > 0.0).map(|p| l.macs / (l.ms * 1e6) / p);
            let pred = predicted.and_then(|p| p.layers.get(&l.layer).copied()).filter(|ms| *ms > 0.0);
            let over = pred.filter(|_| l.ms > 0.0).map(|p| l.ms / p);
            let sorted = |t: &str| if t.is_empty() { SortValue::None } else { SortValue::Text(t.to_string()) };
            TableRow {
                cells: vec![
                    Span::raw(l.layer.to_string()),
                    Span::raw(label.clone()),
                    Span::raw(if output.is_empty() { NONE.into() } else { output.clone() }),
                    Span::raw(ms(l.ms)),
                    Span::raw(pred.map_or_else(|| NONE.into(), ms)),
                    Span::raw(over.map_or_else(|| NONE.into(), ratio)),
                    Span::raw(share(l.ms, op_ms)),
                    Span::raw(peak_share.map_or_else(|| NONE.into(), |s| format!("{:.0}%", 100.0 * s))),
                    Span::raw(share(l.macs, macs)),
                ],
                keys: vec![
                    SortValue::Text(l.layer.to_string()),
                    sorted(if label == NONE { "" } else { &label }),
                    sorted(&output),
                    num(l.ms),
                    pred.map_or(SortValue::None, SortValue::Num),
                    over.map_or(SortValue::None, SortValue::Num),
                    num(l.ms),
                    peak_share.map_or(SortValue::None, SortValue::Num),
                    num(l.macs),
                ],
                also_matches: format!("{} {}", kind.kind, kind.kernels.unwrap_or_default()),
            }
        })
        .collect();
    if ctx.state.calibration.is_none() {
        for i in [PREDICTED_RATIO, PREDICTED] {
            cols.remove(i);
            for r in &mut rows {
                r.cells.remove(i);
                r.keys.remove(i);
            }
        }
    }
    let empty = "no layers recorded for this model";
    let table = Table {
        id: TableId::Layers,
        title: "top layers".into(),
        about: String::new(),
        noun: "layers",
        cols,
        rows,
        natural: 3,
        empty,
    };
    panel(frame, area, ctx, table);
}
