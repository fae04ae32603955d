//! The models view's lower panel: per model, a bar of where its op time goes by op kind (a
//! glyph per kind, so it reads without colour, and the theme's colour per kind), the kinds
//! outside convolutions with their shares, and, where rows allow, a taller latency sparkline
//! with its sample count and range.

use std::fmt::Write as _;

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

use super::units::{count, fit, ms, pct};
use super::Ctx;
use crate::core::profiling::Category;
use crate::core::state::ModelStatus;
use crate::tui::rows::ModelRow;
use crate::tui::theme::Theme;

/// A kind's glyph in the bar and the legend: distinct shapes, so mono still tells them apart.
#[must_use]
pub fn glyph(c: Category) -> char {
    match c {
        Category::Conv2d => '█',
        Category::BatchNorm => '▓',
        Category::Relu => '▒',
        Category::Concat => '░',
        Category::Add => '+',
        Category::Pool => '=',
        Category::Linear => '#',
        Category::Bookkeeping => ':',
        Category::Other => '·',
    }
}

/// A kind's colour, taken from the theme's styles (each meets its contrast minimum).
fn style(theme: &Theme, c: Category) -> Style {
    match c {
        Category::Conv2d => theme.time_bar,
        Category::BatchNorm => theme.mac_bar,
        Category::Relu => theme.good,
        Category::Concat => theme.warn,
        Category::Add => theme.point,
        Category::Pool => theme.fit_line,
        Category::Linear => theme.selected_point,
        Category::Bookkeeping => theme.dim,
        Category::Other => theme.sparkline,
    }
}

/// Draws the panel; `name_width` lines its names up with the table's.
pub fn render(frame: &mut Frame, area: Rect, ctx: &Ctx, name_width: usize) {
    let block = ctx.panel("where the op time goes, by kind · recent latency");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || ctx.rows.is_empty() {
        return;
    }
    frame.render_widget(legend(ctx.theme, usize::from(inner.width)), Rect { height: 1, ..inner });
    // A model without latencies takes one line; the others share the rest: a bar line, then
    // a sparkline as tall as there is room for.
    let timed = ctx.rows.iter().filter(|r| r.latency.is_some()).count();
    let untimed = u16::try_from(ctx.rows.len() - timed).unwrap_or(u16::MAX);
    let timed = u16::try_from(timed).unwrap_or(u16::MAX);
    let per = (inner.height - 1).saturating_sub(untimed) / timed.max(1);
    let width = usize::from(inner.width);
    // Fewer lines than models: the ones from just before the selection on.
    let lines = usize::from(inner.height - 1);
    let selected = ctx.rows.iter().position(|r| r.id == ctx.ui.selected).unwrap_or(0);
    let skip = if ctx.rows.len() > lines { (selected + 1).saturating_sub(lines) } else { 0 };
    let mut y = inner.y + 1;
    for row in ctx.rows.iter().skip(skip) {
        if y >= inner.bottom() {
            break;
        }
        frame.render_widget(bar_line(ctx, row, name_width, width), Rect { y, height: 1, ..inner });
        let height = if row.latency.is_some() { per.max(1) } else { 1 };
        if height >= 2 {
            let spark = Rect { y: y + 1, height: (height - 1).min(inner.bottom() - y - 1), ..inner };
            latency(frame, spark, ctx, row, name_width);
        }
        y += height;
    }
}

/// `█ conv ▓ BN …` in each kind's colour, as many as fit.
fn legend(theme: &Theme, width: usize) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0;
    for c in Category::ALL {
        let text = format!("{} {}  ", glyph(c), c.short());
        used += text.chars().count();
        if used > width {
            break;
        }
        spans.push(Span::styled(text, style(theme, c)));
    }
    Line::from(spans)
}

