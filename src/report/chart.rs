//! The figures, drawn with `plotters` into SVG strings: scatter plots with labelled points,
//! stacked share bars, lines over time with shaded intervals, and ratios with their intervals.

mod axis;
mod place;

use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use place::{centre_above, centre_below, label_offsets, left_centre, right_of_axis};

use super::study::Scatter;
use super::timeline::Line;
use super::ReportError;

/// Figure size in pixels: the page shows two side by side in 1200 px.
pub const SIZE: (u32, u32) = (580, 400);
const WIDE: (u32, u32) = (1160, 360);
const FONT: &str = "sans-serif";
/// Height of a title drawn above a figure's plot.
const TITLE_HEIGHT: u32 = 34;
/// Room right of stacked bars for their legend.
const LEGEND_WIDTH: u32 = 200;

/// Ten colours told apart in print and by most colour-blind readers (Tableau 10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];

/// The `i`th colour of the palette, repeating.
#[must_use]
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Draws into a fresh SVG string of `size` with `draw`, naming `figure` in errors.
fn svg(
    figure: &str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), String>,
) -> Result<String, ReportError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| ReportError::figure(figure, e))?;
        draw(&root).map_err(|e| ReportError::figure(figure, e))?;
        root.present().map_err(|e| ReportError::figure(figure, e))?;
    }
    Ok(out)
}

/// A number for an axis: few digits, no trailing zeros.
#[must_use]
pub fn tick(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A range around `values` with a margin; logarithmic axes get a factor of margin.
fn span(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        (lo / 1.5, hi * 2.5)
    } else {
        let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.02).max(0.5);
        // More room on the right, where point labels run.
        (lo - pad, hi + 2.0 * pad)
    }
}

/// A scatter plot: each point labelled with its model. The caption with the coefficients is
/// the page's; the SVG's title names the two quantities.
///
/// # Errors
/// When plotters fails to draw.
pub fn scatter(s: &Scatter) -> Result<String, ReportError> {
    // Logarithmic only across a decade or more: below that a log axis gets too few ticks.
    let log = |log_axis: bool, v: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
        log_axis && lo > 0.0 && hi / lo >= 10.0
    };
    let x_log = log(s.x.log_axis(), &mut s.points.iter().map(|p| p.1));
    let y_log = log(s.y.log_axis(), &mut s.points.iter().map(|p| p.2));
    let (x0, x1) = span(s.points.iter().map(|p| p.1), x_log);
    let (y0, y1) = span(s.points.iter().map(|p| p.2), y_log);
    let title = format!("{} against {}", s.y.key(), s.x.key());
    // The plot's extent inside the figure (less margins, label areas and caption), for ticks
    // whose labels keep apart: x labels side by side, y labels one above the other.
    let x_ticks = axis::log_ticks(x0, x1, f64::from(SIZE.0 - 24 - 56), |v| 7.0 * tick(v).len() as f64);
    let y_ticks = axis::log_ticks(y0, y1, f64::from(SIZE.1 - 24 - 42 - 30), |_| 14.0);
    let x_log_coord = || (x0..x1).log_scale().with_key_points(x_ticks.clone());
    let y_log_coord = || (y0..y1).log_scale().with_key_points(y_ticks.clone());
    svg(&title, SIZE, |root| match (x_log, y_log) {
        (true, true) => draw_scatter(root, s, &title, x_log_coord(), y_log_coord()),
        (true, false) => draw_scatter(root, s, &title, x_log_coord(), x0_lin(y0, y1)),
        (false, true) => draw_scatter(root, s, &title, x0_lin(x0, x1), y_log_coord()),
        (false, false) => draw_scatter(root, s, &title, x0_lin(x0, x1), x0_lin(y0, y1)),
    })
}

fn x0_lin(lo: f64, hi: f64) -> RangedCoordf64 {
    (lo..hi).into()
}

fn draw_scatter<X, Y>(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    s: &Scatter,
    title: &str,
    x: X,
    y: Y,
) -> Result<(), String>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(s.x.axis())
        .y_desc(s.y.axis())
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|e| e.to_string())?;
    let at: Vec<(i32, i32)> = s.points.iter().map(|(_, px, py)| chart.backend_coord(&(*px, *py))).collect();
    let offsets = label_offsets(&at, &s.points.iter().map(|p| p.0.chars().count()).collect::<Vec<_>>());
    let points = s.points.iter().zip(offsets).enumerate().map(|(i, ((label, px, py), offset))| {
        EmptyElement::at((*px, *py))
            + Circle::new((0, 0), 6, colour(i).filled())
            + Text::new(label.clone(), offset, (FONT, 13).into_font())
    });
    chart.draw_series(points).map_err(|e| e.to_string())?;
    Ok(())
}

