//! The system view: clock (reported, measured, capped or not), temperature and power
//! (`system/power.rs`), the throttle verdict and each source behind it (`system/throttle.rs`),
//! memory, infertop's own footprint and contention for the cores, then the history
//! (`system/history.rs`): temperature, clock and the selected model's latency on one time axis,
//! throttled samples shaded, and latency against clock and temperature.

mod history;
mod power;
mod throttle;

use super::wrap;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::units::bytes;
use super::Ctx;
use crate::core::analysis::ModelSummary;
use crate::core::machine::Contention;
use crate::core::machine::{CpuFreqPolicy, SystemSample};

/// Rows left to the history when every long machine line may wrap; when that would leave
/// fewer, only the throttle lines wrap.
const HISTORY_MIN_ROWS: u16 = 8;

/// Draws the view. The machine panel is as tall as its lines: a source the machine lacks
/// takes no line, and a line too long for the width continues under its text rather than
/// being cut (the throttle lines first, when the history would otherwise lose its rows).
pub fn render(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let room = area.height.saturating_sub(HISTORY_MIN_ROWS).saturating_sub(2);
    let lines =
        ctx.state.system.last().map(|sample| fitted(info_lines(ctx, sample), area.width.saturating_sub(2), room));
    let height = lines.as_ref().map_or(9, |lines| u16::try_from(lines.len()).unwrap_or(u16::MAX).saturating_add(2));
    let [info, history] = Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(area);
    let block = ctx.panel("machine");
    let inner = block.inner(info);
    frame.render_widget(block, info);
    match lines {
        Some(lines) => frame.render_widget(Paragraph::new(lines), inner),
        None => ctx.message(frame, inner, "no system sample yet"),
    }
    sparklines(frame, history, ctx);
}

/// The machine panel's lines wrapped at `width` within `rows`: all of them when they fit,
/// else only those that say whether and why the board throttles (the others are cut at the
/// edge).
fn fitted(lines: Vec<(Line<'static>, bool)>, width: u16, rows: u16) -> Vec<Line<'static>> {
    let indent = LABEL_WIDTH;
    let all: Vec<Line<'static>> = lines.iter().flat_map(|(l, _)| wrap::hanging(l.clone(), width, indent)).collect();
    if all.len() <= usize::from(rows) {
        return all;
    }
    lines
        .into_iter()
        .flat_map(|(l, throttle)| if throttle { wrap::hanging(l, width, indent) } else { vec![l] })
        .collect()
}

/// The width of the label column.
const LABEL_WIDTH: u16 = 9;

/// A line's label, in the header style and padded to the label column.
fn label(ctx: &Ctx, text: &str) -> Span<'static> {
    Span::styled(format!("{text:<width$}", width = usize::from(LABEL_WIDTH)), ctx.theme.header)
}

fn mhz(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.0} MHz"))
}

