//! What every built-in network is to the engine: apart from the architectures' list so that
//! each architecture can implement it without importing the list.

use std::fmt;

use tch::{TchError, Tensor};

/// A network ready for inference (eval mode, batch of NCHW images in, logits out).
pub trait Net: fmt::Debug + Send {
    /// Logits for a batch; `xs` is `[batch, 3, 32, 32]` for the built-ins.
    ///
    /// # Errors
    /// What libtorch reports for an input the network cannot take (wrong channels, too small
    /// a picture), as an error rather than a panic.
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError>;
}
