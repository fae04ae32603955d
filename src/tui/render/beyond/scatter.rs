//! Latency against MACs on log–log axes: every model a letter (the key in the table beside it,
//! readable without colour), the median ms/GMAC line through them, and decade labels in a
//! margin on the left and at the bottom.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Span;
use ratatui::widgets::canvas::{Canvas, Line as Segment};
use ratatui::Frame;

use super::key_of;
use crate::core::analysis::{BeyondMacs, ModelPoint};
use crate::tui::render::Ctx;

/// Axis bounds in whole decades around `values` (log10 already), at least one decade wide.
pub(super) fn decades(values: impl Iterator<Item = f64>) -> [f64; 2] {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() || !hi.is_finite() {
        return [0.0, 1.0];
    }
    let (lo, hi) = (lo.floor(), hi.ceil());
    if hi > lo {
        [lo, hi]
    } else {
        [lo, lo + 1.0]
    }
}

/// MACs at a decade: `1M`, `10M`, `100M`, `1G`.
pub(super) fn macs_label(exp: f64) -> String {
    let exp = exp.round() as i32;
    let (unit, base) = match exp {
        e if e >= 12 => ("T", 12),
        e if e >= 9 => ("G", 9),
        e if e >= 6 => ("M", 6),
        e if e >= 3 => ("k", 3),
        _ => ("", 0),
    };
    format!("{}{unit}", 10i64.pow(u32::try_from(exp - base).unwrap_or(0)))
}

/// Milliseconds at a decade: `0.01`, `0.1`, `1`, `10`, `100`.
pub(super) fn ms_label(exp: f64) -> String {
    let exp = exp.round() as i32;
    if exp >= 0 {
        format!("{}", 10i64.pow(exp.unsigned_abs().min(18)))
    } else {
        format!("{}", 10f64.powi(exp))
    }
}

fn log(p: &ModelPoint) -> (f64, f64) {
    (p.macs.log10(), p.latency_ms.max(1e-6).log10())
}

fn colour(style: Style) -> Color {
    style.fg.unwrap_or(Color::Reset)
}

/// Draws the chart into `area` (inside its panel).
pub fn draw(frame: &mut Frame, area: Rect, ctx: &Ctx, b: &BeyondMacs) {
    if area.width < 12 || area.height < 4 {
        return;
    }
    let x = decades(b.points.iter().map(|p| log(p).0));
    let y = decades(b.points.iter().map(|p| log(p).1));
    // A margin for the labels: 7 cells on the left, one row at the bottom.
    let cell_x = (x[1] - x[0]) / f64::from(area.width.saturating_sub(7).max(1));
    let cell_y = (y[1] - y[0]) / f64::from(area.height.saturating_sub(1).max(1));
    let x_bounds = [x[0] - 7.0 * cell_x, x[1]];
    let y_bounds = [y[0] - cell_y, y[1]];
    let background = ctx.theme.text.bg.unwrap_or(Color::Reset);
    let canvas = Canvas::default().background_color(background).x_bounds(x_bounds).y_bounds(y_bounds).paint(|c| {
        if let Some(line) = b.fit {
            // Slope one in log–log: log latency = log MACs + log(ms/GMAC) − 9.
            let at = |lx: f64| lx + line.ms_per_gmac.log10() - 9.0;
            c.draw(&Segment { x1: x[0], y1: at(x[0]), x2: x[1], y2: at(x[1]), color: colour(ctx.theme.fit_line) });
        }
        c.layer();
        for exp in (x[0] as i32)..=(x[1] as i32) {
            let label = macs_label(f64::from(exp));
            // The last decade sits on the right edge: its label ends there instead of starting.
            let at = if exp == x[1] as i32 { f64::from(exp) - label.len() as f64 * cell_x } else { f64::from(exp) };
            c.print(at, y_bounds[0], Span::styled(label, ctx.theme.dim));
        }
        for exp in (y[0] as i32)..=(y[1] as i32) {
            c.print(x_bounds[0], f64::from(exp), Span::styled(ms_label(f64::from(exp)), ctx.theme.dim));
        }
        for p in &b.points {
            let (px, py) = log(p);
            let style = if p.model == ctx.ui.selected { ctx.theme.selected_point } else { ctx.theme.point };
            c.print(px, py, Span::styled(key_of(p.model).to_string(), style));
        }
    });
    frame.render_widget(canvas, area);
}
