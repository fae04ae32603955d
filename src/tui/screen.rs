//! The live screen as the run loop's front end: frames, keys and mouse, and the snapshots,
//! exports and traces asked for while measuring.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::time::{interval, Instant, Interval, MissedTickBehavior};

use super::app::UiState;
use super::keymap::{self, Action};
use super::terminal::{self, TerminalGuard};
use super::theme::Theme;
use super::{apply_action, mouse, on_mouse, render, CpuMeter, Snapshots, Tracing};
use crate::cli::Cli;
use crate::core::run::Session;
use crate::core::state::MonitorState;
use crate::export::listen::{self, MetricsServer};
use crate::export::{self, ExportError, PendingSnapshot, Report, RunExport};
use crate::run_loop::{End, FrontEnd, Output, OutputLost};

/// What the screen writes besides frames, handed back when the run ends.
pub(super) struct Work {
    pub(super) snapshots: Snapshots,
    /// The run folder, with `--export-dir` or `--export-every`.
    pub(super) stream: Option<RunExport>,
    /// `--export-every`.
    pub(super) exports: Option<Interval>,
    pub(super) tracing: Tracing,
}

/// The live screen while measuring: the terminal, its keys and mouse, the frames, the UI state,
/// and the snapshots, exports and traces it was asked for.
pub(super) struct Screen<'a> {
    /// `None` once the run ended: dropping it gives the terminal back.
    guard: Option<terminal::TerminalGuard>,
    keys: EventStream,
    frames: Interval,
    ui: UiState,
    themes: Vec<Theme>,
    cpu: CpuMeter,
    pending: PendingSnapshot,
    work: Work,
    metrics: Option<&'a MetricsServer>,
    /// Frames are drawn only when something changed (an event, a key, a resize, a message),
    /// and at least every [`REDRAW_AT_LEAST`]: drawing 4 times a second while paused cost a
    /// Pi-class core for nothing.
    dirty: bool,
    drawn_at: Instant,
}

/// What the live screen waits for.
pub(super) enum Input<'a> {
    /// Time for a frame: drain the events, draw if anything changed.
    Frame,
    /// A key, a click, a resize; an error or the end of the stream when the terminal is gone.
    Terminal(Option<io::Result<TermEvent>>),
    SnapshotWritten(Result<PathBuf, ExportError>),
    TraceWritten(Result<PathBuf, ExportError>),
    /// Time for a periodic export (`--export-every`).
    Export,
    Report(Report),
    Scrape(&'a MetricsServer),
}

impl<'a> FrontEnd for Screen<'a> {
    type Input = Input<'a>;

    async fn next(&mut self) -> Input<'a> {
        tokio::select! {
            _ = self.frames.tick() => Input::Frame,
            event = self.keys.next() => Input::Terminal(event),
            written = export::snapshot_written(&mut self.pending) => Input::SnapshotWritten(written),
            written = self.work.tracing.writer.written() => Input::TraceWritten(written),
            () = next_tick(self.work.exports.as_mut()) => Input::Export,
            report = next_report(self.work.stream.as_mut()) => Input::Report(report),
            server = listen::wanted(self.metrics) => Input::Scrape(server),
        }
    }

    fn handle(&mut self, input: Input<'a>, session: &mut Session) -> Option<End> {
        match input {
            Input::Frame => return self.frame(session),
            Input::Terminal(event) => return self.on_terminal(event, session),
            Input::SnapshotWritten(written) => self.ui.status = Some(Snapshots::describe(&written)),
            Input::TraceWritten(written) => self.ui.status = Some(Tracing::describe(&written)),
            Input::Export => {
                export_now(self.work.stream.as_mut(), &session.state);
                return None;
            }
            Input::Report(report) => self.ui.status = Some(Snapshots::describe_report(report)),
            // A scrape of --listen: a snapshot of the state as of the latest frame.
            Input::Scrape(server) => {
                server.publish(&session.state);
                return None;
            }
        }
        self.dirty = true;
        None
    }

    fn leave(&mut self, _end: &End) {
        // Never unwraps: a terminal that is gone cannot be restored, and that is fine.
        self.guard = None;
    }
}

