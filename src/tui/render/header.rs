//! The top line (view tabs, what the engine is doing, and a warning while other work competes
//! for the cores) and the bottom status line.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Tabs;
use ratatui::Frame;

use super::units::{count, with_unit};
use super::wrap;
use super::Ctx;
use crate::tui::app::View;

/// View tabs on the left; engine state, focus, inference count and peak on the right, as much
/// of it as fits.
pub fn tabs(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let titles: Vec<String> = View::ALL.iter().map(|v| v.label().to_string()).collect();
    let width: usize = titles.iter().map(|t| t.chars().count() + 3).sum::<usize>() + 1;
    let [left, right] =
        Layout::horizontal([Constraint::Length(u16::try_from(width).unwrap_or(u16::MAX)), Constraint::Min(0)])
            .areas(area);
    let selected = View::ALL.iter().position(|v| *v == ctx.ui.view);
    let tabs =
        Tabs::new(titles).select(selected).style(ctx.theme.dim).highlight_style(ctx.theme.highlight).divider("│");
    frame.render_widget(tabs, left);
    // Tabs draws " title " with a one-cell divider between: each tab's cells, for clicks.
    let mut x = left.x;
    for view in View::ALL {
        let w = u16::try_from(view.label().chars().count() + 2).unwrap_or(u16::MAX);
        let rect = Rect { x, width: w.min(left.right().saturating_sub(x)), ..left };
        ctx.record_tab(rect, view);
        x = x.saturating_add(w + 1);
    }
    frame.render_widget(engine_line(ctx, usize::from(right.width)).right_aligned(), right);
}

/// Parts in order of importance; later ones are left out when the line would not fit.
fn engine_line(ctx: &Ctx, width: usize) -> Line<'static> {
    let state = ctx.state;
    let mut parts = vec![if state.engine_stopped {
        Span::styled("engine stopped", ctx.theme.bad)
    } else if ctx.ui.paused {
        Span::styled("paused", ctx.theme.warn)
    } else {
        Span::styled("running", ctx.theme.good)
    }];
    let room = width.saturating_sub(1 + parts[0].width());
    parts.extend(contention_warning(ctx, room));
    if let Some((timed, of)) = state.calibration_progress.filter(|(timed, of)| timed < of) {
        let done = 100 * timed / of.max(1);
        parts.push(Span::styled(format!(" · calibrating kernels {done}%"), ctx.theme.dim));
    }
    if ctx.ui.op_profile_off {
        parts.push(Span::styled(" · op profiler off", ctx.theme.warn));
    }
    if let Some(id) = ctx.ui.focused {
        let name = state.models.get(id).map_or("?", |m| &*m.name);
        parts.push(Span::styled(format!(" · focus {name}"), ctx.theme.warn));
    }
    parts.push(Span::raw(format!(" · {}", count(state.inferences, "inference"))));
    if let Some(peak) = state.peak_gmacs {
        parts.push(Span::styled(format!(" · peak {}", with_unit(peak * 1e9, "MAC/s")), ctx.theme.dim));
    }
    let mut used = 1;
    let mut spans = Vec::new();
    for part in parts {
        used += part.width();
        if used > width {
            break;
        }
        spans.push(part);
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// A warning when other work competes for the cores: the latest sample's figures when it was
/// contended (in `bad`), else, once any sample was, how many were (in `warn`). The long form when it fits in `room`, else a short one. Nothing while unknown.
fn contention_warning(ctx: &Ctx, room: usize) -> Option<Span<'static>> {
    let run = &ctx.state.contention;
    let latest = ctx.state.system.last().and_then(|s| s.contention.as_deref());
    let (long, short, style) = match latest.filter(|c| c.verdict() == Some(true)) {
        Some(c) => (format!(" · ⚠ contended: {}", c.describe()), " · ⚠ contended".to_string(), ctx.theme.bad),
        None if run.samples_contended > 0 => {
            let (n, of) = (run.samples_contended, run.samples_known);
            (
                format!(" · ⚠ {n} of {} contended", count(of, "sample")),
                format!(" · ⚠ {n}/{of} contended"),
                ctx.theme.warn,
            )
        }
        None => return None,
    };
    let long = Span::styled(long, style);
    Some(if long.width() <= room { long } else { Span::styled(short, style) })
}

/// Rows a status message may take at most; the keys always take one.
pub const STATUS_MAX_ROWS: u16 = 3;

/// The status line: a message when there is one (export result, engine error), wrapped when
/// too long for `width` (a snapshot's path is the part that matters), else the keys.
#[must_use]
pub fn status_lines(ctx: &Ctx, width: u16) -> Vec<Line<'static>> {
    let message = |line: Line<'static>| {
        let mut lines = wrap::hanging(line, width, 2);
        lines.truncate(usize::from(STATUS_MAX_ROWS));
        lines
    };
    if ctx.ui.typing {
        message(Line::styled("filter: type a part of the name · Enter keep · Esc clear", ctx.theme.warn))
    } else if let Some(msg) = &ctx.ui.status {
        message(Line::styled(msg.clone(), ctx.theme.warn))
    } else if let Some(err) = &ctx.state.engine_error {
        message(Line::styled(format!("engine: {err}"), ctx.theme.bad))
    } else {
        let (all_keys, few_keys) = if ctx.ui.view == View::Detail {
            (
                "↑↓ PgUp/Dn row  ←→ table  s/S sort  / filter  Esc back  Tab view  p pause  ? help  q quit",
                "←→ table  s/S sort  / filter  ? help",
            )
        } else {
            (
                "↑↓ select  Enter detail  Tab view  s/S sort  p pause  f focus  r reset  e export  t theme  ? help  q quit",
                "Tab view  s/S sort  ? help  q quit",
            )
        };
        let sort = if ctx.ui.view == View::Detail {
            String::new()
        } else {
            let arrow = crate::tui::tables::arrow(ctx.ui.sort.ascending_by_default() != ctx.ui.sort_reversed);
            format!("sort: {} {arrow} · ", ctx.ui.sort.label())
        };
        let fits = |text: &str| sort.chars().count() + text.chars().count() <= usize::from(width);
        let keys = if fits(all_keys) { all_keys } else { few_keys };
        vec![Line::from(vec![Span::styled(sort, ctx.theme.dim), Span::raw(keys)])]
    }
}

/// Draws [`status_lines`] into `area`, one row each.
pub fn status(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    frame.render_widget(ratatui::widgets::Paragraph::new(lines), area);
}
