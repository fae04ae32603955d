//! Rendering: a pure function of the measurement state and the UI state.

use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table};
use ratatui::Frame;

use crate::core::analysis::model_profile;
use crate::core::state::{ModelStatus, MonitorState};
use crate::tui::app::UiState;

/// Draws the whole screen.
pub fn render(frame: &mut Frame, state: &MonitorState, ui: &UiState) {
    let [main, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(frame.area());
    frame.render_widget(models_table(state, ui), main);
    let line = ui.status.clone().unwrap_or_else(|| "q quit  p pause  f focus  r reset  ? help".into());
    frame.render_widget(Line::raw(line), status);
}

fn models_table<'a>(state: &'a MonitorState, ui: &UiState) -> Table<'a> {
    let header = Row::new(["model", "MMAC", "p50 ms", "p90 ms", "p99 ms", "n"]).style(Style::new().add_modifier(Modifier::BOLD));
    let rows = state.models.iter().enumerate().map(|(i, m)| {
        let macs = model_profile(&state.tree, m).macs / 1e6;
        let cells: Vec<Cell> = match (&m.status, m.latency.summary()) {
            (ModelStatus::Failed(e), _) => vec![Cell::from(&*m.name), Cell::from(format!("failed: {e}"))],
            (_, Some(s)) => vec![
                Cell::from(&*m.name),
                Cell::from(format!("{macs:.1}")),
                Cell::from(format!("{:.2}", s.p50_ms)),
                Cell::from(format!("{:.2}", s.p90_ms)),
                Cell::from(format!("{:.2}", s.p99_ms)),
                Cell::from(s.count.to_string()),
            ],
            (_, None) => vec![Cell::from(&*m.name), Cell::from("loading")],
        };
        let style = if i == ui.selected { Style::new().add_modifier(Modifier::REVERSED) } else { Style::new() };
        Row::new(cells).style(style)
    });
    let widths = [Constraint::Length(14), Constraint::Length(9), Constraint::Length(9), Constraint::Length(9), Constraint::Length(9), Constraint::Min(6)];
    Table::new(rows, widths).header(header).block(Block::bordered().title(" infertop "))
}
