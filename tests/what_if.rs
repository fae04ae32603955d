//! What-if variants on real models: fold-bn removes the batch norms and keeps the answer,
//! channels-last reaches libtorch's channels-last kernels, a thread sweep names a best count,
//! oneDNN switched off runs the fallback kernels, and a variant that does not fit is refused.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]
#![allow(clippy::float_cmp)] // call counts held in f64: exact comparison is the test
#[path = "binary/command.rs"]
mod binary;

use std::path::Path;

use infertop::core::analysis::op_rows;
use infertop::core::analysis::{best_threads, comparisons, Verdict};
use infertop::core::models::Arch;
use infertop::core::models::LoadedModel;
use infertop::core::models::ModelSpec;
use infertop::core::models::{is_channels_last, mkldnn_available};
use infertop::core::models::{Variant, OUTPUT_TOLERANCE};
use infertop::core::profiling::Category;
use infertop::core::run::{Plan, Session};
use infertop::core::state::MonitorState;
use tch::{nn, nn::Module, CModule, Device, Kind, Tensor};

fn run_until(session: &mut Session, what: &str, pred: impl Fn(&MonitorState) -> bool) {
    let deadline =
        std::time::Instant::now() + std::time::Duration::from_secs(if binary::emulated() { 900 } else { 180 });
    while !pred(&session.state) {
        assert!(std::time::Instant::now() < deadline, "{what} not reached: {:?}", session.state.models);
        match session.events.blocking_recv() {
            Some(e) => session.state.apply(e),
            None => panic!("engine ended early"),
        }
    }
}

fn plan(manifest: &Path, threads: usize) -> Plan {
    let mut plan = Plan::new(Some(manifest), &[], None, threads, true).expect("manifest is valid");
    plan.sample_every = None;
    plan.profile_every = 1;
    plan
}

/// Resnet50's variables with batch-norm statistics and affine terms far from their defaults,
/// so folding them is a real change of the convolution weights.
fn save_resnet50_with_batch_norm_statistics(path: &Path) {
    tch::manual_seed(7);
    let vs = nn::VarStore::new(Device::Cpu);
    let _net = Arch::ResNet50.build(&vs.root(), 100);
    let mut vars = vs.variables();
    let norms: Vec<String> = vars.keys().filter_map(|k| k.strip_suffix(".running_mean")).map(str::to_string).collect();
    assert_eq!(norms.len(), 53, "resnet50 has 53 batch norms");
    tch::no_grad(|| {
        for bn in &norms {
            let n = vars[&format!("{bn}.running_mean")].size()[0];
            let mut set = |name: &str, value: Tensor| vars.get_mut(&format!("{bn}.{name}")).unwrap().copy_(&value);
            set("running_mean", Tensor::randn([n], (Kind::Float, Device::Cpu)) * 0.2);
            set("running_var", Tensor::rand([n], (Kind::Float, Device::Cpu)) + 0.5);
            set("weight", Tensor::randn([n], (Kind::Float, Device::Cpu)) * 0.2 + 1.0);
            set("bias", Tensor::randn([n], (Kind::Float, Device::Cpu)) * 0.2);
        }
    });
    vs.save(path).unwrap();
}

fn batch_norm_calls(state: &MonitorState, model: usize) -> f64 {
    op_rows(&state.tree, &state.models[model], false)
        .iter()
        .filter(|r| &*r.op == "aten::batch_norm")
        .map(|r| r.calls)
        .sum()
}

fn kernels(state: &MonitorState, model: usize) -> Vec<String> {
    op_rows(&state.tree, &state.models[model], false)
        .iter()
        .filter(|r| r.op.contains("conv") && r.calls > 0.0)
        .map(|r| r.op.to_string())
        .collect()
}

