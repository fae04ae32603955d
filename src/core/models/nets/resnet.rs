//! ResNet-50 for 32×32 inputs: a 3×3 stem without pooling, then bottleneck stages of 3, 4, 6
//! and 3 blocks; the first stage keeps stride 1.

use tch::{nn, TchError, Tensor};

use super::layers::{
    batch_norm2d, conv, linear, Act, Activation, Add, BatchNorm2d, Conv2d, ConvBn, ConvSpec, Flatten, Layer, Pool,
};
use super::net::Net;

/// Channels out of the stem.
pub(super) const STEM_CHANNELS: i64 = 64;

/// Width multiplier from a bottleneck's inner channels to its output channels.
pub(super) const EXPANSION: i64 = 4;

/// Blocks per stage for the 50-layer variants.
pub(super) const STAGE_BLOCKS: [usize; 4] = [3, 4, 6, 3];

/// Inner channels and first-block stride of each stage.
pub(super) const STAGES: [(i64, i64); 4] = [(64, 1), (128, 2), (256, 2), (512, 2)];

/// The projection shortcut (1×1 convolution and batch norm) a block uses when its output
/// differs from its input in channels or resolution.
#[derive(Debug)]
pub(super) struct Projection {
    conv: Layer<Conv2d>,
    bn: Layer<BatchNorm2d>,
}

impl Projection {
    /// A projection at `p/0` (conv) and `p/1` (BN), or `None` when the identity fits.
    pub(super) fn maybe(p: &nn::Path, c_in: i64, c_out: i64, stride: i64, bias: bool) -> Option<Self> {
        (stride != 1 || c_in != c_out).then(|| {
            let spec = ConvSpec::k(1).stride(stride);
            let spec = if bias { spec } else { spec.no_bias() };
            Self { conv: conv(&(p / "0"), c_in, c_out, spec), bn: batch_norm2d(&(p / "1"), c_out) }
        })
    }

    pub(super) fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        self.bn.forward(&self.conv.forward(xs)?)
    }
}

/// A bottleneck block: 1×1 reduce, 3×3 (carrying the stride), 1×1 expand, plus shortcut,
/// then `ReLU`.
#[derive(Debug)]
struct BottleNeck {
    residual_function: [ConvBn; 3],
    shortcut: Option<Projection>,
    add: Add,
    relu: Activation,
}

impl BottleNeck {
    fn new(p: &nn::Path, c_in: i64, c_mid: i64, stride: i64) -> Self {
        let r = p / "residual_function";
        let c_out = c_mid * EXPANSION;
        let relu = Some(Act::Relu);
        Self {
            residual_function: [
                ConvBn::seq(&r, 0, c_in, c_mid, ConvSpec::k(1).no_bias(), relu),
                ConvBn::seq(&r, 3, c_mid, c_mid, ConvSpec::k(3).stride(stride).pad(1).no_bias(), relu),
                ConvBn::seq(&r, 6, c_mid, c_out, ConvSpec::k(1).no_bias(), None),
            ],
            shortcut: Projection::maybe(&(p / "shortcut"), c_in, c_out, stride, false),
            add: Add::new(&(p / "add")),
            relu: Activation::relu(&(p / "relu")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let [a, b, c] = &self.residual_function;
        let residual = c.forward(&b.forward(&a.forward(x)?)?)?;
        let sum = match &self.shortcut {
            Some(projection) => self.add.forward(&residual, &projection.forward(x)?)?,
            None => self.add.forward(&residual, x)?,
        };
        self.relu.forward(sum)
    }
}

/// The blocks of stage `s` (0 to 3) under `p/0`, `p/1`, ...: the first takes the previous
/// stage's output and carries the stride, the rest keep shape.
pub(super) fn stage<B>(p: &nn::Path, s: usize, block: fn(&nn::Path, i64, i64, i64) -> B) -> Vec<B> {
    let (c_mid, stride) = STAGES[s];
    let c_in = if s == 0 { STEM_CHANNELS } else { STAGES[s - 1].0 * EXPANSION };
    let first = block(&(p / "0"), c_in, c_mid, stride);
    let rest = (1..STAGE_BLOCKS[s]).map(|i| block(&(p / i.to_string()), c_mid * EXPANSION, c_mid, 1));
    std::iter::once(first).chain(rest).collect()
}

/// The whole network; fields carry the reference's attribute names.
#[derive(Debug)]
pub struct ResNet50 {
    conv1: ConvBn,
    stages: [Vec<BottleNeck>; 4],
    avg_pool: Pool,
    flatten: Flatten,
    fc: Layer<nn::Linear>,
}

impl ResNet50 {
    /// Builds the variables under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let names = ["conv2_x", "conv3_x", "conv4_x", "conv5_x"];
        let stages = std::array::from_fn(|s| stage(&(p / names[s]), s, BottleNeck::new));
        Self {
            conv1: ConvBn::seq(&(p / "conv1"), 0, 3, STEM_CHANNELS, ConvSpec::k(3).pad(1).no_bias(), Some(Act::Relu)),
            stages,
            avg_pool: Pool::global_avg(&(p / "avg_pool")),
            flatten: Flatten::new(&(p / "flatten")),
            fc: linear(&(p / "fc"), 512 * EXPANSION, num_classes),
        }
    }
}

impl Net for ResNet50 {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.conv1.forward(xs)?;
        let x = self.stages.iter().flatten().try_fold(x, |x, block| block.forward(&x))?;
        self.fc.forward(&self.flatten.forward(&self.avg_pool.forward(&x)?)?)
    }
}
