//! The beyond-MACs view: latency against MACs across models on log–log axes with the median
//! ms/GMAC line, how well latency follows MACs, parameters, op calls and bytes moved (the best
//! predictor marked), each model's cost per MAC against the median with the latency models'
//! leave-one-out errors, and one line per model saying where its time beyond MACs goes.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::columns::{self, Column};
use super::units::{count, ms, num, ratio, NONE};
use super::Ctx;
use crate::core::analysis::beyond_macs_line;
use crate::core::analysis::observations;
use crate::core::analysis::ModelProfile;
use crate::core::analysis::ModelSummary;
use crate::core::analysis::{beyond_macs_with, BeyondMacs, MIN_MODELS};
use crate::core::analysis::{beyond_prediction, Against, LAYER_MIN_SHARE};
use crate::core::analysis::{leave_one_out, LatencyModels, GOOD_WITHIN};
use crate::core::run::ModelId;

mod scatter;

/// From this width on, the lines saying where each model's time goes sit under the chart;
/// below it they take the whole width.
const WIDE: u16 = 120;

/// The letter a model goes by in the chart and the tables (`a` for the first model).
#[must_use]
pub fn key_of(model: ModelId) -> char {
    u8::try_from(model).ok().filter(|m| *m < 26).map_or('*', |m| char::from(b'a' + m))
}

/// Draws the view.
pub fn render(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let mut by_id: Vec<(usize, ModelProfile)> = ctx.rows.iter().map(|r| (r.id, r.profile.clone())).collect();
    by_id.sort_by_key(|(id, _)| *id);
    let profiles: Vec<ModelProfile> = by_id.into_iter().map(|(_, p)| p).collect();
    let beyond = beyond_macs_with(ctx.state, &profiles);
    let fitted = leave_one_out(&observations(ctx.state));
    let why = why_lines(ctx, &beyond);
    // Narrow screens give the lines the whole width (two rows a model instead of four), so the
    // three models of a typical comparison fit at 80x24; wide ones keep them under the chart.
    let narrow = area.width < WIDE;
    let why_width = if narrow { area.width } else { area.width / 2 };
    let inner_width = usize::from(why_width.saturating_sub(2)).max(1);
    // As many rows as the lines take wrapped (about: a line breaks at words), within a share
    // of the height.
    let wrapped: usize = why.iter().map(|l| l.width().div_ceil(inner_width).max(1)).sum();
    let why_rows = u16::try_from(wrapped.max(1)).unwrap_or(u16::MAX).saturating_add(2);
    let (chart, why_area, right) = if narrow {
        let cap = (area.height * 2 / 5).max(3);
        let [top, why_area] = Layout::vertical([Constraint::Min(0), Constraint::Length(why_rows.min(cap))]).areas(area);
        let [chart, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
        (chart, why_area, right)
    } else {
        let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
        let cap = (left.height / 3).max(3);
        let [chart, why_area] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(why_rows.min(cap))]).areas(left);
        (chart, why_area, right)
    };
    let (models, layers) = beyond_prediction(ctx.state);
    // With a calibration, a panel under the per-MAC table ranks by measured ÷ predicted: as
    // tall as its rows, leaving the per-MAC table its header and the worst models.
    let (corr, table, against) = if ctx.state.calibration.is_some() {
        let rows = u16::try_from(models.len() + layers.len().min(MAX_LAYERS) + 3).unwrap_or(u16::MAX);
        let [corr, table, against] =
            Layout::vertical([Constraint::Length(7), Constraint::Min(5), Constraint::Max(rows)]).areas(right);
        (corr, table, Some(against))
    } else {
        let [corr, table] = Layout::vertical([Constraint::Length(7), Constraint::Min(0)]).areas(right);
        (corr, table, None)
    };
    scatter_panel(frame, chart, ctx, &beyond);
    why_panel(frame, why_area, ctx, why);
    correlations(frame, corr, ctx, &beyond);
    per_mac_table(frame, table, ctx, &beyond, fitted.as_ref());
    if let Some(area) = against {
        against_prediction(frame, area, ctx, &models, &layers);
    }
}

/// Layers the measured ÷ predicted panel lists at most.
const MAX_LAYERS: usize = 8;

