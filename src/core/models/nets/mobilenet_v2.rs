//! `MobileNetV2` for 32×32 inputs: inverted residual bottlenecks with linear outputs and `ReLU6`
//! activations, ending in a 1×1 convolution as the classifier.
//!
//! The reference's first convolution is 1×1 with padding 1, which grows the map to 34×34;
//! that is kept, as are the biases on every convolution.

use tch::{nn, TchError, Tensor};

use super::layers::{conv, Act, Conv2d, ConvBn, ConvSpec, Flatten, Layer, Pool, Step};
use super::net::Net;

/// An inverted residual: 1×1 expansion by `t`, 3×3 depthwise (carrying the stride), 1×1
/// linear projection; the input is added back when the shape is unchanged.
#[derive(Debug)]
struct LinearBottleNeck {
    residual: [ConvBn; 3],
    /// Present when stride is 1 and channels in equal channels out.
    add: Option<Step>,
}

impl LinearBottleNeck {
    fn new(p: &nn::Path, c_in: i64, c_out: i64, stride: i64, t: i64) -> Self {
        let r = p / "residual";
        let (wide, relu6) = (c_in * t, Some(Act::Relu6));
        let dw = ConvSpec::k(3).stride(stride).pad(1).groups(wide);
        Self {
            residual: [
                ConvBn::seq(&r, 0, c_in, wide, ConvSpec::k(1), relu6),
                ConvBn::seq(&r, 3, wide, wide, dw, relu6),
                ConvBn::seq(&r, 6, wide, c_out, ConvSpec::k(1), None),
            ],
            add: (stride == 1 && c_in == c_out).then(|| Step::new(&(p / "add"))),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let [a, b, c] = &self.residual;
        let residual = c.forward(&b.forward(&a.forward(x)?)?)?;
        match &self.add {
            // `residual += x` in the reference: in place on the fresh projection output.
            Some(add) => add.run_owned(residual, |mut r| r.f_add_(x)),
            None => Ok(residual),
        }
    }
}

/// A stage: the first bottleneck maps `c_in` to `c_out` with `stride`, the rest keep shape.
fn stage(p: &nn::Path, repeat: usize, c_in: i64, c_out: i64, stride: i64, t: i64) -> Vec<LinearBottleNeck> {
    let first = LinearBottleNeck::new(&(p / "0"), c_in, c_out, stride, t);
    let rest = (1..repeat).map(|i| LinearBottleNeck::new(&(p / i.to_string()), c_out, c_out, 1, t));
    std::iter::once(first).chain(rest).collect()
}

/// The whole network; fields carry the reference's attribute names.
#[derive(Debug)]
pub struct MobileNetV2 {
    pre: ConvBn,
    /// `stage1` to `stage7`, flattened in order (`stage1` and `stage7` are single blocks).
    blocks: Vec<LinearBottleNeck>,
    conv1: ConvBn,
    avgpool: Pool,
    conv2: Layer<Conv2d>,
    flatten: Flatten,
}

impl MobileNetV2 {
    /// Builds the variables under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let mut blocks = vec![LinearBottleNeck::new(&(p / "stage1"), 32, 16, 1, 1)];
        blocks.extend(stage(&(p / "stage2"), 2, 16, 24, 2, 6));
        blocks.extend(stage(&(p / "stage3"), 3, 24, 32, 2, 6));
        blocks.extend(stage(&(p / "stage4"), 4, 32, 64, 2, 6));
        blocks.extend(stage(&(p / "stage5"), 3, 64, 96, 1, 6));
        blocks.extend(stage(&(p / "stage6"), 3, 96, 160, 1, 6));
        blocks.push(LinearBottleNeck::new(&(p / "stage7"), 160, 320, 1, 6));
        Self {
            pre: ConvBn::seq(&(p / "pre"), 0, 3, 32, ConvSpec::k(1).pad(1), Some(Act::Relu6)),
            blocks,
            conv1: ConvBn::seq(&(p / "conv1"), 0, 320, 1280, ConvSpec::k(1), Some(Act::Relu6)),
            avgpool: Pool::global_avg(&(p / "avgpool")),
            conv2: conv(&(p / "conv2"), 1280, num_classes, ConvSpec::k(1)),
            flatten: Flatten::new(&(p / "flatten")),
        }
    }
}

impl Net for MobileNetV2 {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.blocks.iter().try_fold(self.pre.forward(xs)?, |x, block| block.forward(&x))?;
        let x = self.avgpool.forward(&self.conv1.forward(&x)?)?;
        self.flatten.forward(&self.conv2.forward(&x)?)
    }
}