/// The panel's lines, each marked when it says whether and why the board throttles.
fn info_lines(ctx: &Ctx, s: &SystemSample) -> Vec<(Line<'static>, bool)> {
    let label = |text: &str| label(ctx, text);
    let temp = s.headline_temp().map_or_else(
        || "n/a (no sensors)".to_string(),
        |t| {
            let which = if t.is_cpu() { "CPU" } else { "hottest, no CPU sensor" };
            format!("{:.1} °C {} ({which}; {} sensors)", t.celsius, t.name, s.temps.len())
        },
    );
    let memory = s.memory.map_or_else(
        || "n/a".to_string(),
        |m| {
            format!(
                "{} / {} used · swap {} / {}",
                bytes(m.used_bytes),
                bytes(m.total_bytes),
                bytes(m.swap_used_bytes),
                bytes(m.swap_total_bytes)
            )
        },
    );
    let rss = s.process_rss_bytes.map_or_else(|| "n/a".into(), bytes);
    let cpu = s.process_cpu_pct.map_or_else(|| "n/a".into(), |p| format!("{p:.0}%"));
    let ui_cpu = ctx.ui.ui_cpu_pct.map_or_else(|| "n/a".into(), |p| format!("{p:.1}%"));
    let cores: Vec<String> = s.usage_pct.iter().map(|u| format!("{u:.0}")).collect();
    let cores = if cores.is_empty() { "n/a".to_string() } else { format!("{} %", cores.join(" ")) };
    let load = s.load.map_or_else(|| "n/a".into(), |l| format!("{:.2} {:.2} {:.2}", l.one, l.five, l.fifteen));
    let clock = format!(
        "reported {} (max {}) · measured {} · ",
        mhz(s.max_cur_mhz()),
        mhz(s.max_policy_mhz()),
        mhz(s.measured_mhz)
    );
    let mut lines = vec![
        (Line::from([vec![label("clock"), Span::raw(clock)], throttle::cap(ctx, s)].concat()), true),
        (Line::from([vec![label("temp"), Span::raw(temp)], power::spans(ctx, s)].concat()), false),
    ];
    lines.extend(throttle::lines(ctx, s).into_iter().map(|l| (l, true)));
    lines.extend(
        [
            Line::from(vec![label("memory"), Span::raw(memory)]),
            Line::from(vec![
                label("infertop"),
                Span::raw(format!("RSS {rss} · CPU {cpu} · UI {ui_cpu} · profiler {}", profiler_cost(ctx))),
            ]),
            Line::from(vec![label("cores"), Span::raw(format!("{cores} · load {load}"))]),
            Line::from([vec![label("sharing")], contention(ctx, s.contention.as_deref())].concat()),
        ]
        .map(|l| (l, false)),
    );
    lines
}

/// What the op profiler costs, as a number: how much slower the inferences it records run than
/// the warm p50 (median over models). The process's CPU beside it counts the inference threads
/// too; the UI's is the front end's own.
fn profiler_cost(ctx: &Ctx) -> String {
    let every = ctx.state.profile_every;
    if every == 0 || ctx.ui.op_profile_off {
        return "off".into();
    }
    if every == 1 {
        return "on all inferences".into();
    }
    let summaries = ModelSummary::all(ctx.state);
    match ModelSummary::profiler_cost_of_run(&summaries, every) {
        Some((cost, _)) => format!("{:+.1}% on 1 in {every}", 100.0 * cost),
        None => format!("on 1 in {every}, cost n/a yet"),
    }
}

/// The verdict, then what other work and infertop used over the interval before the sample.
fn contention(ctx: &Ctx, c: Option<&Contention>) -> Vec<Span<'static>> {
    let Some(c) = c else { return vec![Span::raw("n/a (needs two readings of /proc/stat)")] };
    let verdict = match c.verdict() {
        Some(true) => Span::styled("contended", ctx.theme.bad),
        Some(false) => Span::styled("none", ctx.theme.good),
        None => Span::raw("unknown"),
    };
    let cores = |v: Option<f64>| v.map_or_else(|| "n/a".into(), |v| format!("{v:.2} cores"));
    let load = c.load_1m.map_or_else(|| "n/a".into(), |l| format!("{l:.2}"));
    let threads = c.own_threads.map_or_else(|| "n/a".into(), |n| n.to_string());
    let figures = format!(
        " · other {} · steal {:.1}% · load {load}/{} cores · infertop {}, {threads} threads · busy {:.0}%",
        cores(c.other_cores),
        c.steal_pct,
        c.cores,
        cores(c.own_cores),
        c.busy_pct,
    );
    vec![verdict, Span::raw(figures)]
}

/// The CPU list of a policy: `cpu0-3`, or `policyN` when not a simple range.
fn policy_label(p: &CpuFreqPolicy) -> String {
    match (p.cpus.first(), p.cpus.last()) {
        (Some(a), Some(b)) if a == b => format!("cpu{a}"),
        (Some(a), Some(b)) if usize::try_from(b - a).ok() == Some(p.cpus.len() - 1) => format!("cpu{a}-{b}"),
        _ => format!("policy{}", p.policy),
    }
}

fn sparklines(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let block = ctx.panel("history · the selected model, the clock and the temperature over time");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    history::render(frame, inner, ctx);
}
