//! `TorchScript` models made here (traced from a Rust closure and saved), run through a manifest.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]
#![allow(clippy::float_cmp)] // MAC and byte counts are integers held in f64: exact comparison is the test.

use std::path::Path;

use infertop::core::analysis::{model_profile, op_rows};
use infertop::core::run::{Plan, Session};
use infertop::core::state::{ModelStatus, MonitorState};
use tch::{nn, nn::Module, CModule, Device, Kind, Tensor};

/// Traces a small conv → relu → linear net taking `[1, 3, 16, 16]` and saves it to `path`.
fn save_traced_net(path: &Path) {
    let mut vs = nn::VarStore::new(Device::Cpu);
    let conv = nn::conv2d(vs.root() / "conv", 3, 8, 3, nn::ConvConfig { padding: 1, ..Default::default() });
    let fc = nn::linear(vs.root() / "fc", 8, 10, nn::LinearConfig::default());
    // Frozen (no gradients), the weights become constants of the traced graph.
    vs.freeze();
    let example = Tensor::randn([1, 3, 16, 16], (Kind::Float, Device::Cpu));
    let mut closure = |inputs: &[Tensor]| {
        let x = conv.forward(&inputs[0]).relu().adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        vec![fc.forward(&x)]
    };
    let module = CModule::create_by_tracing("TracedNet", "forward", &[example], &mut closure).expect("tracing works");
    module.save(path).expect("saving works");
}

fn run_until(session: &mut Session, pred: impl Fn(&MonitorState) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !pred(&session.state) {
        assert!(
            std::time::Instant::now() < deadline,
            "condition not reached: {:?}",
            session.state.models.iter().map(|m| &m.status).collect::<Vec<_>>()
        );
        match session.events.blocking_recv() {
            Some(e) => session.state.apply(e),
            None => panic!("engine ended early"),
        }
    }
}

#[test]
fn a_traced_model_runs_through_the_manifest_with_op_data_and_a_bad_shape_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    save_traced_net(&dir.path().join("traced.pt"));
    let manifest = dir.path().join("models.toml");
    std::fs::write(
        &manifest,
        "[[model]]\nname = \"traced\"\ntorchscript = \"traced.pt\"\ninput = [3, 16, 16]\n\n\
         [[model]]\nname = \"wrong-shape\"\ntorchscript = \"traced.pt\"\ninput = [5, 16, 16]\n\n\
         [[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n",
    )
    .unwrap();
    let mut plan = Plan::new(Some(&manifest), &[], None, 1, true).expect("manifest is valid");
    plan.sample_every = None;
    let mut session = Session::start(&plan, false).unwrap();
    run_until(&mut session, |s| {
        s.models[0].latency.summary().is_some_and(|l| l.count >= 5)
            && s.models[2].latency.summary().is_some_and(|l| l.count >= 5)
    });
    session.stop();
    let state = &session.state;
    match &state.models[1].status {
        ModelStatus::Failed(e) => {
            assert!(e.contains("wrong-shape") && e.contains("channels"), "{e}");
            assert_eq!(e.lines().count(), 1, "{e}");
            assert!(e.chars().count() <= 200 && !e.contains("frame #"), "{e}");
        }
        other => panic!("the wrong input shape should fail that model, got {other:?}"),
    }
    let traced = &state.models[0];
    assert!(traced.info.is_some());
    // Op-level data without layers: convolution MACs from real shapes.
    let rows = op_rows(&state.tree, traced, false);
    let conv =
        rows.iter().find(|r| &*r.op == "aten::_convolution" || &*r.op == "aten::conv2d").expect("a convolution op");
    assert_eq!(conv.macs, 8.0 * 16.0 * 16.0 * 3.0 * 9.0);
    assert!(model_profile(&state.tree, traced).op_ms > 0.0);
}

/// `tests/fixtures/torchscript/raises.pt` (made by `scripts/make-raising-torchscript.py`) raises
/// `RuntimeError("boom")` in its forward pass: the user must read "boom", not only the
/// interpreter's opening sentence, and the other model must keep running.
#[test]
fn a_scripted_exception_names_its_cause_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torchscript/raises.pt");
    std::fs::copy(&fixture, dir.path().join("raises.pt")).unwrap();
    let manifest = dir.path().join("models.toml");
    std::fs::write(
        &manifest,
        "[[model]]\nname = \"raises\"\ntorchscript = \"raises.pt\"\ninput = [3, 8, 8]\n\n\
         [[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n",
    )
    .unwrap();
    let mut plan = Plan::new(Some(&manifest), &[], None, 1, true).expect("manifest is valid");
    plan.sample_every = None;
    let mut session = Session::start(&plan, false).unwrap();
    run_until(&mut session, |s| {
        matches!(s.models[0].status, ModelStatus::Failed(_))
            && s.models[1].latency.summary().is_some_and(|l| l.count >= 3)
    });
    session.stop();
    let ModelStatus::Failed(e) = &session.state.models[0].status else { unreachable!("checked above") };
    assert_eq!(e, "model 'raises': forward pass failed: RuntimeError: boom");
}

