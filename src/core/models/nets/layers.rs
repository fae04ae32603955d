//! Building blocks whose forward pass runs inside a profiler scope named by the `VarStore` path.
//!
//! Every forward pass is fallible: libtorch errors (a wrong input shape, say) come back as
//! [`TchError`] through tch's `f_*` calls instead of a panic.

use tch::{nn, Device, Kind, TchError, Tensor};

use super::fold;
use crate::core::profiling::profiler::Scope;

mod step;
mod steps;
pub use step::Step;
pub use steps::{Add, ChannelShuffle, Concat, Dropout, Flatten, Pool};

/// A module with variables whose inference-mode forward pass reports libtorch errors.
pub trait FallibleModule: std::fmt::Debug {
    /// The inference-mode forward pass.
    ///
    /// # Errors
    /// Whatever libtorch reports, such as an input with the wrong number of channels.
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError>;

    /// Whether the module was folded away (a batch norm in the `fold-bn` variant): its layer
    /// then passes its input on and runs no op, not even its scope.
    fn is_identity(&self) -> bool {
        false
    }
}

/// A module run inside the scope of its `VarStore` path.
#[derive(Debug)]
pub struct Layer<M> {
    scope: Scope,
    inner: M,
}

impl<M: FallibleModule> Layer<M> {
    /// Wraps `inner`, labelled by `p`'s path.
    pub fn new(p: &nn::Path, inner: M) -> Self {
        Self { scope: Scope::at(p), inner }
    }

    /// Inference-mode forward pass inside the scope.
    ///
    /// # Errors
    /// Whatever libtorch reports for `xs`.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        if self.inner.is_identity() {
            return Ok(xs.shallow_clone());
        }
        self.scope.run(|| self.inner.forward(xs))
    }
}

/// A 2-D convolution with zero padding and no dilation: the variables of an `nn::Conv2D`
/// (`weight`, `bias`) and its geometry, which `nn::Conv2D` keeps private.
#[derive(Debug)]
pub struct Conv2d {
    conv: nn::Conv2D,
    stride: [i64; 2],
    padding: [i64; 2],
    groups: i64,
    /// The bias a folded batch norm writes into when the convolution has none of its own (not a
    /// variable: weights files stay those of the original).
    fold_bias: Option<Tensor>,
}

impl FallibleModule for Conv2d {
    /// `aten::conv2d`, the call `nn::Conv2D`'s own forward makes for zero padding.
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let c = &self.conv;
        let bias = c.bs.as_ref().or(self.fold_bias.as_ref());
        xs.f_conv2d(&c.ws, bias, self.stride, self.padding, [1, 1], self.groups)
    }
}

/// Batch normalisation over `[batch, channels, h, w]` with running statistics, as
/// `nn::batch_norm2d` creates it (`weight`, `bias`, `running_mean`, `running_var`).
#[derive(Debug)]
pub struct BatchNorm2d {
    bn: nn::BatchNorm,
    config: nn::BatchNormConfig,
    /// Folded into the convolution before it (see [`fold`](super::fold)).
    folded: bool,
}

impl FallibleModule for BatchNorm2d {
    fn is_identity(&self) -> bool {
        self.folded
    }

    /// `aten::batch_norm` in inference mode with the same arguments as `nn::BatchNorm`'s own
    /// forward.
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        // `nn::BatchNorm` checks this too, with a panic; ATen alone would take any rank.
        if xs.dim() != 4 {
            return Err(TchError::Shape(format!("batch norm 2d expects a 4-D input, got {:?}", xs.size())));
        }
        let bn = &self.bn;
        xs.f_batch_norm(
            bn.ws.as_ref(),
            bn.bs.as_ref(),
            Some(&bn.running_mean),
            Some(&bn.running_var),
            false,
            self.config.momentum,
            self.config.eps,
            self.config.cudnn_enabled,
        )
    }
}

impl FallibleModule for nn::Linear {
    /// `aten::linear`, as `nn::Linear`'s own forward.
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        xs.f_linear(&self.ws, self.bs.as_ref())
    }
}

