//! Entering and always leaving the alternate screen and raw mode.

use ratatui::DefaultTerminal;

/// Owns the terminal while the monitor runs. `ratatui::init` installs a panic hook that
/// restores the terminal before the panic message; dropping the guard restores it on every
/// other way out (errors, `q`, signals).
pub struct TerminalGuard {
    terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Switches to raw mode and the alternate screen.
    ///
    /// # Errors
    /// When stdout is not a usable terminal.
    pub fn enter() -> std::io::Result<Self> {
        let terminal = ratatui::try_init()?;
        Ok(Self { terminal })
    }

    pub fn terminal(&mut self) -> &mut DefaultTerminal {
        &mut self.terminal
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // Never unwrap here: a failing restore must not turn into a panic during unwinding.
        let _ = ratatui::try_restore();
    }
}
