//! The mouse: where the last frame put its tabs and table rows, and a click or a wheel turn
//! on them as an [`Action`]. Kept apart from the terminal so tests drive it with made-up events.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use crate::tui::app::View;
use crate::tui::keymap::Action;
use crate::tui::tables::TableId;

/// Rows one wheel notch scrolls.
pub const WHEEL_ROWS: isize = 3;

/// Where a table's rows were drawn in the last frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableHit {
    pub table: TableId,
    /// The rows below the header.
    pub body: Rect,
    /// The row drawn first.
    pub offset: usize,
    /// The selected row as drawn (inside the rows).
    pub selected: usize,
    /// Rows after the filter.
    pub len: usize,
    /// The columns drawn at this width, a bit per column (the first 64).
    pub shown_columns: u64,
}

/// What the last frame drew where: the tabs and every table's rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameHits {
    pub tabs: Vec<(Rect, View)>,
    pub tables: Vec<TableHit>,
}

impl FrameHits {
    /// The table drawn as `table`, if the frame had it.
    #[must_use]
    pub fn table(&self, table: TableId) -> Option<&TableHit> {
        self.tables.iter().find(|t| t.table == table)
    }

    fn table_at(&self, at: Position) -> Option<&TableHit> {
        self.tables.iter().find(|t| t.body.contains(at))
    }
}

/// The action a mouse event asks for on the frame `hits` describes: a left click on a tab
/// selects its view, on a table row selects the row; the wheel scrolls the table under it.
#[must_use]
pub fn action_for(event: MouseEvent, hits: &FrameHits) -> Option<Action> {
    let at = Position { x: event.column, y: event.row };
    match event.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            if let Some((_, view)) = hits.tabs.iter().find(|(rect, _)| rect.contains(at)) {
                return Some(Action::SelectView(*view));
            }
            let hit = hits.table_at(at)?;
            let row = hit.offset + usize::from(at.y - hit.body.y);
            (row < hit.len).then_some(Action::ClickRow(hit.table, row))
        }
        MouseEventKind::ScrollDown => hits.table_at(at).map(|t| Action::Scroll(t.table, WHEEL_ROWS)),
        MouseEventKind::ScrollUp => hits.table_at(at).map(|t| Action::Scroll(t.table, -WHEEL_ROWS)),
        _ => None,
    }
}
