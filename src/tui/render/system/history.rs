//! The System view's history: temperature, the reported and measured clock, power (where the
//! machine has a source) and the selected model's latency as line charts on one time axis (seconds since the start, one scale and unit
//! per chart), the samples that found the machine throttled shaded across all of them and
//! marked on a strip below, and beside them (when wide enough) the same model's latency against
//! the clock and against the temperature as scatter plots.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType};
use ratatui::Frame;

use crate::core::machine::SystemSample;
use crate::tui::render::Ctx;

/// Width of the scale column left of the charts (`1800 MHz`, `74.5 °C`).
const SCALE: u16 = 10;
/// Width of the scatter plots' column, shown from [`SCATTER_FROM`] columns on.
const SCATTER: u16 = 36;
const SCATTER_FROM: u16 = 100;

/// One line chart: a name with its unit and up to two series (the second drawn dimmer).
struct Track {
    /// Charts with a lower rank give way first when rows are short.
    rank: u8,
    name: &'static str,
    unit: &'static str,
    /// (seconds since start, value) per sample.
    main: Vec<(f64, f64)>,
    second: Vec<(f64, f64)>,
}

impl Track {
    fn bounds(&self) -> Option<[f64; 2]> {
        let values = self.main.iter().chain(&self.second).map(|p| p.1);
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if !lo.is_finite() {
            return None;
        }
        // A flat series sits in the middle of a band of ±1 unit instead of filling the height.
        let pad = if hi - lo < 1e-9 { 1.0_f64.max(hi.abs() * 0.01) } else { (hi - lo) * 0.05 };
        // A series that never goes below zero (latency, clock, power) gets no negative axis: a
        // 2 s outlier's 5 % margin would put the bottom of an 8 ms series at -99 ms.
        let bottom = if lo >= 0.0 { (lo - pad).max(0.0) } else { lo - pad };
        Some([bottom, hi + pad])
    }
}

/// A value with the precision its size needs.
fn value(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The samples shown: as many as the plot has braille columns (two per cell).
fn window<'a>(ctx: &'a Ctx, plot_width: u16) -> Vec<&'a SystemSample> {
    let system = &ctx.state.system;
    let n = (usize::from(plot_width) * 2).min(system.len());
    system.iter().skip(system.len() - n).collect()
}

fn seconds(sample: &SystemSample) -> f64 {
    sample.at_ms as f64 / 1000.0
}

/// The selected model's mean latency in the interval that ends at each of `samples` (oldest
/// first, the newest last), paired with its sample; intervals without an inference are left
/// out. The timeline's buckets end at the samples, so the two align from the newest.
fn latency_at<'a>(
    ctx: &Ctx,
    samples: impl ExactSizeIterator<Item = &'a SystemSample>,
) -> impl Iterator<Item = (&'a SystemSample, f64)> {
    let latency = ctx.state.timeline.latency_ms(ctx.ui.selected, samples.len());
    let skip = samples.len().saturating_sub(latency.len());
    samples.skip(skip).zip(latency).filter_map(|(s, ms)| Some((s, ms?)))
}

fn tracks(ctx: &Ctx, samples: &[&SystemSample]) -> Vec<Track> {
    let point = |s: &SystemSample, v: Option<f64>| v.map(|v| (seconds(s), v));
    let temperature = samples.iter().filter_map(|s| point(s, s.headline_temp().map(|t| t.celsius))).collect();
    let reported = samples.iter().filter_map(|s| point(s, s.max_cur_mhz())).collect();
    let measured = samples.iter().filter_map(|s| point(s, s.measured_mhz)).collect();
    let latency = latency_at(ctx, samples.iter().copied()).map(|(s, ms)| (seconds(s), ms)).collect();
    let power: Vec<(f64, f64)> =
        samples.iter().filter_map(|s| point(s, s.power.as_ref().and_then(|p| p.watts))).collect();
    // A machine without a sensor or a power source gets no empty chart for it (a VM's only
    // clock is the measured one, which the clock chart draws alone then).
    let tracks = [
        Track { rank: 2, name: "temp", unit: "°C", main: temperature, second: Vec::new() },
        Track { rank: 1, name: "clock", unit: "MHz", main: reported, second: measured },
        Track { rank: 0, name: "power", unit: "W", main: power, second: Vec::new() },
    ];
    let mut tracks: Vec<Track> = tracks.into_iter().filter(|t| !t.main.is_empty() || !t.second.is_empty()).collect();
    tracks.push(Track { rank: 3, name: "latency", unit: "ms", main: latency, second: Vec::new() });
    tracks
}

