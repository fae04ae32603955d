//! Times one [`Config`] through tch, called exactly as the built-in nets call it (see
//! `core::nets::layers`): warm-up calls first, then the median of a few timed calls.
//!
//! An op is timed in the state a net leaves it in, not in the state a loop of its own calls
//! would. A convolution's or linear layer's weights are read from memory (a net last read them
//! an inference ago). Every other op's input is made afresh before each call by a layer before
//! it, a 1x1 convolution with cold weights, as a batch norm follows its convolution in a net:
//! measured here, a batch norm right after a convolution took 2-8 times as long as the same
//! batch norm called in a loop (the layer before has swept the caches the op's parameters,
//! output and code were in). A convolution's own input made that way changed nothing.

use std::time::Instant;

use tch::{Device, Kind, TchError, Tensor};

use super::space::{Cheap, Config, Unary};

fn randn(shape: &[i64]) -> Tensor {
    Tensor::randn(shape, (Kind::Float, Device::Cpu))
}

/// Nanoseconds of the median of `reps` calls of `config`'s op (after two warm-up calls), on the
/// calling thread with libtorch's current thread count and no gradients.
///
/// # Errors
/// What libtorch reports for the configuration.
pub fn time_config(config: &Config, reps: usize) -> Result<f64, TchError> {
    let _no_grad = tch::no_grad_guard();
    let mut op = prepare(config);
    for _ in 0..2 {
        op()?;
    }
    let mut times = Vec::with_capacity(reps.max(1));
    for _ in 0..reps.max(1) {
        times.push(op()?);
    }
    drop(op);
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// One call of the op, returning its nanoseconds (what it does untimed first is its own).
type Op = Box<dyn FnMut() -> Result<f64, TchError>>;

/// Nanoseconds `call` takes.
fn timed<T>(call: impl FnOnce() -> Result<T, TchError>) -> Result<f64, TchError> {
    let start = Instant::now();
    call()?;
    Ok(start.elapsed().as_nanos() as f64)
}

/// Bytes of weight copies a convolution's or linear layer's timing cycles through: more than the
/// last-level caches of the boards and servers infertop runs on.
const COLD_BYTES: i64 = 64 << 20;

/// Copies of one weight tensor of `shape`, enough to overflow the caches (at least two, at most
/// 64): in a net a layer's weights were last read a whole inference ago, so a timing that
/// takes them in turn reads each call's weights from memory, as there. Copied, not drawn
/// again: drawing 64 MiB of normal numbers took longer than the timing.
fn cold_copies(shape: &[i64]) -> Vec<Tensor> {
    let bytes = 4 * shape.iter().product::<i64>();
    let copies = (COLD_BYTES / bytes.max(1)).clamp(2, 64);
    let w = randn(shape);
    (0..copies).map(|_| w.copy()).collect()
}

/// MACs the layer before an op may take: enough to sweep the caches as a net's layer does,
/// few enough that a calibration of large feature maps does not spend its time there.
const PRODUCER_MACS: i64 = 1 << 24;

/// The layer before an op: makes a fresh `[1, c, hw, hw]` input by a 1x1 convolution with cold
/// weights, from as many channels as [`PRODUCER_MACS`] allows (at most `c`).
struct Producer {
    source: Tensor,
    weights: Vec<Tensor>,
    next: usize,
}

impl Producer {
    fn new(c: i64, hw: i64) -> Self {
        let c_source = (PRODUCER_MACS / (c * hw * hw).max(1)).clamp(1, c.max(1));
        Self { source: randn(&[1, c_source, hw, hw]), weights: cold_copies(&[c, c_source, 1, 1]), next: 0 }
    }

    fn input(&mut self) -> Result<Tensor, TchError> {
        self.next = (self.next + 1) % self.weights.len();
        self.source.f_conv2d(&self.weights[self.next], None::<&Tensor>, [1, 1], [0, 0], [1, 1], 1)
    }
}

/// A call of `config`'s op on its inputs.
fn prepare(config: &Config) -> Op {
    match *config {
        Config::Conv { c_in, c_out, hw, kernel, stride, padding, groups } => {
            let x = randn(&[1, c_in, hw, hw]);
            let ws = cold_copies(&[c_out, c_in / groups, kernel[0], kernel[1]]);
            let mut next = 0;
            // The nets' convolutions are followed by batch norm and have no bias, except the
            // few plain ones; a bias costs one add per output element either way.
            Box::new(move || {
                next = (next + 1) % ws.len();
                timed(|| x.f_conv2d(&ws[next], None::<&Tensor>, [stride, stride], padding, [1, 1], groups))
            })
        }
        Config::Linear { c_in, c_out } => {
            let (x, b) = (randn(&[1, c_in]), randn(&[c_out]));
            // At batch 1 a linear layer reads each weight once: memory-bound, and cold in a net
            // (VGG's 4096x4096 layers are 64 MiB each), so its weights are cycled too.
            let ws = cold_copies(&[c_out, c_in]);
            let mut next = 0;
            Box::new(move || {
                next = (next + 1) % ws.len();
                timed(|| x.f_linear(&ws[next], Some(&b)))
            })
        }
        _ => after_a_layer(config),
    }
}

/// A call of `call` on a `[1, c, hw, hw]` input made afresh by a [`Producer`] before each call.
fn fresh(c: i64, hw: i64, mut call: impl FnMut(Tensor) -> Result<f64, TchError> + 'static) -> Op {
    let mut before = Producer::new(c, hw);
    Box::new(move || call(before.input()?))
}

/// A call of `config`'s op on an input fresh from the layer before: every op but a convolution
/// and a linear layer.
fn after_a_layer(config: &Config) -> Op {
    match *config {
        Config::BatchNorm { c, hw } => {
            let (w, b, mean, var) = (randn(&[c]), randn(&[c]), randn(&[c]), randn(&[c]).abs());
            fresh(c, hw, move |x| {
                timed(|| x.f_batch_norm(Some(&w), Some(&b), Some(&mean), Some(&var), false, 0.1, 1e-5, true))
            })
        }
        Config::Unary { unary, c, hw } => fresh(c, hw, move |mut x| {
            timed(|| match unary {
                Unary::ReluInPlace => x.f_relu_(),
                Unary::Relu => x.f_relu(),
                Unary::Relu6InPlace => x.f_relu6_(),
                Unary::Sigmoid => x.f_sigmoid(),
            })
        }),
        Config::Add { c, hw, in_place } => {
            let b = randn(&[1, c, hw, hw]);
            fresh(c, hw, move |mut a| timed(|| if in_place { a.f_add_(&b) } else { a.f_add(&b) }))
        }
        Config::Scale { c, hw } => {
            let s = randn(&[1, c, 1, 1]);
            fresh(c, hw, move |x| {
                // The net expands first (its own `aten::expand_as`), then multiplies.
                let s = s.f_expand_as(&x)?;
                timed(|| x.f_mul(&s))
            })
        }
        Config::MaxPool { c, hw, k, stride, pad } => {
            fresh(c, hw, move |x| timed(|| x.f_max_pool2d([k, k], [stride, stride], [pad, pad], [1, 1], false)))
        }
        Config::AvgPool { c, hw, k, stride, pad } => {
            fresh(c, hw, move |x| timed(|| x.f_avg_pool2d([k, k], [stride, stride], [pad, pad], false, true, None)))
        }
        Config::GlobalAvgPool { c, hw } => fresh(c, hw, move |x| timed(|| x.f_adaptive_avg_pool2d([1, 1]))),
        Config::Cat { c, parts, hw } => {
            // The first part is fresh (from the branch before), the others are the same.
            let rest: Vec<Tensor> = (1..parts).map(|_| randn(&[1, c, hw, hw])).collect();
            fresh(c, hw, move |first| {
                let xs: Vec<&Tensor> = std::iter::once(&first).chain(&rest).collect();
                timed(|| Tensor::f_cat(&xs, 1))
            })
        }
        Config::Shuffle { c, groups, hw } => fresh(c, hw, move |x| {
            let x = x.f_view([1, groups, c / groups, hw, hw])?.f_transpose(1, 2)?;
            timed(|| x.f_contiguous())
        }),
        Config::Cheap { cheap, c, hw } => {
            let other = randn(&[1, c, hw, hw]);
            let half = (c / 2).max(1);
            fresh(c, hw, move |x| match cheap {
                Cheap::View => timed(|| x.f_view([1, -1])),
                Cheap::Transpose => timed(|| x.f_transpose(1, 2)),
                Cheap::Split => timed(|| x.f_split(half, 1)),
                Cheap::Dropout => timed(|| x.f_dropout(0.5, false)),
                Cheap::FeatureDropout => timed(|| x.f_feature_dropout(0.5, false)),
                Cheap::ExpandAs => timed(|| x.f_expand_as(&other)),
            })
        }
        // Not reached: `prepare` takes them.
        Config::Conv { .. } | Config::Linear { .. } => prepare(config),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layer_before_makes_the_op_input_fresh_within_its_budget() {
        for (c, hw) in [(3, 64), (64, 8), (2048, 32)] {
            let mut before = Producer::new(c, hw);
            let (first, second) = (before.input().unwrap(), before.input().unwrap());
            assert_eq!(first.size(), [1, c, hw, hw]);
            let c_source = before.source.size()[1];
            assert!(c_source == 1 || c_source * c * hw * hw <= PRODUCER_MACS, "{c}x{hw}: {c_source} channels in");
            // Each call reads the next copy of the weights and writes a new tensor.
            assert_ne!(first.data_ptr(), second.data_ptr());
            assert!(before.weights.len() >= 2);
        }
    }

    #[test]
    fn every_op_kind_times_through_its_call() {
        for config in crate::core::limits::kernels::space::sample_space(0.02, 3) {
            let ns = time_config(&config, 1).unwrap_or_else(|e| panic!("{config:?}: {e}"));
            assert!(ns > 0.0, "{config:?}");
        }
    }
}
