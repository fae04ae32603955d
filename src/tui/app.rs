//! UI state: view, selection, sort, pause, focus, help, theme, and each table's scroll, sort
//! and filter. Measurement state lives in the core; nothing here changes it.

use crate::core::run::{Control, ModelId};
use crate::core::state::MonitorState;
use crate::tui::keymap::Action;
use crate::tui::mouse::FrameHits;
use crate::tui::rows::{ordered_rows, SortKey};
use crate::tui::tables::{TableId, TableState};
use crate::tui::variants::WhatIf;

/// The screens Tab cycles through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum View {
    #[default]
    Models,
    Detail,
    Beyond,
    System,
}

impl View {
    pub const ALL: [View; 4] = [View::Models, View::Detail, View::Beyond, View::System];

    /// Tab label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            View::Models => "Models",
            View::Detail => "Detail",
            View::Beyond => "Beyond MACs",
            View::System => "System",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }

    #[must_use]
    pub fn next(self) -> Self {
        Self::ALL[(self.index() + 1) % Self::ALL.len()]
    }

    #[must_use]
    pub fn prev(self) -> Self {
        Self::ALL[(self.index() + Self::ALL.len() - 1) % Self::ALL.len()]
    }
}

/// What the person looking at the screen chose.
#[allow(clippy::struct_excessive_bools)] // each is a switch the person flips
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UiState {
    pub view: View,
    /// The selected model (by id, so it stays selected while the sort order shifts).
    pub selected: ModelId,
    pub sort: SortKey,
    /// The models table runs against its sort key's natural direction (`S`).
    pub sort_reversed: bool,
    /// The detail view's table in front: keys scroll, sort and filter it.
    pub table: TableId,
    /// The detail tables' own state, by [`TableId::slot`].
    pub tables: [TableState; 3],
    /// A filter is being typed (`/`): keys are text until Enter or Esc.
    pub typing: bool,
    /// Where Enter opened the detail view from; Esc goes back there.
    pub back: Option<View>,
    /// Where the last frame drew its tabs and tables (for the mouse and page sizes).
    pub hits: FrameHits,
    pub paused: bool,
    /// The user switched the op profiler's sampling off (`o`).
    pub op_profile_off: bool,
    pub focused: Option<ModelId>,
    pub show_help: bool,
    /// First help line shown; ↑/↓ move it while help is open.
    pub help_scroll: usize,
    /// A one-line message for the status bar (an export path, an error).
    pub status: Option<String>,
    /// Index into the theme cycle.
    pub theme: usize,
    /// CPU the front end itself uses (drain + draw), in % of one core.
    pub ui_cpu_pct: Option<f64>,
    /// The run's intra-op thread count (`--threads`), to name the originals' own count where a
    /// thread sweep finds it best; the measurement state does not hold it.
    pub run_threads: Option<usize>,
}

impl UiState {
    /// Keeps the selection inside the model list.
    pub fn clamp(&mut self, state: &MonitorState) {
        self.selected = self.selected.min(state.models.len().saturating_sub(1));
    }

    /// Applies an action that only concerns the UI. `themes` is the length of the theme cycle.
    pub fn apply(&mut self, action: Action, state: &MonitorState, themes: usize) {
        let model_before = self.selected;
        match action {
            Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Home | Action::End => {
                self.move_by(action, state);
            }
            Action::NextView | Action::PrevView | Action::SelectView(_) => {
                self.view = match action {
                    Action::NextView => self.view.next(),
                    Action::PrevView => self.view.prev(),
                    Action::SelectView(view) => view,
                    _ => self.view,
                };
                (self.back, self.typing) = (None, false);
            }
            Action::NextTable if self.view == View::Detail => self.table = self.table.beside(1),
            Action::PrevTable if self.view == View::Detail => self.table = self.table.beside(-1),
            Action::Sort | Action::Reverse => self.sort_by(action, state),
            Action::Open if self.view != View::Detail && !self.show_help => {
                self.back = Some(self.view);
                self.view = View::Detail;
            }
            Action::StartFilter if self.view == View::Detail && !self.show_help => self.typing = true,
            Action::FilterChar(_) | Action::FilterBackspace | Action::FilterKeep | Action::FilterClear => {
                self.edit_filter(action);
            }
            Action::ClickRow(table, row) => self.click_row(table, row, state),
            Action::Scroll(table, by) => self.scroll(table, by, state),
            Action::Help => {
                self.show_help = !self.show_help;
                self.help_scroll = 0;
            }
            Action::Dismiss if self.show_help => self.show_help = false,
            // Back to where Enter came from, or to Models from any view Tab reached.
            Action::Dismiss => self.view = self.back.take().unwrap_or(View::Models),
            Action::NextTheme => self.theme = (self.theme + 1) % themes.max(1),
            Action::Pause => self.paused = !self.paused,
            // Only a run with an op profiler can switch it: without one (`--no-op-profile`)
            // the engine reports sampling every 0 from the start.
            Action::OpProfile if self.op_profile_off || state.profile_every > 0 => {
                self.op_profile_off = !self.op_profile_off;
            }
            Action::Focus => self.focused = if self.focused.is_some() { None } else { Some(self.selected) },
            Action::OpProfile
            | Action::NextTable
            | Action::PrevTable
            | Action::Open
            | Action::StartFilter
            | Action::Reset
            | Action::Export
            | Action::Trace
            | Action::TraceAll
            | Action::Quit => {}
        }
        self.clamp(state);
        if self.selected != model_before {
            self.forget_table_choices();
        }
    }

