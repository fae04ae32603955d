#![allow(clippy::float_cmp)] // shares of 5 models are exact fractions

use super::*;

/// Per-kind laws the synthetic models follow exactly: (ms per MAC, ms per byte, ms per call).
const CONV: [f64; 3] = [2e-8, 0.0, 0.02];
const BN: [f64; 3] = [0.0, 4e-7, 0.005];
const RELU: [f64; 3] = [0.0, 1e-7, 0.001];

fn kind(name: &str, law: [f64; 3], macs: f64, bytes: f64, calls: f64) -> KindTime {
    let ms = law[0] * macs + law[1] * bytes + law[2] * calls;
    KindTime { kind: name.into(), macs, bytes, calls, ms }
}

/// A model of `layers` conv+BN+ReLU layers, `macs` MACs, `bytes` activation bytes.
fn model(id: ModelId, layers: f64, macs: f64, bytes: f64) -> Observation {
    let kinds = vec![
        kind("conv", CONV, macs, bytes, layers),
        kind("bn", BN, 0.0, bytes, layers),
        kind("relu", RELU, 0.0, bytes, layers),
    ];
    Observation { model: id, name: format!("m{id}").into(), latency_ms: kinds.iter().map(|k| k.ms).sum(), macs, kinds }
}

/// Deep-and-thin models next to shallow-and-wide ones: MACs alone cannot rank them.
fn zoo() -> Vec<Observation> {
    vec![
        model(0, 20.0, 3e8, 2e6),
        model(1, 150.0, 4e7, 6e6),
        model(2, 60.0, 1.2e9, 9e6),
        model(3, 100.0, 6e8, 3e6),
        model(4, 40.0, 2e8, 1.2e7),
    ]
}

#[test]
fn models_that_follow_per_kind_laws_are_predicted_exactly_when_left_out() {
    let fitted = leave_one_out(&zoo()).unwrap();
    assert_eq!(fitted.predictions.len(), 5);
    for p in &fitted.predictions {
        assert!(p.op_model_error().abs() < 1e-6, "{}: op model {} vs {}", p.name, p.op_model_ms, p.measured_ms);
    }
    assert_eq!(fitted.op_model_good_share(), 1.0);
    // MACs alone miss the deep-and-thin model badly.
    let thin = &fitted.predictions[1];
    assert!(thin.mac_model_error() < -0.4, "{thin:?}");
    assert!(fitted.mac_model_good_share() < 1.0);
}

#[test]
fn the_model_left_out_is_not_in_its_own_fit() {
    let mut zoo = zoo();
    let honest = zoo[2].latency_ms;
    // Model 2 runs twice as slow as the laws say: left out, it is predicted at the laws' time.
    for k in &mut zoo[2].kinds {
        k.ms *= 2.0;
    }
    zoo[2].latency_ms *= 2.0;
    let p = leave_one_out(&zoo).unwrap().predictions.into_iter().find(|p| p.model == 2).unwrap();
    assert!((p.op_model_ms - honest).abs() < 1e-6 * honest, "{p:?}");
    assert!((p.op_model_error() + 0.5).abs() < 1e-6);
}

#[test]
fn the_mac_only_model_is_a_line_fitted_on_the_other_models() {
    let obs = |id: ModelId, gmacs: f64, ms: f64| Observation {
        model: id,
        name: format!("m{id}").into(),
        latency_ms: ms,
        macs: gmacs * 1e9,
        kinds: vec![KindTime { kind: "k".into(), macs: gmacs * 1e9, bytes: 0.0, calls: 1.0, ms }],
    };
    // The first two lie on latency = 2 ms/GMAC + 1 ms; the third, at 3 GMACs, took 9 ms, not 7.
    let fitted = leave_one_out(&[obs(0, 1.0, 3.0), obs(1, 2.0, 5.0), obs(2, 3.0, 9.0)]).unwrap();
    let third = &fitted.predictions[2];
    assert!((third.mac_model_ms - 7.0).abs() < 1e-9, "{third:?}");
    assert!((third.mac_model_error() - (7.0 / 9.0 - 1.0)).abs() < 1e-9);
    // Non-negative: fitted on the last two alone, a line with a negative intercept is not allowed.
    let first = mac_model(&[&obs(1, 2.0, 5.0), &obs(2, 3.0, 9.0)]);
    assert!(first.constant_ms >= 0.0 && first.ms_per_mac >= 0.0, "{first:?}");
}

#[test]
fn a_kind_no_other_model_ran_is_predicted_by_the_pooled_fit() {
    let mut zoo = zoo();
    zoo[4].kinds.push(kind("shuffle", RELU, 0.0, 1e6, 10.0));
    zoo[4].latency_ms += zoo[4].kinds[3].ms;
    let p = leave_one_out(&zoo).unwrap().predictions.into_iter().find(|p| p.model == 4).unwrap();
    assert!(p.op_model_ms.is_finite() && p.op_model_ms > 0.0, "{p:?}");
}

#[test]
fn fewer_than_three_models_give_no_fit() {
    assert!(leave_one_out(&zoo()[..2]).is_none());
    assert!(leave_one_out(&[]).is_none());
}