/// One bar of a stacked bar figure: its group (a model), its label under the group, and its
/// segments' shares (summing to 1) in `layers` order.
#[derive(Clone, Debug)]
pub struct Bar {
    pub group: usize,
    pub label: &'static str,
    pub shares: Vec<f64>,
}

/// Stacked bars of shares in %, `bars_per_group` side by side per group, a legend of `layers`.
///
/// # Errors
/// When plotters fails to draw.
pub fn stacked_bars(
    title: &str,
    groups: &[String],
    layers: &[String],
    bars: &[Bar],
    bars_per_group: usize,
) -> Result<String, ReportError> {
    svg(title, WIDE, |root| {
        let n = groups.len().max(1) as f64;
        let (plot, side) = root.split_horizontally(WIDE.0 - LEGEND_WIDTH);
        // The title in a band of its own: plotters puts a caption right on the plot's top, where
        // the bars' labels (time, MACs) stand.
        let (head, plot) = plot.split_vertically(TITLE_HEIGHT);
        let centre = i32::try_from((WIDE.0 - LEGEND_WIDTH) / 2).unwrap_or(0);
        let style = TextStyle::from((FONT, 18).into_font()).pos(centre_below());
        head.draw(&Text::new(title, (centre, 8), style)).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            // Room above the bars for their labels.
            .margin_top(20)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..n, 0.0..100.0)
            .map_err(|e| e.to_string())?;
        chart.configure_mesh().disable_x_mesh().x_labels(0).y_desc("share (%)").draw().map_err(|e| e.to_string())?;
        let width = 0.8 / bars_per_group as f64;
        let slot = |b: &Bar, k: usize| {
            let left = b.group as f64 + 0.1 + width * (k as f64);
            (left + 0.02, left + width - 0.02)
        };
        for li in 0..layers.len() {
            let mut rects = Vec::new();
            let mut slots = vec![0usize; groups.len()];
            for b in bars {
                let k = slots[b.group];
                slots[b.group] += 1;
                let below: f64 = b.shares[..li].iter().sum::<f64>() * 100.0;
                let (l, r) = slot(b, k);
                let top = below + b.shares[li] * 100.0;
                rects.push(Rectangle::new([(l, below), (r, top)], colour(li).filled()));
            }
            chart.draw_series(rects).map_err(|e| e.to_string())?;
        }
        // Names under the groups, and each bar's label (time, MACs) just above the axis.
        let names = groups.iter().enumerate().map(|(g, name)| {
            Text::new(name.clone(), (g as f64 + 0.5, 0.0), TextStyle::from((FONT, 14).into_font()).pos(centre_below()))
        });
        chart.draw_series(names).map_err(|e| e.to_string())?;
        let mut slots = vec![0usize; groups.len()];
        let labels: Vec<_> = bars
            .iter()
            .map(|b| {
                let k = slots[b.group];
                slots[b.group] += 1;
                let (l, r) = slot(b, k);
                Text::new(
                    b.label,
                    (f64::midpoint(l, r), 100.0),
                    TextStyle::from((FONT, 12).into_font()).pos(centre_above()),
                )
            })
            .collect();
        chart.draw_series(labels).map_err(|e| e.to_string())?;
        legend(&side, layers)
    })
}

