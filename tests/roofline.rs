//! The machine's two limits and what they explain, on real models: the memory bandwidth
//! measured through libtorch, the roofline split of every op's time, and the latency models
//! fitted on what the run measured.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]
#![allow(clippy::float_cmp)] // the export carries the very values the core computed

#[path = "binary/command.rs"]
mod binary;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use infertop::core::analysis::leave_one_out;
use infertop::core::analysis::observations;
use infertop::core::analysis::{conv_kernels, model_profile};
use infertop::core::analysis::{roofline, Limits};
use infertop::core::limits::best_of_runs_in;
use infertop::core::limits::measure_gbs;
use infertop::core::models::Arch;
use infertop::core::models::{ModelSource, ModelSpec};
use infertop::core::profiling::Category;
use infertop::core::run::Schedule;
use infertop::core::run::{Plan, Session};
use infertop::core::state::MonitorState;

fn built_in(arch: Arch) -> ModelSpec {
    ModelSpec::new(arch.name(), ModelSource::Arch(arch), [3, 32, 32])
}

/// Runs `archs` with one inference in two profiled until each has `profiled` profiled ones and
/// as many timed.
fn measured(archs: &[Arch], profiled: u64) -> MonitorState {
    let plan = Plan {
        models: archs.iter().map(|a| built_in(*a)).collect(),
        threads: 1,
        op_profile: true,
        profile_every: 2,
        warmup: 2,
        iterations: None,
        calibration_cache: None,
        background_calibration: None,
        manifest_source: "test".into(),
        sample_every: None,
        sysfs_root: "/".into(),
        replay_speed: 1.0,
        schedule: Schedule::RoundRobin,
    };
    let mut session = Session::start(&plan, false).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let done = |s: &MonitorState| {
        s.bandwidth_gbs.is_some()
            && s.models
                .iter()
                .all(|m| m.profiled >= profiled && m.latency.summary().is_some_and(|l| l.count >= profiled))
    };
    while !done(&session.state) {
        assert!(std::time::Instant::now() < deadline, "models not measured in time");
        let event = session.events.blocking_recv().expect("engine running");
        session.state.apply(event);
    }
    session.stop();
    std::mem::replace(&mut session.state, MonitorState::new::<&str>(&[]))
}

#[test]
fn the_bandwidth_is_positive_cached_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bandwidth-gbs.json");
    let mut budgets = Vec::new();
    let first = best_of_runs_in(&file, "this machine", |budget| {
        budgets.push(budget);
        measure_gbs(budget)
    });
    assert!(first > 0.0 && first.is_finite(), "{first} GB/s");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("this machine"), "{text}");
    let second = best_of_runs_in(&file, "this machine", |budget| {
        budgets.push(budget);
        measure_gbs(budget)
    });
    assert!(second >= first, "the cached best is kept: {second} < {first}");
    assert!(budgets[1] < budgets[0], "a cached value shortens the second measurement: {budgets:?}");
}

