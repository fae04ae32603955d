//! Keys → actions. One table, no if/else chains.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::tui::app::View;
use crate::tui::tables::TableId;

/// Everything a key (or the mouse) can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    NextView,
    PrevView,
    /// The next table of the detail view (→), the previous one (←).
    NextTable,
    PrevTable,
    /// The next sort column of the table in front.
    Sort,
    /// Flip the sort direction.
    Reverse,
    /// Open the selected model's detail (Enter).
    Open,
    /// Start typing a filter for the table in front (`/`).
    StartFilter,
    FilterChar(char),
    FilterBackspace,
    /// Keep the filter typed so far and stop typing (Enter).
    FilterKeep,
    /// Drop the filter and stop typing (Esc).
    FilterClear,
    /// A click on a tab.
    SelectView(View),
    /// A click on a row (the row's index among the rows shown).
    ClickRow(TableId, usize),
    /// The wheel over a table, rows down (positive) or up.
    Scroll(TableId, isize),
    Pause,
    /// Switch the op profiler's sampling off or on again.
    OpProfile,
    Focus,
    Reset,
    Export,
    /// Trace the selected model's next inference op by op.
    Trace,
    /// Trace the next inference of each model.
    TraceAll,
    NextTheme,
    Help,
    /// Close the help overlay, or go back to where Enter came from.
    Dismiss,
    Quit,
}

/// The action bound to a key press, if any.
#[must_use]
pub fn action_for(key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c')).then_some(Action::Quit);
    }
    Some(match key.code {
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Home,
        KeyCode::End | KeyCode::Char('G') => Action::End,
        KeyCode::Tab => Action::NextView,
        KeyCode::BackTab => Action::PrevView,
        KeyCode::Right | KeyCode::Char('l') => Action::NextTable,
        KeyCode::Left | KeyCode::Char('h') => Action::PrevTable,
        KeyCode::Char('s') => Action::Sort,
        KeyCode::Char('S') => Action::Reverse,
        KeyCode::Enter => Action::Open,
        KeyCode::Char('/') => Action::StartFilter,
        KeyCode::Char('p') => Action::Pause,
        KeyCode::Char('o') => Action::OpProfile,
        KeyCode::Char('f') => Action::Focus,
        KeyCode::Char('r') => Action::Reset,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('c') => Action::Trace,
        KeyCode::Char('C') => Action::TraceAll,
        KeyCode::Char('t') => Action::NextTheme,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Esc => Action::Dismiss,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}

/// The action of a key: as text while a filter is being typed (`typing`), else from the table.
#[must_use]
pub fn action(key: KeyEvent, typing: bool) -> Option<Action> {
    if typing {
        typing_action_for(key)
    } else {
        action_for(key)
    }
}

/// The action of a key while a filter is being typed: characters go into the filter, Enter
/// keeps it, Esc drops it, Ctrl-C still quits.
#[must_use]
pub fn typing_action_for(key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c')).then_some(Action::Quit);
    }
    Some(match key.code {
        KeyCode::Char(c) => Action::FilterChar(c),
        KeyCode::Backspace => Action::FilterBackspace,
        KeyCode::Enter => Action::FilterKeep,
        KeyCode::Esc => Action::FilterClear,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> Option<Action> {
        action_for(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn documented_keys_map_to_their_actions() {
        assert_eq!(press(KeyCode::Char('j')), Some(Action::Down));
        assert_eq!(press(KeyCode::Up), Some(Action::Up));
        assert_eq!(press(KeyCode::Tab), Some(Action::NextView));
        assert_eq!(press(KeyCode::BackTab), Some(Action::PrevView));
        assert_eq!(press(KeyCode::Esc), Some(Action::Dismiss));
        assert_eq!(press(KeyCode::Char('q')), Some(Action::Quit));
        assert_eq!(press(KeyCode::Char('o')), Some(Action::OpProfile));
        assert_eq!(press(KeyCode::Char('c')), Some(Action::Trace));
        assert_eq!(action_for(KeyEvent::new(KeyCode::Char('C'), KeyModifiers::SHIFT)), Some(Action::TraceAll));
        assert_eq!(action_for(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(press(KeyCode::Char('x')), None);
        assert_eq!(press(KeyCode::Char('S')), Some(Action::Reverse));
        assert_eq!(press(KeyCode::Enter), Some(Action::Open));
        assert_eq!(press(KeyCode::Char('/')), Some(Action::StartFilter));
        let typing = |code| typing_action_for(KeyEvent::new(code, KeyModifiers::NONE));
        assert_eq!(typing(KeyCode::Char('q')), Some(Action::FilterChar('q')), "q is text while typing");
        assert_eq!(typing(KeyCode::Esc), Some(Action::FilterClear));
        assert_eq!(typing(KeyCode::Enter), Some(Action::FilterKeep));
    }
}
