//! The live terminal front end: drains events at a fixed frame rate and draws the state.

pub mod app;
pub mod keymap;
pub mod mouse;
pub mod render;
pub mod rows;
mod screen;
pub mod screen_svg;
pub mod tables;
pub mod terminal;
pub mod theme;
pub mod variants;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::{interval_at, Instant, Interval};

use crate::cli::Cli;
use crate::core::run::Control;
use crate::core::run::{Plan, Session};
use crate::core::state::MonitorState;
use crate::export::listen::MetricsServer;
use crate::export::trace::TraceWriter;
use crate::export::{self, ExportError, FinalSnapshot, PendingSnapshot, Report, RunExport, RunMeta};
use crate::run_loop::{End, RunLoop, Watcher};
use crate::signals::Signals;
use app::UiState;
use keymap::Action;
use screen::{Screen, Work};
use theme::Theme;

/// Runs the live monitor until `q`, Ctrl-C, a signal, `--duration`, or the loss of the
/// terminal, starting with `first` (resolved and validated by the caller before anything is
/// started). Every end but `q` writes a snapshot, since nobody may be there to press `e`.
/// Hands `metrics` a snapshot whenever a scrape asks for one.
///
/// # Errors
/// When the terminal cannot be set up, the engine failed, or a thread panicked.
pub async fn run(
    cli: &Cli,
    plan: &Plan,
    first: Theme,
    export_base: &Path,
    metrics: Option<&MetricsServer>,
) -> anyhow::Result<()> {
    let mut signals = Signals::new()?;
    let run_loop = RunLoop::from_cli(cli, Watcher::Person);
    let snapshots = Snapshots { base: export_base.to_path_buf(), meta: crate::run_meta(cli, plan, "tui") };
    let (stream, exports) = run_folder(cli, export_base, &snapshots.meta)?;
    let mut session = run_loop.start_session(plan)?;
    if let Some(stream) = &stream {
        session.set_journal(stream.journal());
    }
    let tracing = Tracing::start(cli, plan, export_base, &mut session)?;
    let started = Instant::now();
    // Declared after the session so that it is dropped (and the terminal restored) first.
    let mut screen =
        Screen::enter(cli, theme::cycle_from(first), Work { snapshots, stream, exports, tracing }, metrics)?;
    let end = run_loop.drive(&mut session, &mut signals, &mut screen).await;
    let Work { snapshots, stream, tracing, .. } = screen.into_work();
    tracing.finish();
    let saved = snapshots.finish(&end, stream, &session.state);
    run_loop.exit_status(&end, &session.state, saved.as_ref(), started.elapsed())
}

/// The run folder, with `--export-dir` or `--export-every` (checked at start): the run's time
/// series stream into it, as in headless mode, and `--export-every` exports into it at the
/// period of the interval returned beside it. Without either nothing is written before `e` or
/// the end, so a run that ends with `q` leaves no trace.
fn run_folder(
    cli: &Cli,
    export_base: &Path,
    meta: &RunMeta,
) -> Result<(Option<RunExport>, Option<Interval>), crate::UsageError> {
    let exports = cli.export_every.map(|every| interval_at(Instant::now() + every, every));
    if cli.export_dir.is_none() && exports.is_none() {
        return Ok((None, None));
    }
    let part_bytes = Some(cli.inferences_part_bytes());
    let stream = RunExport::start(export_base, meta.clone(), part_bytes).map_err(crate::UsageError::ExportDir)?;
    Ok((Some(stream), exports))
}

/// Applies a key's action to the UI state, and to the engine or the state where it concerns
/// them.
fn apply_action(action: Action, ui: &mut UiState, themes: &[Theme], session: &mut Session, tracing: &Tracing) {
    ui.status = None;
    let op_profile_was_off = ui.op_profile_off;
    ui.apply(action, &session.state, themes.len());
    match action {
        Action::Pause => session.control(Control::Pause(ui.paused)),
        Action::OpProfile => ui.status = Some(op_profile_switched(op_profile_was_off, ui, session)),
        Action::Focus => session.control(Control::Focus(ui.focused)),
        Action::Reset => {
            session.state.reset();
            ui.status = Some("reset: latencies and op times start again".into());
        }
        Action::NextTheme => ui.status = themes.get(ui.theme).map(|t| format!("theme: {}", t.name)),
        Action::Trace | Action::TraceAll => ui.status = Some(tracing.request(action, ui, session)),
        _ => {}
    }
}

/// Traces of single inferences: `c` and `C` ask for them; they go into `--trace DIR`, else
/// beside the snapshots.
struct Tracing {
    writer: TraceWriter,
    op_profiler: bool,
}

