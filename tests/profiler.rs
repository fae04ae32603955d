//! The op profiler on small real nets: op names, call counts, times, MACs, categories.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]
#![allow(clippy::float_cmp)] // MAC and byte counts are integers held in f64: exact comparison is the test.

use std::collections::HashMap;
use std::sync::Arc;

use infertop::core::analysis::{model_profile, op_rows};
use infertop::core::profiling::Category;
use infertop::core::profiling::{NodeId, NodeInfo, NodeKind, NodeTiming, ProfilerError, Recorder, Scope};
use infertop::core::run::{Event, Inference};
use infertop::core::state::MonitorState;
use tch::{nn, nn::Module, Device, Kind, Tensor};

/// Runs `f` once with calibration and `timed` times with timing, the way the engine does, and
/// folds the results into a one-model state.
fn profile(name: &str, timed: usize, f: impl Fn() -> Tensor) -> (MonitorState, Vec<(u64, Vec<NodeTiming>)>) {
    let _g = tch::no_grad_guard();
    tch::set_num_threads(1);
    let scope = Scope::new(&format!("model:{name}"));
    let mut rec = Recorder::start().expect("recorder");
    let (_, nodes) = rec.calibrate(|| scope.run(&f));
    let model_scope = find(&nodes, &format!("model:{name}"), NodeKind::Scope).id;
    let mut state = MonitorState::new(&[name]);
    state.apply(Event::Nodes(nodes));
    state.apply(Event::ModelScope { model: 0, scope: model_scope });
    let mut runs = Vec::new();
    for seq in 0..timed {
        let start = std::time::Instant::now();
        let _ = scope.run(&f);
        let wall = start.elapsed().as_nanos() as u64;
        let ops = rec.take().expect("complete recording");
        assert_eq!(rec.open_frames(), 0, "every op and scope closed");
        state.apply(Event::Nodes(rec.new_nodes()));
        state.apply(Event::Inference(Inference {
            model: 0,
            seq: seq as u64,
            wall_ns: wall,
            at_ns: 0,
            profiled: true,
            cold: false,
            usage: None,
            ops: ops.clone(),
        }));
        runs.push((wall, ops));
    }
    drop(rec);
    (state, runs)
}

fn find<'a>(nodes: &'a [NodeInfo], name: &str, kind: NodeKind) -> &'a NodeInfo {
    nodes.iter().find(|n| &*n.name == name && n.kind == kind).unwrap_or_else(|| panic!("no node {name}"))
}

fn row<'a>(rows: &'a [infertop::core::analysis::OpRow], op: &str) -> &'a infertop::core::analysis::OpRow {
    rows.iter()
        .find(|r| &*r.op == op)
        .unwrap_or_else(|| panic!("no row {op} in {:?}", rows.iter().map(|r| r.op.clone()).collect::<Vec<Arc<str>>>()))
}

#[test]
fn conv_macs_are_exact_for_plain_grouped_and_depthwise() {
    let vs = nn::VarStore::new(Device::Cpu);
    let p = vs.root();
    let plain = nn::conv2d(&p / "plain", 3, 4, 3, nn::ConvConfig { padding: 1, ..Default::default() });
    let grouped = nn::conv2d(&p / "grouped", 4, 8, 3, nn::ConvConfig { padding: 1, groups: 2, ..Default::default() });
    let depthwise =
        nn::conv2d(&p / "dw", 8, 8, 3, nn::ConvConfig { padding: 1, groups: 8, stride: 2, ..Default::default() });
    let x = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
    let (state, _) = profile("convs", 3, || depthwise.forward(&grouped.forward(&plain.forward(&x))));
    let rows = op_rows(&state.tree, &state.models[0], false);
    let conv = row(&rows, "aten::conv2d");
    assert_eq!(conv.calls, 3.0);
    // N*Cout*Hout*Wout*(Cin/groups)*kh*kw for each of the three
    let plain_macs = 2.0 * 4.0 * 8.0 * 8.0 * 3.0 * 9.0;
    let grouped_macs = 2.0 * 8.0 * 8.0 * 8.0 * 2.0 * 9.0;
    let depthwise_macs = 2.0 * 8.0 * 4.0 * 4.0 * 1.0 * 9.0;
    assert_eq!(conv.macs, plain_macs + grouped_macs + depthwise_macs);
    assert_eq!(model_profile(&state.tree, &state.models[0]).macs, plain_macs + grouped_macs + depthwise_macs);
    // The convolution chain libtorch runs under conv2d.
    for op in ["aten::convolution", "aten::_convolution"] {
        assert_eq!(row(&rows, op).calls, 3.0, "{op}");
    }
}

