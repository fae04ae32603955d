//! The live terminal front end: drains events at a fixed frame rate and draws the state.

pub mod app;
pub mod keymap;
pub mod mouse;
pub mod render;
pub mod rows;
pub mod screen_svg;
pub mod tables;
pub mod terminal;
pub mod theme;
pub mod variants;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::time::{interval, interval_at, Instant, Interval, MissedTickBehavior};

use crate::cli::Cli;
use crate::core::event::Control;
use crate::core::session::{Plan, Session, ITERATIONS_REACHED};
use crate::core::state::MonitorState;
use crate::export::listen::{self, MetricsServer};
use crate::export::trace::TraceWriter;
use crate::export::{self, ExportError, FinalSnapshot, PendingSnapshot, Report, RunExport, RunMeta};
use crate::signals::{wind_down, Signal, Signals};
use app::UiState;
use keymap::Action;
use theme::Theme;

/// Why the live screen ended.
#[derive(Debug)]
enum End {
    /// `q` or Ctrl-C at the keyboard: the user is there and has `e` for a snapshot.
    Quit,
    Duration,
    /// Every model timed its `--iterations`.
    Iterations,
    /// `--soak` measured cold, heated and measured hot.
    SoakDone,
    Signal(Signal),
    /// The terminal is gone (an SSH session dropped, a tmux window killed).
    TerminalLost(io::Error),
    /// The engine failed; its reason is in the state.
    EngineFailed,
    /// Some thread panicked; the panic hook restored the terminal and printed the message.
    Panicked,
}

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
    let themes = theme::cycle_from(first);
    let mut signals = Signals::new()?;
    let snapshots = Snapshots { base: export_base.to_path_buf(), meta: crate::run_meta(cli, plan, "tui") };
    let (mut stream, mut exports) = run_folder(cli, export_base, &snapshots.meta)?;
    let mut session = Session::start(plan, false)?;
    session.state.soak = cli.soak_config().map(crate::core::soak::Soak::new);
    if let Some(stream) = &stream {
        session.set_journal(stream.journal());
    }
    let mut tracing = Tracing::start(cli, plan, export_base, &mut session)?;
    let mut ui = UiState { run_threads: Some(cli.thread_count()), ..UiState::default() };
    let mut cpu = CpuMeter::new();
    let mut pending: PendingSnapshot = None;
    // Declared after the session so that it is dropped (and the terminal restored) first.
    let mut guard = terminal::TerminalGuard::enter(!cli.no_mouse)?;
    let mut keys = EventStream::new();
    let mut frames = interval(Duration::from_secs_f64(1.0 / f64::from(cli.fps)));
    frames.set_missed_tick_behavior(MissedTickBehavior::Skip);
    // A soak ends itself (its phases run on the session's clock); the deadline is its backstop.
    let deadline = cli
        .run_limit()
        .map(|d| Instant::now() + d + if cli.soak { crate::core::soak::DEADLINE_GRACE } else { Duration::ZERO });
    // Frames are drawn only when something changed (an event, a key, a resize, a message), and
    // at least every REDRAW_AT_LEAST: drawing 4 times a second while paused cost a Pi-class
    // core for nothing.
    let mut dirty = true;
    let mut drawn_at = Instant::now();
    let end = loop {
        tokio::select! {
            _ = frames.tick() => {
                if terminal::panicked() { break End::Panicked; }
                dirty |= session.drain() > 0;
                if session.state.engine_error.is_some() { break End::EngineFailed; }
                if dirty || drawn_at.elapsed() >= REDRAW_AT_LEAST {
                    ui.clamp(&session.state);
                    ui.ui_cpu_pct = cpu.update().or(ui.ui_cpu_pct);
                    let theme = themes.get(ui.theme).unwrap_or(&themes[0]);
                    let mut hits = mouse::FrameHits::default();
                    if let Err(e) = guard.terminal().draw(|f| hits = render::draw(f, &session.state, &ui, theme)) {
                        break End::TerminalLost(e);
                    }
                    ui.remember(hits);
                    (dirty, drawn_at) = (false, Instant::now());
                }
                if deadline.is_some_and(|d| Instant::now() >= d) { break End::Duration; }
                if session.state.iterations_done { break End::Iterations; }
                if session.state.soak.as_ref().is_some_and(crate::core::soak::Soak::done) { break End::SoakDone; }
            }
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(key))) => {
                    let Some(action) = keymap::action(key, ui.typing) else { continue };
                    if action == Action::Quit { break End::Quit; }
                    if action == Action::Export && pending.is_none() {
                        pending = snapshots.spawn(&session.state);
                        ui.status = Some("export: writing…".into());
                        dirty = true;
                        continue;
                    }
                    apply_action(action, &mut ui, &themes, &mut session, &tracing);
                    dirty = true;
                }
                Some(Ok(TermEvent::Mouse(event))) => dirty |= on_mouse(event, &mut ui, &themes, &mut session, &tracing),
                // A resize, a focus change, a paste: draw again.
                Some(Ok(_)) => dirty = true,
                Some(Err(e)) => break End::TerminalLost(e),
                None => break End::TerminalLost(io::Error::new(io::ErrorKind::UnexpectedEof, "the terminal closed")),
            },
            written = export::snapshot_written(&mut pending) => {
                ui.status = Some(Snapshots::describe(&written));
                dirty = true;
            }
            written = tracing.writer.written() => {
                ui.status = Some(Tracing::describe(&written));
                dirty = true;
            }
            () = next_tick(exports.as_mut()) => export_now(stream.as_mut(), &session.state),
            report = next_report(stream.as_mut()) => {
                ui.status = Some(Snapshots::describe_report(report));
                dirty = true;
            }
            // A scrape of --listen: a snapshot of the state as of the latest frame.
            server = listen::wanted(metrics) => server.publish(&session.state),
            signal = signals.next() => break End::Signal(signal),
        }
    };
    // Never unwraps: a terminal that is gone cannot be restored, and that is fine.
    drop(guard);
    wind_down(&mut session, &mut signals, || {
        crate::eprintln_best_effort("infertop: stopping after the current inference (Ctrl-C again to quit now)");
    })
    .await;
    tracing.finish();
    let saved = snapshots.finish(&end, stream, &session.state);
    let where_saved = saved.as_ref().map_or_else(String::new, |s| format!("; {}", s.describe()));
    match end {
        End::Panicked => anyhow::bail!("stopped after a panic (its message is above){where_saved}"),
        End::EngineFailed => {
            let error = session.state.engine_error.clone().unwrap_or_default();
            anyhow::bail!("the engine stopped: {error}{where_saved}")
        }
        _ if saved.as_ref().is_some_and(|s| s.path().is_none()) => {
            anyhow::bail!("{}", where_saved.trim_start_matches("; "))
        }
        _ => Ok(()),
    }
}

impl End {
    /// Why the screen ended, for the line on stderr.
    fn reason(&self) -> String {
        match self {
            End::Quit => "quit".into(),
            End::Duration => "duration reached".into(),
            End::Iterations => ITERATIONS_REACHED.into(),
            End::SoakDone => "soak done".into(),
            End::Signal(s) => s.reason().into(),
            End::TerminalLost(e) => format!("the terminal is gone: {e}"),
            End::EngineFailed => "the engine failed".into(),
            End::Panicked => "a panic".into(),
        }
    }
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

/// Asks the run folder, if any, for a periodic export of `state`.
fn export_now(stream: Option<&mut RunExport>, state: &MonitorState) {
    if let Some(stream) = stream {
        stream.request_export(state);
    }
}

/// The next tick of `--export-every`; never, without it.
async fn next_tick(interval: Option<&mut Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
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

/// The longest the screen goes without a redraw when nothing changed.
const REDRAW_AT_LEAST: Duration = Duration::from_secs(2);

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

/// The run folder's next report; never, without one.
async fn next_report(stream: Option<&mut RunExport>) -> Report {
    match stream {
        Some(stream) => stream.report().await,
        None => std::future::pending().await,
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
