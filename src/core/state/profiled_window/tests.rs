use std::sync::Arc;

use super::*;
use crate::core::analysis::model_profile::model_profile;
use crate::core::machine::contention::{Contention, Reasons};
use crate::core::machine::sample::SystemSample;
use crate::core::profiling::ops::Category;
use crate::core::profiling::profiler::{NodeInfo, NodeKind};
use crate::core::run::event::{Event, Inference};
use crate::core::state::monitor::MonitorState;

const MS: u64 = 1_000_000;
const CONV: u32 = 1;
const BN: u32 = 2;

fn node(id: u32, parent: Option<u32>, kind: NodeKind, name: &str) -> NodeInfo {
    NodeInfo {
        id,
        parent,
        kind,
        name: Arc::from(name),
        calib_calls: 1,
        macs: 0.0,
        bytes: 0.0,
        call_shapes: Arc::default(),
    }
}

/// One model, `model:m`, with a convolution and a `BatchNorm`.
fn state() -> MonitorState {
    let mut state = MonitorState::new(&["m"]);
    state.apply(Event::Nodes(vec![
        node(0, None, NodeKind::Scope, "model:m"),
        node(CONV, Some(0), NodeKind::Op, "aten::conv2d"),
        node(BN, Some(0), NodeKind::Op, "aten::batch_norm"),
    ]));
    state.apply(Event::ModelScope { model: 0, scope: 0 });
    state.apply(Event::Profiling { every: 1 });
    state
}

fn timing(node: u32, ms: f64) -> NodeTiming {
    let ns = (ms * MS as f64) as u64;
    NodeTiming { node, calls: 1, total_ns: ns, self_ns: ns }
}

/// A profiled inference ending at `at_ms` whose convolution and `BatchNorm` took these times;
/// the wall time is their sum plus 0.2 ms.
fn profiled(seq: u64, at_ms: u64, conv_ms: f64, bn_ms: f64) -> Event {
    Event::Inference(Inference {
        model: 0,
        seq,
        wall_ns: ((conv_ms + bn_ms + 0.2) * MS as f64) as u64,
        at_ns: at_ms * MS,
        profiled: true,
        cold: false,
        usage: None,
        ops: vec![timing(CONV, conv_ms), timing(BN, bn_ms)],
    })
}

fn sample(at_ms: u64, contended: bool) -> Event {
    let contention = Contention {
        cores: 2,
        busy_pct: 100.0,
        steal_pct: 0.0,
        own_cores: Some(1.0),
        own_threads: Some(4),
        other_cores: Some(if contended { 1.0 } else { 0.0 }),
        load_1m: None,
        reasons: Reasons { others: contended, ..Reasons::default() },
    };
    Event::System(SystemSample { at_ms, contention: Some(Box::new(contention)), ..SystemSample::default() })
}

/// (op ms per inference, `BatchNorm`'s share of it in %).
fn figures(state: &MonitorState) -> (f64, f64) {
    let profile = model_profile(&state.tree, &state.models[0]);
    let bn = profile.categories.iter().find(|c| c.category == Some(Category::BatchNorm)).map_or(0.0, |c| c.ms);
    (profile.op_ms, 100.0 * bn / profile.op_ms)
}

#[test]
fn a_stalled_inference_does_not_reach_the_op_figures() {
    let mut quiet = state();
    let mut stalled = state();
    for i in 0..10 {
        quiet.apply(profiled(i, 10 * i, 6.0, 1.0));
        // Every fourth inference lost a core in the middle of its BatchNorm.
        let bn = if i % 4 == 3 { 13.0 } else { 1.0 };
        stalled.apply(profiled(i, 10 * i, 6.0, bn));
    }
    let (quiet_ms, quiet_bn) = figures(&quiet);
    let (ms, bn) = figures(&stalled);
    assert!((quiet_ms - 7.0).abs() < 1e-6 && (quiet_bn - 100.0 / 7.0).abs() < 1e-6, "{quiet_ms} {quiet_bn}");
    // A plain mean would give 8.8 ms and a BatchNorm share of 32 %.
    assert!((ms - quiet_ms).abs() < 1e-6 && (bn - quiet_bn).abs() < 1e-6, "{ms} ms, BN {bn} %");
    let m = &stalled.models[0];
    assert_eq!((m.profiled, m.window.left_out(LeftOut::Stalled), m.window.seen()), (8, 2, 10));
    assert_eq!(m.profiled_wall_ns, 8 * 7_200_000);
}