/// Models, then their heaviest layers, by measured ÷ predicted, largest first: what the
/// calibrated kernels do not account for.
fn against_prediction(frame: &mut Frame, area: Rect, ctx: &Ctx, models: &[Against], layers: &[Against]) {
    let block = ctx.panel("measured ÷ predicted, largest first");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if models.is_empty() && layers.is_empty() {
        ctx.message(frame, inner, "waiting for timed models with a prediction");
        return;
    }
    let cols = [
        Column::left("", 1, 0),
        Column::left("model / layer", 10, 0).growing().cut_front(),
        Column::right("ms", 7, 0),
        Column::right("pred", 7, 1),
        Column::right("×pred", 6, 0),
    ];
    let shown = columns::layout(&cols, inner.width);
    let row = |a: &Against| {
        let name = match &a.layer {
            Some(layer) => layer.to_string(),
            None => ctx.state.models.get(a.model).map_or_else(String::new, |m| m.name.to_string()),
        };
        let style = if a.ratio() > 1.5 { ctx.theme.warn } else { ctx.theme.text };
        columns::row(
            &cols,
            &shown,
            &[
                Span::raw(key_of(a.model).to_string()),
                Span::raw(name),
                Span::raw(ms(a.measured_ms)),
                Span::raw(ms(a.predicted_ms)),
                Span::styled(ratio(a.ratio()), style),
            ],
        )
    };
    let mut lines: Vec<Line<'static>> = models.iter().map(row).collect();
    if !layers.is_empty() {
        lines.push(Line::styled(
            format!("layers of ≥ {:.0} % of their model's op time:", LAYER_MIN_SHARE * 100.0),
            ctx.theme.dim,
        ));
        lines.extend(layers.iter().take(MAX_LAYERS).map(row));
    }
    columns::draw(frame, inner, columns::header(&cols, &shown, ctx.theme.header), lines, None, ctx.theme.highlight);
}

fn scatter_panel(frame: &mut Frame, area: Rect, ctx: &Ctx, b: &BeyondMacs) {
    let title = match b.fit {
        Some(line) => format!("latency vs MACs · log–log · ╱ median {} ms/GMAC", ms(line.ms_per_gmac)),
        None => "latency vs MACs · log–log".to_string(),
    };
    let block = ctx.panel(&title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if b.points.is_empty() {
        ctx.message(frame, inner, "waiting for measured models with known MACs");
        return;
    }
    scatter::draw(frame, inner, ctx, b);
}

/// One line per model: where its time beyond the MACs goes; the selected model first.
fn why_lines(ctx: &Ctx, b: &BeyondMacs) -> Vec<Line<'static>> {
    let mut order: Vec<ModelId> = b.gaps.iter().map(|g| g.model).collect();
    let rest: Vec<ModelId> = (0..ctx.state.models.len()).filter(|id| !order.contains(id)).collect();
    order.extend(rest);
    order.sort_by_key(|id| *id != ctx.ui.selected);
    order
        .into_iter()
        .filter_map(|id| {
            let m = ctx.state.models.get(id)?;
            let why = beyond_macs_line(&ctx.state.tree, &ModelSummary::new(ctx.state, id, m))?;
            let style = if id == ctx.ui.selected { ctx.theme.highlight } else { ctx.theme.text };
            Some(Line::styled(format!("{} {}: {why}", key_of(id), m.name), style))
        })
        .collect()
}

fn why_panel(frame: &mut Frame, area: Rect, ctx: &Ctx, lines: Vec<Line<'static>>) {
    let block = ctx.panel("where the time beyond MACs goes");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if lines.is_empty() {
        ctx.message(frame, inner, "waiting for profiled inferences");
        return;
    }
    // Wrapped, not cut: the selected model's line comes first and must be read whole.
    frame.render_widget(ratatui::widgets::Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }), inner);
}

