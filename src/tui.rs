//! The live terminal front end: drains events at a fixed frame rate and draws the state.

pub mod app;
pub mod keymap;
pub mod render;
pub mod rows;
pub mod terminal;
pub mod theme;
pub mod timeline;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{signal, SignalKind};
use tokio::time::{interval, Instant, MissedTickBehavior};

use crate::cli::Cli;
use crate::core::event::Control;
use crate::core::session::{Plan, Session};
use crate::export::{self, RunMeta};
use crate::Outcome;
use app::UiState;
use keymap::Action;
use theme::Theme;
use timeline::Timeline;

/// Runs the live monitor until `q`, Ctrl-C, a signal or `--duration`, starting with `first`
/// (resolved and validated by the caller before anything is started).
///
/// # Errors
/// When the terminal cannot be set up or drawn to.
pub async fn run(cli: &Cli, plan: &Plan, first: Theme, export_base: &Path) -> anyhow::Result<Outcome> {
    let themes = theme::cycle_from(first);
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut session = Session::start(plan, false)?;
    let snapshots = Snapshots { base: export_base.to_path_buf(), meta: crate::run_meta(cli, plan, "tui") };
    let mut timeline = Timeline::default();
    let mut ui = UiState::default();
    let mut cpu = CpuMeter::new();
    // Declared after the session so that it is dropped (and the terminal restored) first.
    let mut guard = terminal::TerminalGuard::enter()?;
    let mut keys = EventStream::new();
    let mut frames = interval(Duration::from_secs_f64(1.0 / f64::from(cli.fps)));
    frames.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let deadline = cli.duration.map(|d| Instant::now() + d);
    loop {
        tokio::select! {
            _ = frames.tick() => {
                if terminal::panicked() {
                    anyhow::bail!("stopped after a panic (its message is above)");
                }
                drain(&mut session, &mut timeline);
                ui.clamp(&session.state);
                ui.ui_cpu_pct = cpu.update().or(ui.ui_cpu_pct);
                let theme = themes.get(ui.theme).unwrap_or(&themes[0]);
                guard.terminal().draw(|f| render::render(f, &session.state, &timeline, &ui, theme))?;
                if deadline.is_some_and(|d| Instant::now() >= d) { break; }
            }
            Some(Ok(ev)) = keys.next() => {
                if let TermEvent::Key(key) = ev {
                    let Some(action) = keymap::action_for(key) else { continue };
                    if action == Action::Quit { break; }
                    let front = FrontEnd { ui: &mut ui, timeline: &mut timeline, themes: &themes, snapshots: &snapshots };
                    apply_action(action, front, &mut session);
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

/// Applies every waiting event to the timeline and the state.
fn drain(session: &mut Session, timeline: &mut Timeline) {
    while let Ok(event) = session.events.try_recv() {
        timeline.observe(&event);
        session.state.apply(event);
    }
}

/// What the front end owns besides the session, for [`apply_action`].
struct FrontEnd<'a> {
    ui: &'a mut UiState,
    timeline: &'a mut Timeline,
    themes: &'a [Theme],
    snapshots: &'a Snapshots,
}

/// Applies a key's action to the UI state, and to the engine or the state where it concerns
/// them.
fn apply_action(action: Action, front: FrontEnd, session: &mut Session) {
    let ui = front.ui;
    ui.status = None;
    ui.apply(action, &session.state, front.themes.len());
    match action {
        Action::Pause => session.control(Control::Pause(ui.paused)),
        Action::Focus => session.control(Control::Focus(ui.focused)),
        Action::Reset => {
            session.state.reset();
            front.timeline.reset();
            ui.status = Some("reset: latencies and op times start again".into());
        }
        Action::Export => ui.status = Some(front.snapshots.write(&session.state)),
        Action::NextTheme => ui.status = front.themes.get(ui.theme).map(|t| format!("theme: {}", t.name)),
        _ => {}
    }
}

/// Where `e` writes snapshots, and the run's settings that go with them.
struct Snapshots {
    base: PathBuf,
    meta: RunMeta,
}

impl Snapshots {
    /// Writes one and says where, or why not (one line for the status bar).
    fn write(&self, state: &crate::core::state::MonitorState) -> String {
        match export::write_snapshot(&self.base, state, &self.meta) {
            Ok(dir) => format!("export: wrote {}", dir.display()),
            Err(e) => format!("export failed: {e}"),
        }
    }
}

/// CPU time of the front end's own thread (it drains and draws; inference runs elsewhere), as
/// % of one core, refreshed about once a second.
struct CpuMeter {
    last: Option<(Instant, Duration)>,
}

impl CpuMeter {
    fn new() -> Self {
        Self { last: thread_cpu_time().map(|t| (Instant::now(), t)) }
    }

    fn update(&mut self) -> Option<f64> {
        let (then, cpu_then) = self.last?;
        let elapsed = then.elapsed();
        if elapsed < Duration::from_secs(1) {
            return None;
        }
        let cpu_now = thread_cpu_time()?;
        self.last = Some((Instant::now(), cpu_now));
        Some(cpu_now.saturating_sub(cpu_then).as_secs_f64() / elapsed.as_secs_f64() * 100.0)
    }
}

fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    if rc != 0 {
        return None;
    }
    Some(Duration::new(u64::try_from(ts.tv_sec).ok()?, u32::try_from(ts.tv_nsec).ok()?))
}
