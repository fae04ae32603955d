//! What each layer is, on real models: kinds, input and output shapes and convolution geometry
//! of known layers of built-in nets at 32x32 (worked out from `src/core/models/nets/`), and of a
//! `TorchScript` model with nested submodules, whose layers come from its module hierarchy.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]
#![allow(clippy::float_cmp)] // MAC counts are integers held in f64: exact comparison is the test.

use std::path::Path;
use std::time::Duration;

use infertop::core::analysis::model_profile;
use infertop::core::models::Arch;
use infertop::core::models::{ModelSource, ModelSpec};
use infertop::core::run::Schedule;
use infertop::core::run::{Plan, Session};
use infertop::core::state::MonitorState;
use infertop::export::LayerRecord;

fn spec(name: &str, source: ModelSource, input: [i64; 3]) -> ModelSpec {
    ModelSpec::new(name, source, input)
}

/// Runs the models, every inference profiled, until each has `profiled` profiled inferences.
fn measured(models: Vec<ModelSpec>, profiled: u64) -> MonitorState {
    let plan = Plan {
        models,
        threads: 1,
        op_profile: true,
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
    };
    let mut session = Session::start(&plan, false).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while !session.state.models.iter().all(|m| m.profiled >= profiled) {
        assert!(std::time::Instant::now() < deadline, "models not measured in time: {:?}", session.state.models);
        let event = session.events.blocking_recv().expect("engine running");
        session.state.apply(event);
    }
    session.stop();
    std::mem::replace(&mut session.state, MonitorState::new::<&str>(&[]))
}

/// A layer's row of `layers.csv`, or a failure listing the model's layers.
fn layer<'a>(rows: &'a [LayerRecord<'a>], model: &str, name: &str) -> &'a LayerRecord<'a> {
    rows.iter().find(|r| r.model == model && r.layer == name).unwrap_or_else(|| {
        let names: Vec<_> = rows.iter().filter(|r| r.model == model).map(|r| r.layer.as_str()).collect();
        panic!("no layer {name} in {model}: {names:?}")
    })
}

/// (kind, input, output) of a layer.
type Shapes<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn shapes<'a>(row: &'a LayerRecord<'a>) -> Shapes<'a> {
    (row.kind, row.input_shape.as_deref(), row.output_shape.as_deref())
}

/// (kernel size, stride, padding, dilation, groups) of a convolution layer.
type Geometry<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<i64>);

fn geometry<'a>(row: &'a LayerRecord<'a>) -> Geometry<'a> {
    (row.kernel_size.as_deref(), row.stride.as_deref(), row.padding.as_deref(), row.dilation.as_deref(), row.groups)
}

#[test]
fn known_layers_of_resnet50_and_shufflenetv2_have_their_kinds_shapes_and_geometry() {
    let models = [Arch::ResNet50, Arch::ShuffleNetV2].map(|a| spec(a.name(), ModelSource::Arch(a), [3, 32, 32]));
    let state = measured(models.to_vec(), 1);
    let rows = infertop::export::layer_rows(&state);
    // ResNet-50: the 3x3 stem keeps 32x32; conv3_x's first block carries stride 2 in its 3x3
    // convolution (128 inner channels, after conv2_x's 256 outputs); fc maps 2048 to 100.
    let stem = layer(&rows, "resnet50", "conv1.0");
    assert_eq!(shapes(stem), (Some("Conv2D"), Some("1x3x32x32"), Some("1x64x32x32")));
    assert_eq!(geometry(stem), (Some("3x3"), Some("1x1"), Some("1x1"), Some("1x1"), Some(1)));
    let down = layer(&rows, "resnet50", "conv3_x.0.residual_function.3");
    assert_eq!(shapes(down), (Some("Conv2D"), Some("1x128x32x32"), Some("1x128x16x16")));
    assert_eq!(geometry(down), (Some("3x3"), Some("2x2"), Some("1x1"), Some("1x1"), Some(1)));
    let reduce = layer(&rows, "resnet50", "conv3_x.0.residual_function.0");
    assert_eq!(geometry(reduce), (Some("1x1"), Some("1x1"), Some("0x0"), Some("1x1"), Some(1)));
    assert_eq!(
        shapes(layer(&rows, "resnet50", "conv1.1")),
        (Some("BatchNorm"), Some("1x64x32x32"), Some("1x64x32x32"))
    );
    assert_eq!(shapes(layer(&rows, "resnet50", "fc")), (Some("Linear"), Some("1x2048"), Some("1x100")));
    // ShuffleNetV2: stage2's first unit halves 32x32 with a depthwise 3x3 over the stem's 24
    // channels; its later units split 116 channels and convolve 58 of them depthwise.
    let dw = layer(&rows, "shufflenetv2", "stage2.0.residual.3");
    assert_eq!(shapes(dw), (Some("Conv2D"), Some("1x24x32x32"), Some("1x24x16x16")));
    assert_eq!(geometry(dw), (Some("3x3"), Some("2x2"), Some("1x1"), Some("1x1"), Some(24)));
    let split_dw = layer(&rows, "shufflenetv2", "stage2.1.residual.3");
    assert_eq!(shapes(split_dw), (Some("Conv2D"), Some("1x58x16x16"), Some("1x58x16x16")));
    assert_eq!(split_dw.groups, Some(58), "depthwise: groups == channels");
    assert_eq!(shapes(layer(&rows, "shufflenetv2", "fc")), (Some("Linear"), Some("1x1024"), Some("1x100")));
    // Every convolution layer of both has its geometry and names its kernel path; nothing else
    // has a geometry.
    for row in &rows {
        let conv = row.kind == Some("Conv2D");
        assert_eq!(row.kernel_size.is_some(), conv, "{} {}", row.model, row.layer);
        if conv {
            assert!(row.kernel.is_some() && row.stride.is_some() && row.groups.is_some(), "{row:?}");
        }
        assert!(row.output_shape.is_some(), "{} {} has no output shape", row.model, row.layer);
    }
}

