//! The engine thread with real libtorch and a real model.

#![allow(clippy::float_cmp)] // MAC and byte counts are integers held in f64: exact comparison is the test.

use std::path::PathBuf;

use infertop::core::models::Arch;
use infertop::core::models::{ModelSource, ModelSpec};
use infertop::core::run::Schedule;
use infertop::core::run::{Control, Event};
use infertop::core::run::{Plan, Session};
use infertop::core::state::LeftOut;

fn tiny(name: &str) -> ModelSpec {
    ModelSpec::new(name, ModelSource::Arch(Arch::Tiny), [3, 32, 32])
}

fn plan(models: Vec<ModelSpec>, op_profile: bool) -> Plan {
    Plan {
        models,
        threads: 1,
        op_profile,
        profile_every: 1,
        warmup: 2,
        iterations: None,
        calibration_cache: None,
        background_calibration: None,
        manifest_source: "test".into(),
        sample_every: None,
        sysfs_root: "/".into(),
        replay_speed: 1.0,
        schedule: Schedule::RoundRobin,
    }
}

/// Receives events until `pred` holds for the state (or panics after a while).
fn run_until(session: &mut Session, pred: impl Fn(&infertop::core::state::MonitorState) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !pred(&session.state) {
        assert!(std::time::Instant::now() < deadline, "condition not reached");
        match session.events.blocking_recv() {
            Some(e) => session.state.apply(e),
            None => panic!("engine ended early"),
        }
    }
}