impl Tracing {
    /// Starts the writer and hands the session's traces to it; `--trace` also traces each
    /// model once from the start, as in headless mode.
    fn start(cli: &Cli, plan: &Plan, export_base: &Path, session: &mut Session) -> io::Result<Self> {
        let writer = TraceWriter::start(cli.trace.clone().unwrap_or_else(|| export_base.to_path_buf()))?;
        session.set_trace_sink(writer.sink());
        if cli.trace.is_some() {
            session.control(Control::Trace(None));
        }
        Ok(Self { writer, op_profiler: plan.op_profile })
    }

    /// Asks the engine for the trace that `c` (the selected model) or `C` (each model) stands
    /// for, and says what will happen.
    fn request(&self, action: Action, ui: &UiState, session: &Session) -> String {
        let Some(control) = ui.trace_control(action, &session.state, self.op_profiler) else {
            return "no op profiler in this run (--no-op-profile): nothing to trace".into();
        };
        let what = match &control {
            Control::Trace(Some(model)) => {
                session.state.models.get(*model).map_or_else(String::new, |m| m.name.to_string())
            }
            _ => "each model".into(),
        };
        session.control(control);
        format!("trace: next inference of {what} → {}", self.writer.dir().display())
    }

    /// Where a trace went, or why not (one line for the status bar).
    fn describe(written: &Result<PathBuf, ExportError>) -> String {
        match written {
            Ok(path) => format!("trace: wrote {}", path.display()),
            Err(e) => format!("trace failed: {e}"),
        }
    }

    /// Writes the traces still queued and says where each went, on stderr (the screen is
    /// gone by then).
    fn finish(self) {
        for written in self.writer.finish() {
            let line = Self::describe(&written);
            crate::eprintln_best_effort(&format!("infertop: {line}"));
        }
    }
}

/// Applies what a click or a wheel turn asks for; whether it asked for anything (pointer
/// motion does not, and draws nothing).
fn on_mouse(
    event: crossterm::event::MouseEvent,
    ui: &mut UiState,
    themes: &[Theme],
    session: &mut Session,
    tracing: &Tracing,
) -> bool {
    let Some(action) = mouse::action_for(event, &ui.hits) else { return false };
    apply_action(action, ui, themes, session, tracing);
    true
}

/// Tells the engine what `o` asked for (`was_off`: the op profiler's state before the key) and
/// says what it means.
fn op_profile_switched(was_off: bool, ui: &UiState, session: &Session) -> String {
    match (was_off, ui.op_profile_off) {
        (false, true) => {
            session.control(Control::OpProfile(false));
            "op profiler off: every inference runs untouched; the op tables keep what they have".into()
        }
        (true, false) => {
            session.control(Control::OpProfile(true));
            "op profiler on again".into()
        }
        _ => "no op profiler in this run (--no-op-profile)".into(),
    }
}

/// Where snapshots go, and the run's settings that go with them.
struct Snapshots {
    base: PathBuf,
    meta: RunMeta,
}

impl Snapshots {
    /// Starts writing a snapshot of the state as it is now, off the drawing thread.
    fn spawn(&self, state: &MonitorState) -> PendingSnapshot {
        export::spawn_snapshot(self.base.clone(), state.clone(), self.meta.clone())
    }

    /// Where it went, or why not (one line for the status bar).
    fn describe(written: &Result<PathBuf, ExportError>) -> String {
        match written {
            Ok(dir) => format!("export: wrote {}", dir.display()),
            Err(e) => format!("export failed: {e}"),
        }
    }

    /// What the run folder's writer reported, for the status bar.
    fn describe_report(report: Report) -> String {
        match report {
            Report::Exported(written) => Self::describe(&written),
            Report::RowsLost(why) => format!("export: {why}"),
        }
    }

    /// The snapshot that ends a run that ended with `end`: the run folder's final export, or a
    /// snapshot of the state; none after `q`, which also drops a run folder never published.
    /// Says on stderr where it went.
    fn finish(&self, end: &End, stream: Option<RunExport>, state: &MonitorState) -> Option<FinalSnapshot> {
        let saved = self.write_last(end, stream, state);
        if let Some(saved) = &saved {
            crate::eprintln_best_effort(&format!("infertop: stopped ({}); {}", end.reason(), saved.describe()));
        }
        saved
    }

    fn write_last(&self, end: &End, stream: Option<RunExport>, state: &MonitorState) -> Option<FinalSnapshot> {
        match (end, stream) {
            (End::Quit, stream) => {
                if let Some(stream) = stream {
                    stream.discard();
                }
                None
            }
            (_, Some(stream)) => Some(stream.finish(state)),
            (_, None) => Some(export::write_final_snapshot(&self.base, state, &self.meta)),
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
