//! The labelled, parameter-free step every layer without weights runs in: apart from the
//! layers so that the steps built on it need not import them.

use tch::{nn, TchError, Tensor};

use crate::core::profiling::profiler::Scope;

/// A parameter-free step (activation, pooling, reshape) with a label of its own.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    scope: Scope,
}

impl Step {
    /// A step labelled `p`'s path (no variables are created under it).
    #[must_use]
    pub fn new(p: &nn::Path) -> Self {
        Self { scope: Scope::at(p) }
    }

    /// Runs `f` on `xs` inside the scope.
    ///
    /// # Errors
    /// `f`'s error.
    pub fn run(&self, xs: &Tensor, f: impl FnOnce(&Tensor) -> Result<Tensor, TchError>) -> Result<Tensor, TchError> {
        self.scope.run(|| f(xs))
    }

    /// Runs `f` inside the scope, for steps that take or return several tensors.
    pub fn within<T>(&self, f: impl FnOnce() -> T) -> T {
        self.scope.run(f)
    }

    /// Runs `f` on an owned `xs` inside the scope, for in-place ops such as `relu_`.
    ///
    /// # Errors
    /// `f`'s error.
    pub fn run_owned(
        &self,
        xs: Tensor,
        f: impl FnOnce(Tensor) -> Result<Tensor, TchError>,
    ) -> Result<Tensor, TchError> {
        self.scope.run(|| f(xs))
    }
}
