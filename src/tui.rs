//! The live terminal front end: drains events at a fixed frame rate and draws the state.

pub mod app;
pub mod keymap;
pub mod render;
pub mod terminal;

use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{signal, SignalKind};
use tokio::time::{interval, Instant, MissedTickBehavior};

use crate::cli::Cli;
use crate::core::event::Control;
use crate::core::session::{Plan, Session};
use crate::Outcome;
use app::UiState;
use keymap::Action;

/// Runs the live monitor until `q`, Ctrl-C, a signal or `--duration`.
///
/// # Errors
/// When the terminal cannot be set up or drawn to.
pub async fn run(cli: &Cli, plan: &Plan) -> anyhow::Result<Outcome> {
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut session = Session::start(plan, false)?;
    let mut ui = UiState::default();
    let mut guard = terminal::TerminalGuard::enter()?;
    let mut keys = EventStream::new();
    let mut frames = interval(Duration::from_secs_f64(1.0 / f64::from(cli.fps)));
    frames.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let deadline = cli.duration.map(|d| Instant::now() + d);
    loop {
        tokio::select! {
            _ = frames.tick() => {
                session.drain();
                ui.clamp(&session.state);
                guard.terminal().draw(|f| render::render(f, &session.state, &ui))?;
                if deadline.is_some_and(|d| Instant::now() >= d) { break; }
            }
            Some(Ok(ev)) = keys.next() => {
                if let TermEvent::Key(key) = ev {
                    let Some(action) = keymap::action_for(key) else { continue };
                    if action == Action::Quit { break; }
                    apply_action(action, &mut ui, &mut session);
                }
            }
            _ = sigint.recv() => break,
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
        }
    }
    drop(guard);
    session.stop();
    Ok(Outcome::Stopped)
}

/// Applies a key's action to the UI state, and to the engine where it concerns it.
fn apply_action(action: Action, ui: &mut UiState, session: &mut Session) {
    match action {
        Action::Pause => {
            ui.paused = !ui.paused;
            session.control(Control::Pause(ui.paused));
        }
        Action::Focus => {
            ui.focused = if ui.focused.is_some() { None } else { Some(ui.selected) };
            session.control(Control::Focus(ui.focused));
        }
        Action::Reset => session.state.reset(),
        other => ui.apply(other, &session.state),
    }
}
