//! `ShuffleNet` (v1, 3 groups) for 32×32 inputs: a 3×3 stem, then stages of 4, 8 and 4 units
//! (240, 480 and 960 channels), each stage starting with a stride-2 unit.

use tch::{nn, TchError, Tensor};

use super::layers::{linear, Act, Activation, ChannelShuffle, ConvBn, ConvSpec, Flatten, Layer, Pool, Step};
use super::net::Net;

/// Groups of the pointwise convolutions.
const GROUPS: i64 = 3;

/// Output channels of the stem and of stages 2 to 4 for 3 groups.
const CHANNELS: [i64; 4] = [24, 240, 480, 960];

/// Units per stage (stages 2 to 4).
const STAGE_UNITS: [usize; 3] = [4, 8, 4];

/// A `ShuffleNet` unit: grouped 1×1 bottleneck and `ReLU`, channel shuffle, 3×3 depthwise,
/// grouped 1×1 expansion, fusion with the shortcut, `ReLU`.
#[derive(Debug)]
struct ShuffleNetUnit {
    bottleneck: ConvBn,
    bottleneck_relu: Activation,
    channel_shuffle: ChannelShuffle,
    depthwise: ConvBn,
    expand: ConvBn,
    /// A 3×3 stride-2 average pool on the shortcut of a downsampling unit; `None` for the
    /// identity.
    shortcut: Option<Pool>,
    /// Concatenation `[shortcut, residual]` when downsampling (the residual only adds the
    /// missing channels), otherwise element-wise sum.
    fusion: Step,
    relu: Activation,
}

impl ShuffleNetUnit {
    fn new(p: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        let c_mid = c_out / 4;
        let downsample = stride != 1 || c_in != c_out;
        let pointwise = ConvSpec::k(1).groups(GROUPS);
        let depthwise = ConvSpec::k(3).stride(stride).pad(1).groups(c_mid);
        let c_expand = if downsample { c_out - c_in } else { c_out };
        // The attribute is spelled `bottlneck` in the reference; the names are kept so that
        // exported weights load by name.
        let b = p / "bottlneck";
        Self {
            bottleneck: ConvBn::seq(&(&b / "0" / "pointwise"), 0, c_in, c_mid, pointwise, None),
            bottleneck_relu: Activation::relu(&(&b / "1")),
            channel_shuffle: ChannelShuffle::new(&(p / "channel_shuffle"), GROUPS),
            depthwise: ConvBn::seq(&(p / "depthwise" / "depthwise"), 0, c_mid, c_mid, depthwise, None),
            expand: ConvBn::seq(&(p / "expand" / "pointwise"), 0, c_mid, c_expand, pointwise, None),
            shortcut: downsample.then(|| Pool::avg(&(p / "shortcut"), 3, 2, 1)),
            fusion: Step::new(&(p / "fusion")),
            relu: Activation::new(&(p / "relu"), Act::Relu),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let shortcut = self.shortcut.as_ref().map(|pool| pool.forward(x)).transpose()?;
        let y = self.bottleneck_relu.forward(self.bottleneck.forward(x)?)?;
        let y = self.expand.forward(&self.depthwise.forward(&self.channel_shuffle.forward(&y)?)?)?;
        let fused = self.fusion.run(&y, |y| match &shortcut {
            Some(pooled) => Tensor::f_cat(&[pooled, y], 1),
            None => x.f_add(y),
        })?;
        self.relu.forward(fused)
    }
}

/// The whole network; fields carry the reference's attribute names.
#[derive(Debug)]
pub struct ShuffleNet {
    conv1: ConvBn,
    /// `stage2` to `stage4`, flattened in order.
    units: Vec<ShuffleNetUnit>,
    avg: Pool,
    flatten: Flatten,
    fc: Layer<nn::Linear>,
}

impl ShuffleNet {
    /// Builds the variables under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let mut units = Vec::new();
        for (s, &count) in STAGE_UNITS.iter().enumerate() {
            let stage = p / format!("stage{}", s + 2);
            for i in 0..count {
                let (c_in, stride) = if i == 0 { (CHANNELS[s], 2) } else { (CHANNELS[s + 1], 1) };
                units.push(ShuffleNetUnit::new(&(&stage / i.to_string()), c_in, CHANNELS[s + 1], stride));
            }
        }
        Self {
            conv1: ConvBn::named(&(p / "conv1"), 3, CHANNELS[0], ConvSpec::k(3).pad(1), Some(Act::Relu)),
            units,
            avg: Pool::global_avg(&(p / "avg")),
            flatten: Flatten::new(&(p / "flatten")),
            fc: linear(&(p / "fc"), CHANNELS[3], num_classes),
        }
    }
}

impl Net for ShuffleNet {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.units.iter().try_fold(self.conv1.forward(xs)?, |x, unit| unit.forward(&x))?;
        self.fc.forward(&self.flatten.forward(&self.avg.forward(&x)?)?)
    }
}
