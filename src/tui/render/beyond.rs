//! The beyond-MACs view: latency against MACs across models on log axes, how well latency
//! follows MACs, parameters, op calls and bytes moved, and each model's distance from the
//! latency its MACs predict.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, LegendPosition};
use ratatui::Frame;

use super::columns::{self, Column};
use super::units::{count, ms, num, NONE};
use super::Ctx;
use crate::core::analysis::ModelProfile;
use crate::core::beyond::{beyond_macs_with, BeyondMacs, MacFit};

/// Draws the view.
pub fn render(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let mut by_id: Vec<(usize, ModelProfile)> = ctx.rows.iter().map(|r| (r.id, r.profile.clone())).collect();
    by_id.sort_by_key(|(id, _)| *id);
    let profiles: Vec<ModelProfile> = by_id.into_iter().map(|(_, p)| p).collect();
    let beyond = beyond_macs_with(ctx.state, &profiles);
    let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let [corr, gaps] = Layout::vertical([Constraint::Length(8), Constraint::Min(0)]).areas(right);
    scatter(frame, left, ctx, &beyond);
    correlations(frame, corr, ctx, &beyond);
    gap_table(frame, gaps, ctx, &beyond);
}

/// Axis bounds in whole decades around `values` (log10 already), at least one decade wide.
fn decades(values: impl Iterator<Item = f64>) -> [f64; 2] {
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

/// One label per decade (given its exponent), or the two ends and the middle when there are
/// many.
fn decade_labels(bounds: [f64; 2], label: impl Fn(f64) -> String) -> Vec<Span<'static>> {
    let n = (bounds[1] - bounds[0]).round().clamp(1.0, 30.0) as usize;
    let step = if n > 4 { n / 2 } else { 1 };
    (0..=n).step_by(step).map(|i| Span::raw(label(bounds[0] + i as f64))).collect()
}

