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
use crate::core::run::ModelId;
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

/// Columns left of the plot for the latency labels.
const MARGIN: u16 = 7;

/// What a label names: a decade on an axis, or a model's point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    Axis,
    Model(ModelId),
}

/// A piece of text the chart writes at a cell of the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub x: u16,
    pub y: u16,
    pub text: String,
    pub kind: LabelKind,
}

impl Label {
    fn width(&self) -> u16 {
        u16::try_from(Span::raw(self.text.as_str()).width()).unwrap_or(u16::MAX)
    }

    /// Whether the two share a row and come closer than one blank cell (so `100` and a
    /// model's `b` never read as `100b`).
    #[must_use]
    pub fn crowds(&self, other: &Label) -> bool {
        self.y == other.y && self.x < other.x + other.width() + 1 && other.x < self.x + self.width() + 1
    }
}

/// The plot's cells: `x` within `[x0, x1]` on columns right of the margin, `y` within
/// `[y0, y1]` on the rows above the MACs labels.
struct Grid {
    area: Rect,
    x: [f64; 2],
    y: [f64; 2],
}

impl Grid {
    fn column(&self, lx: f64) -> u16 {
        let span = f64::from(self.area.width.saturating_sub(MARGIN + 1));
        let at = ((lx - self.x[0]) / (self.x[1] - self.x[0]) * span).round().clamp(0.0, span);
        self.area.x + MARGIN + at as u16
    }

    fn row(&self, ly: f64) -> u16 {
        let span = f64::from(self.area.height.saturating_sub(2));
        let at = ((ly - self.y[0]) / (self.y[1] - self.y[0]) * span).round().clamp(0.0, span);
        self.area.bottom().saturating_sub(2) - at as u16
    }
}

/// Where every label goes: the latency decades down the margin, the MACs decades along the
/// bottom (thinned until none crowds another, the first and last kept), then each model's
/// letter at its point or, when that cell is taken, at the nearest free one (the selected
/// model first, so it sits exactly on its point). No two labels crowd each other.
#[must_use]
pub fn labels(area: Rect, b: &BeyondMacs, selected: ModelId) -> Vec<Label> {
    if area.width < 12 || area.height < 4 || b.points.is_empty() {
        return Vec::new();
    }
    let grid =
        Grid { area, x: decades(b.points.iter().map(|p| log(p).0)), y: decades(b.points.iter().map(|p| log(p).1)) };
    let mut placed: Vec<Label> = Vec::new();
    for exp in (grid.y[0] as i32)..=(grid.y[1] as i32) {
        let label =
            Label { x: area.x, y: grid.row(f64::from(exp)), text: ms_label(f64::from(exp)), kind: LabelKind::Axis };
        if !placed.iter().any(|p| p.crowds(&label)) {
            placed.push(label);
        }
    }
    let bottom = area.bottom() - 1;
    let mut macs: Vec<Label> = ((grid.x[0] as i32)..=(grid.x[1] as i32))
        .map(|exp| {
            let text = macs_label(f64::from(exp));
            let width = u16::try_from(text.len()).unwrap_or(u16::MAX);
            // The last decade sits on the right edge: its label ends there instead of starting.
            let x =
                if exp == grid.x[1] as i32 { area.right().saturating_sub(width) } else { grid.column(f64::from(exp)) };
            Label { x, y: bottom, text, kind: LabelKind::Axis }
        })
        .collect();
    if let Some(last) = macs.pop() {
        macs.insert(1.min(macs.len()), last);
    }
    for label in macs {
        if !placed.iter().any(|p| p.crowds(&label)) {
            placed.push(label);
        }
    }
    let mut points: Vec<&ModelPoint> = b.points.iter().collect();
    points.sort_by_key(|p| p.model != selected);
    for p in points {
        let (lx, ly) = log(p);
        let (x, y) = (grid.column(lx), grid.row(ly));
        let text = key_of(p.model).to_string();
        let free = |x: u16, y: u16| {
            let label = Label { x, y, text: text.clone(), kind: LabelKind::Model(p.model) };
            let inside = x >= area.x && x < area.right() && y >= area.y && y < bottom;
            (inside && !placed.iter().any(|q| q.crowds(&label))).then_some(label)
        };
        // With no free cell near, the letter is left out rather than written over another
        // (only on charts far smaller than the view draws; the table beside it has every model).
        if let Some(label) =
            NEARBY.iter().find_map(|(dx, dy)| free(x.checked_add_signed(*dx)?, y.checked_add_signed(*dy)?))
        {
            placed.push(label);
        }
    }
    placed
}

/// Cells to try around a point, nearest first; a letter further away than this would no
/// longer mark its point.
const NEARBY: [(i16, i16); 21] = [
    (0, 0),
    (1, 0),
    (-1, 0),
    (0, -1),
    (0, 1),
    (1, -1),
    (-1, -1),
    (1, 1),
    (-1, 1),
    (2, 0),
    (-2, 0),
    (2, -1),
    (-2, -1),
    (2, 1),
    (-2, 1),
    (0, -2),
    (0, 2),
    (3, 0),
    (-3, 0),
    (1, -2),
    (-1, 2),
];