impl<'a> Screen<'a> {
    /// Takes over the terminal for a run of `cli`, cycling through `themes`.
    ///
    /// # Errors
    /// When the terminal cannot be set up.
    pub(super) fn enter(
        cli: &Cli,
        themes: Vec<Theme>,
        work: Work,
        metrics: Option<&'a MetricsServer>,
    ) -> io::Result<Self> {
        let mut frames = interval(Duration::from_secs_f64(1.0 / f64::from(cli.fps)));
        frames.set_missed_tick_behavior(MissedTickBehavior::Skip);
        Ok(Self {
            guard: Some(TerminalGuard::enter(!cli.no_mouse)?),
            keys: EventStream::new(),
            frames,
            ui: UiState { run_threads: Some(cli.thread_count()), ..UiState::default() },
            themes,
            cpu: CpuMeter::new(),
            pending: None,
            work,
            metrics,
            dirty: true,
            drawn_at: Instant::now(),
        })
    }

    /// What is left to finish once the run ended.
    pub(super) fn into_work(self) -> Work {
        self.work
    }

    /// Drains what arrived and draws, if anything changed or the screen is due a redraw.
    fn frame(&mut self, session: &mut Session) -> Option<End> {
        if terminal::panicked() {
            return Some(End::Panicked);
        }
        self.dirty |= session.drain() > 0;
        if !self.dirty && self.drawn_at.elapsed() < REDRAW_AT_LEAST {
            return None;
        }
        let guard = self.guard.as_mut()?;
        self.ui.clamp(&session.state);
        self.ui.ui_cpu_pct = self.cpu.update().or(self.ui.ui_cpu_pct);
        let theme = self.themes.get(self.ui.theme).unwrap_or(&self.themes[0]);
        let mut hits = mouse::FrameHits::default();
        if let Err(e) = guard.terminal().draw(|f| hits = render::draw(f, &session.state, &self.ui, theme)) {
            return Some(terminal_lost(e));
        }
        self.ui.remember(hits);
        (self.dirty, self.drawn_at) = (false, Instant::now());
        None
    }

    /// Acts on a key, a click or a resize; ends the run on `q` or when the terminal is gone.
    fn on_terminal(&mut self, event: Option<io::Result<TermEvent>>, session: &mut Session) -> Option<End> {
        match event {
            Some(Ok(TermEvent::Key(key))) => {
                let action = keymap::action(key, self.ui.typing)?;
                if action == Action::Quit {
                    return Some(End::Quit);
                }
                if action == Action::Export && self.pending.is_none() {
                    self.pending = self.work.snapshots.spawn(&session.state);
                    self.ui.status = Some("export: writing…".into());
                } else {
                    apply_action(action, &mut self.ui, &self.themes, session, &self.work.tracing);
                }
                self.dirty = true;
            }
            Some(Ok(TermEvent::Mouse(event))) => {
                self.dirty |= on_mouse(event, &mut self.ui, &self.themes, session, &self.work.tracing);
            }
            // A resize, a focus change, a paste: draw again.
            Some(Ok(_)) => self.dirty = true,
            Some(Err(e)) => return Some(terminal_lost(e)),
            None => return Some(terminal_lost(io::Error::new(io::ErrorKind::UnexpectedEof, "the terminal closed"))),
        }
        None
    }
}

/// The end of a run whose terminal is gone.
fn terminal_lost(error: io::Error) -> End {
    End::Output(OutputLost { output: Output::Terminal, error })
}

/// The longest the screen goes without a redraw when nothing changed.
const REDRAW_AT_LEAST: Duration = Duration::from_secs(2);

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

/// The run folder's next report; never, without one.
async fn next_report(stream: Option<&mut RunExport>) -> Report {
    match stream {
        Some(stream) => stream.report().await,
        None => std::future::pending().await,
    }
}