/// MACs at a decade: `1M`, `10M`, `100M`, `1G`.
fn macs_label(exp: f64) -> String {
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
fn ms_label(exp: f64) -> String {
    let exp = exp.round() as i32;
    if exp >= 0 {
        format!("{}", 10i64.pow(exp.unsigned_abs().min(18)))
    } else {
        format!("{}", 10f64.powi(exp))
    }
}

fn scatter(frame: &mut Frame, area: Rect, ctx: &Ctx, b: &BeyondMacs) {
    let block = ctx.panel("latency vs MACs · log–log · p50");
    if b.points.is_empty() {
        let inner = block.inner(area);
        frame.render_widget(block, area);
        ctx.message(frame, inner, "waiting for measured models with known MACs");
        return;
    }
    let log = |p: &crate::core::beyond::ModelPoint| (p.macs.log10(), p.latency_ms.max(1e-6).log10());
    let others: Vec<(f64, f64)> = b.points.iter().filter(|p| p.model != ctx.ui.selected).map(log).collect();
    let selected: Vec<(f64, f64)> = b.points.iter().filter(|p| p.model == ctx.ui.selected).map(log).collect();
    let x = decades(b.points.iter().map(|p| log(p).0));
    let y = decades(b.points.iter().map(|p| log(p).1));
    let line = b.fit.map(|f| fit_curve(&f, x)).unwrap_or_default();
    let mut sets = vec![
        Dataset::default()
            .name("models")
            .marker(Marker::Dot)
            .graph_type(GraphType::Scatter)
            .style(ctx.theme.point)
            .data(&others),
        Dataset::default()
            .name("selected")
            .marker(Marker::Block)
            .graph_type(GraphType::Scatter)
            .style(ctx.theme.selected_point)
            .data(&selected),
    ];
    if !line.is_empty() {
        sets.insert(
            0,
            Dataset::default()
                .name("LSQ fit")
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(ctx.theme.fit_line)
                .data(&line),
        );
    }
    // The legend goes bottom right (many MACs, little time), where models rarely are; top left
    // is where a model slow for its MACs would show.
    let chart = Chart::new(sets)
        .block(block)
        .style(ctx.theme.text)
        .legend_position(Some(LegendPosition::BottomRight))
        .x_axis(Axis::default().title("MACs").style(ctx.theme.dim).bounds(x).labels(decade_labels(x, macs_label)))
        .y_axis(Axis::default().title("ms").style(ctx.theme.dim).bounds(y).labels(decade_labels(y, ms_label)));
    frame.render_widget(chart, area);
}

/// The fitted line, sampled along the x range, in log–log coordinates (it bends there).
fn fit_curve(fit: &MacFit, x: [f64; 2]) -> Vec<(f64, f64)> {
    (0..=60)
        .map(|i| x[0] + (x[1] - x[0]) * f64::from(i) / 60.0)
        .filter_map(|lx| {
            let predicted = fit.predict_ms(10f64.powf(lx));
            (predicted > 0.0).then(|| (lx, predicted.log10()))
        })
        .collect()
}

fn correlations(frame: &mut Frame, area: Rect, ctx: &Ctx, b: &BeyondMacs) {
    let n = b.points.len();
    let block = ctx.panel(&format!("correlation with latency · {}", count(n, "model")));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let cols = [Column::left("latency vs", 12, 0), Column::right("Pearson", 8, 0), Column::right("Spearman", 9, 0)];
    let shown = columns::layout(&cols, inner.width);
    let coef = |v: Option<f64>| v.map_or_else(|| NONE.into(), |v| format!("{v:+.2}"));
    let mut lines: Vec<_> = b
        .correlations
        .iter()
        .map(|c| {
            columns::row(&cols, &shown, &[c.factor.label().into(), coef(c.pearson).into(), coef(c.spearman).into()])
        })
        .collect();
    if n < 3 {
        lines.push(ratatui::text::Line::styled("needs 3 or more measured models", ctx.theme.dim));
    }
    columns::draw(frame, inner, columns::header(&cols, &shown, ctx.theme.header), lines, None, ctx.theme.highlight);
}

fn gap_table(frame: &mut Frame, area: Rect, ctx: &Ctx, b: &BeyondMacs) {
    let title = b.fit.map_or_else(
        || "gap to the MAC-predicted latency".to_string(),
        |f| format!("vs MAC fit {} ms + {} ms/GMAC", ms(f.intercept_ms), ms(f.ms_per_gmac)),
    );
    let block = ctx.panel(&title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if b.gaps.is_empty() {
        ctx.message(frame, inner, "needs 2 or more measured models with different MACs");
        return;
    }
    let cols = [
        Column::left("model", 10, 0).growing(),
        Column::right("p50 ms", 7, 0),
        Column::right("pred ms", 7, 1),
        Column::right("gap ms", 7, 0),
        Column::right("×pred", 6, 1),
    ];
    let shown = columns::layout(&cols, inner.width);
    let lines: Vec<_> = b
        .gaps
        .iter()
        .map(|g| {
            let style = if g.gap_ms > 0.0 { ctx.theme.warn } else { ctx.theme.good };
            let cells = vec![
                Span::raw(g.name.to_string()),
                Span::raw(ms(g.measured_ms)),
                Span::raw(ms(g.predicted_ms)),
                Span::styled(if g.gap_ms >= 0.0 { format!("+{}", ms(g.gap_ms)) } else { ms(g.gap_ms) }, style),
                Span::raw(num(g.ratio(), 2)),
            ];
            columns::row(&cols, &shown, &cells)
        })
        .collect();
    let selected = b.gaps.iter().position(|g| g.model == ctx.ui.selected);
    columns::draw(frame, inner, columns::header(&cols, &shown, ctx.theme.header), lines, selected, ctx.theme.highlight);
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // Expected values here are exact in binary floating point.
mod tests {
    use super::*;

    #[test]
    fn decades_label_as_people_write_them() {
        assert_eq!(
            decade_labels([6.0, 9.0], macs_label).iter().map(|s| s.content.to_string()).collect::<Vec<_>>(),
            ["1M", "10M", "100M", "1G"]
        );
        assert_eq!([-2.0, -1.0, 0.0, 2.0].map(ms_label), ["0.01", "0.1", "1", "100"]);
        assert_eq!(decades([2.3, 2.7].into_iter()), [2.0, 3.0]);
        assert_eq!(decades([3.0].into_iter()), [3.0, 4.0]);
        assert_eq!(decades(std::iter::empty()), [0.0, 1.0]);
        assert_eq!(decade_labels([0.0, 12.0], ms_label).len(), 3);
    }
}