#[test]
fn fold_bn_removes_every_batch_norm_of_resnet50_and_keeps_its_outputs_within_1e_4() {
    let dir = tempfile::tempdir().unwrap();
    save_resnet50_with_batch_norm_statistics(&dir.path().join("resnet50.ot"));
    let manifest = dir.path().join("models.toml");
    let no_mkldnn = if mkldnn_available() { ", \"no-mkldnn\"" } else { "" };
    std::fs::write(
        &manifest,
        format!(
            "[[model]]\nname = \"resnet50\"\narch = \"resnet50\"\ninput = [3, 32, 32]\nweights = \"resnet50.ot\"\n\
             variants = [\"fold-bn\", \"channels-last\"{no_mkldnn}]\n"
        ),
    )
    .unwrap();
    let plan = plan(&manifest, 2);
    let names = plan.names();
    assert_eq!(names[..3], ["resnet50", "resnet50 \u{27e8}fold-bn\u{27e9}", "resnet50 \u{27e8}channels-last\u{27e9}"]);
    let mut session = Session::start(&plan, false).unwrap();
    run_until(&mut session, "every row profiled", |s| s.models.iter().all(|m| m.profiled >= 1));
    session.stop();
    let state = &session.state;

    // Every variant gives the original's answer, on the same input.
    for m in &state.models[1..] {
        let check = m.info.as_ref().unwrap().variant.as_ref().unwrap().check.as_ref().expect("checked");
        assert!(check.max_rel <= OUTPUT_TOLERANCE && check.agrees(), "{}: {check:?}", m.name);
    }
    // The folded weights really differ from the originals (statistics far from identity), so
    // agreeing outputs mean the fold is right, not that nothing changed.
    let original_ms = batch_norm_calls(state, 0);
    assert_eq!(original_ms, 53.0, "the original runs its 53 batch norms");
    assert_eq!(batch_norm_calls(state, 1), 0.0, "fold-bn runs none: {:?}", kernels(state, 1));
    let folded = comparisons(state).into_iter().find(|c| c.variant == Variant::FoldBn).unwrap();
    let bn_shift = folded.delta_shares.iter().find(|(c, _)| *c == Category::BatchNorm).unwrap().1;
    assert!(bn_shift < 0.0, "the batch-norm share drops: {bn_shift}");
    assert_ne!(folded.verdict, Verdict::Disagrees);

    if mkldnn_available() {
        let original = kernels(state, 0);
        let fallback = kernels(state, 3);
        // On x86_64 the original's convolutions take oneDNN; the aarch64 wheel may route fp32
        // convolutions elsewhere, so only the fallback's side is checked there.
        if cfg!(target_arch = "x86_64") {
            assert!(original.iter().any(|k| k.contains("mkldnn_convolution")), "{original:?}");
        }
        assert!(fallback.iter().any(|k| k.contains("convolution")), "{fallback:?}");
        assert!(!fallback.iter().any(|k| k.contains("mkldnn")), "no-mkldnn still ran oneDNN: {fallback:?}");
    }
}

/// A 3x3 kernel in the default layout.
fn plain_weight_layout() -> Tensor {
    Tensor::randn([8, 4, 3, 3], (Kind::Float, Device::Cpu))
}

#[test]
fn channels_last_lays_out_weights_and_input_nhwc_and_the_convolutions_answer_in_nhwc() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("models.toml");
    std::fs::write(
        &manifest,
        "[[model]]\nname = \"resnet50\"\narch = \"resnet50\"\ninput = [3, 32, 32]\nvariants = [\"channels-last\"]\n",
    )
    .unwrap();
    let plan = plan(&manifest, 2);
    let (original, variant): (&ModelSpec, &ModelSpec) = (&plan.models[0], &plan.models[1]);
    let input = Tensor::randn([1, 3, 32, 32], (Kind::Float, Device::Cpu));
    let nhwc = LoadedModel::variant_input(variant, &input).unwrap();
    assert!(is_channels_last(&nhwc) && !is_channels_last(&input));
    assert!(!is_channels_last(&plain_weight_layout()), "the check tells the layouts apart");
    let LoadedModel::BuiltIn { vars, .. } = LoadedModel::load(variant).unwrap() else { panic!("a built-in") };
    let weights: Vec<(String, Tensor)> = vars.variables().into_iter().filter(|(_, t)| t.dim() == 4).collect();
    assert_eq!(weights.len(), 53, "resnet50's convolutions");
    for (name, w) in &weights {
        assert!(is_channels_last(w), "{name} is not channels-last");
    }
    // libtorch's convolution keeps the layout it is given: NHWC in, NHWC out, so the kernels
    // that ran are its channels-last ones; the original's layout gives NCHW (the control).
    let stem = &vars.variables()["conv1.0.weight"];
    let out = nhwc.conv2d(stem, None::<Tensor>, [1, 1], [1, 1], [1, 1], 1);
    assert!(is_channels_last(&out), "the convolution answered in {:?} strides", out.stride());
    let LoadedModel::BuiltIn { vars: nchw_vars, .. } = LoadedModel::load(original).unwrap() else { panic!() };
    let nchw_stem = &nchw_vars.variables()["conv1.0.weight"];
    let out = input.conv2d(nchw_stem, None::<Tensor>, [1, 1], [1, 1], [1, 1], 1);
    assert!(!is_channels_last(&out));
    // Same weights as the original (seeded by its name), laid out differently.
    let diff = f64::try_from((stem - nchw_stem).abs().max()).unwrap();
    assert_eq!(diff, 0.0);
}