/// 2-D batch normalisation labelled by its path.
#[must_use]
pub fn batch_norm2d(p: &nn::Path, channels: i64) -> Layer<BatchNorm2d> {
    let config = nn::BatchNormConfig::default();
    let bn = nn::batch_norm2d(p, channels, config);
    let folded = fold::note_batch_norm(&bn, config.eps, channels);
    Layer::new(p, BatchNorm2d { bn, config, folded })
}

/// A fully connected layer labelled by its path.
#[must_use]
pub fn linear(p: &nn::Path, c_in: i64, c_out: i64) -> Layer<nn::Linear> {
    Layer::new(p, nn::linear(p, c_in, c_out, nn::LinearConfig::default()))
}

/// The shape of a 2-D convolution: kernel, stride, padding, groups and bias. Starts from
/// `PyTorch`'s `nn.Conv2d` defaults (stride 1, no padding, one group, with bias).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    kernel: [i64; 2],
    stride: i64,
    padding: [i64; 2],
    groups: i64,
    bias: bool,
}

impl ConvSpec {
    /// A square `k`×`k` kernel.
    #[must_use]
    pub const fn k(k: i64) -> Self {
        Self::rect(k, k)
    }

    /// A `kh`×`kw` kernel, such as the factorised 1×7 and 7×1 convolutions of Inception.
    #[must_use]
    pub const fn rect(kh: i64, kw: i64) -> Self {
        Self { kernel: [kh, kw], stride: 1, padding: [0, 0], groups: 1, bias: true }
    }

    /// The same stride along both axes.
    #[must_use]
    pub const fn stride(self, stride: i64) -> Self {
        Self { stride, ..self }
    }

    /// The same zero padding on every side.
    #[must_use]
    pub const fn pad(self, p: i64) -> Self {
        self.pad2(p, p)
    }

    /// Zero padding of `ph` rows and `pw` columns.
    #[must_use]
    pub const fn pad2(self, ph: i64, pw: i64) -> Self {
        Self { padding: [ph, pw], ..self }
    }

    /// Grouped convolution; `groups` equal to the input channels makes it depthwise.
    #[must_use]
    pub const fn groups(self, groups: i64) -> Self {
        Self { groups, ..self }
    }

    /// Without a bias term (the usual choice when batch norm follows).
    #[must_use]
    pub const fn no_bias(self) -> Self {
        Self { bias: false, ..self }
    }
}

/// A 2-D convolution of any [`ConvSpec`], labelled by its path.
#[must_use]
pub fn conv(p: &nn::Path, c_in: i64, c_out: i64, spec: ConvSpec) -> Layer<Conv2d> {
    let stride = [spec.stride, spec.stride];
    // Zero padding and no dilation, the defaults, are what `Conv2d::forward` assumes.
    let cfg = nn::ConvConfigND::<[i64; 2]> {
        stride,
        padding: spec.padding,
        groups: spec.groups,
        bias: spec.bias,
        ..Default::default()
    };
    let conv = nn::conv(p, c_in, c_out, spec.kernel, cfg);
    let fold_bias = (fold::folding() && conv.bs.is_none()).then(|| Tensor::zeros([c_out], (Kind::Float, Device::Cpu)));
    if let Some(bias) = conv.bs.as_ref().or(fold_bias.as_ref()) {
        fold::note_conv(&conv.ws, bias, c_out);
    }
    Layer::new(p, Conv2d { conv, stride, padding: spec.padding, groups: spec.groups, fold_bias })
}

/// The activations of the reference models (`ReLU`, `ReLU6`). They run in place, as the
/// reference's `inplace=True` modules do, so the profile shows the same memory traffic
/// (`aten::relu_`; `aten::relu6_`, which libtorch runs as the `hardtanh_` `PyTorch` calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Relu,
    Relu6,
}