/// The op tree of one calibrated and one timed inference of the scripted test net (nested
/// submodules), with the shim following `TorchScript` modules or not, and the frames left open.
/// On a thread of its own: the shim's tree is the thread's.
fn scripted_tree(path: &Path, modules: bool) -> (Vec<infertop::core::profiling::NodeInfo>, usize) {
    let path = path.to_path_buf();
    std::thread::spawn(move || scripted_tree_here(&path, modules)).join().expect("no panic")
}

fn scripted_tree_here(path: &Path, modules: bool) -> (Vec<infertop::core::profiling::NodeInfo>, usize) {
    use infertop::core::profiling::{follow_modules, Recorder, Scope};
    let _g = tch::no_grad_guard();
    let model = CModule::load(path).expect("the scripted net loads");
    let x = Tensor::randn([1, 3, 16, 16], (Kind::Float, Device::Cpu));
    let scope = Scope::new("model:scripted-tree");
    let mut rec = Recorder::start().expect("recorder");
    follow_modules(modules);
    let (_, nodes) = rec.calibrate(|| scope.run(|| model.forward_ts(&[&x]).unwrap()));
    let _ = scope.run(|| model.forward_ts(&[&x]).unwrap());
    let open = rec.open_frames();
    rec.take().expect("a complete recording");
    let fresh = rec.new_nodes();
    // The timed run (module paths re-used from the calibrated one) took the very same nodes.
    assert!(fresh.is_empty(), "the timed run made nodes calibration did not: {fresh:?}");
    follow_modules(true);
    (nodes, open)
}

#[test]
fn scripted_submodules_become_nested_scopes_that_close_with_the_model_and_keep_the_macs() {
    use infertop::core::profiling::{save_scripted_test_net, NodeKind};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scripted.pt");
    save_scripted_test_net(&path).expect("the scripted net saves");
    let (nodes, open) = scripted_tree(&path, true);
    assert_eq!(open, 0, "the module scopes closed with the model's scope");
    let name_of = |id: Option<u32>| nodes.iter().find(|n| Some(n.id) == id).map(|n| n.name.to_string());
    let scope_path = |op: &str| {
        let node = nodes.iter().find(|n| &*n.name == op).unwrap_or_else(|| panic!("no {op}"));
        let mut names = Vec::new();
        let mut parent = node.parent;
        while let Some(name) = name_of(parent) {
            names.push(name);
            parent = nodes.iter().find(|n| Some(n.id) == parent).and_then(|n| n.parent);
        }
        names
    };
    assert_eq!(scope_path("aten::relu"), ["features.act", "features", "model:scripted-tree", "<root>"]);
    assert_eq!(scope_path("aten::linear"), ["fc", "model:scripted-tree", "<root>"]);
    assert_eq!(scope_path("aten::adaptive_avg_pool2d"), ["model:scripted-tree", "<root>"], "the model's own op");
    let macs = |nodes: &[infertop::core::profiling::NodeInfo]| -> f64 {
        let top = |n: &&infertop::core::profiling::NodeInfo| {
            n.kind == NodeKind::Op
                && nodes.iter().find(|p| Some(p.id) == n.parent).is_some_and(|p| p.kind == NodeKind::Scope)
        };
        nodes.iter().filter(top).map(|n| n.macs).sum()
    };
    let expected = 8.0 * 8.0 * 8.0 * 3.0 * 9.0 + 8.0 * 8.0 * 8.0 * 9.0 + 10.0 * 8.0;
    assert_eq!(macs(&nodes), expected);
    // Switched off, the same ops sit flat under the model with the same MACs.
    let (flat, open) = scripted_tree(&path, false);
    assert_eq!(open, 0);
    assert!(!flat.iter().any(|n| n.kind == NodeKind::Scope && n.name.starts_with("features")), "no module scopes");
    assert_eq!(macs(&flat), expected);
}
