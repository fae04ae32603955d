//! The run loop driven over real sessions of a tiny model, by a front end that only counts:
//! each way a run ends, for each kind of watcher, and the wind-down after it.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

use std::path::PathBuf;
use std::time::Duration;

use infertop::core::models::Arch;
use infertop::core::models::{ModelSource, ModelSpec};
use infertop::core::run::Schedule;
use infertop::core::run::{Plan, Session};
use infertop::core::state::MonitorState;
use infertop::run_loop::{End, FrontEnd, RunLoop, Watcher};
use infertop::signals::Signals;

fn plan(models: Vec<ModelSpec>, iterations: Option<u64>) -> Plan {
    Plan {
        models,
        threads: 1,
        op_profile: false,
        profile_every: 1,
        warmup: 1,
        iterations,
        calibration_cache: None,
        background_calibration: None,
        manifest_source: "test".into(),
        sample_every: None,
        sysfs_root: "/".into(),
        replay_speed: 1.0,
        schedule: Schedule::RoundRobin,
    }
}

fn tiny() -> ModelSpec {
    ModelSpec::new("tiny", ModelSource::Arch(Arch::Tiny), [3, 32, 32])
}

/// A model whose file is not there: it fails to load, and with it the only model.
fn missing() -> ModelSpec {
    ModelSpec::new("missing", ModelSource::TorchScript(PathBuf::from("/nonexistent/model.pt")), [3, 32, 32])
}

/// Inferences timed so far, over every model.
fn timed(state: &MonitorState) -> u64 {
    state.models.iter().filter_map(|m| m.latency.summary()).map(|s| s.count).sum()
}

/// A front end that drains on its own ticks, as the live screen does, and quits when `quit`
/// holds for the state; it counts the ticks it saw and whether it was told the run ended.
/// Without ticks it never wakes: only the run loop applies events.
struct Counter {
    /// How long it sleeps between ticks; `None`: forever.
    tick: Option<Duration>,
    quit: fn(&MonitorState) -> bool,
    handled: u64,
    left: bool,
}

impl Counter {
    fn new(quit: fn(&MonitorState) -> bool) -> Self {
        Self { tick: Some(Duration::from_millis(1)), quit, handled: 0, left: false }
    }

    fn asleep() -> Self {
        Self { tick: None, ..Self::new(|_| false) }
    }
}

impl FrontEnd for Counter {
    type Input = ();

    async fn next(&mut self) {
        match self.tick {
            Some(tick) => tokio::time::sleep(tick).await,
            None => std::future::pending().await,
        }
    }

    fn handle(&mut self, (): (), session: &mut Session) -> Option<End> {
        self.handled += 1;
        session.drain();
        (self.quit)(&session.state).then_some(End::Quit)
    }

    fn leave(&mut self, _end: &End) {
        self.left = true;
    }
}

/// Drives `run_loop` over a session of `plan` with `front`; the end, and the session after its
/// wind-down.
fn drive(run_loop: RunLoop, plan: &Plan, front: &mut Counter) -> (End, Session) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut signals = Signals::new().unwrap();
        let mut session = run_loop.start_session(plan).unwrap();
        let end = run_loop.drive(&mut session, &mut signals, front).await;
        (end, session)
    })
}

fn run_loop(watcher: Watcher) -> RunLoop {
    RunLoop { limit: None, soak: None, watcher }
}

#[test]
fn the_front_end_quitting_ends_the_run_and_the_engine_winds_down() {
    let mut front = Counter::new(|state| timed(state) >= 5);
    let (end, session) = drive(run_loop(Watcher::Person), &plan(vec![tiny()], None), &mut front);
    assert!(matches!(end, End::Quit), "{end:?}");
    assert!(front.left, "the front end was told before the wind-down");
    assert!(session.has_stopped(), "the wind-down waited for the engine");
    assert!(timed(&session.state) >= 5, "the inferences that made it quit are in the state");
    assert!(run_loop(Watcher::Person).exit_status(&end, &session.state, None, Duration::ZERO).is_ok());
}

#[test]
fn an_unwatched_run_applies_each_event_itself_and_ends_at_its_iterations() {
    let mut front = Counter::asleep();
    let (end, session) = drive(run_loop(Watcher::Nobody), &plan(vec![tiny()], Some(3)), &mut front);
    assert!(matches!(end, End::Iterations), "{end:?}");
    assert_eq!(end.reason(), "iterations reached");
    assert_eq!((timed(&session.state), front.handled), (3, 0));
    assert!(run_loop(Watcher::Nobody).exit_status(&end, &session.state, None, Duration::ZERO).is_ok());
}

#[test]
fn a_watched_run_ends_at_its_iterations_too() {
    let mut front = Counter::new(|_| false);
    let (end, session) = drive(run_loop(Watcher::Person), &plan(vec![tiny()], Some(2)), &mut front);
    assert!(matches!(end, End::Iterations), "{end:?}");
    assert!(front.handled > 0, "the watched run's events came through the front end's ticks");
    assert_eq!(timed(&session.state), 2);
}

#[test]
fn the_deadline_ends_the_run_as_duration_reached() {
    let mut front = Counter::asleep();
    let run_loop = RunLoop { limit: Some(Duration::ZERO), ..run_loop(Watcher::Nobody) };
    let (end, session) = drive(run_loop, &plan(vec![tiny()], None), &mut front);
    assert!(matches!(end, End::Duration), "{end:?}");
    assert!(session.has_stopped());
}

#[test]
fn no_model_that_can_run_ends_an_unwatched_run_with_an_error_naming_why() {
    let mut front = Counter::asleep();
    let (end, session) = drive(run_loop(Watcher::Nobody), &plan(vec![missing()], None), &mut front);
    assert!(matches!(end, End::EngineStopped), "{end:?}");
    let err = run_loop(Watcher::Nobody).exit_status(&end, &session.state, None, Duration::ZERO).unwrap_err();
    let err = err.to_string();
    assert!(err.starts_with("no model could run: ") && err.contains("/nonexistent/model.pt"), "{err}");
}

#[test]
fn a_watched_run_stays_up_when_no_model_can_run_until_the_person_quits() {
    // The front end quits only once it has seen the engine stop: had the loop ended the run
    // itself, the end would be the engine's, not the person's.
    let mut front = Counter::new(|state| state.engine_stopped);
    let (end, session) = drive(run_loop(Watcher::Person), &plan(vec![missing()], None), &mut front);
    assert!(matches!(end, End::Quit), "{end:?}");
    assert!(session.state.engine_stopped && session.state.engine_error.is_none());
    assert!(run_loop(Watcher::Person).exit_status(&end, &session.state, None, Duration::ZERO).is_ok());
}
