//! Folding `BatchNorm` into the convolution before it, for the `fold-bn` what-if variant.
//!
//! A net built inside [`build_folded`] pairs each batch norm with the convolution created just
//! before it when their channels match: the nets create a unit's convolution, then its batch
//! norm, and feed one into the other. A paired batch norm becomes an identity (its layer runs
//! no op at all, as in runtimes that fold it) and the convolution gets the batch norm's affine
//! map in its weights and bias once the variables hold their final values
//! ([`FoldPlan::apply`], after any weights file is loaded). The variables themselves stay where
//! they are, so weights files load as for the original. The variant's output is checked against
//! the original's before anything is reported, so a wrong pairing cannot pass for a speed-up.

use std::cell::RefCell;

use tch::{nn, TchError, Tensor};

/// A convolution waiting for its batch norm: its weight and the bias the fold writes into
/// (its own, or a zero bias made for the purpose).
struct PendingConv {
    weight: Tensor,
    bias: Tensor,
    out_channels: i64,
}

/// One convolution and the batch norm folded into it.
struct Pair {
    conv: PendingConv,
    gamma: Option<Tensor>,
    beta: Option<Tensor>,
    mean: Tensor,
    var: Tensor,
    eps: f64,
}

/// The pairs found while building a net; [`FoldPlan::apply`] folds them.
#[derive(Default)]
pub struct FoldPlan {
    pending: Option<PendingConv>,
    pairs: Vec<Pair>,
    /// Batch norms with no convolution to fold into; they still run.
    unpaired: usize,
}

impl std::fmt::Debug for FoldPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FoldPlan({} pairs, {} unpaired)", self.pairs.len(), self.unpaired)
    }
}

thread_local! {
    static BUILDING: RefCell<Option<FoldPlan>> = const { RefCell::new(None) };
}

/// Runs `build` with folding on, and returns what it built with the plan to fold it.
pub fn build_folded<T>(build_net: impl FnOnce() -> T) -> (T, FoldPlan) {
    // Taken back however `build_net` ends, so a panic does not leave folding on for the thread.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            BUILDING.with(|b| b.borrow_mut().take());
        }
    }
    BUILDING.with(|b| *b.borrow_mut() = Some(FoldPlan::default()));
    let reset = Reset;
    let built = build_net();
    let plan = BUILDING.with(|b| b.borrow_mut().take()).unwrap_or_default();
    drop(reset);
    (built, plan)
}

/// Whether a net is being built with folding on.
pub(super) fn folding() -> bool {
    BUILDING.with(|b| b.borrow().is_some())
}

/// A convolution was created; `bias` is the tensor its forward adds (made for it if needed).
pub(super) fn note_conv(weight: &Tensor, bias: &Tensor, out_channels: i64) {
    BUILDING.with(|b| {
        if let Some(plan) = b.borrow_mut().as_mut() {
            plan.pending =
                Some(PendingConv { weight: weight.shallow_clone(), bias: bias.shallow_clone(), out_channels });
        }
    });
}

/// A batch norm was created; true when it is folded (so it must not run).
pub(super) fn note_batch_norm(bn: &nn::BatchNorm, eps: f64, channels: i64) -> bool {
    BUILDING.with(|b| {
        let mut guard = b.borrow_mut();
        let Some(plan) = guard.as_mut() else { return false };
        match plan.pending.take() {
            Some(conv) if conv.out_channels == channels => {
                plan.pairs.push(Pair {
                    conv,
                    gamma: bn.ws.as_ref().map(Tensor::shallow_clone),
                    beta: bn.bs.as_ref().map(Tensor::shallow_clone),
                    mean: bn.running_mean.shallow_clone(),
                    var: bn.running_var.shallow_clone(),
                    eps,
                });
                true
            }
            other => {
                plan.pending = other;
                plan.unpaired += 1;
                false
            }
        }
    })
}

impl FoldPlan {
    /// Batch norms folded into a convolution.
    #[must_use]
    pub fn folded(&self) -> usize {
        self.pairs.len()
    }

    /// Batch norms left to run because no convolution came right before them.
    #[must_use]
    pub fn unpaired(&self) -> usize {
        self.unpaired
    }

    /// Writes each batch norm's affine map into its convolution, in place: with
    /// s = γ / √(var + ε), the weight becomes W·s (per output channel) and the bias (b − μ)·s + β.
    ///
    /// # Errors
    /// What libtorch reports (not expected: the shapes were paired by channel count).
    pub fn apply(&self) -> Result<(), TchError> {
        tch::no_grad(|| {
            for p in &self.pairs {
                let mut scale = p.var.f_add_scalar(p.eps)?.f_rsqrt()?;
                if let Some(gamma) = &p.gamma {
                    scale = scale.f_mul(gamma)?;
                }
                let mut bias = p.conv.bias.f_sub(&p.mean)?.f_mul(&scale)?;
                if let Some(beta) = &p.beta {
                    bias = bias.f_add(beta)?;
                }
                let weight = p.conv.weight.f_mul(&scale.f_view([-1, 1, 1, 1])?)?;
                p.conv.weight.shallow_clone().f_copy_(&weight)?;
                p.conv.bias.shallow_clone().f_copy_(&bias)?;
            }
            Ok(())
        })
    }
}
