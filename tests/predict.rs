//! Latency prediction from a kernel calibration (issue #29): a predictor recovers the law that
//! generated synthetic timings; each call of an op is predicted from its own shapes; a real calibration of a few configurations feeds a real
//! prediction of a small built-in model; bad input to `infertop predict` is one clear line.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

use infertop::core::limits::sample_space;
use infertop::core::limits::{calibrate, calibration, Calibration, Sample};
use infertop::core::limits::{predict_scope, Calibrated, CalibrationHandle};
use infertop::core::limits::{Basis, Options};
use infertop::core::limits::{Predictor, Timed};
use infertop::core::profiling::{Recorder, Scope};
use infertop::core::run::Event;
use infertop::core::run::{Plan, Session};
use infertop::core::state::MonitorState;
use tch::{Device, Kind, Tensor};

/// The law the synthetic timings follow: 50 MACs per ns plus 3 µs for a convolution, and 2 µs
/// per call of a view.
fn law(op: &str, macs: f64) -> f64 {
    if op == "aten::conv2d" {
        macs / 50.0 + 3000.0
    } else {
        2000.0
    }
}

fn macs_of(shapes: &infertop::core::profiling::OpShapes) -> f64 {
    let geometry = shapes.conv.as_ref().unwrap();
    let out: i64 = shapes.output.as_ref().unwrap()[2..].iter().product();
    (out * geometry.weight.iter().product::<i64>()) as f64
}

/// Calibration configurations of convolutions and views, timed by [`law`].
fn synthetic_timings() -> Vec<Timed> {
    let configs = sample_space(0.6, 1);
    let mut timed = Vec::new();
    for config in &configs {
        let (op, shapes) = config.describe();
        let convolution = op == "aten::conv2d" && shapes.conv.as_ref().is_some_and(|g| g.groups == 1);
        if convolution || op == "aten::view" {
            let ns = law(op, if convolution { macs_of(&shapes) } else { 0.0 });
            timed.push(Timed { op: op.into(), shapes, ns });
        }
    }
    timed
}

#[test]
fn a_predictor_fitted_on_synthetic_timings_recovers_their_law() {
    let timed = synthetic_timings();
    // Fitted on the even convolutions (and every view), checked on the odd ones it never saw.
    let train: Vec<Timed> =
        timed.iter().enumerate().filter(|(i, t)| i % 2 == 0 || t.op == "aten::view").map(|(_, t)| t.clone()).collect();
    let predictor = Predictor::fit(&train);
    let mut errors: Vec<f64> = timed
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|t| t.op == "aten::conv2d")
        .map(|t| (predictor.predict(&t.op, Some(&t.shapes)).0 / t.ns - 1.0).abs())
        .collect();
    errors.sort_by(f64::total_cmp);
    assert!(errors.len() > 50, "{} held-out convolutions", errors.len());
    let median = errors[errors.len() / 2];
    assert!(median < 0.10, "median error {median:.3} on held-out convolutions");
    let (view_ns, basis) =
        predictor.predict("aten::view", timed.iter().find(|t| t.op == "aten::view").map(|t| &t.shapes));
    assert_eq!((view_ns, basis), (2000.0, Basis::Dispatch));
    // An op calibration never saw costs the median dispatch time, and says so.
    assert_eq!(predictor.predict("aten::never_seen", None), (2000.0, Basis::Unmodelled));
}

#[test]
fn each_call_of_an_op_under_one_scope_is_predicted_from_its_own_shapes() {
    // A model with no modules (as a traced function is): its two convolutions, 20x apart in
    // MACs, are one node, `aten::conv2d` under the model's scope, called twice.
    let _no_grad = tch::no_grad_guard();
    let randn = |shape: &[i64]| Tensor::randn(shape, (Kind::Float, Device::Cpu));
    let (x, small, large) = (randn(&[1, 3, 32, 32]), randn(&[16, 3, 3, 3]), randn(&[64, 16, 3, 3]));
    let conv = |x: &Tensor, w: &Tensor| x.conv2d(w, None::<&Tensor>, [1, 1], [1, 1], [1, 1], 1);
    let scope = Scope::new("model:flat");
    let mut recorder = Recorder::start().expect("recorder");
    let (_, nodes) = recorder.calibrate(|| scope.run(|| conv(&conv(&x, &small), &large)));
    drop(recorder);
    let model = nodes.iter().find(|n| &*n.name == "model:flat").expect("the model's scope").id;
    let mut state = MonitorState::new(&["flat"]);
    state.apply(Event::Nodes(nodes));

    let id = state.tree.descendants(model).into_iter().find(|d| state.tree.name_of(*d) == "aten::conv2d").unwrap();
    let node = state.tree.get(id).unwrap();
    assert_eq!((node.calib_calls, node.call_shapes.len()), (2, 2));
    let weights: Vec<_> = node.call_shapes.iter().map(|s| s.conv.as_ref().unwrap().weight.clone()).collect();
    assert_eq!(weights, [vec![16, 3, 3, 3], vec![64, 16, 3, 3]]);

    let predictor = Predictor::fit(&synthetic_timings());
    let each: Vec<f64> = node.call_shapes.iter().map(|s| predictor.predict("aten::conv2d", Some(s)).0).collect();
    let predicted = predict_scope(&state.tree, model, &predictor).expect("predicted");
    let conv_ms: f64 = predicted.ops.iter().filter(|o| &*o.op == "aten::conv2d").map(|o| o.ms).sum();
    assert!((conv_ms - (each[0] + each[1]) / 1e6).abs() < 1e-9, "{conv_ms} ms against {each:?} ns");
    assert!(each[1] > 5.0 * each[0], "the larger convolution is predicted larger: {each:?}");
}