/// Draws the chart into `area` (inside its panel): the median line on a braille canvas, then
/// the labels of [`labels`] over it.
pub fn draw(frame: &mut Frame, area: Rect, ctx: &Ctx, b: &BeyondMacs) {
    let placed = labels(area, b, ctx.ui.selected);
    if placed.is_empty() {
        return;
    }
    let x = decades(b.points.iter().map(|p| log(p).0));
    let y = decades(b.points.iter().map(|p| log(p).1));
    // The canvas spans the margin and the label row too, so its cells line up with the grid's.
    let cell_x = (x[1] - x[0]) / f64::from(area.width.saturating_sub(MARGIN + 1).max(1));
    let cell_y = (y[1] - y[0]) / f64::from(area.height.saturating_sub(2).max(1));
    let x_bounds = [x[0] - f64::from(MARGIN) * cell_x, x[1]];
    let y_bounds = [y[0] - cell_y, y[1]];
    let background = ctx.theme.text.bg.unwrap_or(Color::Reset);
    let canvas = Canvas::default().background_color(background).x_bounds(x_bounds).y_bounds(y_bounds).paint(|c| {
        if let Some(line) = b.fit {
            // Slope one in log–log: log latency = log MACs + log(ms/GMAC) − 9.
            let at = |lx: f64| lx + line.ms_per_gmac.log10() - 9.0;
            c.draw(&Segment { x1: x[0], y1: at(x[0]), x2: x[1], y2: at(x[1]), color: colour(ctx.theme.fit_line) });
        }
    });
    frame.render_widget(canvas, area);
    let buffer = frame.buffer_mut();
    for label in &placed {
        let style = match label.kind {
            LabelKind::Axis => ctx.theme.dim,
            LabelKind::Model(m) if m == ctx.ui.selected => ctx.theme.selected_point,
            LabelKind::Model(_) => ctx.theme.point,
        };
        buffer.set_string(label.x, label.y, &label.text, style);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(model: ModelId, macs: f64, latency_ms: f64) -> ModelPoint {
        ModelPoint { model, name: format!("m{model}").into(), latency_ms, macs, params: 1.0, op_calls: 1.0, bytes: 1.0 }
    }

    fn chart(points: Vec<ModelPoint>) -> BeyondMacs {
        BeyondMacs { points, correlations: Vec::new(), fit: None, gaps: Vec::new(), best_predictor: None }
    }

    /// Ten models as the built-in set spreads them, plus the crowding a chart meets: two
    /// models on one cell (a net and its squeeze-excitation twin), one on the lowest decade of
    /// both axes (where the labels are), one on the top right corner.
    fn crowded() -> BeyondMacs {
        let mut points: Vec<ModelPoint> = [
            (313e6, 16.0),
            (2.3e9, 60.0),
            (4.0e9, 95.0),
            (1.3e9, 36.0),
            (1.3e9, 36.4),
            (1.4e9, 40.0),
            (47e6, 4.6),
            (68e6, 7.9),
            (44e6, 12.0),
            (46e6, 6.0),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (macs, ms))| point(i, macs, ms))
        .collect();
        points.push(point(10, 1e6, 1.0));
        points.push(point(11, 1e10, 1000.0));
        chart(points)
    }

    /// No label leaves the area or crowds another; at the view's sizes (`whole`) every model
    /// has its letter and both ends of both axes their labels.
    fn check(area: Rect, b: &BeyondMacs, selected: ModelId, whole: bool) {
        let placed = labels(area, b, selected);
        for (i, a) in placed.iter().enumerate() {
            assert!(a.x >= area.x && a.x + a.width() <= area.right(), "{a:?} leaves {area:?}");
            assert!(a.y >= area.y && a.y < area.bottom(), "{a:?} leaves {area:?}");
            for other in &placed[i + 1..] {
                assert!(!a.crowds(other), "{a:?} and {other:?} crowd each other at {area:?}");
            }
        }
        for p in &b.points {
            let mine: Vec<&Label> = placed.iter().filter(|l| l.kind == LabelKind::Model(p.model)).collect();
            let expected = if whole { 1..=1 } else { 0..=1 };
            assert!(expected.contains(&mine.len()), "model {}: {} letters at {area:?}", p.model, mine.len());
        }
        let axis: Vec<&str> = placed.iter().filter(|l| l.kind == LabelKind::Axis).map(|l| l.text.as_str()).collect();
        for end in ["1M", "10G", "1", "1000"].into_iter().filter(|_| whole) {
            assert!(axis.contains(&end), "{end} kept at {area:?}: {axis:?}");
        }
    }

    #[test]
    fn labels_never_crowd_one_another_at_the_sizes_the_view_has() {
        // Inside the panel at 80x24, 100x30, 120x40 and 160x48 (the view's half width and
        // the chart's share of the height), and at the smallest chart that draws.
        let b = crowded();
        for (w, h) in [(38, 12), (48, 17), (58, 25), (78, 32), (12, 4), (20, 6)] {
            for selected in [0, 4, 10] {
                // Twelve letters cannot all fit a chart of 5x3 plot cells; none crowds there.
                check(Rect::new(1, 1, w, h), &b, selected, w >= 38);
            }
        }
    }

    #[test]
    fn the_selected_model_sits_on_its_point_and_a_crowded_one_next_to_it() {
        let b = crowded();
        let area = Rect::new(0, 0, 38, 12);
        let placed = labels(area, &b, 4);
        let at = |m: ModelId| placed.iter().find(|l| l.kind == LabelKind::Model(m)).map(|l| (l.x, l.y)).unwrap();
        let grid = Grid { area, x: [6.0, 10.0], y: [0.0, 3.0] };
        let (lx, ly) = log(&b.points[4]);
        assert_eq!(at(4), (grid.column(lx), grid.row(ly)), "the selected model is exactly on its point");
        let (x3, y3) = at(3);
        let (x4, y4) = at(4);
        assert!(x3.abs_diff(x4) <= 3 && y3.abs_diff(y4) <= 2, "its twin stays near: {:?} {:?}", at(3), at(4));
    }
}
