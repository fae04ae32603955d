//! Parameter-free steps of the reference models (pooling, flatten, dropout, concat, add,
//! channel shuffle), each labelled so the profiler shows them as layers.

use tch::{nn, TchError, Tensor};

use super::step::Step;

/// A labelled pooling step.
#[derive(Debug, Clone, Copy)]
pub struct Pool {
    step: Step,
    kind: PoolKind,
}

#[derive(Debug, Clone, Copy)]
enum PoolKind {
    Max { k: i64, stride: i64, pad: i64 },
    Avg { k: i64, stride: i64, pad: i64 },
    GlobalAvg,
}

impl Pool {
    /// `nn.MaxPool2d(k, stride, pad)`.
    #[must_use]
    pub fn max(p: &nn::Path, k: i64, stride: i64, pad: i64) -> Self {
        Self { step: Step::new(p), kind: PoolKind::Max { k, stride, pad } }
    }

    /// `nn.AvgPool2d(k, stride, pad)`; padding counts towards the mean, as in `PyTorch`.
    #[must_use]
    pub fn avg(p: &nn::Path, k: i64, stride: i64, pad: i64) -> Self {
        Self { step: Step::new(p), kind: PoolKind::Avg { k, stride, pad } }
    }

    /// `nn.AdaptiveAvgPool2d(1)`: one mean per channel, the result stays 4-D.
    #[must_use]
    pub fn global_avg(p: &nn::Path) -> Self {
        Self { step: Step::new(p), kind: PoolKind::GlobalAvg }
    }

    /// Pools `xs` inside the scope.
    ///
    /// # Errors
    /// Whatever libtorch reports for `xs`.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        self.step.run(xs, |x| match self.kind {
            PoolKind::Max { k, stride, pad } => x.f_max_pool2d([k, k], [stride, stride], [pad, pad], [1, 1], false),
            PoolKind::Avg { k, stride, pad } => x.f_avg_pool2d([k, k], [stride, stride], [pad, pad], false, true, None),
            PoolKind::GlobalAvg => x.f_adaptive_avg_pool2d([1, 1]),
        })
    }
}

/// A labelled `x.view(batch, -1)` before a classifier.
#[derive(Debug, Clone, Copy)]
pub struct Flatten(Step);

impl Flatten {
    /// A flatten step labelled `p`'s path.
    #[must_use]
    pub fn new(p: &nn::Path) -> Self {
        Self(Step::new(p))
    }

    /// `[batch, ...]` to `[batch, features]`.
    ///
    /// # Errors
    /// For a 0-D `xs`, or whatever libtorch reports.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        self.0.run(xs, |x| {
            let size = x.size();
            let batch = *size.first().ok_or_else(|| TchError::Shape("cannot flatten a 0-D tensor".into()))?;
            x.f_view([batch, -1])
        })
    }
}

/// A labelled dropout, an identity at inference that still shows up as its op, as in `PyTorch`.
#[derive(Debug, Clone, Copy)]
pub struct Dropout {
    step: Step,
    p: f64,
    channelwise: bool,
}

impl Dropout {
    /// `nn.Dropout(p)`.
    #[must_use]
    pub fn new(path: &nn::Path, p: f64) -> Self {
        Self { step: Step::new(path), p, channelwise: false }
    }

    /// `nn.Dropout2d(p)`, which drops whole channels (`aten::feature_dropout`).
    #[must_use]
    pub fn channels(path: &nn::Path, p: f64) -> Self {
        Self { step: Step::new(path), p, channelwise: true }
    }

    /// The inference-mode pass: no element is dropped.
    ///
    /// # Errors
    /// Whatever libtorch reports for `xs`.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        self.step.run(xs, |x| {
            if self.channelwise {
                x.f_feature_dropout(self.p, false)
            } else {
                x.f_dropout(self.p, false)
            }
        })
    }
}

/// A labelled channel concatenation.
#[derive(Debug, Clone, Copy)]
pub struct Concat(Step);

impl Concat {
    /// A concatenation labelled `p`'s path.
    #[must_use]
    pub fn new(p: &nn::Path) -> Self {
        Self(Step::new(p))
    }

    /// Joins `parts` along the channel axis, in the given order.
    ///
    /// # Errors
    /// When the parts differ in anything but channels, or whatever else libtorch reports.
    pub fn forward(&self, parts: &[Tensor]) -> Result<Tensor, TchError> {
        self.0.within(|| Tensor::f_cat(parts, 1))
    }
}

/// A labelled element-wise sum of two tensors (a residual connection).
#[derive(Debug, Clone, Copy)]
pub struct Add(Step);

impl Add {
    /// A sum labelled `p`'s path.
    #[must_use]
    pub fn new(p: &nn::Path) -> Self {
        Self(Step::new(p))
    }

    /// `a + b` into a new tensor.
    ///
    /// # Errors
    /// When the shapes do not broadcast, or whatever else libtorch reports.
    pub fn forward(&self, a: &Tensor, b: &Tensor) -> Result<Tensor, TchError> {
        self.0.within(|| a.f_add(b))
    }
}

/// A labelled channel shuffle: `[n, g·k, h, w]` viewed as `[n, g, k, h, w]`, the two channel
/// axes swapped and the result flattened back, so the next grouped convolution sees channels
/// from every group. Spelled out as view/transpose/contiguous/view as in the reference, not
/// as `aten::channel_shuffle`, so the profile shows the same ops.
#[derive(Debug, Clone, Copy)]
pub struct ChannelShuffle {
    step: Step,
    groups: i64,
}

impl ChannelShuffle {
    /// A shuffle over `groups` groups labelled `p`'s path.
    #[must_use]
    pub fn new(p: &nn::Path, groups: i64) -> Self {
        Self { step: Step::new(p), groups }
    }

    /// Shuffles the channels of `xs`.
    ///
    /// # Errors
    /// When `xs` is not 4-D, or whatever libtorch reports (channels not divisible by the
    /// groups, say).
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        self.step.run(xs, |x| {
            let (n, c, h, w) = x.size4()?;
            x.f_view([n, self.groups, c / self.groups, h, w])?.f_transpose(1, 2)?.f_contiguous()?.f_view([n, -1, h, w])
        })
    }
}