/// Runs the calibration pass (no timing loop) of `plan` and returns the state.
fn shapes_pass(plan: &Plan) -> MonitorState {
    let mut session = Session::start(&Plan { sample_every: None, ..plan.clone() }, true).expect("engine starts");
    while let Some(event) = session.events.blocking_recv() {
        session.apply(event);
        if session.state.engine_stopped {
            break;
        }
    }
    std::mem::replace(&mut session.state, MonitorState::new::<&str>(&[]))
}

#[test]
fn a_real_tiny_calibration_predicts_a_real_model_and_a_larger_input_predicts_more() {
    // One configuration of most kinds, one timed call each: seconds, even emulated.
    let options = Options { threads: 1, scale: 0.004, reps: 1, seed: 3 };
    let mut saved = 0;
    let made = calibrate(&options, |_, _| {}, |_| saved += 1);
    assert!(saved >= 1 && made.complete() && made.samples.len() >= 14, "{} samples", made.samples.len());
    assert!(made.samples.iter().all(|s| s.ns.is_finite() && s.ns > 0.0));
    let predictor = made.predictor();

    let mut plan = Plan::new(None, &["tiny".to_string()], None, 1, true).expect("built-in tiny");
    let mut large = plan.models[0].clone();
    large.name = "tiny@64".into();
    large.input = [3, 64, 64];
    plan.models.push(large);
    let state = shapes_pass(&plan);
    let predict = |m: usize| predict_scope(&state.tree, state.models[m].scope.expect("a scope"), &predictor);
    let small = predict(0).expect("tiny predicted");
    let large = predict(1).expect("tiny@64 predicted");
    for p in [&small, &large] {
        assert!(p.ms.is_finite() && p.ms > 0.0, "{p:?}");
        assert!((p.kernel_ms + p.dispatch_ms + p.unmodelled_ms - p.ms).abs() < 1e-9);
        assert!(p.kernel_ms > 0.0, "the convolutions have a kernel predictor");
        assert!(!p.layers.is_empty());
    }
    assert!(large.kernel_ms > small.kernel_ms, "four times the pixels: {} vs {} ms", large.kernel_ms, small.kernel_ms);

    // The same calibration handed to the state as the event a live run gets: every model that
    // has its shapes is predicted there, as the views and the export read it.
    let mut state = state;
    let handle = CalibrationHandle(Calibrated::new(made));
    state.apply(Event::Calibration(handle.clone()));
    for (i, m) in state.models.iter().enumerate() {
        let expected = predict_scope(&state.tree, m.scope.expect("a scope"), handle.0.predictor());
        assert_eq!(m.prediction.as_deref(), expected.as_ref(), "model {i}");
        assert!(m.prediction.is_some(), "model {i} predicted in the state");
    }
}

#[test]
fn the_cache_keeps_a_calibration_and_names_a_corrupt_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(calibration::CACHE_FILE);
    assert_eq!(calibration::load(&path, 2).unwrap(), None, "no file: no calibration");
    let config = sample_space(0.002, 1).remove(0);
    let made = Calibration {
        machine: infertop::core::limits::machine_key(2),
        threads: 2,
        planned: 3,
        seconds: 1.0,
        samples: vec![Sample { config, ns: 1234.5 }],
    };
    calibration::store(&path, &made).unwrap();
    let back = calibration::load(&path, 2).unwrap().unwrap();
    assert_eq!(back, made);
    assert!(!back.complete(), "1 of 3: a partial calibration");
    assert_eq!(calibration::load(&path, 3).unwrap(), None, "another thread count is another key");
    std::fs::write(&path, "{ not json").unwrap();
    let err = calibration::load(&path, 2).unwrap_err().to_string();
    assert!(err.starts_with(&path.display().to_string()) && err.contains("infertop calibrate"), "{err}");
}

#[path = "binary/command.rs"]
mod binary;

fn infertop(args: &[&str]) -> std::process::Output {
    binary::infertop().args(args).output().expect("infertop runs")
}

#[test]
fn predict_names_a_missing_model_file_in_one_line() {
    let out = infertop(&["predict", "/nonexistent/model.pt"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/model.pt") && err.contains("no such file"), "{err}");
    let out = infertop(&["predict", "--only", "nosuchmodel"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = infertop(&["calibrate", "--threads", "0"]);
    assert_eq!(out.status.code(), Some(2));
}
