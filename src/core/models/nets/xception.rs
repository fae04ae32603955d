//! Xception for 32×32 inputs: an entry flow (32 → 8 pixels, 728 channels), eight middle-flow
//! blocks and an exit flow (8 → 4 pixels, 2048 channels), built from depthwise separable
//! convolutions with residual connections.
//!
//! The reference's leading `ReLUs` in the entry and middle flow run in place on the block
//! input, so the shortcut sees the activated input as well; this follows that behaviour.

use tch::{nn, TchError, Tensor};

use super::layers::{
    batch_norm2d, conv, linear, Act, Activation, Add, BatchNorm2d, Conv2d, ConvBn, ConvSpec, Flatten, Layer, Pool, Step,
};
use super::net::Net;

/// A depthwise 3×3 convolution then a pointwise 1×1 one, both without bias and with no
/// normalisation in between.
#[derive(Debug)]
struct SeparableConv2d {
    depthwise: Layer<Conv2d>,
    pointwise: Layer<Conv2d>,
}

impl SeparableConv2d {
    fn new(p: &nn::Path, c_in: i64, c_out: i64) -> Self {
        Self {
            depthwise: conv(&(p / "depthwise"), c_in, c_in, ConvSpec::k(3).pad(1).groups(c_in).no_bias()),
            pointwise: conv(&(p / "pointwise"), c_in, c_out, ConvSpec::k(1).no_bias()),
        }
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        self.pointwise.forward(&self.depthwise.forward(xs)?)
    }
}

/// A separable convolution and its batch norm, at positions `i` and `i + 1` of a Sequential.
#[derive(Debug)]
struct SepBn {
    sep: SeparableConv2d,
    bn: Layer<BatchNorm2d>,
}

impl SepBn {
    fn new(p: &nn::Path, i: usize, c_in: i64, c_out: i64) -> Self {
        Self {
            sep: SeparableConv2d::new(&(p / i.to_string()), c_in, c_out),
            bn: batch_norm2d(&(p / (i + 1).to_string()), c_out),
        }
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        self.bn.forward(&self.sep.forward(xs)?)
    }
}

/// A conv (1×1, with bias) and batch norm projecting the shortcut of a residual unit.
#[derive(Debug)]
struct Shortcut {
    conv: Layer<Conv2d>,
    bn: Layer<BatchNorm2d>,
}

impl Shortcut {
    fn new(p: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        Self { conv: conv(&(p / "0"), c_in, c_out, ConvSpec::k(1).stride(stride)), bn: batch_norm2d(&(p / "1"), c_out) }
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        self.bn.forward(&self.conv.forward(xs)?)
    }
}

/// One residual unit of the entry flow: `[ReLU], sep-BN, ReLU, sep-BN, max pool` beside a
/// projected shortcut (`convN_residual` and `convN_shortcut` in the reference).
#[derive(Debug)]
struct EntryUnit {
    pre_relu: Option<Activation>,
    sep1: SepBn,
    relu: Activation,
    sep2: SepBn,
    pool: Pool,
    shortcut: Shortcut,
    add: Add,
}

impl EntryUnit {
    /// `n` is the unit's number in the reference (3, 4 or 5); units after the first start
    /// with a `ReLU`.
    fn new(p: &nn::Path, n: u8, c_in: i64, c_out: i64, stride: i64) -> Self {
        let r = p / format!("conv{n}_residual");
        let o = usize::from(n != 3);
        Self {
            pre_relu: (n != 3).then(|| Activation::relu(&(&r / "0"))),
            sep1: SepBn::new(&r, o, c_in, c_out),
            relu: Activation::relu(&(&r / (o + 2).to_string())),
            sep2: SepBn::new(&r, o + 3, c_out, c_out),
            pool: Pool::max(&(&r / (o + 5).to_string()), 3, stride, 1),
            shortcut: Shortcut::new(&(p / format!("conv{n}_shortcut")), c_in, c_out, stride),
            add: Add::new(&(p / format!("conv{n}_add"))),
        }
    }

    fn forward(&self, x: Tensor) -> Result<Tensor, TchError> {
        let x = match &self.pre_relu {
            Some(relu) => relu.forward(x)?,
            None => x,
        };
        let residual = self.sep1.forward(&x)?;
        let residual = self.pool.forward(&self.sep2.forward(&self.relu.forward(residual)?)?)?;
        self.add.forward(&residual, &self.shortcut.forward(&x)?)
    }
}

/// Two plain convolutions, then three residual units (to 128, 256 and 728 channels).
#[derive(Debug)]
struct EntryFlow {
    conv1: ConvBn,
    conv2: ConvBn,
    units: [EntryUnit; 3],
}

