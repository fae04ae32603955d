//! The run loop both front ends drive: the deadline (with a soak's grace), the end conditions,
//! the one name of each way a run ends, the wind-down and the exit status. A front end brings
//! only what is its own (ticks, keys, lines, frames) through [`FrontEnd`]; a new way for a run
//! to end is written here once and both front ends have it.
//!
//! Knows nothing of the terminal, the CSV files or the metrics server.

use std::borrow::Cow;
use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::time::Instant;

use crate::cli::Cli;
use crate::core::run::{Plan, Session, ITERATIONS_REACHED};
use crate::core::state::{ModelStatus, MonitorState};
use crate::core::state::{Soak, SoakConfig, DEADLINE_GRACE};
use crate::export::FinalSnapshot;
use crate::signals::{wind_down, Signal, Signals};

/// Why a run ended, one name per way, the same in both front ends.
#[derive(Debug)]
pub enum End {
    /// Every model timed its `--iterations`.
    Iterations,
    /// `--duration` (or a soak's longest time, with its grace) is over.
    Duration,
    /// `--soak` measured cold, heated and measured hot.
    SoakDone,
    /// The engine ended by itself: it failed, or (with nobody watching) no model can run.
    EngineStopped,
    Signal(Signal),
    /// The person at the front end asked to quit (`q`).
    Quit,
    /// Some thread panicked; its message is on stderr already.
    Panicked,
    /// The front end's output failed or is gone.
    Output(OutputLost),
}

impl End {
    /// Why the run ended, for the summary line or the line on stderr.
    #[must_use]
    pub fn reason(&self) -> Cow<'static, str> {
        match self {
            End::Iterations => ITERATIONS_REACHED.into(),
            End::Duration => "duration reached".into(),
            End::SoakDone => "soak done".into(),
            End::EngineStopped => "engine stopped".into(),
            End::Signal(s) => s.reason().into(),
            End::Quit => "quit".into(),
            End::Panicked => "a panic".into(),
            End::Output(lost) => lost.reason(),
        }
    }
}

/// Which output of a front end failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The headless lines: a pipe, a file, an SSH session.
    Stdout,
    /// The live screen and its keys.
    Terminal,
}

/// An output that failed, and how.
#[derive(Debug)]
pub struct OutputLost {
    pub output: Output,
    pub error: io::Error,
}

impl OutputLost {
    fn reason(&self) -> Cow<'static, str> {
        match self.output {
            Output::Stdout => "stdout failed".into(),
            Output::Terminal => format!("the terminal is gone: {}", self.error).into(),
        }
    }

    /// Whether the failure fails the run: stdout failing for another reason than its reader
    /// leaving (a full disk) does; a reader or a terminal that went away ends the run as a
    /// signal would.
    fn fails_the_run(&self) -> bool {
        self.output == Output::Stdout && !reader_gone(&self.error)
    }
}

/// A closed pipe (`| head -1`) or a terminal that is gone (an SSH drop gives `EIO`).
#[must_use]
pub fn reader_gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe || e.raw_os_error() == Some(libc::EIO)
}

/// Who watches the run, which decides how events are paced and what counts as a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watcher {
    /// Nobody (headless): each event is applied as it arrives, the run ends as soon as no model
    /// can run, and a run that timed nothing failed.
    Nobody,
    /// A person (the live screen): the front end applies events at its frame rate, the screen
    /// stays up when every model failed so that they can read why, and what they saw is no
    /// failure.
    Person,
}

/// What a front end does while the run loop runs.
pub trait FrontEnd {
    /// Something the front end waits for: a tick, a key, a writer's report.
    type Input;

    /// The front end's next input.
    fn next(&mut self) -> impl Future<Output = Self::Input>;

    /// Acts on `input` (prints, draws, exports); `Some` ends the run.
    fn handle(&mut self, input: Self::Input, session: &mut Session) -> Option<End>;

    /// The run ended with `end`; called before the engine's current inference is waited for
    /// (the live screen gives the terminal back, so the wait's message can be seen).
    fn leave(&mut self, end: &End) {
        let _ = end;
    }
}

/// When and how a run ends.
#[derive(Clone, Copy, Debug)]
pub struct RunLoop {
    /// `--duration`, or a soak's longest time.
    pub limit: Option<Duration>,
    pub soak: Option<SoakConfig>,
    pub watcher: Watcher,
}

impl RunLoop {
    /// The run `cli` asks for, watched by `watcher`.
    #[must_use]
    pub fn from_cli(cli: &Cli, watcher: Watcher) -> Self {
        Self { limit: cli.run_limit(), soak: cli.soak_config(), watcher }
    }

