//! UI state: selection, view, sort, pause, focus. Measurement state lives in the core.

use crate::core::state::MonitorState;
use crate::tui::keymap::Action;

/// The screens Tab cycles through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum View {
    #[default]
    Models,
}

/// What the person looking at the screen chose.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UiState {
    pub view: View,
    pub selected: usize,
    pub paused: bool,
    pub focused: Option<usize>,
    pub show_help: bool,
    /// A one-line message for the status bar (an export path, an error).
    pub status: Option<String>,
}

impl UiState {
    /// Keeps the selection inside the model list.
    pub fn clamp(&mut self, state: &MonitorState) {
        self.selected = self.selected.min(state.models.len().saturating_sub(1));
    }

    /// Applies an action that only concerns the UI.
    pub fn apply(&mut self, action: Action, state: &MonitorState) {
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected += 1,
            Action::Help => self.show_help = !self.show_help,
            _ => {}
        }
        self.clamp(state);
    }
}
