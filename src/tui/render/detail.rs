//! The detail view of the selected model: category shares as bars (time next to MACs), and
//! beside and below them the convolution's insides, the op table and the top layers; for a
//! what-if variant or an original with variants, the comparison between them (`what_if.rs`).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::units::{bar, count, ms, pct};
use super::{ops, what_if, Ctx};
use crate::core::analysis::ModelProfile;
use crate::core::state::LeftOut;
use crate::tui::rows::ModelRow;

/// Label column of the category bars.
const LABEL: usize = 12;

/// Rows of the top panels: the category bars with their header, the two roofline lines and
/// borders.
const TOP_HEIGHT: u16 = 14;

/// Rows the lower tables keep when the what-if block takes room: borders, header and a row
/// (at 80x24 a variant's comparison is worth more than the tables' second row).
const MIN_TABLES_HEIGHT: u16 = 4;

/// Draws the detail view.
pub fn render(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let Some(row) = ctx.selected() else {
        let block = ctx.panel("Detail");
        let inner = block.inner(area);
        frame.render_widget(block, area);
        ctx.message(frame, inner, "no model selected");
        return;
    };
    // The what-if block goes between the top panels and the tables, as tall as its lines while
    // the tables keep a header and a row. When that cuts it short, the roofline takes one
    // compact line instead of two, and the block the line it frees.
    let width = usize::from(area.width.saturating_sub(2));
    let room_under = |top: u16| area.height.saturating_sub(top + MIN_TABLES_HEIGHT + 2);
    let mut what_if = what_if::lines(ctx, row.id, width, usize::from(room_under(TOP_HEIGHT)));
    let cut = what_if.as_ref().is_some_and(|l| l.len() > usize::from(room_under(TOP_HEIGHT)));
    let top_height = if cut { TOP_HEIGHT - 1 } else { TOP_HEIGHT };
    if cut {
        what_if = what_if::lines(ctx, row.id, width, usize::from(room_under(top_height)));
    }
    let room = room_under(top_height);
    let block_height =
        what_if.as_ref().filter(|_| room > 0).map_or(0, |l| u16::try_from(l.len()).unwrap_or(u16::MAX).min(room) + 2);
    let [top, middle, bottom] =
        Layout::vertical([Constraint::Length(top_height), Constraint::Length(block_height), Constraint::Min(0)])
            .areas(area);
    if let Some(lines) = what_if.filter(|_| block_height > 0) {
        what_if::render(frame, middle, ctx, row.id, lines);
    }
    let [cats, conv] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    let [table, layers] = Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
    categories(frame, cats, ctx, row, cut);
    ops::conv(frame, conv, ctx, row);
    ops::table(frame, table, ctx, row);
    ops::layers(frame, layers, ctx, row);
}

/// The panel's title: the op time per inference beside the p50 first, so a reader sees they
/// agree at any width, then how many profiled inferences the shares rest on and the p50's
/// interval, as far as `width` allows.
fn title(row: &ModelRow, width: usize) -> String {
    let p = &row.profile;
    let window = &row.model.window;
    let left_out = window.left_out(LeftOut::Stalled) + window.left_out(LeftOut::Contended);
    let left_out = if left_out > 0 { format!(" ({left_out} left out)") } else { String::new() };
    let profiled = format!("{}{left_out}", count(p.inferences, "profiled run"));
    let name = &row.model.name;
    let Some(s) = row.latency else { return format!("{name} · {} ms ops · {profiled}", ms(p.op_ms)) };
    let ci = s.p50_ci_ms.map_or_else(String::new, |(lo, hi)| format!(" [{}–{}]", ms(lo), ms(hi)));
    let (op, p50) = (ms(p.op_ms), ms(s.p50_ms));
    [
        format!("{name} · {op} ms ops per inference · p50 {p50} ms{ci} n={} · {profiled}", s.count),
        format!("{name} · ops {op} ms · p50 {p50} ms{ci} · {profiled}"),
        format!("{name} · ops {op} ms · p50 {p50} ms · {profiled}"),
        format!("{name} · ops {op} / p50 {p50} ms"),
    ]
    .into_iter()
    .find(|t| t.chars().count() <= width)
    .unwrap_or_else(|| {
        // A long name (a variant's) gives way to the two numbers.
        let tail = format!(" · ops {op} / p50 {p50} ms");
        let room = width.saturating_sub(tail.chars().count() + 1);
        format!("{}…{tail}", name.chars().take(room).collect::<String>())
    })
}

