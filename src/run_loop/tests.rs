//! The run loop's decisions on fixed states: which end a state means, the deadline, the exit
//! status. Real runs driving the loop are in `tests/run_loop.rs`.

use std::path::{Path, PathBuf};

use super::*;
use crate::core::run::{Event, Inference};
use crate::export::ExportError;

fn run_loop(watcher: Watcher) -> RunLoop {
    RunLoop { limit: Some(Duration::from_secs(30)), soak: None, watcher }
}

/// A state in which model `a` has timed one inference.
fn timed_state() -> MonitorState {
    let mut state = MonitorState::new(&["a"]);
    let inference = Inference {
        model: 0,
        seq: 1,
        wall_ns: 1_000_000,
        at_ns: 1,
        profiled: false,
        cold: false,
        usage: None,
        ops: vec![],
    };
    state.apply(Event::Inference(inference));
    state
}

fn written(path: &str) -> FinalSnapshot {
    FinalSnapshot::Written(PathBuf::from(path))
}

#[test]
fn each_end_has_one_name_in_both_front_ends() {
    let gone = |output| End::Output(OutputLost { output, error: io::Error::from(io::ErrorKind::BrokenPipe) });
    let reasons: Vec<String> = [
        End::Iterations,
        End::Duration,
        End::SoakDone,
        End::EngineStopped,
        End::Signal(Signal::HangUp),
        End::Quit,
        End::Panicked,
        gone(Output::Stdout),
        gone(Output::Terminal),
    ]
    .iter()
    .map(|end| end.reason().into_owned())
    .collect();
    assert_eq!(
        reasons,
        [
            "iterations reached",
            "duration reached",
            "soak done",
            "engine stopped",
            "hung up",
            "quit",
            "a panic",
            "stdout failed",
            "the terminal is gone: broken pipe"
        ]
    );
}

#[test]
fn the_deadline_is_the_limit_and_a_soak_gets_its_grace() {
    let started = Instant::now();
    let plain = run_loop(Watcher::Nobody);
    assert_eq!(plain.deadline(started), Some(started + Duration::from_secs(30)));
    let soak = RunLoop { soak: Some(SoakConfig::default()), ..plain };
    assert_eq!(soak.deadline(started), Some(started + Duration::from_secs(30) + DEADLINE_GRACE));
    assert_eq!(RunLoop { limit: None, ..plain }.deadline(started), None);
}

#[test]
fn a_state_still_measuring_ends_nothing() {
    for watcher in [Watcher::Nobody, Watcher::Person] {
        assert!(run_loop(watcher).end_of(&timed_state()).is_none());
    }
}

#[test]
fn iterations_reached_wins_over_the_engine_stopping_after_them() {
    let mut state = timed_state();
    state.apply(Event::IterationsDone);
    state.apply(Event::EngineStopped { error: None });
    for watcher in [Watcher::Nobody, Watcher::Person] {
        assert!(matches!(run_loop(watcher).end_of(&state), Some(End::Iterations)), "{watcher:?}");
    }
}

#[test]
fn an_engine_without_models_ends_an_unwatched_run_but_leaves_the_screen_up() {
    let mut state = MonitorState::new(&["a"]);
    state.apply(Event::EngineStopped { error: None });
    assert!(matches!(run_loop(Watcher::Nobody).end_of(&state), Some(End::EngineStopped)));
    assert!(run_loop(Watcher::Person).end_of(&state).is_none(), "the person reads why the models failed");
    state.apply(Event::EngineStopped { error: Some("boom".into()) });
    assert!(matches!(run_loop(Watcher::Person).end_of(&state), Some(End::EngineStopped)));
}

#[test]
fn a_run_that_timed_nothing_is_an_error_saying_why_when_nobody_watched() {
    let state = MonitorState::new(&["a", "b"]);
    let saved = written("s");
    let err = run_loop(Watcher::Nobody)
        .exit_status(&End::Duration, &state, Some(&saved), Duration::from_secs(30))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "no inference was timed in 30.0 s (2 of 2 models still loading); a longer --duration gives them time; \
         snapshot: s"
    );
    let err = run_loop(Watcher::Nobody)
        .exit_status(&End::Signal(Signal::Interrupt), &state, Some(&saved), Duration::from_secs(1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("; stopped: interrupted; snapshot: s"), "{err}");
    let timed = run_loop(Watcher::Nobody).exit_status(&End::Duration, &timed_state(), Some(&saved), Duration::ZERO);
    assert!(timed.is_ok());
    // The person saw the screen: nothing timed is what they saw, not a failure.
    assert!(run_loop(Watcher::Person).exit_status(&End::Duration, &state, Some(&saved), Duration::ZERO).is_ok());
}

#[test]
fn an_engine_that_died_is_an_error_naming_the_reason_and_the_snapshot() {
    let mut state = MonitorState::new(&["a"]);
    state.apply(Event::EngineStopped { error: Some("the engine thread panicked: boom".into()) });
    let saved = written("snaps/20261126-010000");
    for watcher in [Watcher::Nobody, Watcher::Person] {
        let err = run_loop(watcher)
            .exit_status(&End::EngineStopped, &state, Some(&saved), Duration::ZERO)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "the engine stopped: the engine thread panicked: boom; snapshot: snaps/20261126-010000");
    }
    // After `q` nothing was saved, and the error says nothing of a snapshot.
    let err = run_loop(Watcher::Person).exit_status(&End::Quit, &state, None, Duration::ZERO).unwrap_err();
    assert_eq!(err.to_string(), "the engine stopped: the engine thread panicked: boom");
}

#[test]
fn a_panic_fails_the_run_pointing_at_its_message() {
    let err = run_loop(Watcher::Person)
        .exit_status(&End::Panicked, &timed_state(), Some(&written("s")), Duration::ZERO)
        .unwrap_err();
    assert_eq!(err.to_string(), "stopped after a panic (its message is above); snapshot: s");
}

#[test]
fn a_reader_that_went_away_ends_cleanly_but_a_full_stdout_does_not() {
    let saved = written("s");
    let status = |output, error| {
        let end = End::Output(OutputLost { output, error });
        run_loop(Watcher::Nobody).exit_status(&end, &timed_state(), Some(&saved), Duration::ZERO)
    };
    assert!(status(Output::Stdout, io::Error::from(io::ErrorKind::BrokenPipe)).is_ok());
    assert!(status(Output::Stdout, io::Error::from_raw_os_error(libc::EIO)).is_ok());
    let full = status(Output::Stdout, io::Error::from_raw_os_error(libc::ENOSPC)).unwrap_err().to_string();
    assert!(full.starts_with("stdout: No space left"), "{full}");
    // A terminal that is gone took the person with it: the run ends as a signal would end it.
    assert!(status(Output::Terminal, io::Error::from(io::ErrorKind::UnexpectedEof)).is_ok());
}

#[test]
fn a_lost_snapshot_fails_the_run() {
    let e = || ExportError::new("cannot write", Path::new("x"), &io::Error::from(io::ErrorKind::StorageFull));
    let lost = FinalSnapshot::Lost { error: e(), fallback: e() };
    for watcher in [Watcher::Nobody, Watcher::Person] {
        let err =
            run_loop(watcher).exit_status(&End::Duration, &timed_state(), Some(&lost), Duration::ZERO).unwrap_err();
        assert!(err.to_string().starts_with("snapshot failed"), "{err}");
    }
}
