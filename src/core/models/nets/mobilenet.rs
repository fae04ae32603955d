//! `MobileNet` (v1, width multiplier 1) for 32×32 inputs: a 3×3 stem and thirteen depthwise
//! separable convolutions, four of them with stride 2 (32 → 2 pixels).

use tch::{nn, TchError, Tensor};

use super::layers::{linear, Act, ConvBn, ConvSpec, Flatten, Layer, Pool};
use super::net::Net;

/// A depthwise 3×3 conv-BN-ReLU (`depthwise.0..2`, no bias) then a pointwise 1×1
/// conv-BN-ReLU (`pointwise.0..2`, which keeps its bias in the reference).
#[derive(Debug)]
struct DepthSeparableConv2d {
    depthwise: ConvBn,
    pointwise: ConvBn,
}

impl DepthSeparableConv2d {
    fn new(p: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        let dw = ConvSpec::k(3).stride(stride).pad(1).groups(c_in).no_bias();
        let relu = Some(Act::Relu);
        Self {
            depthwise: ConvBn::seq(&(p / "depthwise"), 0, c_in, c_in, dw, relu),
            pointwise: ConvBn::seq(&(p / "pointwise"), 0, c_in, c_out, ConvSpec::k(1), relu),
        }
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        self.pointwise.forward(&self.depthwise.forward(xs)?)
    }
}

/// The separable convolutions of each group after the stem: (name, output channels and
/// stride of each unit).
const GROUPS: [(&str, &[(i64, i64)]); 4] = [
    ("conv1", &[(128, 2), (128, 1)]),
    ("conv2", &[(256, 2), (256, 1)]),
    ("conv3", &[(512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1)]),
    ("conv4", &[(1024, 2), (1024, 1)]),
];

/// The whole network; fields carry the reference's attribute names.
#[derive(Debug)]
pub struct MobileNet {
    /// `stem.0`, a plain conv-BN-ReLU (children `conv`, `bn`, `relu`).
    stem_conv: ConvBn,
    /// `stem.1`.
    stem_separable: DepthSeparableConv2d,
    /// `conv1` to `conv4`, flattened in order.
    separables: Vec<DepthSeparableConv2d>,
    avg: Pool,
    flatten: Flatten,
    fc: Layer<nn::Linear>,
}

impl MobileNet {
    /// Builds the variables under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let stem = p / "stem";
        let mut separables = Vec::new();
        let mut c_in = 64;
        for (name, units) in GROUPS {
            for (i, &(c_out, stride)) in units.iter().enumerate() {
                separables.push(DepthSeparableConv2d::new(&(p / name / i.to_string()), c_in, c_out, stride));
                c_in = c_out;
            }
        }
        Self {
            stem_conv: ConvBn::named(&(&stem / "0"), 3, 32, ConvSpec::k(3).pad(1).no_bias(), Some(Act::Relu)),
            stem_separable: DepthSeparableConv2d::new(&(&stem / "1"), 32, 64, 1),
            separables,
            avg: Pool::global_avg(&(p / "avg")),
            flatten: Flatten::new(&(p / "flatten")),
            fc: linear(&(p / "fc"), 1024, num_classes),
        }
    }
}

impl Net for MobileNet {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.stem_separable.forward(&self.stem_conv.forward(xs)?)?;
        let x = self.separables.iter().try_fold(x, |x, unit| unit.forward(&x))?;
        self.fc.forward(&self.flatten.forward(&self.avg.forward(&x)?)?)
    }
}