/// Draws the history into `area` (inside the panel's border).
pub fn render(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let (charts, scatter) = if area.width >= SCATTER_FROM {
        let [charts, scatter] =
            Layout::horizontal([Constraint::Min(0), Constraint::Length(SCATTER)]).spacing(1).areas(area);
        (charts, Some(scatter))
    } else {
        (area, None)
    };
    time_charts(frame, charts, ctx);
    if let Some(scatter) = scatter {
        // A rule keeps the scatters' dots from reading as part of the history's rows.
        let rule = Block::new().borders(Borders::LEFT).border_style(ctx.theme.border);
        let inner = rule.inner(scatter);
        frame.render_widget(rule, scatter);
        scatters(frame, inner, ctx);
    }
}

fn time_charts(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let plot_width = area.width.saturating_sub(SCALE + 1);
    let samples = window(ctx, plot_width);
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        ctx.message(frame, area, "no system sample yet");
        return;
    };
    // Two rows below the charts: the throttle strip and the time axis.
    let rows_for_charts = area.height.saturating_sub(2);
    let mut tracks = tracks(ctx, &samples);
    // Two rows at least per chart; when space is short power gives way first (its figure stays
    // on the temperature line above), then the clock, then the temperature; the latency stays.
    while !tracks.is_empty() && rows_for_charts / u16::try_from(tracks.len()).unwrap_or(1) < 2 {
        let lowest = tracks.iter().enumerate().min_by_key(|(_, t)| t.rank).map_or(0, |(i, _)| i);
        tracks.remove(lowest);
    }
    if tracks.is_empty() || plot_width < 4 {
        ctx.message(frame, area, "too small for the history");
        return;
    }
    let x = [seconds(first), seconds(last).max(seconds(first) + 1e-3)];
    let height = rows_for_charts / u16::try_from(tracks.len()).unwrap_or(1);
    let throttled: Vec<(f64, Option<bool>)> = samples.iter().map(|s| (seconds(s), s.is_throttled())).collect();
    let mut y = area.y;
    let mut plots = Vec::new();
    for track in &tracks {
        let row = Rect { y, height, ..area };
        let [scale, plot] = Layout::horizontal([Constraint::Length(SCALE), Constraint::Min(0)]).spacing(1).areas(row);
        draw_track(frame, scale, plot, track, x, ctx);
        plots.push(plot);
        y += height;
    }
    let strip = Rect { y, height: 1, ..area };
    let [strip_label, strip_plot] =
        Layout::horizontal([Constraint::Length(SCALE), Constraint::Min(0)]).spacing(1).areas(strip);
    frame.render_widget(Line::styled("throttled", ctx.theme.dim), strip_label);
    let columns = throttle_columns(&throttled, x, strip_plot.width);
    shade(frame, &plots, &columns, ctx);
    frame.render_widget(strip_line(&columns, ctx), strip_plot);
    let axis = Rect { y: y + 1, height: 1, ..area };
    let [_, axis_plot] = Layout::horizontal([Constraint::Length(SCALE), Constraint::Min(0)]).spacing(1).areas(axis);
    frame.render_widget(time_axis(x, axis_plot.width, ctx), axis_plot);
}