#[test]
fn inferences_in_a_contended_interval_are_left_out_while_quiet_ones_remain() {
    let mut state = state();
    state.apply(sample(0, false));
    // 100–400 ms quiet: 6 + 1 ms; 500–900 ms contended, 15 % slower: not a stall by wall time,
    // but its time is spread differently.
    for i in 0..4 {
        state.apply(profiled(i, 100 + 100 * i, 6.0, 1.0));
    }
    state.apply(sample(450, false));
    for i in 4..9 {
        state.apply(profiled(i, 100 * i + 100, 6.0, 2.0));
    }
    assert_eq!(state.models[0].window.left_out(LeftOut::Contended), 0);
    let (before, _) = figures(&state);
    assert!(before > 7.0, "the contended inferences count until a sample says so: {before}");
    state.apply(sample(1000, true));
    let m = &state.models[0];
    assert_eq!((m.profiled, m.window.left_out(LeftOut::Contended)), (4, 5));
    let (ms, bn) = figures(&state);
    assert!((ms - 7.0).abs() < 1e-6 && (bn - 100.0 / 7.0).abs() < 1e-6, "{ms} {bn}");
}

#[test]
fn when_every_inference_was_contended_the_stall_rule_alone_decides() {
    let mut state = state();
    for i in 0..6 {
        let bn = if i == 5 { 20.0 } else { 1.0 };
        state.apply(profiled(i, 100 + 100 * i, 6.0, bn));
    }
    state.apply(sample(1000, true));
    let m = &state.models[0];
    assert_eq!((m.profiled, m.window.left_out(LeftOut::Contended), m.window.left_out(LeftOut::Stalled)), (5, 0, 1));
    assert!((figures(&state).0 - 7.0).abs() < 1e-6);
}

#[test]
fn the_window_keeps_the_latest_inferences_and_the_tree_holds_exactly_their_sums() {
    let mut state = state();
    let n = WINDOW as u64 + 10;
    for i in 0..n {
        // Slowly drifting: none is a stall against its neighbours.
        state.apply(profiled(i, 10 * i, 6.0 + i as f64 * 0.01, 1.0));
    }
    let m = &state.models[0];
    assert_eq!((m.window.len(), m.profiled, m.window.seen()), (WINDOW, WINDOW as u64, n));
    let expected: u64 = (10..n).map(|i| ((6.0 + i as f64 * 0.01) * MS as f64) as u64).sum();
    assert_eq!(state.tree.totals(CONV).total_ns, expected);
    assert_eq!(state.tree.totals(CONV).calls, WINDOW as u64);
}

#[test]
fn a_reset_forgets_the_window() {
    let mut state = state();
    for i in 0..5 {
        state.apply(profiled(i, 10 * i, 6.0, 1.0));
    }
    state.reset();
    assert_eq!((state.models[0].profiled, state.models[0].window.len()), (0, 0));
    state.apply(profiled(5, 60, 6.0, 1.0));
    assert_eq!(state.tree.totals(CONV).calls, 1);
    assert!((figures(&state).0 - 7.0).abs() < 1e-6);
}

#[test]
fn the_first_inferences_count_until_there_is_a_median_and_a_stall_among_them_is_then_dropped() {
    let mut state = state();
    state.apply(profiled(0, 10, 6.0, 30.0));
    assert_eq!(state.models[0].profiled, 1, "one inference: nothing to compare it with");
    state.apply(profiled(1, 20, 6.0, 1.0));
    state.apply(profiled(2, 30, 6.0, 1.0));
    let m = &state.models[0];
    assert_eq!((m.profiled, m.window.left_out(LeftOut::Stalled)), (2, 1));
    assert_eq!(state.tree.totals(BN).total_ns, 2 * MS);
}