#[test]
fn a_thread_sweep_returns_the_best_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("models.toml");
    std::fs::write(
        &manifest,
        "[[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\nvariants = [\"threads=1..\"]\n",
    )
    .unwrap();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    // The run's own count is the original, so the sweep leaves it out.
    let run_threads = cores.max(2);
    let plan = plan(&manifest, run_threads);
    let counts: Vec<usize> = plan
        .models
        .iter()
        .filter_map(|m| match m.variant_of.as_ref()?.variant {
            Variant::Threads(n) => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(counts, (1..=cores).filter(|&n| n != run_threads).collect::<Vec<_>>());
    let mut session = Session::start(&plan, false).unwrap();
    run_until(&mut session, "ten latencies per row", |s| {
        s.models.iter().all(|m| m.latency.summary().is_some_and(|l| l.count >= 10))
    });
    session.stop();
    let state = &session.state;
    let (best, p50) = best_threads(state, &comparisons(state), 0, run_threads).expect("a best count");
    let medians: Vec<(usize, f64)> = std::iter::once(run_threads)
        .chain(counts.iter().copied())
        .zip(&state.models)
        .map(|(n, m)| (n, m.latency.summary().unwrap().p50_ms))
        .collect();
    let fastest = medians.iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    assert_eq!((best, p50), *fastest, "{medians:?}");
}

/// A small traced `TorchScript` net; with `batch_norm`, a batch norm between convolution and `ReLU`.
fn save_traced_net(path: &Path, batch_norm: bool) {
    let mut vs = nn::VarStore::new(Device::Cpu);
    let conv =
        nn::conv2d(vs.root() / "conv", 3, 8, 3, nn::ConvConfig { padding: 1, bias: false, ..Default::default() });
    let bn = nn::batch_norm2d(vs.root() / "bn", 8, nn::BatchNormConfig::default());
    let fc = nn::linear(vs.root() / "fc", 8, 10, nn::LinearConfig::default());
    tch::no_grad(|| {
        bn.running_mean.shallow_clone().copy_(&(Tensor::randn([8], (Kind::Float, Device::Cpu)) * 0.3));
        bn.running_var.shallow_clone().copy_(&(Tensor::rand([8], (Kind::Float, Device::Cpu)) + 0.5));
    });
    vs.freeze();
    let example = Tensor::randn([1, 3, 16, 16], (Kind::Float, Device::Cpu));
    let mut closure = |inputs: &[Tensor]| {
        let mut x = conv.forward(&inputs[0]);
        if batch_norm {
            x = x.batch_norm(
                bn.ws.as_ref(),
                bn.bs.as_ref(),
                Some(&bn.running_mean),
                Some(&bn.running_var),
                false,
                0.1,
                1e-5,
                false,
            );
        }
        let x = x.relu().adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        vec![fc.forward(&x)]
    };
    let module = CModule::create_by_tracing("TracedNet", "forward", &[example], &mut closure).expect("tracing works");
    module.save(path).expect("saving works");
}

#[test]
fn a_torchscript_model_is_frozen_with_its_batch_norm_folded_and_gives_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    save_traced_net(&dir.path().join("bn.pt"), true);
    let manifest = dir.path().join("models.toml");
    std::fs::write(
        &manifest,
        "[[model]]\nname = \"bn\"\ntorchscript = \"bn.pt\"\ninput = [3, 16, 16]\nvariants = [\"fold-bn\"]\n",
    )
    .unwrap();
    let plan = plan(&manifest, 1);
    let mut session = Session::start(&plan, false).unwrap();
    run_until(&mut session, "both rows profiled", |s| s.models.iter().all(|m| m.profiled >= 1));
    session.stop();
    let state = &session.state;
    let info = state.models[1].info.as_ref().unwrap();
    // Traced from frozen variables, the weights are constants: no parameters on either side.
    assert_eq!(info.params, state.models[0].info.as_ref().unwrap().params);
    let check = info.variant.as_ref().unwrap().check.as_ref().expect("checked");
    assert!(check.agrees(), "{check:?}");
    assert!(batch_norm_calls(state, 0) >= 1.0);
    assert_eq!(batch_norm_calls(state, 1), 0.0);
}