    /// Starts the session for `plan`, with the soak's fold when there is a soak.
    ///
    /// # Errors
    /// When the engine thread cannot be spawned.
    pub fn start_session(&self, plan: &Plan) -> io::Result<Session> {
        let mut session = Session::start(plan, false)?;
        session.state.soak = self.soak.map(Soak::new);
        Ok(session)
    }

    /// When a run started at `started` ends by its deadline. A soak ends itself by its longest
    /// time, counted on the session's clock (which starts a moment later): the deadline is only
    /// its backstop.
    #[must_use]
    pub fn deadline(&self, started: Instant) -> Option<Instant> {
        let grace = if self.soak.is_some() { DEADLINE_GRACE } else { Duration::ZERO };
        self.limit.map(|limit| started + limit + grace)
    }

    /// Why `state` ends the run, if it does.
    #[must_use]
    pub fn end_of(&self, state: &MonitorState) -> Option<End> {
        // First: the engine also stops once every model timed its iterations.
        if state.iterations_done {
            return Some(End::Iterations);
        }
        let engine_ended = match self.watcher {
            Watcher::Nobody => state.engine_stopped,
            Watcher::Person => state.engine_error.is_some(),
        };
        if engine_ended {
            return Some(End::EngineStopped);
        }
        state.soak.as_ref().is_some_and(Soak::done).then_some(End::SoakDone)
    }

    /// Runs `front` over `session` until the run ends, then lets the current inference finish
    /// (a second signal gives up on it) and says why the run ended.
    pub async fn drive<F: FrontEnd>(&self, session: &mut Session, signals: &mut Signals, front: &mut F) -> End {
        let deadline = self.deadline(Instant::now());
        let each_event = self.watcher == Watcher::Nobody;
        let end = loop {
            let end = tokio::select! {
                Some(event) = session.events.recv(), if each_event => {
                    session.apply(event);
                    session.drain();
                    None
                }
                input = front.next() => front.handle(input, session),
                () = sleep_until(deadline) => Some(End::Duration),
                signal = signals.next() => Some(End::Signal(signal)),
            };
            if let Some(end) = end.or_else(|| self.end_of(&session.state)) {
                break end;
            }
        };
        front.leave(&end);
        wind_down(session, signals, || {
            crate::eprintln_best_effort("infertop: stopping after the current inference (Ctrl-C again to quit now)");
        })
        .await;
        end
    }

    /// The exit status of a run that ended with `end` after `elapsed`, left `state` and saved
    /// `saved` (`None`: nothing was saved, as after `q`).
    ///
    /// # Errors
    /// A panic; stdout failing for another reason than its reader leaving; the engine failing;
    /// with nobody watching, a run in which no inference was timed; the last snapshot lost.
    pub fn exit_status(
        &self,
        end: &End,
        state: &MonitorState,
        saved: Option<&FinalSnapshot>,
        elapsed: Duration,
    ) -> anyhow::Result<()> {
        let where_saved = saved.map_or_else(String::new, |s| format!("; {}", s.describe()));
        match end {
            End::Panicked => anyhow::bail!("stopped after a panic (its message is above){where_saved}"),
            End::Output(lost) if lost.fails_the_run() => anyhow::bail!("stdout: {}", lost.error),
            _ => {}
        }
        if let Some(error) = &state.engine_error {
            anyhow::bail!("the engine stopped: {error}{where_saved}");
        }
        if self.watcher == Watcher::Nobody {
            something_timed(end, state, elapsed, &where_saved)?;
        }
        if let Some(lost @ FinalSnapshot::Lost { .. }) = saved {
            anyhow::bail!("{}", lost.describe());
        }
        Ok(())
    }
}

/// An error unless some model timed an inference: which models failed, or how many were still
/// loading.
fn something_timed(end: &End, state: &MonitorState, elapsed: Duration, where_saved: &str) -> anyhow::Result<()> {
    if state.models.iter().any(|m| m.latency.summary().is_some() || m.cold.summary().is_some()) {
        return Ok(());
    }
    if state.models.iter().all(|m| matches!(m.status, ModelStatus::Failed(_))) {
        anyhow::bail!("no model could run: {}", failures(state));
    }
    let loading = state.models.iter().filter(|m| m.status == ModelStatus::Loading).count();
    // Only a run that ran out of time would have timed something given more of it.
    let hint = match end {
        End::Duration => "a longer --duration gives them time".into(),
        other => format!("stopped: {}", other.reason()),
    };
    anyhow::bail!(
        "no inference was timed in {:.1} s ({loading} of {} models still loading); {hint}{where_saved}",
        elapsed.as_secs_f64(),
        state.models.len(),
    )
}

/// Why each failed model failed.
fn failures(state: &MonitorState) -> String {
    let failed = state.models.iter().filter_map(|m| match &m.status {
        ModelStatus::Failed(e) => Some(e.as_str()),
        _ => None,
    });
    failed.collect::<Vec<_>>().join("; ")
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
