//! The `?` overlay: every key and what it does.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::Ctx;

const KEYS: [(&str, &str); 20] = [
    ("↑ ↓  k j", "select a model"),
    ("Tab ⇧Tab", "next / previous view"),
    ("s", "cycle the sort key"),
    ("p", "pause / resume inference"),
    ("o", "op profiler off / on (what it costs)"),
    ("f", "run only the selected model / all"),
    ("r", "reset latencies and op times"),
    ("e", "export a snapshot"),
    ("t", "next colour theme"),
    ("?", "this help"),
    ("Esc", "close this help"),
    ("q  Ctrl-C", "quit"),
    ("views", "Models → Detail → Beyond MACs → System"),
    ("ms/GMAC", "median latency per billion MACs"),
    ("¬conv", "share of op time outside convolutions"),
    ("thr+", "slower throttled than not (n.s.: noise)"),
    ("n", "warm inferences (p90 needs 10, p99 100)"),
    ("faults", "minor page faults per warm inference"),
    ("cold+", "ms a switch from another model costs"),
    ("[a–b]", "95 % interval of the median (Detail)"),
];

/// Draws the help box centred over `area`.
pub fn render(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let height = u16::try_from(KEYS.len()).unwrap_or(u16::MAX) + 2;
    let [row] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(56)]).flex(Flex::Center).areas(row);
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(key, what)| Line::from(vec![Span::styled(format!(" {key:<10} "), ctx.theme.header), Span::raw(*what)]))
        .collect();
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).style(ctx.theme.text).block(ctx.panel("keys")), rect);
}
