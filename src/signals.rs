//! Signals and how a run winds down, the same in both front ends: the first stop request lets
//! the current inference finish (its time is measured, nothing is cut short); a second signal
//! while waiting gives up on it, so a minute-long inference never holds the user hostage.

use std::time::Duration;

use tokio::signal::unix::{signal, Signal as Stream, SignalKind};

use crate::core::run::Session;

/// A signal that ends a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
    HangUp,
}

impl Signal {
    /// How the summary line names the reason for stopping.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Signal::Interrupt => "interrupted",
            Signal::Terminate => "terminated",
            Signal::HangUp => "hung up",
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP as one stream of [`Signal`]s.
pub struct Signals {
    interrupt: Stream,
    terminate: Stream,
    hang_up: Stream,
}

impl Signals {
    /// Takes over the three signals (their default action would end the process without a
    /// snapshot).
    ///
    /// # Errors
    /// When a handler cannot be installed.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hang_up: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal.
    pub async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.interrupt.recv() => Signal::Interrupt,
            _ = self.terminate.recv() => Signal::Terminate,
            _ = self.hang_up.recv() => Signal::HangUp,
        }
    }
}

/// How waiting for the engine ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindDown {
    /// The engine finished its inference and stopped; everything is joined.
    Finished,
    /// A second signal came first: the engine was left inside its inference.
    Abandoned,
}

/// After this long, waiting for the engine is announced (once) through `notice`.
const NOTICE_AFTER: Duration = Duration::from_millis(500);

/// Asks the session to stop and waits for the current inference, applying events meanwhile;
/// a signal during the wait abandons the engine instead. `notice` is called once if the wait
/// takes long, to tell the user what is happening and how to skip it.
pub async fn wind_down(session: &mut Session, signals: &mut Signals, notice: impl FnOnce()) -> WindDown {
    session.request_stop();
    let waiting = async {
        let mut notice = Some(notice);
        let started = tokio::time::Instant::now();
        while !session.has_stopped() {
            session.drain();
            if started.elapsed() >= NOTICE_AFTER {
                if let Some(notice) = notice.take() {
                    notice();
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let outcome = tokio::select! {
        () = waiting => WindDown::Finished,
        _ = signals.next() => WindDown::Abandoned,
    };
    match outcome {
        WindDown::Finished => session.stop(),
        WindDown::Abandoned => session.abandon(),
    }
    outcome
}
