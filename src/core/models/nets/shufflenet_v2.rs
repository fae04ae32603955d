//! `ShuffleNet` V2 (1× width) for 32×32 inputs: a 3×3 stem (conv and BN, no `ReLU`), stages of
//! 4, 8 and 4 units (116, 232 and 464 channels), a 1×1 convolution to 1024 channels.

use tch::{nn, TchError, Tensor};

use super::layers::{linear, Act, ChannelShuffle, Concat, ConvBn, ConvSpec, Flatten, Layer, Pool, Step};
use super::net::Net;

/// Output channels of stages 2 to 4 and of `conv5`.
const CHANNELS: [i64; 4] = [116, 232, 464, 1024];

/// Units after the first (stride-2) unit of stages 2 to 4.
const STAGE_REPEATS: [usize; 3] = [3, 7, 3];

/// Channels out of the stem.
const STEM_CHANNELS: i64 = 24;

/// 1×1 conv-BN-ReLU, 3×3 depthwise conv-BN (carrying the stride), 1×1 conv-BN-ReLU: the
/// residual branch, at `residual.0..7`.
fn residual_branch(p: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> [ConvBn; 3] {
    let relu = Some(Act::Relu);
    let dw = ConvSpec::k(3).stride(stride).pad(1).groups(c_in);
    [
        ConvBn::seq(p, 0, c_in, c_in, ConvSpec::k(1), relu),
        ConvBn::seq(p, 3, c_in, c_in, dw, None),
        ConvBn::seq(p, 5, c_in, c_out, ConvSpec::k(1), relu),
    ]
}

/// The two ways a unit feeds its branches.
#[derive(Debug)]
enum Input {
    /// Stride 1, same channels: the first half of the channels passes unchanged, the second
    /// half goes through the residual branch.
    Split(Step),
    /// Downsampling: both branches see the whole input; the shortcut is a depthwise 3×3
    /// conv-BN and a 1×1 conv-BN-ReLU (`shortcut.0..4`).
    Both(Box<[ConvBn; 2]>),
}

/// A `ShuffleNet` V2 unit: two branches concatenated, then a two-group channel shuffle.
#[derive(Debug)]
struct ShuffleUnit {
    input: Input,
    residual: [ConvBn; 3],
    cat: Concat,
    shuffle: ChannelShuffle,
}

impl ShuffleUnit {
    fn new(p: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        let downsample = stride != 1 || c_in != c_out;
        let (input, residual) = if downsample {
            let s = p / "shortcut";
            let dw = ConvSpec::k(3).stride(stride).pad(1).groups(c_in);
            let shortcut = [
                ConvBn::seq(&s, 0, c_in, c_in, dw, None),
                ConvBn::seq(&s, 2, c_in, c_out / 2, ConvSpec::k(1), Some(Act::Relu)),
            ];
            (Input::Both(Box::new(shortcut)), residual_branch(&(p / "residual"), c_in, c_out / 2, stride))
        } else {
            (Input::Split(Step::new(&(p / "split"))), residual_branch(&(p / "residual"), c_in / 2, c_in / 2, 1))
        };
        Self { input, residual, cat: Concat::new(&(p / "cat")), shuffle: ChannelShuffle::new(&(p / "shuffle"), 2) }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let (shortcut, residual_in) = match &self.input {
            Input::Split(split) => {
                let (_, channels, _, _) = x.size4()?;
                let halves = split.within(|| x.f_split(channels / 2, 1))?;
                let [first, second] = <[Tensor; 2]>::try_from(halves)
                    .map_err(|_| TchError::Shape(format!("cannot split {channels} channels into two halves")))?;
                (first, second)
            }
            Input::Both(shortcut) => {
                let [dw, pw] = shortcut.as_ref();
                (pw.forward(&dw.forward(x)?)?, x.shallow_clone())
            }
        };
        let [a, b, c] = &self.residual;
        let residual = c.forward(&b.forward(&a.forward(&residual_in)?)?)?;
        self.shuffle.forward(&self.cat.forward(&[shortcut, residual])?)
    }
}

/// A stage: a downsampling unit, then `repeat` units that keep shape.
fn stage(p: &nn::Path, c_in: i64, c_out: i64, repeat: usize) -> Vec<ShuffleUnit> {
    let first = ShuffleUnit::new(&(p / "0"), c_in, c_out, 2);
    let rest = (1..=repeat).map(|i| ShuffleUnit::new(&(p / i.to_string()), c_out, c_out, 1));
    std::iter::once(first).chain(rest).collect()
}

/// The whole network; fields carry the reference's attribute names.
#[derive(Debug)]
pub struct ShuffleNetV2 {
    /// Conv and BN only: the reference has no `ReLU` here.
    pre: ConvBn,
    /// `stage2` to `stage4`, flattened in order.
    units: Vec<ShuffleUnit>,
    conv5: ConvBn,
    avgpool: Pool,
    flatten: Flatten,
    fc: Layer<nn::Linear>,
}

impl ShuffleNetV2 {
    /// Builds the variables under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let mut units = Vec::new();
        let mut c_in = STEM_CHANNELS;
        for (s, &repeat) in STAGE_REPEATS.iter().enumerate() {
            units.extend(stage(&(p / format!("stage{}", s + 2)), c_in, CHANNELS[s], repeat));
            c_in = CHANNELS[s];
        }
        Self {
            pre: ConvBn::seq(&(p / "pre"), 0, 3, STEM_CHANNELS, ConvSpec::k(3).pad(1), None),
            units,
            conv5: ConvBn::seq(&(p / "conv5"), 0, CHANNELS[2], CHANNELS[3], ConvSpec::k(1), Some(Act::Relu)),
            avgpool: Pool::global_avg(&(p / "avgpool")),
            flatten: Flatten::new(&(p / "flatten")),
            fc: linear(&(p / "fc"), CHANNELS[3], num_classes),
        }
    }
}

impl Net for ShuffleNetV2 {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.units.iter().try_fold(self.pre.forward(xs)?, |x, unit| unit.forward(&x))?;
        let x = self.avgpool.forward(&self.conv5.forward(&x)?)?;
        self.fc.forward(&self.flatten.forward(&x)?)
    }
}
