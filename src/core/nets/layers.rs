//! Building blocks whose forward pass runs inside a profiler scope named by the VarStore path.

use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::core::profiler::Scope;

/// Any `tch` module, run inside the scope of its VarStore path.
#[derive(Debug)]
pub struct Layer<M> {
    scope: Scope,
    inner: M,
}

impl<M: ModuleT> Layer<M> {
    /// Wraps `inner`, labelled by `p`'s path.
    pub fn new(p: &nn::Path, inner: M) -> Self {
        Self { scope: Scope::at(p), inner }
    }

    /// Inference-mode forward pass inside the scope.
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        self.scope.run(|| self.inner.forward_t(xs, false))
    }
}

impl<M: ModuleT> ModuleT for Layer<M> {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.scope.run(|| self.inner.forward_t(xs, train))
    }
}

/// A 2-D convolution labelled by its path.
pub fn conv2d(p: &nn::Path, c_in: i64, c_out: i64, k: i64, cfg: nn::ConvConfig) -> Layer<nn::Conv2D> {
    Layer::new(p, nn::conv2d(p, c_in, c_out, k, cfg))
}

/// 2-D batch normalisation labelled by its path.
pub fn batch_norm2d(p: &nn::Path, channels: i64) -> Layer<nn::BatchNorm> {
    Layer::new(p, nn::batch_norm2d(p, channels, Default::default()))
}

/// A fully connected layer labelled by its path.
pub fn linear(p: &nn::Path, c_in: i64, c_out: i64) -> Layer<nn::Linear> {
    Layer::new(p, nn::linear(p, c_in, c_out, Default::default()))
}

/// A parameter-free step (activation, pooling, reshape) with a label of its own.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    scope: Scope,
}

impl Step {
    /// A step labelled `p`'s path (no variables are created under it).
    pub fn new(p: &nn::Path) -> Self {
        Self { scope: Scope::at(p) }
    }

    /// Runs `f` on `xs` inside the scope.
    pub fn run(&self, xs: &Tensor, f: impl FnOnce(&Tensor) -> Tensor) -> Tensor {
        self.scope.run(|| f(xs))
    }
}
