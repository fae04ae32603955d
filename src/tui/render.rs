//! Rendering: a pure function of the measurement state, the UI state and the theme. One file per panel under `render/`.

pub mod beyond;
pub mod breakdown;
pub mod columns;
pub mod detail;
pub mod header;
pub mod help;
pub mod models;
pub mod ops;
pub mod system;
pub mod units;
pub mod what_if;
pub mod wrap;

use std::cell::RefCell;

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use crate::core::state::MonitorState;
use crate::tui::app::{UiState, View};
use crate::tui::mouse::{FrameHits, TableHit};
use crate::tui::rows::{ordered_rows_with, ModelRow};
use crate::tui::theme::Theme;
use crate::tui::variants::WhatIf;

/// What every panel draws from: the inputs plus the model rows, derived once per frame.
pub struct Ctx<'a> {
    pub state: &'a MonitorState,
    pub ui: &'a UiState,
    pub theme: &'a Theme,
    /// Every model's row, in the chosen sort order.
    pub rows: Vec<ModelRow<'a>>,
    /// The run's what-if variants and their comparisons.
    pub what_if: WhatIf,
    /// Each model's name as the tables show it (by id): a variant under its original as a
    /// branch of it (see [`WhatIf::display_name`]).
    names: Vec<String>,
    /// Where this frame draws its tabs and tables: what drawing returns besides the pixels.
    hits: RefCell<FrameHits>,
}

impl<'a> Ctx<'a> {
    #[must_use]
    pub fn new(state: &'a MonitorState, ui: &'a UiState, theme: &'a Theme) -> Self {
        let what_if = WhatIf::of(state);
        let rows = ordered_rows_with(state, ui.sort, ui.sort_reversed, &what_if);
        let order: Vec<_> = rows.iter().map(|r| r.id).collect();
        let mut names = vec![String::new(); state.models.len()];
        for (at, &id) in order.iter().enumerate() {
            names[id] = what_if.display_name(state, &order, at, models::NAME_MAX);
        }
        Self { state, ui, theme, rows, what_if, names, hits: RefCell::default() }
    }

    /// Model `id`'s name as the tables show it.
    #[must_use]
    pub fn name(&self, id: crate::core::run::ModelId) -> &str {
        self.names.get(id).map_or("", String::as_str)
    }

    /// Notes where a table's rows went, for the mouse.
    pub fn record_table(&self, hit: TableHit) {
        self.hits.borrow_mut().tables.push(hit);
    }

    /// Notes where a tab went, for the mouse.
    pub fn record_tab(&self, rect: Rect, view: View) {
        self.hits.borrow_mut().tabs.push((rect, view));
    }

    /// The selected model's row.
    #[must_use]
    pub fn selected(&self) -> Option<&ModelRow<'a>> {
        self.rows.iter().find(|r| r.id == self.ui.selected)
    }

    /// A bordered panel in the theme's colours.
    #[must_use]
    pub fn panel(&self, title: &str) -> Block<'static> {
        Block::bordered().border_style(self.theme.border).title(Line::styled(format!(" {title} "), self.theme.title))
    }

    /// A dim message in place of a panel's content (no data yet, sensor missing).
    pub fn message(&self, frame: &mut Frame, area: Rect, text: &str) {
        let p = Paragraph::new(Line::styled(text.to_string(), self.theme.dim)).wrap(Wrap { trim: true });
        frame.render_widget(p, area);
    }
}

/// The smallest screen every view still makes sense on. The width holds the tabs, the status
/// line's short key list and the models table's model, MACs, p50 and a few more columns; the
/// height gives Detail's lower tables (ops, layers) a header and two rows. Below it the tables
/// would draw as empty frames, which reads as "no data".
pub const MIN_WIDTH: u16 = 60;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 20;

/// Draws the whole screen: tabs, the current view, the status line, and help when asked for;
/// below the smallest usable size, one line saying so instead.
pub fn render(frame: &mut Frame, state: &MonitorState, ui: &UiState, theme: &Theme) {
    draw(frame, state, ui, theme);
}

/// [`render`], returning where the frame put its tabs and table rows (for the mouse); nothing
/// while the help covers the view, since clicks then land on the help.
pub fn draw(frame: &mut Frame, state: &MonitorState, ui: &UiState, theme: &Theme) -> FrameHits {
    let area = frame.area();
    frame.buffer_mut().set_style(area, theme.text);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area, theme);
        return FrameHits::default();
    }
    let ctx = Ctx::new(state, ui, theme);
    let status = header::status_lines(&ctx, area.width);
    let status_rows = u16::try_from(status.len()).unwrap_or(header::STATUS_MAX_ROWS).clamp(1, header::STATUS_MAX_ROWS);
    let [top, body, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(status_rows)]).areas(area);
    header::tabs(frame, top, &ctx);
    match ui.view {
        View::Models => models::render(frame, body, &ctx),
        View::Detail => detail::render(frame, body, &ctx),
        View::Beyond => beyond::render(frame, body, &ctx),
        View::System => system::render(frame, body, &ctx),
    }
    header::status(frame, bottom, status);
    if ui.show_help {
        help::render(frame, body, &ctx);
        return FrameHits::default();
    }
    ctx.hits.take()
}

/// The one line shown instead of views that do not fit, centred (wrapped where even it does not).
fn too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let text = format!("terminal too small (need {MIN_WIDTH}x{MIN_HEIGHT})");
    let width = u16::try_from(text.chars().count()).unwrap_or(u16::MAX);
    let rows = width.div_ceil(area.width.max(1));
    let [row] = Layout::vertical([Constraint::Length(rows)]).flex(Flex::Center).areas(area);
    let p = Paragraph::new(Line::styled(text, theme.warn)).centered().wrap(Wrap { trim: true });
    frame.render_widget(p, row);
}
