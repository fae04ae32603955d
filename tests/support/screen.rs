//! Drawing the real `render` into ratatui's `TestBackend` and reading the screen back, shared
//! by the navigation and question tests. Keys and clicks go through the same path as the live
//! loop: keymap or mouse → `Action` → `UiState::apply`, and each frame's hits are remembered.

#![allow(dead_code)] // each test crate uses a different part of it

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use infertop::core::state::MonitorState;
use infertop::tui::app::UiState;
use infertop::tui::keymap;
use infertop::tui::mouse;
use infertop::tui::render::draw;
use infertop::tui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// A screen of a fixed size with a state and the UI state a person drives.
pub struct Screen {
    pub state: MonitorState,
    pub ui: UiState,
    pub terminal: Terminal<TestBackend>,
}

impl Screen {
    /// `state` on a `width`×`height` screen, drawn once.
    pub fn new(state: MonitorState, ui: UiState, width: u16, height: u16) -> Self {
        let terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let mut screen = Self { state, ui, terminal };
        screen.frame();
        screen
    }

    /// Draws a frame and remembers its hits, as the live loop does.
    pub fn frame(&mut self) {
        let mut hits = mouse::FrameHits::default();
        let (state, ui) = (&self.state, &self.ui);
        self.terminal.draw(|f| hits = draw(f, state, ui, &Theme::default())).unwrap();
        self.ui.remember(hits);
    }

    /// Presses a key (as text while a filter is typed) and draws.
    pub fn press(&mut self, code: KeyCode) {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        if let Some(action) = keymap::action(key, self.ui.typing) {
            self.ui.apply(action, &self.state, 3);
        }
        self.frame();
    }

    /// Types `text` key by key.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    /// A mouse event at a cell, through the mouse mapping, then a frame.
    pub fn mouse(&mut self, kind: MouseEventKind, column: u16, row: u16) {
        let event = MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE };
        if let Some(action) = mouse::action_for(event, &self.ui.hits) {
            self.ui.apply(action, &self.state, 3);
        }
        self.frame();
    }

    pub fn click(&mut self, column: u16, row: u16) {
        self.mouse(MouseEventKind::Down(MouseButton::Left), column, row);
    }

    /// The screen's lines (no colour).
    pub fn lines(&self) -> Vec<String> {
        let buffer = self.terminal.backend().buffer();
        (0..buffer.area.height).map(|y| (0..buffer.area.width).map(|x| buffer[(x, y)].symbol()).collect()).collect()
    }

    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    /// The first line holding `needle` and its row, or a failure showing the screen.
    pub fn find(&self, needle: &str) -> (u16, String) {
        let Some((y, line)) = self.lines().into_iter().enumerate().find(|(_, l)| l.contains(needle)) else {
            panic!("{needle:?} is not on screen:\n{}", self.text())
        };
        (u16::try_from(y).unwrap(), line)
    }

    /// The column where `needle` starts on row `y` (in cells).
    pub fn column_of(&self, y: u16, needle: &str) -> u16 {
        let line = &self.lines()[usize::from(y)];
        let byte = line.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {line:?}"));
        u16::try_from(line[..byte].chars().count()).unwrap()
    }

    /// Whether the cell at (x, y) has the theme's highlight background.
    pub fn highlighted(&self, x: u16, y: u16) -> bool {
        let buffer = self.terminal.backend().buffer();
        buffer[(x, y)].bg == Theme::default().highlight.bg.unwrap()
    }
}

/// The text of the cells of `line` between the box borders of the panel that starts at `x`
/// (the panel's inner text), trimmed.
pub fn inside(line: &str, from: usize, to: usize) -> String {
    line.chars().skip(from).take(to - from).collect::<String>().trim().to_string()
}