#[test]
fn a_scripted_model_with_submodules_gets_one_layer_per_module_with_kinds_and_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scripted.pt");
    infertop::core::profiling::save_scripted_test_net(&path).expect("the scripted test net saves");
    let state = measured(vec![spec("scripted", ModelSource::TorchScript(path.clone()), [3, 16, 16])], 3);
    let rows = infertop::export::layer_rows(&state);
    let mut leaves: Vec<_> = rows.iter().filter(|r| r.leaf).map(|r| r.layer.as_str()).collect();
    leaves.sort_unstable();
    assert_eq!(leaves, ["fc", "features.act", "features.bn", "features.conv", "features.dw"]);
    let conv = layer(&rows, "scripted", "features.conv");
    assert_eq!(shapes(conv), (Some("Conv2D"), Some("1x3x16x16"), Some("1x8x8x8")));
    assert_eq!(geometry(conv), (Some("3x3"), Some("2x2"), Some("1x1"), Some("1x1"), Some(1)));
    assert!(conv.kernel.is_some(), "the convolution names its kernel path");
    let dw = layer(&rows, "scripted", "features.dw");
    assert_eq!(shapes(dw), (Some("Conv2D"), Some("1x8x8x8"), Some("1x8x8x8")));
    assert_eq!(dw.groups, Some(8));
    assert_eq!(shapes(layer(&rows, "scripted", "features.bn")), (Some("BatchNorm"), Some("1x8x8x8"), Some("1x8x8x8")));
    assert_eq!(shapes(layer(&rows, "scripted", "features.act")), (Some("ReLU"), Some("1x8x8x8"), Some("1x8x8x8")));
    assert_eq!(shapes(layer(&rows, "scripted", "fc")), (Some("Linear"), Some("1x8"), Some("1x10")));
    let block = layer(&rows, "scripted", "features");
    assert_eq!(shapes(block), (Some("block"), Some("1x3x16x16"), Some("1x8x8x8")));
    // The layers' MACs are the model's convolutions and linear layer, exactly.
    let macs = |name: &str| layer(&rows, "scripted", name).macs;
    assert_eq!(macs("features.conv"), 8.0 * 8.0 * 8.0 * 3.0 * 9.0);
    assert_eq!(macs("features.dw"), 8.0 * 8.0 * 8.0 * 9.0);
    assert_eq!(macs("fc"), 10.0 * 8.0);
    let model = &state.models[0];
    assert_eq!(model_profile(&state.tree, model).macs, macs("features.conv") + macs("features.dw") + macs("fc"));
    // Time is booked to the module scopes: leaves take part of the forward pass.
    let leaf_ms: f64 = rows.iter().filter(|r| r.leaf).filter_map(|r| r.ms).sum();
    assert!(leaf_ms > 0.0, "{rows:?}");
    assert!(Path::new(&path).exists());
}
