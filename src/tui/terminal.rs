//! Entering and always leaving the alternate screen and raw mode.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use std::io::Write;

use crossterm::event::DisableMouseCapture;
use ratatui::DefaultTerminal;

/// Set by the panic hook: some thread (the engine's, the sampler's, this one) panicked and the
/// terminal has been restored, so the front end must stop drawing.
static PANICKED: AtomicBool = AtomicBool::new(false);

/// Mouse capture is on: every way out (drop, panic) must switch it off, or the shell left
/// behind prints escape codes for each click and wheel turn.
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Owns the terminal while the monitor runs. `ratatui::try_init` installs a panic hook that
/// restores the terminal before the panic message; dropping the guard restores it on every
/// other way out (errors, `q`, signals).
pub struct TerminalGuard {
    terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Switches to raw mode and the alternate screen, and captures the mouse when `mouse`.
    ///
    /// # Errors
    /// When stdout is not a usable terminal.
    pub fn enter(mouse: bool) -> std::io::Result<Self> {
        let terminal = ratatui::try_init()?;
        watch_panics();
        let guard = Self { terminal };
        if mouse {
            // Set first: a failure half way still gets the disable sequence on the way out.
            MOUSE.store(true, Ordering::SeqCst);
            // Presses, releases and the wheel (1000) in SGR form (1006), not crossterm's
            // EnableMouseCapture: that also asks for every pointer move (1003), which would
            // wake the loop for events it ignores.
            let mut out = std::io::stdout();
            out.write_all(b"\x1b[?1000h\x1b[?1006h")?;
            out.flush()?;
        }
        Ok(guard)
    }

    pub fn terminal(&mut self) -> &mut DefaultTerminal {
        &mut self.terminal
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // Never unwrap here: a failing restore must not turn into a panic during unwinding.
        release_mouse();
        let _ = ratatui::try_restore();
    }
}

/// Whether any thread has panicked since the terminal was entered.
#[must_use]
pub fn panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Chains a hook in front of ratatui's (which restores the terminal and prints the message):
/// a panic on another thread restores the terminal too, and without this flag the loop would
/// go on drawing over the message in a terminal no longer in raw mode.
fn watch_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let restore_and_report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, Ordering::SeqCst);
            release_mouse();
            restore_and_report(info);
        }));
    });
}

/// Switches mouse capture off if it is on (once), ignoring errors: the terminal may be gone.
fn release_mouse() {
    if MOUSE.swap(false, Ordering::SeqCst) {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
    }
}