#[test]
fn the_roofline_parts_add_up_to_the_op_time_and_the_latency_models_fit_three_real_models() {
    let state = measured(&[Arch::MobileNet, Arch::ShuffleNet, Arch::ShuffleNetV2], 3);
    let limits = Limits::of(&state).expect("peak and bandwidth measured");
    assert!(limits.bandwidth_gbs > 0.0 && limits.peak_gmacs > 0.0);
    let rows = infertop::export::model_rows(&state);
    for (m, row) in state.models.iter().zip(&rows) {
        let op_ms = model_profile(&state.tree, m).op_ms;
        let r = roofline(&state.tree, m, &limits);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.max(1e-9);
        assert!(close(r.model.total_ms(), op_ms), "{}: {r:?} vs {op_ms}", m.name);
        let by_category: f64 = r.categories.values().map(infertop::core::analysis::Split::total_ms).sum();
        assert!(close(by_category, op_ms), "{}: categories {by_category} vs {op_ms}", m.name);
        // Convolutions have a floor (at 32x32 often their bytes: weights outweigh the pixels);
        // BatchNorm does no MACs, so only its bytes can bind it.
        let conv = r.categories[&Category::Conv2d];
        assert!(conv.compute_ms + conv.memory_ms > 0.0, "{}: {conv:?}", m.name);
        let bn = r.categories[&Category::BatchNorm];
        assert!(bn.compute_ms == 0.0 && bn.memory_ms > 0.0, "{}: {bn:?}", m.name);
        // Convolutions run kernels and dispatch around them; BatchNorm runs no conv or matmul
        // kernel, so none of its time is a kernel's below peak.
        assert!(conv.outside_kernels_ms > 0.0, "{}: {conv:?}", m.name);
        assert_eq!(bn.below_peak_ms, 0.0, "{}: {bn:?}", m.name);
        let exported = row.compute_ms.unwrap()
            + row.memory_ms.unwrap()
            + row.below_peak_ms.unwrap()
            + row.outside_kernels_ms.unwrap();
        assert!(close(exported, row.op_ms.unwrap()), "{}: models.csv {exported} vs {:?}", m.name, row.op_ms);
        // Every convolution names the kernel that ran.
        let kernels = conv_kernels(&state.tree, m);
        let convs: Vec<_> = state
            .tree
            .descendants(m.scope.unwrap())
            .into_iter()
            .filter(|id| state.tree.get(*id).is_some_and(|n| n.is_top_level_op() && n.category == Category::Conv2d))
            .collect();
        assert!(!convs.is_empty());
        for id in convs {
            assert!(kernels.contains_key(&id), "{}: {} has no kernel path", m.name, state.tree.name_of(id));
        }
    }
    // layers.csv says what each layer is and which kernel its convolution ran.
    let layers = infertop::export::layer_rows(&state);
    let kind_of = |model: &str, layer: &str| {
        let row =
            layers.iter().find(|r| r.model == model && r.layer == layer).unwrap_or_else(|| panic!("{model} {layer}"));
        (row.kind, row.kernel.clone())
    };
    assert!(matches!(kind_of("shufflenet", "conv1.conv"), (Some("Conv2D"), Some(_))));
    assert_eq!(kind_of("shufflenet", "conv1.bn"), (Some("BatchNorm"), None));
    assert_eq!(kind_of("shufflenet", "conv1.relu"), (Some("ReLU"), None));
    assert_eq!(kind_of("shufflenet", "fc"), (Some("Linear"), None));
    for row in layers.iter().filter(|r| r.kind == Some("Conv2D")) {
        assert!(row.kernel.is_some(), "{} {} names no kernel", row.model, row.layer);
    }
    for row in layers.iter().filter(|r| !r.leaf) {
        assert_eq!(row.kind, Some("block"), "{} {} holds layers", row.model, row.layer);
    }
    let fitted = leave_one_out(&observations(&state)).expect("three models give a fit");
    assert_eq!(fitted.predictions.len(), 3);
    for p in &fitted.predictions {
        assert!(p.op_model_ms > 0.0 && p.mac_model_ms >= 0.0 && p.measured_ms > 0.0, "{p:?}");
        // The snapshot carries both models' left-out predictions.
        let row = &rows[p.model];
        assert_eq!(row.latency_ms_left_out_op_fit, Some(p.op_model_ms), "{}", p.name);
        assert_eq!(row.latency_ms_left_out_mac_fit, Some(p.mac_model_ms), "{}", p.name);
    }
    // Two models are too few to leave one out.
    assert!(leave_one_out(&observations(&state)[..2]).is_none());
}

type Row = HashMap<String, String>;