#[test]
fn engine_times_real_models_round_robin_with_increasing_sequence() {
    let mut session = Session::start(&plan(vec![tiny("a"), tiny("b")], false), false).unwrap();
    let mut seqs = Vec::new();
    let mut models = Vec::new();
    while seqs.len() < 10 {
        match session.events.blocking_recv().expect("engine running") {
            Event::Inference(i) => {
                assert!(i.wall_ns > 0);
                assert!(i.ops.is_empty(), "op profile is off");
                seqs.push(i.seq);
                models.push(i.model);
            }
            other => session.state.apply(other),
        }
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    // Round robin: the two models alternate.
    assert!(models.windows(2).all(|w| w[0] != w[1]), "{models:?}");
    session.stop();
}

#[test]
fn focus_runs_only_the_focused_model_and_stop_is_clean() {
    let mut session = Session::start(&plan(vec![tiny("a"), tiny("b")], false), false).unwrap();
    run_until(&mut session, |s| s.models.iter().all(|m| m.info.is_some()));
    session.control(Control::Focus(Some(1)));
    // Events already queued still alternate; once the focus reaches the engine, model 1 runs
    // alone. Round robin never gives 20 inferences of one model in a row.
    let mut run_of_ones = 0;
    let mut seen = 0;
    while run_of_ones < 20 {
        if let Event::Inference(i) = session.events.blocking_recv().unwrap() {
            run_of_ones = if i.model == 1 { run_of_ones + 1 } else { 0 };
            seen += 1;
            assert!(seen < 20_000, "focus never took effect");
        }
    }
    session.control(Control::Focus(None));
    let mut both = std::collections::HashSet::new();
    while both.len() < 2 {
        if let Event::Inference(i) = session.events.blocking_recv().unwrap() {
            both.insert(i.model);
        }
    }
    session.stop();
}

#[test]
fn a_corrupt_torchscript_file_fails_that_model_only() {
    let dir = tempfile::tempdir().unwrap();
    let bad: PathBuf = dir.path().join("broken.pt");
    std::fs::write(&bad, b"this is not a zip archive").unwrap();
    let mut broken = tiny("broken");
    broken.source = ModelSource::TorchScript(bad.clone());
    let mut session = Session::start(&plan(vec![broken, tiny("ok")], true), false).unwrap();
    run_until(&mut session, |s| s.models[1].latency.summary().is_some_and(|l| l.count >= 3));
    match &session.state.models[0].status {
        infertop::core::state::ModelStatus::Failed(e) => {
            assert!(e.contains("broken") && e.contains(&bad.display().to_string()), "{e}");
            assert_eq!(e.lines().count(), 1);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    session.stop();
}

#[test]
fn every_model_gets_its_own_op_subtree_and_macs() {
    // Two models with identical layer names, calibrated one after the other: each must end up
    // under its own model scope (scope names once matched by a reused pointer).
    let mut session = Session::start(&plan(vec![tiny("first"), tiny("second"), tiny("third")], true), true).unwrap();
    run_until(&mut session, |s| s.engine_stopped);
    let state = &session.state;
    let macs: Vec<f64> =
        state.models.iter().map(|m| infertop::core::analysis::model_profile(&state.tree, m).macs).collect();
    assert!(macs[0] > 0.0, "{macs:?}");
    assert!(macs.iter().all(|&m| m == macs[0]), "{macs:?}");
    let scopes: Vec<_> = state.models.iter().map(|m| m.scope.expect("a model scope")).collect();
    for s in &scopes {
        assert_eq!(state.tree.get(*s).unwrap().parent, Some(0), "model scopes hang off the root");
    }
}

#[test]
fn one_inference_in_n_is_profiled_and_latency_comes_from_the_others() {
    let mut p = plan(vec![tiny("only")], true);
    p.profile_every = 3;
    let mut session = Session::start(&p, false).unwrap();
    let mut profiled = Vec::new();
    while profiled.len() < 30 {
        let event = session.events.blocking_recv().expect("engine running");
        if let Event::Inference(i) = &event {
            profiled.push(!i.ops.is_empty());
        }
        session.state.apply(event);
    }
    session.stop();
    let expected: Vec<bool> = (0..30).map(|k| k % 3 == 0).collect();
    assert_eq!(profiled[..30], expected[..]);
    let model = &session.state.models[0];
    let timed = model.latency.summary().unwrap().count;
    // The one after the peak measurement (which follows the first inference) is cold.
    let cold = model.cold.summary().map_or(0, |c| c.count);
    assert_eq!(cold, 1, "the inference after the peak measurement is cold");
    let profiled = model.window.seen();
    assert_eq!(profiled + timed + cold, session.state.inferences, "every inference is profiled, timed or cold");
    assert!(profiled >= 10 && timed >= 19, "profiled {profiled} timed {timed}");
    // The op figures rest on the profiled ones minus any a stall or contention set aside.
    let left_out = model.window.left_out(LeftOut::Stalled) + model.window.left_out(LeftOut::Contended);
    assert_eq!(model.profiled + left_out as u64, profiled);
}

/// A paused engine runs nothing until resumed, and a session paused stops cleanly.
#[test]
fn pause_stops_inference_until_resumed() {
    let mut session = Session::start(&plan(vec![tiny("only")], false), false).unwrap();
    run_until(&mut session, |s| s.inferences >= 3);
    session.control(Control::Pause(true));
    // What was already running or queued arrives; then nothing for a while.
    std::thread::sleep(std::time::Duration::from_millis(300));
    session.drain();
    let paused_at = session.state.inferences;
    std::thread::sleep(std::time::Duration::from_millis(500));
    session.drain();
    assert_eq!(session.state.inferences, paused_at, "no inference while paused");
    session.control(Control::Pause(false));
    run_until(&mut session, |s| s.inferences >= paused_at + 3);
    session.control(Control::Pause(true));
    session.stop();
    assert!(session.has_stopped(), "a paused engine stops when asked");
}

/// Switching the op profiler off and on again in a running session: no profiled inference
/// follows the switch-off, the state learns that nothing is sampled, and sampling resumes.
#[test]
fn op_profiling_switches_off_and_on_without_a_restart() {
    let mut p = plan(vec![tiny("only")], true);
    p.profile_every = 2;
    let mut session = Session::start(&p, false).unwrap();
    run_until(&mut session, |s| s.models[0].profiled >= 2);
    session.control(Control::OpProfile(false));
    run_until(&mut session, |s| s.profile_every == 0);
    let (profiled_at_switch, seen_at_switch) = (session.state.models[0].profiled, session.state.inferences);
    run_until(&mut session, |s| s.inferences >= seen_at_switch + 20);
    assert_eq!(session.state.models[0].profiled, profiled_at_switch, "profiled after the switch-off");
    session.control(Control::OpProfile(true));
    run_until(&mut session, |s| s.profile_every == 2);
    run_until(&mut session, |s| s.models[0].profiled >= profiled_at_switch + 3);
    session.stop();
}

/// The dwell schedule stays on a model, marks the first inference after a switch cold, and the
/// state keeps cold latencies apart from the warm ones; models are timed as soon as each is
/// loaded, not after all of them.
#[test]
fn dwell_keeps_cold_inferences_apart_and_times_the_first_model_before_the_last_loads() {
    let mut p = plan(vec![tiny("a"), tiny("b"), tiny("c")], false);
    p.schedule = Schedule::Dwell(std::time::Duration::from_millis(30));
    let mut session = Session::start(&p, false).unwrap();
    let mut order = Vec::new();
    let mut first_timed_before_last_ready = None;
    // Until every model has come back at least twice (each return is cold).
    while session.state.models.iter().any(|m| m.cold.summary().is_none_or(|c| c.count < 2)) {
        assert!(order.len() < 200_000, "the schedule never moved on: {:?}", &order[order.len() - 10..]);
        let event = session.events.blocking_recv().expect("engine running");
        if let Event::Inference(i) = &event {
            order.push((i.model, i.cold));
            first_timed_before_last_ready.get_or_insert(session.state.models[2].info.is_none());
        }
        session.state.apply(event);
    }
    assert_eq!(first_timed_before_last_ready, Some(true), "model a waited for c to load");
    // Runs of one model, each (after the first visit, which follows loading) opened by a cold
    // one; and the second inference of the run, which follows the peak measurement.
    let mut seen = std::collections::HashSet::new();
    for (k, &(model, cold)) in order.iter().enumerate() {
        let switched = k > 0 && order[k - 1].0 != model;
        let expected_cold = (switched && seen.contains(&model)) || k == 1;
        assert_eq!(cold, expected_cold, "inference {k} of model {model}: {order:?}");
        seen.insert(model);
    }
    for (id, m) in session.state.models.iter().enumerate() {
        let colds = order.iter().filter(|&&(model, cold)| model == id && cold).count() as u64;
        let warms = order.iter().filter(|&&(model, cold)| model == id && !cold).count() as u64;
        assert_eq!(m.cold.summary().map_or(0, |s| s.count), colds, "model {id}");
        assert_eq!(m.latency.summary().map_or(0, |s| s.count), warms, "model {id}");
    }
    session.stop();
}

/// A run on a machine without a calibration makes one between inferences, in steps: its
/// progress comes as events, the cache file holds it as it grows, the state predicts the
/// models once a pass is complete, and the inference after a step is timed as cold. Ends on
/// events, not on a clock.
#[test]
fn a_run_without_a_calibration_makes_one_between_inferences_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("kernel-calibration.json");
    let options = infertop::core::limits::Options { threads: 1, scale: 0.004, reps: 1, seed: 3 };
    let plan = Plan {
        calibration_cache: Some(cache.clone()),
        background_calibration: Some(options),
        ..plan(vec![tiny("a")], true)
    };
    let mut session = Session::start(&plan, false).unwrap();
    assert!(session.state.calibration.is_none(), "nothing cached in an empty folder");
    let mut progress = Vec::new();
    let mut last_was_step = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    while progress.last().is_none_or(|(timed, of)| timed < of) || session.state.calibration.is_none() {
        assert!(std::time::Instant::now() < deadline, "no calibration after {progress:?}");
        let event = session.events.blocking_recv().expect("engine running");
        match &event {
            Event::CalibrationProgress { timed, of } => {
                progress.push((*timed, *of));
                last_was_step = true;
            }
            Event::Inference(i) if last_was_step => {
                assert!(i.cold, "the inference after a step is timed as cold: {i:?}");
                last_was_step = false;
            }
            _ => {}
        }
        session.state.apply(event);
    }
    session.stop();
    assert!(progress.windows(2).all(|w| w[0].0 < w[1].0), "progress only grows: {progress:?}");
    let (_, of) = progress[progress.len() - 1];
    let saved = infertop::core::limits::calibration::load(&cache, 1).unwrap().expect("saved to the cache");
    assert!(
        saved.complete() && 2 * saved.planned == of,
        "{} of {} timed, {of} timings",
        saved.samples.len(),
        saved.planned
    );
    assert!(session.state.models[0].prediction.is_some(), "the model is predicted from it");
}

#[test]
fn without_a_calibration_or_the_option_nothing_is_calibrated_or_predicted() {
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan { calibration_cache: Some(dir.path().join("none.json")), ..plan(vec![tiny("a")], true) };
    let mut session = Session::start(&plan, false).unwrap();
    let mut inferences = 0;
    while inferences < 20 {
        let event = session.events.blocking_recv().expect("engine running");
        assert!(!matches!(event, Event::CalibrationProgress { .. } | Event::Calibration(_)), "{event:?}");
        inferences += usize::from(matches!(event, Event::Inference(_)));
        session.state.apply(event);
    }
    session.stop();
    assert!(session.state.models[0].prediction.is_none());
    assert!(!dir.path().join("none.json").exists(), "nothing written");
}
