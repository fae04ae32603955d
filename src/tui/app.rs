//! UI state: view, selection, sort, pause, focus, help, theme. Measurement state lives in the
//! core; nothing here changes it.

use crate::core::event::{Control, ModelId};
use crate::core::state::MonitorState;
use crate::tui::keymap::Action;
use crate::tui::rows::{model_rows, SortKey};

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
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UiState {
    pub view: View,
    /// The selected model (by id, so it stays selected while the sort order shifts).
    pub selected: ModelId,
    pub sort: SortKey,
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
}

impl UiState {
    /// Keeps the selection inside the model list.
    pub fn clamp(&mut self, state: &MonitorState) {
        self.selected = self.selected.min(state.models.len().saturating_sub(1));
    }

    /// Applies an action that only concerns the UI. `themes` is the length of the theme cycle.
    pub fn apply(&mut self, action: Action, state: &MonitorState, themes: usize) {
        let last_help_line = crate::tui::render::help::ENTRIES.len().saturating_sub(1);
        match action {
            Action::Up if self.show_help => self.help_scroll = self.help_scroll.saturating_sub(1),
            Action::Down if self.show_help => self.help_scroll = (self.help_scroll + 1).min(last_help_line),
            Action::Up => self.step(state, -1),
            Action::Down => self.step(state, 1),
            Action::NextView => self.view = self.view.next(),
            Action::PrevView => self.view = self.view.prev(),
            Action::Sort => self.sort = self.sort.next(),
            Action::Help => {
                self.show_help = !self.show_help;
                self.help_scroll = 0;
            }
            Action::Dismiss => self.show_help = false,
            Action::NextTheme => self.theme = (self.theme + 1) % themes.max(1),
            Action::Pause => self.paused = !self.paused,
            // Only a run with an op profiler can switch it: without one (`--no-op-profile`)
            // the engine reports sampling every 0 from the start.
            Action::OpProfile if self.op_profile_off || state.profile_every > 0 => {
                self.op_profile_off = !self.op_profile_off;
            }
            Action::Focus => self.focused = if self.focused.is_some() { None } else { Some(self.selected) },
            Action::OpProfile | Action::Reset | Action::Export | Action::Trace | Action::TraceAll | Action::Quit => {}
        }
        self.clamp(state);
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

    /// Moves the selection up or down the rows in their current sort order.
    fn step(&mut self, state: &MonitorState, by: isize) {
        let order: Vec<ModelId> = model_rows(state, self.sort).iter().map(|r| r.id).collect();
        let Some(pos) = order.iter().position(|id| *id == self.selected) else {
            self.selected = order.first().copied().unwrap_or(0);
            return;
        };
        let next = pos.saturating_add_signed(by).min(order.len().saturating_sub(1));
        self.selected = order[next];
    }
}