impl Act {
    /// Applies the activation to `xs` in place; `xs` is taken by value because its storage
    /// changes.
    ///
    /// # Errors
    /// Whatever libtorch reports for `xs`.
    pub fn apply(self, mut xs: Tensor) -> Result<Tensor, TchError> {
        match self {
            Act::Relu => xs.f_relu_(),
            Act::Relu6 => xs.f_relu6_(),
        }
    }
}

/// A labelled in-place activation.
#[derive(Debug, Clone, Copy)]
pub struct Activation {
    step: Step,
    act: Act,
}

impl Activation {
    /// An activation labelled `p`'s path.
    #[must_use]
    pub fn new(p: &nn::Path, act: Act) -> Self {
        Self { step: Step::new(p), act }
    }

    /// A `ReLU` labelled `p`'s path.
    #[must_use]
    pub fn relu(p: &nn::Path) -> Self {
        Self::new(p, Act::Relu)
    }

    /// Applies the activation in place inside the scope.
    ///
    /// # Errors
    /// Whatever libtorch reports for `xs`.
    pub fn forward(&self, xs: Tensor) -> Result<Tensor, TchError> {
        self.step.run_owned(xs, |x| self.act.apply(x))
    }
}

/// A convolution, its batch norm and an optional in-place activation: the conv-BN-act unit
/// every reference model is built from.
#[derive(Debug)]
pub struct ConvBn {
    conv: Layer<Conv2d>,
    bn: Layer<BatchNorm2d>,
    act: Option<Activation>,
}

impl ConvBn {
    /// A unit with children `conv`, `bn` and `relu`, like the reference's `BasicConv2d`.
    #[must_use]
    pub fn named(p: &nn::Path, c_in: i64, c_out: i64, spec: ConvSpec, act: Option<Act>) -> Self {
        Self::at([&(p / "conv"), &(p / "bn"), &(p / "relu")], c_in, c_out, spec, act)
    }

    /// A unit at positions `i`, `i + 1` (and `i + 2` for the activation) of the
    /// `nn.Sequential` at `p`.
    #[must_use]
    pub fn seq(p: &nn::Path, i: usize, c_in: i64, c_out: i64, spec: ConvSpec, act: Option<Act>) -> Self {
        let at = |k: usize| p / (i + k).to_string();
        Self::at([&at(0), &at(1), &at(2)], c_in, c_out, spec, act)
    }

    fn at(paths: [&nn::Path; 3], c_in: i64, c_out: i64, spec: ConvSpec, act: Option<Act>) -> Self {
        Self {
            conv: conv(paths[0], c_in, c_out, spec),
            bn: batch_norm2d(paths[1], c_out),
            act: act.map(|a| Activation::new(paths[2], a)),
        }
    }

    /// Convolution, batch norm, then the activation if there is one.
    ///
    /// # Errors
    /// Whatever libtorch reports for `xs`.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.bn.forward(&self.conv.forward(xs)?)?;
        match &self.act {
            Some(act) => act.forward(x),
            None => Ok(x),
        }
    }
}

/// Conv-BN-act units applied one after the other: an `nn.Sequential` of `BasicConv2d`s.
#[derive(Debug)]
pub struct ConvChain(Vec<ConvBn>);

impl ConvChain {
    /// Units at `p/0`, `p/1`, ..., each with children `conv`, `bn`, `relu`; `convs` lists
    /// (output channels, spec) per unit.
    #[must_use]
    pub fn named(p: &nn::Path, c_in: i64, convs: &[(i64, ConvSpec)], act: Option<Act>) -> Self {
        let mut c = c_in;
        let mut units = Vec::with_capacity(convs.len());
        for (i, &(c_out, spec)) in convs.iter().enumerate() {
            units.push(ConvBn::named(&(p / i.to_string()), c, c_out, spec, act));
            c = c_out;
        }
        Self(units)
    }

    /// Runs the units in order.
    ///
    /// # Errors
    /// The first error a unit reports.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        self.0.iter().try_fold(xs.shallow_clone(), |x, unit| unit.forward(&x))
    }
}
