//! Built-in architectures, re-expressed layer for layer from the CIFAR-100 reference models.
//!
//! Every module runs inside a profiler [`Scope`](crate::core::profiling::profiler::Scope) named by its
//! `VarStore` path, so the op tree shows which layer an op belongs to.

use std::fmt;
use std::str::FromStr;

use tch::nn;

pub mod fold;
mod inception_v3;
mod inception_v4;
pub mod layers;
mod mobilenet;
mod mobilenet_v2;
mod net;
mod resnet;
mod senet;
mod shufflenet;
mod shufflenet_v2;
mod tiny;
mod vgg;
mod xception;

pub use net::Net;

/// The built-in architectures a manifest can name with `arch = "..."`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    Vgg16,
    InceptionV3,
    InceptionV4,
    ResNet50,
    SeResNet50,
    Xception,
    MobileNet,
    MobileNetV2,
    ShuffleNet,
    ShuffleNetV2,
    /// A small conv/BN/ReLU/pool/linear net for smoke tests and quick runs.
    Tiny,
}

impl Arch {
    /// Every architecture, in the order the study lists them (then `tiny`).
    pub const ALL: [Arch; 11] = [
        Arch::Vgg16,
        Arch::InceptionV3,
        Arch::InceptionV4,
        Arch::ResNet50,
        Arch::SeResNet50,
        Arch::Xception,
        Arch::MobileNet,
        Arch::MobileNetV2,
        Arch::ShuffleNet,
        Arch::ShuffleNetV2,
        Arch::Tiny,
    ];

    /// The name used in manifests and on screen.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Arch::Vgg16 => "vgg16",
            Arch::InceptionV3 => "inceptionv3",
            Arch::InceptionV4 => "inceptionv4",
            Arch::ResNet50 => "resnet50",
            Arch::SeResNet50 => "seresnet50",
            Arch::Xception => "xception",
            Arch::MobileNet => "mobilenet",
            Arch::MobileNetV2 => "mobilenetv2",
            Arch::ShuffleNet => "shufflenet",
            Arch::ShuffleNetV2 => "shufflenetv2",
            Arch::Tiny => "tiny",
        }
    }

    /// What the architecture is, in one line (for `--list-models`).
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Arch::Vgg16 => "VGG-16 with batch norm: plain 3x3 convolutions, large linear layers",
            Arch::InceptionV3 => "Inception-v3: parallel 1x1, 3x3 and factorised 7x7 branches",
            Arch::InceptionV4 => "Inception-v4: a deeper Inception with a uniform stem",
            Arch::ResNet50 => "ResNet-50: bottleneck residual blocks (1x1, 3x3, 1x1)",
            Arch::SeResNet50 => "SE-ResNet-50: ResNet-50 with squeeze-and-excitation gates",
            Arch::Xception => "Xception: depthwise-separable convolutions with residual links",
            Arch::MobileNet => "MobileNet: depthwise-separable convolutions, few MACs",
            Arch::MobileNetV2 => "MobileNetV2: inverted residuals with linear bottlenecks",
            Arch::ShuffleNet => "ShuffleNet: grouped 1x1 convolutions and channel shuffles",
            Arch::ShuffleNetV2 => "ShuffleNetV2: channel split and shuffle, for memory access cost",
            Arch::Tiny => "a small conv/BN/ReLU/pool/linear net for smoke tests",
        }
    }

    /// Trainable parameters when built for [`crate::core::models::model::NUM_CLASSES`] classes, as
    /// infertop builds it: the reference's own counts (`tests/nets.rs` checks each against a
    /// built network), known without building one.
    #[must_use]
    pub fn parameters(self) -> u64 {
        match self {
            Arch::Vgg16 => 34_015_396,
            Arch::InceptionV3 => 22_318_148,
            Arch::InceptionV4 => 41_296_516,
            Arch::ResNet50 => 23_705_252,
            Arch::SeResNet50 => 26_262_804,
            Arch::Xception => 21_013_988,
            Arch::MobileNet => 3_315_428,
            Arch::MobileNetV2 => 2_369_380,
            Arch::ShuffleNet => 1_012_108,
            Arch::ShuffleNetV2 => 1_360_896,
            Arch::Tiny => 8_436,
        }
    }

    /// Builds the network's variables under `p` and returns it.
    #[must_use]
    pub fn build(self, p: &nn::Path, num_classes: i64) -> Box<dyn Net> {
        match self {
            Arch::Vgg16 => Box::new(vgg::Vgg16::new(p, num_classes)),
            Arch::InceptionV3 => Box::new(inception_v3::InceptionV3::new(p, num_classes)),
            Arch::InceptionV4 => Box::new(inception_v4::InceptionV4::new(p, num_classes)),
            Arch::ResNet50 => Box::new(resnet::ResNet50::new(p, num_classes)),
            Arch::SeResNet50 => Box::new(senet::SeResNet50::new(p, num_classes)),
            Arch::Xception => Box::new(xception::Xception::new(p, num_classes)),
            Arch::MobileNet => Box::new(mobilenet::MobileNet::new(p, num_classes)),
            Arch::MobileNetV2 => Box::new(mobilenet_v2::MobileNetV2::new(p, num_classes)),
            Arch::ShuffleNet => Box::new(shufflenet::ShuffleNet::new(p, num_classes)),
            Arch::ShuffleNetV2 => Box::new(shufflenet_v2::ShuffleNetV2::new(p, num_classes)),
            Arch::Tiny => Box::new(tiny::Tiny::new(p, num_classes)),
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown architecture name; lists the valid ones.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown architecture '{0}' (valid: {valid})", valid = Arch::ALL.map(Arch::name).join(", "))]
pub struct UnknownArch(pub String);

impl FromStr for Arch {
    type Err = UnknownArch;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Arch::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| UnknownArch(s.to_string()))
    }
}

/// Number of scalar parameters in a `VarStore` (trainable or not, excluding BN running stats,
/// which the reference counts leave out too since they are buffers).
#[must_use]
pub fn parameter_count(vs: &nn::VarStore) -> u64 {
    vs.trainable_variables().iter().map(|t| t.numel() as u64).sum()
}
