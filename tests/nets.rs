//! The built-in architectures: exact parameter counts of the reference models, logits of
//! shape `[batch, 100]`, `VarStore` names that match the reference's `state_dict` keys, and an
//! error, not a panic, for an input they cannot take.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use infertop::core::models::{parameter_count, Arch};
use tch::{nn, Device, Kind, Tensor};

#[path = "binary/command.rs"]
mod binary;

const NUM_CLASSES: i64 = 100;

/// Builds `arch` with seeded weights.
fn build(arch: Arch) -> (nn::VarStore, Box<dyn infertop::core::models::Net>) {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = arch.build(&vs.root(), NUM_CLASSES);
    (vs, net)
}

/// Checks the parameter count, runs one forward pass at batch 1 and one at batch 4, and
/// checks that a few of the reference's parameter names exist. Under emulation (many times
/// slower) only batch 1 runs: batch 4 goes through the same layers and proves only that the
/// batch dimension passes through, which the native run checks.
fn check(arch: Arch, expected_parameters: u64, names: &[&str]) {
    let (vs, net) = build(arch);
    assert_eq!(parameter_count(&vs), expected_parameters, "{arch}: parameter count");
    assert_eq!(arch.parameters(), expected_parameters, "{arch}: the count --list-models shows");
    tch::no_grad(|| {
        let batches: &[i64] = if binary::emulated() { &[1] } else { &[1, 4] };
        for &batch in batches {
            let xs = Tensor::randn([batch, 3, 32, 32], (Kind::Float, Device::Cpu));
            let logits = net.forward(&xs).unwrap_or_else(|e| panic!("{arch}: forward failed: {e}"));
            assert_eq!(logits.size(), [batch, NUM_CLASSES], "{arch}: output shape at batch {batch}");
            assert!(bool::try_from(logits.isfinite().all()).unwrap(), "{arch}: non-finite logits");
        }
    });
    let variables = vs.variables();
    for name in names {
        assert!(variables.contains_key(*name), "{arch}: no variable '{name}'");
    }
}

#[test]
fn vgg16() {
    check(Arch::Vgg16, 34_015_396, &["features.0.weight", "features.41.running_var", "classifier.6.bias"]);
}

#[test]
fn inceptionv3() {
    check(
        Arch::InceptionV3,
        22_318_148,
        &[
            "Conv2d_1a_3x3.conv.weight",
            "Mixed_5b.branchpool.1.bn.weight",
            "Mixed_6e.branch7x7stack.4.conv.weight",
            "Mixed_7c.branch3x3stack_3b.bn.running_mean",
            "linear.bias",
        ],
    );
}

#[test]
fn inceptionv4() {
    check(
        Arch::InceptionV4,
        41_296_516,
        &[
            "stem.branch7x7a.3.conv.weight",
            "inception_a.InceptionA_3.branchpool.1.conv.weight",
            "reduction_a.branch3x3.bn.bias",
            "inception_b.InceptionB_6.branch7x7stack.4.conv.weight",
            "inception_c.InceptionC_2.branch3x3stackb.conv.weight",
            "linear.weight",
        ],
    );
}

#[test]
fn resnet50() {
    check(
        Arch::ResNet50,
        23_705_252,
        &["conv1.0.weight", "conv2_x.0.shortcut.0.weight", "conv5_x.2.residual_function.7.running_var", "fc.bias"],
    );
}

#[test]
fn seresnet50() {
    check(
        Arch::SeResNet50,
        26_262_804,
        &["pre.0.bias", "stage1.0.excitation.2.weight", "stage4.2.residual.6.bias", "linear.weight"],
    );
}

#[test]
fn xception() {
    check(
        Arch::Xception,
        21_013_988,
        &[
            "entry_flow.conv3_residual.0.depthwise.weight",
            "entry_flow.conv5_shortcut.0.bias",
            "middel_flow.middel_block.7.conv3.1.pointwise.weight",
            "exit_flow.conv.3.pointwise.weight",
            "fc.weight",
        ],
    );
}

#[test]
fn mobilenet() {
    check(
        Arch::MobileNet,
        3_315_428,
        &["stem.0.conv.weight", "stem.1.pointwise.0.bias", "conv3.5.depthwise.1.weight", "fc.weight"],
    );
}

#[test]
fn mobilenetv2() {
    check(
        Arch::MobileNetV2,
        2_369_380,
        &["pre.0.bias", "stage1.residual.7.weight", "stage4.3.residual.3.weight", "conv2.weight"],
    );
}

#[test]
fn shufflenet() {
    check(
        Arch::ShuffleNet,
        1_012_108,
        &[
            "conv1.conv.weight",
            "stage2.0.bottlneck.0.pointwise.0.weight",
            "stage3.7.depthwise.depthwise.1.running_mean",
            "stage4.0.expand.pointwise.0.bias",
            "fc.weight",
        ],
    );
}

#[test]
fn shufflenetv2() {
    check(
        Arch::ShuffleNetV2,
        1_360_896,
        &["pre.1.weight", "stage2.0.shortcut.2.weight", "stage3.7.residual.5.weight", "conv5.1.running_var", "fc.bias"],
    );
}

/// A wrong input (five channels instead of three) comes back as an error from every built-in
/// net, without any panic on the way: the live screen treats a panic as fatal even when it is
/// caught, since its panic hook fires first.
/// `tiny` has no reference; its count, which `--list-models` shows, is that of the net built.
#[test]
fn tiny_parameters_are_those_listed() {
    let (vs, _net) = build(Arch::Tiny);
    assert_eq!(parameter_count(&vs), Arch::Tiny.parameters());
}

#[test]
fn wrong_input_is_an_error_not_a_panic() {
    let results = recording_panics(|| {
        Arch::ALL.map(|arch| {
            let (_vs, net) = build(arch);
            let xs = Tensor::randn([1, 5, 32, 32], (Kind::Float, Device::Cpu));
            (arch, tch::no_grad(|| net.forward(&xs)))
        })
    });
    let results = results.expect("no panic, caught or not, during the forward passes");
    for (arch, result) in results {
        let Err(e) = result else { panic!("{arch}: a 5-channel input gave logits") };
        let text = e.to_string();
        assert!(
            text.contains("to have 3 channels, but got 5 channels"),
            "{arch}: the error does not name the channel mismatch: {text}"
        );
    }
}

/// Runs `f` with a panic hook that notes any panic on this thread (other threads go to the
/// previous hook); `None` if the hook fired, even for a panic caught inside `f`.
fn recording_panics<T>(f: impl FnOnce() -> T) -> Option<T> {
    let panicked = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&panicked);
    let this_thread = std::thread::current().id();
    let previous: Arc<dyn Fn(&PanicHookInfo<'_>) + Send + Sync> = Arc::from(std::panic::take_hook());
    let others = Arc::clone(&previous);
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == this_thread {
            flag.store(true, Ordering::SeqCst);
        } else {
            others(info);
        }
    }));
    let out = std::panic::catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(Box::new(move |info| previous(info)));
    out.ok().filter(|_| !panicked.load(Ordering::SeqCst))
}