/// A legend of `layers` in their colours, top down in `area`.
fn legend(area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, layers: &[String]) -> Result<(), String> {
    for (i, layer) in layers.iter().enumerate() {
        let y = 40 + 20 * i32::try_from(i).unwrap_or(0);
        area.draw(&Rectangle::new([(8, y - 6), (20, y + 6)], colour(i).filled())).map_err(|e| e.to_string())?;
        let style = TextStyle::from((FONT, 13).into_font()).pos(left_centre());
        area.draw(&Text::new(layer.clone(), (26, y), style)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Lines over time (seconds) with `shaded` intervals drawn behind them in light red. A line is
/// broken where it has no data (a model between its turns); values an outlier would flatten
/// the others under go above the axis ([`axis::off_scale`]), are drawn at its top as ▲, and
/// the second value returned says so, for the caption.
///
/// # Errors
/// When plotters fails to draw.
pub fn lines(
    title: &str,
    y_desc: &str,
    lines: &[Line],
    shaded: &[(f64, f64)],
) -> Result<(String, Option<String>), ReportError> {
    let all = || lines.iter().flat_map(|l| l.1.iter());
    let (_, t1) = span(all().map(|p| p.0).chain(shaded.iter().map(|s| s.1)), false);
    let off = axis::off_scale(all().map(|p| p.1));
    let top = |v: f64| off.map_or(v, |o| v.min(o.ceiling));
    let (y0, y1) = span(all().map(|p| top(p.1)), false);
    let y0 = if all().all(|p| p.1 >= 0.0) { y0.max(0.0) } else { y0 };
    let svg = svg(title, WIDE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..t1, y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("time since start (s)")
            .y_desc(y_desc)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(|e| e.to_string())?;
        if !shaded.is_empty() {
            let red = RGBColor(225, 87, 89).mix(0.18);
            chart
                .draw_series(shaded.iter().map(|&(a, b)| Rectangle::new([(a, y0), (b, y1)], red.filled())))
                .map_err(|e| e.to_string())?
                .label("throttled")
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], red.filled()));
        }
        for (i, (name, points)) in lines.iter().enumerate() {
            let c = colour(i);
            let clamped: Vec<(f64, f64)> = points.iter().map(|&(t, v)| (t, top(v))).collect();
            for (k, part) in axis::segments(&clamped).into_iter().enumerate() {
                // A lone point of a segment would draw nothing as a line.
                let dots = (part.len() == 1).then(|| Circle::new(part[0], 2, c.filled()));
                chart.draw_series(dots).map_err(|e| e.to_string())?;
                let series = chart
                    .draw_series(LineSeries::new(part.iter().copied(), c.stroke_width(2)))
                    .map_err(|e| e.to_string())?;
                if k == 0 {
                    series
                        .label(name.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], c.stroke_width(2)));
                }
            }
            if let Some(o) = off {
                let above = points.iter().filter(|p| p.1 > o.ceiling).map(|&(t, _)| (t, o.ceiling));
                chart.draw_series(above.map(|p| TriangleMarker::new(p, 5, c.filled()))).map_err(|e| e.to_string())?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(|e| e.to_string())?;
        Ok(())
    })?;
    let note = off.map(|o| {
        let points = if o.above == 1 { "point lies" } else { "points lie" };
        format!("{} {points} above the axis (up to {}), drawn at its top as ▲.", o.above, tick(o.highest))
    });
    Ok((svg, note))
}

/// A ratio per model with its interval, on a log axis, with a line at 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Ratio {
    pub model: String,
    pub ratio: f64,
    pub interval: Option<(f64, f64)>,
}

/// Ratios B/A per model as points with interval whiskers, models down the side.
///
/// # Errors
/// When plotters fails to draw.
pub fn ratios(title: &str, ratios: &[Ratio]) -> Result<String, ReportError> {
    let values =
        ratios.iter().flat_map(|r| [r.ratio].into_iter().chain(r.interval.map(|i| [i.0, i.1]).into_iter().flatten()));
    let (lo, hi) = span(values.chain([1.0]), true);
    let n = ratios.len().max(1) as f64;
    let height = (80 + 34 * ratios.len()).min(1200) as u32;
    svg(title, (WIDE.0, height.max(200)), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(130)
            .build_cartesian_2d(
                (lo..hi).log_scale().with_key_points(axis::log_ticks(lo, hi, f64::from(WIDE.0 - 24 - 130), |v| {
                    7.0 * tick(v).len() as f64
                })),
                0.0..n,
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("latency ratio B / A (median, 95% interval)")
            .x_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(|e| e.to_string())?;
        chart.draw_series([PathElement::new(vec![(1.0, 0.0), (1.0, n)], BLACK.mix(0.5))]).map_err(|e| e.to_string())?;
        for (i, r) in ratios.iter().enumerate() {
            let y = n - i as f64 - 0.5;
            let c = colour(i);
            if let Some((a, b)) = r.interval {
                chart
                    .draw_series([PathElement::new(vec![(a, y), (b, y)], c.stroke_width(2))])
                    .map_err(|e| e.to_string())?;
            }
            let name =
                Text::new(r.model.clone(), (lo, y), TextStyle::from((FONT, 14).into_font()).pos(right_of_axis()));
            chart
                .draw_series([EmptyElement::at((r.ratio, y)) + Circle::new((0, 0), 5, c.filled())])
                .map_err(|e| e.to_string())?;
            chart.draw_series([name]).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}