#[test]
fn linear_and_matmul_macs_are_exact() {
    let vs = nn::VarStore::new(Device::Cpu);
    let fc = nn::linear(vs.root() / "fc", 10, 5, nn::LinearConfig::default());
    let x = Tensor::randn([2, 10], (Kind::Float, Device::Cpu));
    let a = Tensor::randn([3, 4], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([4, 6], (Kind::Float, Device::Cpu));
    let (state, _) = profile("dense", 2, || {
        let _ = a.matmul(&b);
        fc.forward(&x)
    });
    let rows = op_rows(&state.tree, &state.models[0], false);
    assert_eq!(row(&rows, "aten::linear").macs, 2.0 * 5.0 * 10.0);
    assert_eq!(row(&rows, "aten::matmul").macs, 3.0 * 4.0 * 6.0);
    assert_eq!(row(&rows, "aten::linear").category, Category::Linear);
    assert_eq!(model_profile(&state.tree, &state.models[0]).macs, 100.0 + 72.0);
}

#[test]
fn times_nest_and_categories_add_up_to_op_time() {
    let vs = nn::VarStore::new(Device::Cpu);
    let p = vs.root();
    let conv = nn::conv2d(&p / "conv", 3, 8, 3, nn::ConvConfig { padding: 1, bias: false, ..Default::default() });
    let bn = nn::batch_norm2d(&p / "bn", 8, nn::BatchNormConfig::default());
    let fc = nn::linear(&p / "fc", 16, 10, nn::LinearConfig::default());
    let x = Tensor::randn([1, 3, 16, 16], (Kind::Float, Device::Cpu));
    let layer = Scope::new("block.conv");
    let (state, runs) = profile("net", 5, || {
        let y = layer.run(|| conv.forward(&x));
        let y = nn::ModuleT::forward_t(&bn, &y, false).relu();
        let z = Tensor::cat(&[&y, &y], 1);
        let z = (&z + &z).max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        fc.forward(&z.view([-1, 16]))
    });
    let model = &state.models[0];
    assert_eq!(model.window.seen(), 5);
    // Under a busy suite an inference of a net this small can stall; it is then left out, and
    // the figures below hold for the rest.
    assert!(model.profiled >= 3, "kept {} of 5", model.profiled);
    let rows = op_rows(&state.tree, model, false);
    let by_parent = op_rows(&state.tree, model, true);
    for r in &rows {
        assert!(r.self_ms <= r.total_ms + 1e-9, "{r:?}");
        assert!(r.self_ms >= 0.0);
    }
    // Exactly one call per inference of each top-level op we made.
    for op in [
        "aten::conv2d",
        "aten::batch_norm",
        "aten::relu",
        "aten::cat",
        "aten::add",
        "aten::max_pool2d",
        "aten::view",
        "aten::linear",
    ] {
        let top = by_parent
            .iter()
            .find(|r| &*r.op == op && r.parent_op.is_none())
            .unwrap_or_else(|| panic!("{op} is not top-level"));
        assert_eq!(top.calls, 1.0, "{op}");
    }
    // ReLU runs as clamp_min underneath, batch norm as native_batch_norm.
    assert!(by_parent.iter().any(|r| &*r.op == "aten::clamp_min" && r.parent_op.as_deref() == Some("aten::relu")));
    assert_eq!(row(&rows, "aten::native_batch_norm").category, Category::BatchNorm);
    let profile = model_profile(&state.tree, model);
    let sum: f64 = profile.categories.iter().map(|c| c.ms).sum();
    assert!((sum - profile.op_ms).abs() < 1e-9, "categories {sum} vs op time {}", profile.op_ms);
    for cat in [
        Category::Conv2d,
        Category::BatchNorm,
        Category::Relu,
        Category::Concat,
        Category::Add,
        Category::Pool,
        Category::Linear,
        Category::Bookkeeping,
    ] {
        let c = profile.categories.iter().find(|c| c.category == Some(cat)).unwrap();
        assert!(c.ms > 0.0, "{cat:?} got no time");
    }
    // Top-level op time never exceeds the wall time of the inference it ran in.
    for (wall, ops) in &runs {
        let top: u64 = ops
            .iter()
            .filter(|t| state.tree.get(t.node).is_some_and(infertop::core::profiling::Node::is_top_level_op))
            .map(|t| t.total_ns)
            .sum();
        assert!(top <= *wall, "top-level {top} ns > wall {wall} ns");
    }
    // The conv ran inside its layer scope.
    let conv_node = (0..5000)
        .filter_map(|i| state.tree.get(i).map(|n| (i, n)))
        .find(|(_, n)| &*n.name == "aten::conv2d")
        .unwrap()
        .1;
    assert_eq!(state.tree.name_of(conv_node.scope.unwrap()), "block.conv");
}

#[test]
fn nothing_is_recorded_on_threads_that_did_not_opt_in() {
    let _g = tch::no_grad_guard();
    let x = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
    let mut rec = Recorder::start().expect("recorder");
    let _ = rec.take();
    let handle = std::thread::spawn(move || {
        let _ = x.relu();
    });
    handle.join().unwrap();
    assert!(rec.take().expect("complete recording").is_empty());
}

/// Nodes by parent and name.
fn by_parent(nodes: &[NodeInfo]) -> HashMap<(Option<NodeId>, &str, NodeKind), NodeId> {
    nodes.iter().map(|n| ((n.parent, &*n.name, n.kind), n.id)).collect()
}

/// The node called `name` under `parent`.
fn child(
    tree: &HashMap<(Option<NodeId>, &str, NodeKind), NodeId>,
    parent: NodeId,
    name: &str,
    kind: NodeKind,
) -> NodeId {
    *tree.get(&(Some(parent), name, kind)).unwrap_or_else(|| panic!("no {kind:?} {name} under node {parent}"))
}

fn calls(timings: &[NodeTiming], node: NodeId) -> u32 {
    timings.iter().find(|t| t.node == node).map_or(0, |t| t.calls)
}

#[test]
fn a_second_recorder_on_a_thread_is_refused_and_leaves_the_first_recording() {
    let _g = tch::no_grad_guard();
    let x = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
    let mut first = Recorder::start().expect("first recorder");
    let _ = first.take();
    assert_eq!(Recorder::start().err(), Some(ProfilerError::AlreadyRecording));
    // The refused one switched nothing off on its way out.
    let _ = x.relu();
    assert!(!first.take().expect("complete recording").is_empty(), "the first recorder still records");
    assert!(std::thread::spawn(|| Recorder::start().is_ok()).join().unwrap(), "another thread has a slot of its own");
    drop(first);
    assert!(Recorder::start().is_ok(), "dropping the recorder frees the slot");
}

#[test]
fn a_stale_scope_handle_does_not_close_a_later_frame() {
    let _g = tch::no_grad_guard();
    tch::set_num_threads(1);
    let x = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
    let (outer, inner) = (Scope::new("stale.outer"), Scope::new("stale.inner"));
    let mut rec = Recorder::start().expect("recorder");
    let outer_open = outer.enter();
    // Switching recording drops every open frame: the outer scope's handle is stale from here.
    rec.set_enabled(false);
    rec.set_enabled(true);
    let inner_open = inner.enter();
    drop(outer_open);
    assert_eq!(rec.open_frames(), 1, "the stale handle closed the inner scope");
    let _ = x.relu();
    drop(inner_open);
    assert_eq!(rec.open_frames(), 0);
    let timings = rec.take().expect("complete recording");
    let nodes = rec.new_nodes();
    let tree = by_parent(&nodes);
    let inner = child(&tree, 0, "stale.inner", NodeKind::Scope);
    let relu = child(&tree, inner, "aten::relu", NodeKind::Op);
    assert_eq!((calls(&timings, inner), calls(&timings, relu)), (1, 1));
    // The outer frame was dropped, never closed: no time of its own.
    assert_eq!(calls(&timings, child(&tree, 0, "stale.outer", NodeKind::Scope)), 0);
}

#[test]
fn a_scope_guard_dropped_out_of_turn_closes_nothing() {
    let _g = tch::no_grad_guard();
    tch::set_num_threads(1);
    let x = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
    let (outer, inner) = (Scope::new("turn.outer"), Scope::new("turn.inner"));
    let mut rec = Recorder::start().expect("recorder");
    let outer_open = outer.enter();
    let inner_open = inner.enter();
    drop(outer_open);
    assert_eq!(rec.open_frames(), 2, "the outer guard closed a frame that was not its own");
    let _ = x.relu();
    drop(inner_open);
    assert_eq!(rec.open_frames(), 1, "the outer scope stays open until recording is switched");
    rec.set_enabled(true);
    assert_eq!(rec.open_frames(), 0);
    let timings = rec.take().expect("complete recording");
    let tree_nodes = rec.new_nodes();
    let tree = by_parent(&tree_nodes);
    let inner = child(&tree, child(&tree, 0, "turn.outer", NodeKind::Scope), "turn.inner", NodeKind::Scope);
    assert_eq!(calls(&timings, child(&tree, inner, "aten::relu", NodeKind::Op)), 1);
    assert_eq!(calls(&timings, inner), 1);
}

#[test]
fn nested_scopes_keep_their_parent_chain_across_a_recording_switch() {
    let _g = tch::no_grad_guard();
    tch::set_num_threads(1);
    let x = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
    let (model, block, conv) = (Scope::new("nest.model"), Scope::new("nest.block"), Scope::new("nest.conv"));
    let mut rec = Recorder::start().expect("recorder");
    let _ = model.run(|| {
        let _ = block.run(|| conv.run(|| x.relu()));
        // Drops the open model frame; what follows hangs from the root.
        rec.set_enabled(false);
        rec.set_enabled(true);
        block.run(|| x.relu())
    });
    assert_eq!(rec.open_frames(), 0);
    let timings = rec.take().expect("complete recording");
    let nodes = rec.new_nodes();
    let tree = by_parent(&nodes);
    let model = child(&tree, 0, "nest.model", NodeKind::Scope);
    let nested_block = child(&tree, model, "nest.block", NodeKind::Scope);
    let conv = child(&tree, nested_block, "nest.conv", NodeKind::Scope);
    let nested_relu = child(&tree, conv, "aten::relu", NodeKind::Op);
    let top_block = child(&tree, 0, "nest.block", NodeKind::Scope);
    let top_relu = child(&tree, top_block, "aten::relu", NodeKind::Op);
    // Every frame closed in turn counted once; the model frame, dropped by the switch, never.
    for node in [nested_block, conv, nested_relu, top_block, top_relu] {
        assert_eq!(calls(&timings, node), 1, "node {node}");
    }
    assert_eq!(calls(&timings, model), 0);
}

#[test]
fn node_names_stay_right_after_the_tree_outgrows_its_first_allocation() {
    let _g = tch::no_grad_guard();
    tch::set_num_threads(1);
    let x = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
    // Short names, which std::string keeps inline (so they move whenever the node table grows).
    let scopes: Vec<Scope> = (0..2500).map(|i| Scope::new(&format!("grow.{i}"))).collect();
    let mut rec = Recorder::start().expect("recorder");
    for scope in &scopes {
        let _ = scope.run(|| x.relu());
    }
    let _ = rec.take().expect("complete recording");
    let nodes = rec.new_nodes();
    assert!(nodes.len() > 3 * scopes.len(), "{} nodes", nodes.len());
    let tree = by_parent(&nodes);
    for scope in &scopes {
        let relu = child(&tree, child(&tree, 0, scope.name(), NodeKind::Scope), "aten::relu", NodeKind::Op);
        child(&tree, relu, "aten::clamp_min", NodeKind::Op);
    }
}

/// Trace mode keeps one span per closed frame, and the spans agree with the counters of the
/// same run to the nanosecond: per node, the calls, the summed durations (total time) and the
/// summed own time (self time).
#[test]
fn a_traced_run_keeps_every_frame_and_agrees_with_the_counters() {
    let vs = nn::VarStore::new(Device::Cpu);
    let p = vs.root();
    let conv = nn::conv2d(&p / "conv", 3, 8, 3, nn::ConvConfig { padding: 1, ..Default::default() });
    let fc = nn::linear(&p / "fc", 8 * 8 * 8, 10, nn::LinearConfig::default());
    let x = Tensor::randn([1, 3, 8, 8], (Kind::Float, Device::Cpu));
    let _g = tch::no_grad_guard();
    tch::set_num_threads(1);
    let (model, layer) = (Scope::new("model:traced"), Scope::new("traced.conv"));
    let mut rec = Recorder::start().expect("recorder");
    let run = || model.run(|| fc.forward(&layer.run(|| conv.forward(&x)).relu().view([1, -1])));
    let _ = run();
    let _ = rec.take().expect("complete recording");
    let (_, traced) = rec.trace(64, run);
    let recording = traced.expect("recording is on");
    let counters = rec.take().expect("complete recording");
    assert_eq!(recording.foreign_ops, 0, "one thread: no op elsewhere");
    let mut by_node: HashMap<NodeId, (u32, u64, u64)> = HashMap::new();
    for s in &recording.spans {
        assert!(s.start_ns <= s.end_ns && s.child_ns <= s.end_ns - s.start_ns, "{s:?}");
        let e = by_node.entry(s.node).or_default();
        *e = (e.0 + 1, e.1 + (s.end_ns - s.start_ns), e.2 + (s.end_ns - s.start_ns - s.child_ns));
    }
    assert_eq!(by_node.len(), counters.len(), "a span for every node the counters saw");
    for t in &counters {
        assert_eq!(by_node.get(&t.node), Some(&(t.calls, t.total_ns, t.self_ns)), "node {}", t.node);
    }
    // Children close before their parents: the model's scope is the last span.
    let nodes = rec.new_nodes();
    let last = recording.spans.last().expect("spans");
    assert_eq!(&*nodes.iter().find(|n| n.id == last.node).expect("node").name, "model:traced");
    // Each trace starts empty: neither the last trace's spans nor an untraced run's come back.
    let _ = run();
    let ((), again) = rec.trace(0, || ());
    assert!(again.expect("recording is on").spans.is_empty(), "spans from outside this trace");
    rec.set_enabled(false);
    assert!(rec.trace(0, || ()).1.is_err(), "no trace while paused");
}