fn csv_rows(path: &Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader.records().map(|r| headers.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

/// The four parts of a row, `None` when its columns are empty.
fn parts(row: &Row) -> Option<[f64; 4]> {
    let cell = |c: &str| row[c].parse::<f64>().ok();
    Some([cell("compute_ms")?, cell("memory_ms")?, cell("below_peak_ms")?, cell("outside_kernels_ms")?])
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-6)
}

/// The real binary, run until each model has its timed inferences (a count; the engine measures
/// the machine's limits after the first), writes the four-way split into `models.csv`,
/// `ops.csv` and `layers.csv`: non-negative parts that add up to the time they split, the same
/// numbers in every file.
#[test]
fn the_four_parts_in_every_csv_of_a_real_run_add_up_to_the_time_they_split() {
    let dir = tempfile::tempdir().unwrap();
    let run = binary::run_until(
        binary::infertop()
            .args(["--headless", "--only", "tiny,shufflenetv2", "--iterations", "4", "--threads", "1"])
            .args(["--profile-every", "2", "--export-dir"])
            .arg(dir.path()),
        |out| out.lines().any(|l| l.starts_with("snapshot: ")),
    );
    assert_eq!(run.status.code(), Some(0), "{}{}", run.stdout, run.stderr);
    let folder = run.stdout.lines().find_map(|l| l.strip_prefix("snapshot: ")).expect("a snapshot").to_string();
    let (models, ops, layers) =
        ["models.csv", "ops.csv", "layers.csv"].map(|f| csv_rows(&Path::new(&folder).join(f))).into();
    for model in ["tiny", "shufflenetv2"] {
        let row = models.iter().find(|r| r["model"] == model).unwrap_or_else(|| panic!("{model}"));
        let split = parts(row).unwrap_or_else(|| panic!("{model} has no split: {row:?}"));
        let op_ms: f64 = row["op_ms"].parse().unwrap();
        assert!(split.iter().all(|p| *p >= 0.0) && close(split.iter().sum(), op_ms), "{model}: {split:?} vs {op_ms}");
        // ops.csv: each top-level op split in four adding up to its time; nested ops unsplit
        // (their time is their parent's); summed, the model's parts.
        let mut summed = [0.0; 4];
        for op in ops.iter().filter(|o| o["model"] == model) {
            if !op["parent_op"].is_empty() {
                assert!(parts(op).is_none() && op["below_peak_ms"].is_empty(), "{op:?}");
                continue;
            }
            let p = parts(op).unwrap_or_else(|| panic!("{op:?}"));
            let total: f64 = op["total_ms"].parse().unwrap();
            assert!(p.iter().all(|v| *v >= 0.0) && close(p.iter().sum(), total), "{op:?}");
            summed.iter_mut().zip(p).for_each(|(s, v)| *s += v);
            match op["op"].as_str() {
                // BatchNorm runs no convolution or matrix-multiply kernel.
                "aten::batch_norm" => assert_eq!(p[2], 0.0, "{op:?}"),
                // A convolution's dispatch through conv2d, convolution and _convolution is
                // outside its kernel.
                "aten::conv2d" => assert!(p[3] > 0.0, "{op:?}"),
                _ => {}
            }
        }
        for (i, (s, m)) in summed.iter().zip(split).enumerate() {
            assert!((s - m).abs() <= 1e-9 * op_ms.max(1e-6), "{model} part {i}: ops {s} vs models {m}");
        }
        // layers.csv: each layer's split is of the top-level ops inside it, part of its time.
        for layer in layers.iter().filter(|l| l["model"] == model) {
            let p = parts(layer).unwrap_or_else(|| panic!("{layer:?}"));
            let ms: f64 = layer["ms"].parse().unwrap();
            assert!(p.iter().all(|v| *v >= 0.0) && p.iter().sum::<f64>() <= ms * (1.0 + 1e-9), "{layer:?}");
        }
    }
    let shufflenet_ops = ops.iter().filter(|o| o["model"] == "shufflenetv2" && o["op"] == "aten::conv2d").count();
    assert_eq!(shufflenet_ops, 1, "a top-level conv2d row to check");
}
