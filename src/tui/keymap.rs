//! Keys → actions. One table, no if/else chains.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Everything a key can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    NextView,
    PrevView,
    Sort,
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
    /// Close the help overlay.
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
        KeyCode::Tab => Action::NextView,
        KeyCode::BackTab => Action::PrevView,
        KeyCode::Char('s') => Action::Sort,
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
    }
}