/// The scale (top value, name and unit, bottom value) and the chart of one track.
fn draw_track(frame: &mut Frame, scale: Rect, plot: Rect, track: &Track, x: [f64; 2], ctx: &Ctx) {
    let Some(bounds) = track.bounds() else {
        let text = format!("{} n/a", track.name);
        frame.render_widget(Line::styled(text, ctx.theme.dim), scale);
        return;
    };
    let mut lines = vec![Line::from(value(bounds[1]))];
    let middle = Line::styled(format!("{} {}", track.name, track.unit), ctx.theme.header);
    if scale.height >= 3 {
        lines.push(middle);
        for _ in 3..scale.height {
            lines.push(Line::default());
        }
    } else {
        lines[0] =
            Line::from(vec![Span::styled(format!("{} ", track.unit), ctx.theme.header), Span::raw(value(bounds[1]))]);
    }
    lines.push(Line::from(value(bounds[0])));
    frame.render_widget(ratatui::widgets::Paragraph::new(lines), scale);
    let mut datasets = vec![Dataset::default()
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(ctx.theme.sparkline)
        .data(&track.main)];
    if !track.second.is_empty() {
        datasets.push(
            Dataset::default()
                .marker(Marker::Dot)
                .graph_type(GraphType::Scatter)
                .style(ctx.theme.dim)
                .data(&track.second),
        );
    }
    let chart = Chart::new(datasets).x_axis(Axis::default().bounds(x)).y_axis(Axis::default().bounds(bounds));
    frame.render_widget(chart, plot);
}

/// Per column of a plot `width` wide over `x`: whether the sample nearest its middle found the
/// machine throttled.
fn throttle_columns(samples: &[(f64, Option<bool>)], x: [f64; 2], width: u16) -> Vec<Option<bool>> {
    (0..width)
        .map(|c| {
            let t = x[0] + (f64::from(c) + 0.5) / f64::from(width) * (x[1] - x[0]);
            samples.iter().min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs())).and_then(|s| s.1)
        })
        .collect()
}

/// Shades the throttled columns of every plot with the theme's selection background.
fn shade(frame: &mut Frame, plots: &[Rect], columns: &[Option<bool>], ctx: &Ctx) {
    let shading = match ctx.theme.highlight.bg {
        Some(bg) => Style::default().bg(bg),
        None => Style::default().add_modifier(Modifier::REVERSED),
    };
    let buffer = frame.buffer_mut();
    for plot in plots {
        for (c, throttled) in columns.iter().enumerate() {
            if *throttled != Some(true) {
                continue;
            }
            let column = plot.x + u16::try_from(c).unwrap_or(u16::MAX);
            if column >= plot.right() {
                break;
            }
            for row in plot.y..plot.bottom() {
                if let Some(cell) = buffer.cell_mut((column, row)) {
                    cell.set_style(shading);
                }
            }
        }
    }
}

/// `█` where throttled, `·` where a source said no, blank where unknown.
fn strip_line(columns: &[Option<bool>], ctx: &Ctx) -> Line<'static> {
    let spans: Vec<Span> = columns
        .iter()
        .map(|c| match c {
            Some(true) => Span::styled("█", ctx.theme.bad),
            Some(false) => Span::styled("·", ctx.theme.dim),
            None => Span::raw(" "),
        })
        .collect();
    Line::from(spans)
}

/// `12 s ──── time since start ──── 47 s`, fitted to `width`.
fn time_axis(x: [f64; 2], width: u16, ctx: &Ctx) -> Line<'static> {
    let (left, right) = (format!("{:.0} s", x[0]), format!("{:.0} s", x[1]));
    let middle = " time since start ";
    let width = usize::from(width);
    let used = left.len() + right.len();
    if width < used + 2 {
        return Line::styled(left, ctx.theme.dim);
    }
    let rest = width - used;
    let text = if rest >= middle.chars().count() + 2 {
        let side = (rest - middle.chars().count()) / 2;
        let other = rest - middle.chars().count() - side;
        format!("{left}{}{middle}{}{right}", "─".repeat(side), "─".repeat(other))
    } else {
        format!("{left}{}{right}", "─".repeat(rest))
    };
    Line::styled(text, ctx.theme.dim)
}