    /// Another model's tables hold other rows: a filter typed for the last one (`/twise`) would
    /// show "0 of 174" here, and a selection or scroll would point at an unrelated row. The sort
    /// columns stay: they are a way of reading, not a place in the rows.
    fn forget_table_choices(&mut self) {
        for table in &mut self.tables {
            table.filter.clear();
            (table.selected, table.offset) = (0, 0);
        }
        self.typing = false;
    }

    /// The engine control a trace key asks for: the selected model's next inference (`c`) or
    /// each model's (`C`); `None` for other actions, and in a run without an op profiler
    /// (`--no-op-profile`), which has nothing to trace with.
    #[must_use]
    pub fn trace_control(&self, action: Action, state: &MonitorState, op_profiler: bool) -> Option<Control> {
        match action {
            Action::Trace if op_profiler && !state.models.is_empty() => Some(Control::Trace(Some(self.selected))),
            Action::TraceAll if op_profiler => Some(Control::Trace(None)),
            _ => None,
        }
    }

    /// Keeps what the last frame drew: where, and each detail table's selection and offset as
    /// drawn (inside its rows after the filter).
    pub fn remember(&mut self, hits: FrameHits) {
        for hit in &hits.tables {
            if let Some(table) = hit.table.slot().map(|i| &mut self.tables[i]) {
                (table.selected, table.offset) = (hit.selected, hit.offset);
            }
        }
        self.hits = hits;
    }

    /// The detail table in front.
    #[must_use]
    pub fn table_state(&self, table: TableId) -> Option<&TableState> {
        table.slot().map(|i| &self.tables[i])
    }

    fn table_mut(&mut self, table: TableId) -> Option<&mut TableState> {
        table.slot().map(|i| &mut self.tables[i])
    }

    /// Rows a page moves: the table's height in the last frame.
    fn page(&self, table: TableId) -> isize {
        self.hits.table(table).map_or(10, |t| isize::try_from(t.body.height.max(1)).unwrap_or(10))
    }

    /// ↑ ↓ `PgUp` `PgDn` `Home` `End`: the help while it is open, the table in front in the detail
    /// view, the model selection elsewhere.
    fn move_by(&mut self, action: Action, state: &MonitorState) {
        let target = if self.view == View::Detail { self.table } else { TableId::Models };
        let page = self.page(target);
        let by = match action {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -page,
            Action::PageDown => page,
            Action::Home => isize::MIN / 2,
            _ => isize::MAX / 2,
        };
        if self.show_help {
            let last = crate::tui::render::help::ENTRIES.len().saturating_sub(1);
            self.help_scroll = self.help_scroll.saturating_add_signed(by.clamp(-1000, 1000)).min(last);
        } else if let Some(table) = self.table_mut(target) {
            table.step(by);
        } else {
            self.step(state, by);
        }
    }

    /// `s` and `S` on the table in front: the models table outside the detail view.
    fn sort_by(&mut self, action: Action, state: &MonitorState) {
        let columns = match self.table {
            TableId::Conv => crate::tui::render::ops::CONV_COLUMNS,
            TableId::Layers => crate::tui::render::ops::LAYER_COLUMNS,
            TableId::Ops | TableId::Models => crate::tui::render::ops::OP_COLUMNS,
        };
        match (action, self.view == View::Detail) {
            (Action::Sort, false) => {
                (self.sort, self.sort_reversed) = (self.sort.next(WhatIf::of(state).any()), false);
            }
            (_, false) => self.sort_reversed = !self.sort_reversed,
            (Action::Sort, true) => {
                let shown = self.hits.table(self.table).map(|h| h.shown_columns);
                self.table_mut(self.table).into_iter().for_each(|t| t.next_sort_among(columns, shown));
            }
            (_, true) => self.table_mut(self.table).into_iter().for_each(|t| t.reversed = !t.reversed),
        }
    }

    /// Typing a filter: each change starts the table from its first row.
    fn edit_filter(&mut self, action: Action) {
        let Some(table) = self.table.slot().map(|i| &mut self.tables[i]) else { return };
        match action {
            Action::FilterChar(c) => table.filter.push(c),
            Action::FilterBackspace => _ = table.filter.pop(),
            Action::FilterClear => {
                table.filter.clear();
                self.typing = false;
            }
            _ => self.typing = false,
        }
        (table.selected, table.offset) = (0, 0);
    }

    fn click_row(&mut self, table: TableId, row: usize, state: &MonitorState) {
        if let Some(t) = self.table_mut(table) {
            t.selected = row;
            self.table = table;
        } else if let Some(row) = ordered_rows(state, self.sort, self.sort_reversed).get(row) {
            self.selected = row.id;
        }
    }

    fn scroll(&mut self, table: TableId, by: isize, state: &MonitorState) {
        if let Some(t) = self.table_mut(table) {
            // Rows move under the pointer and the selection moves with them.
            t.offset = t.offset.saturating_add_signed(by);
            t.step(by);
        } else {
            self.step(state, by);
        }
    }

    /// Moves the selection up or down the rows in their current sort order.
    fn step(&mut self, state: &MonitorState, by: isize) {
        let order: Vec<ModelId> = ordered_rows(state, self.sort, self.sort_reversed).iter().map(|r| r.id).collect();
        let Some(pos) = order.iter().position(|id| *id == self.selected) else {
            self.selected = order.first().copied().unwrap_or(0);
            return;
        };
        let next = pos.saturating_add_signed(by).min(order.len().saturating_sub(1));
        self.selected = order[next];
    }
}
