//! SE-ResNet-50: the ResNet-50 layout with a squeeze-and-excitation gate (reduction 16) on
//! every bottleneck's residual branch. Unlike the plain `ResNet` of the reference, its
//! convolutions keep their biases and the residual branch ends in a `ReLU`.

use tch::{nn, TchError, Tensor};

use super::layers::{linear, Act, Activation, Add, ConvBn, ConvSpec, Flatten, Layer, Pool, Step};
use super::net::Net;
use super::resnet::{stage, Projection, EXPANSION, STEM_CHANNELS};

/// Squeeze-and-excitation reduction ratio.
const REDUCTION: i64 = 16;

/// Per-channel gates from globally pooled features: linear, `ReLU`, linear, sigmoid.
#[derive(Debug)]
struct Excitation {
    squeeze: Pool,
    flatten: Flatten,
    fc1: Layer<nn::Linear>,
    relu: Activation,
    fc2: Layer<nn::Linear>,
    sigmoid: Step,
}

impl Excitation {
    /// `squeeze` at `p/squeeze`, the gate layers at `p/excitation/0..3`.
    fn new(p: &nn::Path, channels: i64) -> Self {
        let e = p / "excitation";
        Self {
            squeeze: Pool::global_avg(&(p / "squeeze")),
            flatten: Flatten::new(&(p / "squeeze_flatten")),
            fc1: linear(&(&e / "0"), channels, channels / REDUCTION),
            relu: Activation::relu(&(&e / "1")),
            fc2: linear(&(&e / "2"), channels / REDUCTION, channels),
            sigmoid: Step::new(&(&e / "3")),
        }
    }

    /// Gates of shape `[batch, channels]`.
    fn forward(&self, residual: &Tensor) -> Result<Tensor, TchError> {
        let squeezed = self.flatten.forward(&self.squeeze.forward(residual)?)?;
        let hidden = self.relu.forward(self.fc1.forward(&squeezed)?)?;
        self.sigmoid.run(&self.fc2.forward(&hidden)?, Tensor::f_sigmoid)
    }
}

/// A bottleneck whose residual branch is rescaled channel by channel before the sum.
#[derive(Debug)]
struct BottleneckResidualSeBlock {
    residual: [ConvBn; 3],
    excitation: Excitation,
    scale: Step,
    shortcut: Option<Projection>,
    add: Add,
    relu: Step,
}

impl BottleneckResidualSeBlock {
    fn new(p: &nn::Path, c_in: i64, c_mid: i64, stride: i64) -> Self {
        let r = p / "residual";
        let c_out = c_mid * EXPANSION;
        let relu = Some(Act::Relu);
        Self {
            residual: [
                ConvBn::seq(&r, 0, c_in, c_mid, ConvSpec::k(1), relu),
                ConvBn::seq(&r, 3, c_mid, c_mid, ConvSpec::k(3).stride(stride).pad(1), relu),
                ConvBn::seq(&r, 6, c_mid, c_out, ConvSpec::k(1), relu),
            ],
            excitation: Excitation::new(p, c_out),
            scale: Step::new(&(p / "scale")),
            shortcut: Projection::maybe(&(p / "shortcut"), c_in, c_out, stride, true),
            add: Add::new(&(p / "add")),
            relu: Step::new(&(p / "relu")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        // The reference computes the shortcut first.
        let shortcut = self.shortcut.as_ref().map(|projection| projection.forward(x)).transpose()?;
        let residual = self.residual.iter().try_fold(x.shallow_clone(), |y, unit| unit.forward(&y))?;
        let gates = self.excitation.forward(&residual)?;
        let scaled = self.scale.run(&residual, |r| {
            let (n, c, _, _) = r.size4()?;
            r.f_mul(&gates.f_view([n, c, 1, 1])?.f_expand_as(r)?)
        })?;
        let sum = self.add.forward(&scaled, shortcut.as_ref().unwrap_or(x))?;
        // `F.relu` in the reference: not in place.
        self.relu.run(&sum, Tensor::f_relu)
    }
}

/// The whole network; fields carry the reference's attribute names.
#[derive(Debug)]
pub struct SeResNet50 {
    pre: ConvBn,
    stages: [Vec<BottleneckResidualSeBlock>; 4],
    avgpool: Pool,
    flatten: Flatten,
    linear: Layer<nn::Linear>,
}

impl SeResNet50 {
    /// Builds the variables under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let names = ["stage1", "stage2", "stage3", "stage4"];
        Self {
            pre: ConvBn::seq(&(p / "pre"), 0, 3, STEM_CHANNELS, ConvSpec::k(3).pad(1), Some(Act::Relu)),
            stages: std::array::from_fn(|s| stage(&(p / names[s]), s, BottleneckResidualSeBlock::new)),
            avgpool: Pool::global_avg(&(p / "avgpool")),
            flatten: Flatten::new(&(p / "flatten")),
            linear: linear(&(p / "linear"), 512 * EXPANSION, num_classes),
        }
    }
}

impl Net for SeResNet50 {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.stages.iter().flatten().try_fold(self.pre.forward(xs)?, |x, block| block.forward(&x))?;
        self.linear.forward(&self.flatten.forward(&self.avgpool.forward(&x)?)?)
    }
}