impl EntryFlow {
    fn new(p: &nn::Path) -> Self {
        let spec = ConvSpec::k(3).pad(1).no_bias();
        Self {
            conv1: ConvBn::seq(&(p / "conv1"), 0, 3, 32, spec, Some(Act::Relu)),
            conv2: ConvBn::seq(&(p / "conv2"), 0, 32, 64, spec, Some(Act::Relu)),
            units: [
                EntryUnit::new(p, 3, 64, 128, 2),
                EntryUnit::new(p, 4, 128, 256, 2),
                EntryUnit::new(p, 5, 256, 728, 1),
            ],
        }
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.conv2.forward(&self.conv1.forward(xs)?)?;
        self.units.iter().try_fold(x, |x, unit| unit.forward(x))
    }
}

/// A middle-flow block: three `ReLU, sep-BN` steps at 728 channels plus the identity.
#[derive(Debug)]
struct MiddleFlowBlock {
    convs: [(Activation, SepBn); 3],
    add: Add,
}

impl MiddleFlowBlock {
    fn new(p: &nn::Path) -> Self {
        let step = |name: &str| {
            let q = p / name;
            (Activation::relu(&(&q / "0")), SepBn::new(&q, 1, 728, 728))
        };
        Self { convs: [step("conv1"), step("conv2"), step("conv3")], add: Add::new(&(p / "add")) }
    }

    fn forward(&self, x: Tensor) -> Result<Tensor, TchError> {
        let [(relu1, sep1), (relu2, sep2), (relu3, sep3)] = &self.convs;
        let shortcut = relu1.forward(x)?;
        let residual = sep1.forward(&shortcut)?;
        let residual = sep2.forward(&relu2.forward(residual)?)?;
        let residual = sep3.forward(&relu3.forward(residual)?)?;
        self.add.forward(&shortcut, &residual)
    }
}

/// The exit flow: one residual unit to 1024 channels at stride 2, two separable
/// convolutions to 2048 channels, global average pooling.
#[derive(Debug)]
struct ExitFlow {
    relu1: Step,
    sep1: SepBn,
    relu2: Step,
    sep2: SepBn,
    pool: Pool,
    shortcut: Shortcut,
    add: Add,
    conv: [(SepBn, Activation); 2],
    avgpool: Pool,
}

impl ExitFlow {
    fn new(p: &nn::Path) -> Self {
        let r = p / "residual";
        let c = p / "conv";
        Self {
            relu1: Step::new(&(&r / "0")),
            sep1: SepBn::new(&r, 1, 728, 728),
            relu2: Step::new(&(&r / "3")),
            sep2: SepBn::new(&r, 4, 728, 1024),
            pool: Pool::max(&(&r / "6"), 3, 2, 1),
            shortcut: Shortcut::new(&(p / "shortcut"), 728, 1024, 2),
            add: Add::new(&(p / "add")),
            conv: [
                (SepBn::new(&c, 0, 1024, 1536), Activation::relu(&(&c / "2"))),
                (SepBn::new(&c, 3, 1536, 2048), Activation::relu(&(&c / "5"))),
            ],
            avgpool: Pool::global_avg(&(p / "avgpool")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let shortcut = self.shortcut.forward(x)?;
        // Plain `nn.ReLU()` here in the reference, so not in place.
        let residual = self.sep1.forward(&self.relu1.run(x, Tensor::f_relu)?)?;
        let residual = self.sep2.forward(&self.relu2.run(&residual, Tensor::f_relu)?)?;
        let x = self.add.forward(&shortcut, &self.pool.forward(&residual)?)?;
        let x = self.conv.iter().try_fold(x, |x, (sep, relu)| relu.forward(sep.forward(&x)?))?;
        self.avgpool.forward(&x)
    }
}

/// The whole network; fields carry the reference's attribute names (its `middel_flow`
/// spelling included, so that exported weights load by name).
#[derive(Debug)]
pub struct Xception {
    entry_flow: EntryFlow,
    middel_flow: Vec<MiddleFlowBlock>,
    exit_flow: ExitFlow,
    flatten: Flatten,
    fc: Layer<nn::Linear>,
}

impl Xception {
    /// Builds the variables under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let middle = p / "middel_flow" / "middel_block";
        Self {
            entry_flow: EntryFlow::new(&(p / "entry_flow")),
            middel_flow: (0..8).map(|i| MiddleFlowBlock::new(&(&middle / i.to_string()))).collect(),
            exit_flow: ExitFlow::new(&(p / "exit_flow")),
            flatten: Flatten::new(&(p / "flatten")),
            fc: linear(&(p / "fc"), 2048, num_classes),
        }
    }
}

impl Net for Xception {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.middel_flow.iter().try_fold(self.entry_flow.forward(xs)?, |x, block| block.forward(x))?;
        self.fc.forward(&self.flatten.forward(&self.exit_flow.forward(&x)?)?)
    }
}