/// The category bars and the roofline under them (in one `compact` line, or two).
fn categories(frame: &mut Frame, area: Rect, ctx: &Ctx, row: &ModelRow, compact: bool) {
    let p = &row.profile;
    // The shares are means over the profiled inferences: say how many, and how sure the
    // latency is, so three profiled runs do not look as solid as three thousand.
    let title = if p.inferences > 0 {
        title(row, usize::from(area.width.saturating_sub(4)))
    } else {
        format!("{} · categories", row.model.name)
    };
    let block = ctx.panel(&title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = category_lines(ctx, p, usize::from(inner.width));
    lines.extend(roofline_lines(ctx, row, usize::from(inner.width), compact));
    frame.render_widget(ratatui::widgets::Paragraph::new(lines), inner);
}

/// The model's op time split four ways by the roofline (see [`crate::core::analysis::model_roofline`]): the
/// floors its MACs at the peak and its bytes at the bandwidth explain, then the time beyond
/// them inside the convolution and matrix-multiply kernels (below peak) and outside them.
/// `compact`: one line, in the what-if block's short names (`cmp 50 mem 6 <pk 32 out 12`).
fn roofline_lines(ctx: &Ctx, row: &ModelRow, width: usize, compact: bool) -> Vec<Line<'static>> {
    let label = format!("{:<LABEL$}", "roofline");
    let Some(limits) = row.limits else {
        return vec![Line::styled(format!("{label}waiting for the peak and the bandwidth"), ctx.theme.dim)];
    };
    let Some(split) = row.roofline().filter(|_| row.profile.inferences > 0) else {
        return vec![Line::styled(format!("{label}waiting for profiled inferences"), ctx.theme.dim)];
    };
    let [compute, memory, below_peak, outside] = split.model.shares();
    if compact {
        let part = |name: &str, v: f64| format!("{name} {:.0}", v * 100.0);
        return vec![Line::from(vec![
            Span::raw(format!("{:<LABEL$}", "roofline %")),
            Span::styled(part("cmp", compute), ctx.theme.time_bar),
            Span::styled(part(" mem", memory), ctx.theme.mac_bar),
            Span::styled(part(" <pk", below_peak), ctx.theme.warn),
            Span::styled(part(" out", outside), ctx.theme.bad),
        ])];
    }
    let pct = |v: f64| format!("{:.0}%", v * 100.0);
    // Whole names where they fit; at 80 columns the short ones, which the help explains.
    let long = format!("{} kernel below peak  {} outside kernels", pct(below_peak), pct(outside));
    let beyond = if LABEL + long.chars().count() <= width {
        (format!("{} kernel below peak", pct(below_peak)), format!("  {} outside kernels", pct(outside)))
    } else {
        (format!("{} below peak", pct(below_peak)), format!(" {} outside", pct(outside)))
    };
    let (compute, memory) = (format!("{} compute", pct(compute)), format!(" {} memory", pct(memory)));
    let limits = format!("  (peak {:.0} GMAC/s, {:.1} GB/s)", limits.peak_gmacs, limits.bandwidth_gbs);
    let fits = LABEL + compute.chars().count() + memory.chars().count() + limits.chars().count() <= width;
    vec![
        Line::from(vec![
            Span::raw(label),
            Span::styled(compute, ctx.theme.time_bar),
            Span::styled(memory, ctx.theme.mac_bar),
            Span::styled(if fits { limits } else { String::new() }, ctx.theme.dim),
        ]),
        Line::from(vec![
            Span::raw(" ".repeat(LABEL)),
            Span::styled(beyond.0, ctx.theme.warn),
            Span::styled(beyond.1, ctx.theme.bad),
        ]),
    ]
}

/// A header and one line per category: label, time bar and share, MAC bar and share.
fn category_lines(ctx: &Ctx, p: &ModelProfile, width: usize) -> Vec<Line<'static>> {
    let bar_width = width.saturating_sub(LABEL + 2 * 7 + 2) / 2;
    let theme = ctx.theme;
    let mut lines = vec![Line::styled(
        format!("{:<LABEL$}{:<w$} {:>6}  {:<w$} {:>6}", "category", "time", "", "MACs", "", w = bar_width),
        theme.header,
    )];
    let share = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { 0.0 };
    for c in &p.categories {
        let label = c.category.map_or("?", |c| c.label());
        // The time share the Models view's share outside convolutions is one minus (for Conv2D).
        let time = c.category.and_then(|c| p.time_share(c)).unwrap_or(0.0);
        let macs = share(c.macs, p.macs);
        lines.push(Line::from(vec![
            Span::raw(format!("{label:<LABEL$}")),
            Span::styled(bar(time, bar_width), theme.time_bar),
            Span::raw(format!(" {:>6}  ", if p.op_ms > 0.0 { pct(time) } else { "–".into() })),
            Span::styled(bar(macs, bar_width), theme.mac_bar),
            Span::raw(format!(" {:>6}", if p.macs > 0.0 { pct(macs) } else { "–".into() })),
        ]));
    }
    lines
}
