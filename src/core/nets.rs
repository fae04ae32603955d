//! Built-in architectures, re-expressed layer for layer from the CIFAR-100 reference models.
//!
//! Every module runs inside a profiler [`Scope`](crate::core::profiler::Scope) named by its
//! `VarStore` path, so the op tree shows which layer an op belongs to.

use std::fmt;
use std::str::FromStr;

use tch::{nn, TchError, Tensor};

pub mod fold;
mod inception_v3;
mod inception_v4;
pub mod layers;
mod mobilenet;
mod mobilenet_v2;
mod resnet;
mod senet;
mod shufflenet;
mod shufflenet_v2;
mod tiny;
mod vgg;
mod xception;

/// A network ready for inference (eval mode, batch of NCHW images in, logits out).
pub trait Net: fmt::Debug + Send {
    /// Logits for a batch; `xs` is `[batch, 3, 32, 32]` for the built-ins.
    ///
    /// # Errors
    /// What libtorch reports for an input the network cannot take (wrong channels, too small
    /// a picture), as an error rather than a panic.
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError>;
}

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