/// Name, the stacked bar of time shares, then the kinds outside convolutions by share.
fn bar_line(ctx: &Ctx, row: &ModelRow, name_width: usize, width: usize) -> Line<'static> {
    let name = format!("{:<name_width$}", fit(&format!("  {}", ctx.name(row.id)), name_width));
    let rest = width.saturating_sub(name_width + 1);
    // Narrow screens give the bar less, so the kinds outside convolutions (the answer) fit.
    let bar_width = if rest < 100 { rest / 4 } else { rest * 2 / 5 }.clamp(8, 60).min(rest);
    let mut spans = vec![Span::raw(name), Span::raw(" ")];
    if row.profile.inferences == 0 || row.profile.op_ms <= 0.0 {
        let why = match &row.model.status {
            ModelStatus::Failed(_) => "failed",
            ModelStatus::Loading => "loading…",
            ModelStatus::Running => "no profiled inference yet",
        };
        spans.push(Span::styled(why, ctx.theme.dim));
        return Line::from(spans);
    }
    let shares: Vec<(Category, f64)> =
        Category::ALL.iter().zip(row.shares).filter_map(|(c, s)| s.map(|s| (*c, s))).collect();
    for (c, cells) in split(&shares, bar_width) {
        spans.push(Span::styled(glyph(c).to_string().repeat(cells), style(ctx.theme, c)));
    }
    let mut outside: Vec<&(Category, f64)> =
        // Kinds that would read 0.0% say nothing.
        shares.iter().filter(|(c, s)| *c != Category::Conv2d && *s >= 0.0005).collect();
    outside.sort_by(|a, b| b.1.total_cmp(&a.1));
    // Kinds only: the roofline's four-way split is in Detail and Beyond MACs, where its "outside
    // kernels" cannot be read as this line's "outside conv".
    let mut text = row.non_conv_share.map_or_else(String::new, |s| format!(" outside conv {}:", pct(s)));
    let room = rest.saturating_sub(bar_width);
    let parts: Vec<String> = outside.iter().map(|(c, s)| format!(" {} {}", c.short(), pct(*s))).collect();
    for (i, part) in parts.iter().enumerate() {
        // Whole entries only, and room kept to say how many kinds did not fit.
        let left = parts.len() - i - 1;
        let more = if left > 0 { format!(" +{left}").chars().count() } else { 0 };
        if text.chars().count() + part.chars().count() + more > room {
            let _ = write!(text, " +{}", parts.len() - i);
            break;
        }
        text.push_str(part);
    }
    spans.push(Span::raw(text));
    Line::from(spans)
}

/// Cells per kind for a bar `width` wide: largest remainders get the leftover cells, so the
/// cells add up to the width.
fn split(shares: &[(Category, f64)], width: usize) -> Vec<(Category, usize)> {
    let total: f64 = shares.iter().map(|(_, s)| s.max(0.0)).sum();
    if total <= 0.0 || width == 0 {
        return Vec::new();
    }
    let exact: Vec<f64> = shares.iter().map(|(_, s)| s.max(0.0) / total * width as f64).collect();
    let mut cells: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    let short = width.saturating_sub(cells.iter().sum());
    for &i in order.iter().take(short) {
        cells[i] += 1;
    }
    shares.iter().zip(cells).map(|((c, _), n)| (*c, n)).filter(|(_, n)| *n > 0).collect()
}

/// The sample count and the shown range beside a sparkline of the latest latencies.
fn latency(frame: &mut Frame, area: Rect, ctx: &Ctx, row: &ModelRow, name_width: usize) {
    let Some(s) = row.latency else { return };
    let width = usize::from(area.width).saturating_sub(name_width + 1);
    let mut recent: Vec<f64> = row.model.latency.recent().rev().take(width).collect();
    recent.reverse();
    let (lo, hi) = recent.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let labels = vec![
        Line::styled(format!(" {}", count(s.count, "sample")), ctx.theme.dim),
        Line::styled(format!(" {}–{} ms", ms(lo), ms(hi)), ctx.theme.dim),
    ];
    let label_rect = Rect { width: u16::try_from(name_width).unwrap_or(u16::MAX).min(area.width), ..area };
    frame.render_widget(Paragraph::new(labels), label_rect);
    // Scaled between the window's own minimum and maximum so jitter shows, as the table's.
    let span = (hi - lo).max(f64::EPSILON);
    let data: Vec<u64> = recent.iter().map(|v| 1 + ((v - lo) / span * 99.0).round() as u64).collect();
    let x = area.x + label_rect.width + 1;
    let rect = Rect { x, width: area.right().saturating_sub(x), ..area };
    frame.render_widget(Sparkline::default().data(&data).max(100).style(ctx.theme.sparkline), rect);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_splits_its_width_by_share_and_fills_it() {
        let shares = [(Category::Conv2d, 0.7), (Category::BatchNorm, 0.2), (Category::Relu, 0.1)];
        assert_eq!(split(&shares, 10), vec![(Category::Conv2d, 7), (Category::BatchNorm, 2), (Category::Relu, 1)]);
        assert_eq!(split(&shares, 3).iter().map(|(_, n)| n).sum::<usize>(), 3);
        assert!(split(&[], 10).is_empty());
        assert!(split(&shares, 0).is_empty());
        let distinct: std::collections::HashSet<char> = Category::ALL.iter().map(|c| glyph(*c)).collect();
        assert_eq!(distinct.len(), Category::ALL.len(), "each kind has its own glyph");
    }
}