/// Latency against the clock and against the temperature for the selected model.
fn scatters(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let Some(model) = ctx.state.models.get(ctx.ui.selected) else { return };
    let by_clock: Vec<(f64, f64)> = model.throttle.by_clock.iter().copied().collect();
    let by_temp: Vec<(f64, f64)> =
        latency_at(ctx, ctx.state.system.iter()).filter_map(|(s, ms)| Some((s.headline_temp()?.celsius, ms))).collect();
    let [top, bottom] = Layout::vertical([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(area);
    scatter(frame, top, &format!("{} ms vs clock MHz", model.name), &by_clock, ctx);
    scatter(frame, bottom, &format!("{} ms vs temp °C", model.name), &by_temp, ctx);
}

fn scatter(frame: &mut Frame, area: Rect, title: &str, points: &[(f64, f64)], ctx: &Ctx) {
    if area.height < 3 {
        return;
    }
    let [head, plot, foot] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    frame.render_widget(
        Line::styled(crate::tui::render::units::fit(title, usize::from(head.width)), ctx.theme.header),
        head,
    );
    let range = |f: fn(&(f64, f64)) -> f64| {
        let (lo, hi) =
            points.iter().map(f).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        lo.is_finite().then_some(if hi - lo < 1e-9 { [lo - 1.0, hi + 1.0] } else { [lo, hi] })
    };
    let (Some(xs), Some(ys)) = (range(|p| p.0), range(|p| p.1)) else {
        ctx.message(frame, plot, "no points yet");
        return;
    };
    let dataset =
        Dataset::default().marker(Marker::Braille).graph_type(GraphType::Scatter).style(ctx.theme.point).data(points);
    let chart = Chart::new(vec![dataset]).x_axis(Axis::default().bounds(xs)).y_axis(Axis::default().bounds(ys));
    frame.render_widget(chart, plot);
    let foot_text =
        format!("x {}–{} · y {}–{} · n={}", value(xs[0]), value(xs[1]), value(ys[0]), value(ys[1]), points.len());
    frame.render_widget(
        Line::styled(crate::tui::render::units::fit(&foot_text, usize::from(foot.width)), ctx.theme.dim),
        foot,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_columns_follow_the_nearest_sample() {
        let samples = [(0.0, Some(false)), (1.0, Some(true)), (2.0, Some(true)), (3.0, None)];
        // Four columns over 0-3 s: middles at 0.375, 1.125, 1.875, 2.625 s.
        assert_eq!(throttle_columns(&samples, [0.0, 3.0], 4), [Some(false), Some(true), Some(true), None]);
    }

    #[test]
    fn a_flat_track_gets_a_band_not_a_point() {
        let track =
            Track { rank: 0, name: "temp", unit: "°C", main: vec![(0.0, 48.7), (1.0, 48.7)], second: Vec::new() };
        let [lo, hi] = track.bounds().unwrap();
        assert!(lo < 48.7 && hi > 48.7 && hi - lo <= 2.0 + 1e-9, "{lo} {hi}");
    }

    #[test]
    fn a_series_that_never_goes_below_zero_gets_no_negative_axis() {
        let main = vec![(0.0, 8.2), (1.0, 8.4), (2.0, 1990.0), (3.0, 8.3)];
        let [lo, hi] = Track { rank: 0, name: "latency", unit: "ms", main, second: Vec::new() }.bounds().unwrap();
        assert!((0.0..=8.2).contains(&lo) && hi >= 1990.0, "{lo} {hi}");
        let main = vec![(0.0, -3.0), (1.0, 5.0)];
        let [lo, _] = Track { rank: 0, name: "delta", unit: "°C", main, second: Vec::new() }.bounds().unwrap();
        assert!(lo < -3.0, "a series below zero keeps its margin: {lo}");
    }

    #[test]
    fn the_time_axis_names_both_ends() {
        let ctx_free = time_axis_text([12.0, 47.0], 40);
        assert!(ctx_free.starts_with("12 s") && ctx_free.ends_with("47 s") && ctx_free.contains("time since start"));
        assert_eq!(ctx_free.chars().count(), 40);
    }

    fn time_axis_text(x: [f64; 2], width: u16) -> String {
        let theme = crate::tui::theme::Theme::default();
        let state = crate::core::state::MonitorState::new::<&str>(&[]);
        let ui = crate::tui::app::UiState::default();
        let ctx = Ctx::new(&state, &ui, &theme);
        time_axis(x, width, &ctx).to_string()
    }
}