fn correlations(frame: &mut Frame, area: Rect, ctx: &Ctx, b: &BeyondMacs) {
    let n = b.points.len();
    let block = ctx.panel(&format!("correlation with latency · {}", count(n, "model")));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Two points always lie on a line: no coefficients to show, said once.
    if n < MIN_MODELS {
        let have = if n == 0 { String::new() } else { format!(" ({n} so far)") };
        ctx.message(frame, inner, &format!("correlations need {MIN_MODELS} or more measured models{have}"));
        return;
    }
    let cols = [
        Column::left("latency vs", 12, 0),
        Column::right("Pearson", 8, 0),
        Column::right("Spearman", 9, 0),
        Column::left("", 2, 0),
    ];
    let shown = columns::layout(&cols, inner.width);
    let coef = |v: Option<f64>| v.map_or_else(|| NONE.into(), |v| format!("{v:+.2}"));
    let lines: Vec<_> = b
        .correlations
        .iter()
        .map(|c| {
            let best = b.best_predictor == Some(c.factor);
            let line = columns::row(
                &cols,
                &shown,
                &[
                    c.factor.label().into(),
                    coef(c.pearson).into(),
                    coef(c.spearman).into(),
                    Span::raw(if best { "◀" } else { "" }),
                ],
            );
            if best {
                line.style(ctx.theme.good)
            } else {
                line
            }
        })
        .collect();
    columns::draw(frame, inner, columns::header(&cols, &shown, ctx.theme.header), lines, None, ctx.theme.highlight);
}

/// Models by cost per MAC, worst first (the Models view's ms/GMAC order), against the median,
/// with both latency models' leave-one-out errors.
fn per_mac_table(frame: &mut Frame, area: Rect, ctx: &Ctx, b: &BeyondMacs, fitted: Option<&LatencyModels>) {
    let block = ctx.panel("per MAC, worst first");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if b.gaps.is_empty() {
        ctx.message(frame, inner, &format!("needs {MIN_MODELS} or more measured models with known MACs"));
        return;
    }
    let cols = [
        Column::left("", 1, 0),
        Column::left("model", 8, 0).growing(),
        Column::right("p50 ms", 7, 2),
        Column::right("ms/GMAC", 7, 0),
        Column::right("×med", 5, 0),
        Column::right("MAC±", 5, 1),
        Column::right("ops±", 5, 1),
    ];
    let shown = columns::layout(&cols, inner.width);
    let error = |model: ModelId, of_ops: bool| {
        fitted.and_then(|f| f.predictions.iter().find(|p| p.model == model)).map_or_else(
            || NONE.to_string(),
            |p| format!("{:+.0}%", 100.0 * if of_ops { p.op_model_error() } else { p.mac_model_error() }),
        )
    };
    let mut lines: Vec<_> = b
        .gaps
        .iter()
        .map(|g| {
            let style = if g.gap_ms() > 0.0 { ctx.theme.warn } else { ctx.theme.good };
            let cells = vec![
                Span::raw(key_of(g.model).to_string()),
                Span::raw(g.name.to_string()),
                Span::raw(ms(g.measured_ms)),
                Span::raw(ms(g.ms_per_gmac)),
                Span::styled(num(g.ratio(), 2), style),
                Span::raw(error(g.model, false)),
                Span::raw(error(g.model, true)),
            ];
            columns::row(&cols, &shown, &cells)
        })
        .collect();
    lines.push(Line::styled(
        match fitted {
            Some(f) => {
                let n = f.predictions.len() as f64;
                format!(
                    "within ±{:.0} %: MAC± {:.0} of {n}, ops± {:.0} of {n}",
                    GOOD_WITHIN * 100.0,
                    f.mac_model_good_share() * n,
                    f.op_model_good_share() * n,
                )
            }
            None => format!("latency models: need {MIN_MODELS} or more profiled models"),
        },
        ctx.theme.dim,
    ));
    let selected = b.gaps.iter().position(|g| g.model == ctx.ui.selected);
    columns::draw(frame, inner, columns::header(&cols, &shown, ctx.theme.header), lines, selected, ctx.theme.highlight);
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // Expected values here are exact in binary floating point.
mod tests {
    use super::scatter::{decades, macs_label, ms_label};
    use super::*;

    #[test]
    fn decades_label_as_people_write_them() {
        assert_eq!([6.0, 7.0, 8.0, 9.0].map(macs_label), ["1M", "10M", "100M", "1G"]);
        assert_eq!([-2.0, -1.0, 0.0, 2.0].map(ms_label), ["0.01", "0.1", "1", "100"]);
        assert_eq!(decades([2.3, 2.7].into_iter()), [2.0, 3.0]);
        assert_eq!(decades([3.0].into_iter()), [3.0, 4.0]);
        assert_eq!(decades(std::iter::empty()), [0.0, 1.0]);
    }

    #[test]
    fn models_go_by_letters() {
        assert_eq!((key_of(0), key_of(9), key_of(25), key_of(26)), ('a', 'j', 'z', '*'));
    }
}