fn usage_error(args: &[&str], mentions: &[&str]) {
    let out = binary::infertop().args(args).arg("--headless").output().expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: not one line: {stderr}");
    for m in mentions {
        assert!(stderr.contains(m), "{args:?}: '{stderr}' does not mention '{m}'");
    }
}

#[test]
fn a_variant_that_does_not_fit_its_model_exits_2_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    save_traced_net(&dir.path().join("plain.pt"), false);
    let manifest = dir.path().join("models.toml");
    std::fs::write(&manifest, "[[model]]\nname = \"plain\"\ntorchscript = \"plain.pt\"\ninput = [3, 16, 16]\n")
        .unwrap();
    let m = manifest.to_str().unwrap();
    usage_error(&["--models", m, "--what-if", "fold-bn"], &["fold-bn", "'plain'", "no BatchNorm"]);
    usage_error(&["--models", m, "--threads", "2", "--what-if", "threads=2"], &["threads=2", "'plain'"]);
    usage_error(&["--models", m, "--what-if", "fold"], &["'fold'", "fold-bn"]);
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[model]]\nname = \"plain\"\ntorchscript = \"plain.pt\"\ninput = [3, 16, 16]\nvariants = [\"nhwc\"]\n",
    )
    .unwrap();
    usage_error(&["--models", bad.to_str().unwrap()], &["bad.toml", "'plain'", "variants", "'nhwc'"]);
}

#[test]
fn headless_lines_and_models_csv_carry_the_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let out = binary::infertop()
        .args(["--headless", "--only", "tiny", "--threads", "2", "--what-if", "threads=1", "--iterations", "30"])
        .args(["--print-every", "1h", "--export-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("vs tiny: p50 ") && stdout.contains("within tolerance 1e-4"), "{stdout}");
    let run = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    let mut reader = csv::Reader::from_path(run.join("models.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |row: &csv::StringRecord, name: &str| row[headers.iter().position(|h| h == name).unwrap()].to_string();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!((col(&rows[0], "variant"), col(&rows[0], "base_model")), (String::new(), String::new()));
    assert_eq!(col(&rows[1], "model"), "tiny \u{27e8}threads=1\u{27e9}");
    assert_eq!((col(&rows[1], "variant"), col(&rows[1], "base_model")), ("threads=1".into(), "tiny".into()));
    assert_eq!(col(&rows[1], "output_agrees"), "true");
    let delta: f64 = col(&rows[1], "delta_p50").parse().unwrap();
    let p50 = |r: &csv::StringRecord| col(r, "latency_ms_p50").parse::<f64>().unwrap();
    assert!((delta - (p50(&rows[1]) / p50(&rows[0]) - 1.0)).abs() < 1e-9);
}

/// Every batch norm of every built-in follows a convolution of its channel count and is folded
/// into it: none is left running, and the count is the nets' own.
#[test]
fn every_built_in_pairs_each_batch_norm_with_its_convolution() {
    for arch in Arch::ALL {
        let vs = nn::VarStore::new(Device::Cpu);
        let (_net, plan) = infertop::core::models::build_folded(|| arch.build(&vs.root(), 100));
        let norms = vs.variables().keys().filter(|k| k.ends_with(".running_mean")).count();
        assert!(norms > 0, "{arch:?} has batch norms");
        assert_eq!((plan.folded(), plan.unpaired()), (norms, 0), "{arch:?}");
    }
}
