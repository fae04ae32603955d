//! Times one [`Config`] through tch, called exactly as the built-in nets call it (see
//! `core::nets::layers`): warm-up calls first, then the fastest of a few timed calls. Other work
//! on the cores only ever adds time (with two OpenMP threads and one core taken, a barrier can
//! wait a whole time slice), so the fastest call is the op's own time.

use std::time::Instant;

use tch::{Device, Kind, TchError, Tensor};

use super::space::{Cheap, Config, Unary};

fn randn(shape: &[i64]) -> Tensor {
    Tensor::randn(shape, (Kind::Float, Device::Cpu))
}

/// Nanoseconds of the fastest of `reps` calls of `config`'s op (after two warm-up calls), on the
/// calling thread with libtorch's current thread count and no gradients.
///
/// # Errors
/// What libtorch reports for the configuration.
pub fn time_config(config: &Config, reps: usize) -> Result<f64, TchError> {
    let _no_grad = tch::no_grad_guard();
    let mut op = prepare(config)?;
    for _ in 0..2 {
        op()?;
    }
    let mut times = Vec::with_capacity(reps.max(1));
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        op()?;
        times.push(start.elapsed().as_nanos() as f64);
    }
    drop(op);
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

type Op = Box<dyn FnMut() -> Result<(), TchError>>;

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

/// The inputs of `config` and a call of its op on them.
fn prepare(config: &Config) -> Result<Op, TchError> {
    let image = |c: i64, hw: i64| randn(&[1, c, hw, hw]);
    Ok(match *config {
        Config::Conv { c_in, c_out, hw, kernel, stride, padding, groups } => {
            let x = image(c_in, hw);
            let ws = cold_copies(&[c_out, c_in / groups, kernel[0], kernel[1]]);
            let mut next = 0;
            // The nets' convolutions are followed by batch norm and have no bias, except the
            // few plain ones; a bias costs one add per output element either way.
            Box::new(move || {
                next = (next + 1) % ws.len();
                x.f_conv2d(&ws[next], None::<&Tensor>, [stride, stride], padding, [1, 1], groups).map(drop)
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
                x.f_linear(&ws[next], Some(&b)).map(drop)
            })
        }
        Config::BatchNorm { c, hw } => {
            let x = image(c, hw);
            let (w, b, mean, var) = (randn(&[c]), randn(&[c]), randn(&[c]), randn(&[c]).abs());
            Box::new(move || {
                x.f_batch_norm(Some(&w), Some(&b), Some(&mean), Some(&var), false, 0.1, 1e-5, true).map(drop)
            })
        }
        Config::Unary { unary, c, hw } => {
            let mut x = image(c, hw);
            Box::new(move || match unary {
                Unary::ReluInPlace => x.f_relu_().map(drop),
                Unary::Relu => x.f_relu().map(drop),
                Unary::Relu6InPlace => x.f_relu6_().map(drop),
                Unary::Sigmoid => x.f_sigmoid().map(drop),
            })
        }
        Config::Add { c, hw, in_place } => {
            let (mut a, b) = (image(c, hw), image(c, hw));
            Box::new(move || if in_place { a.f_add_(&b).map(drop) } else { a.f_add(&b).map(drop) })
        }
        Config::Scale { c, hw } => {
            // The net expands first (its own `aten::expand_as`), then multiplies.
            let x = image(c, hw);
            let s = randn(&[1, c, 1, 1]).f_expand_as(&x)?;
            Box::new(move || x.f_mul(&s).map(drop))
        }
        Config::MaxPool { c, hw, k, stride, pad } => {
            let x = image(c, hw);
            Box::new(move || x.f_max_pool2d([k, k], [stride, stride], [pad, pad], [1, 1], false).map(drop))
        }
        Config::AvgPool { c, hw, k, stride, pad } => {
            let x = image(c, hw);
            Box::new(move || x.f_avg_pool2d([k, k], [stride, stride], [pad, pad], false, true, None).map(drop))
        }
        Config::GlobalAvgPool { c, hw } => {
            let x = image(c, hw);
            Box::new(move || x.f_adaptive_avg_pool2d([1, 1]).map(drop))
        }
        Config::Cat { c, parts, hw } => {
            let xs: Vec<Tensor> = (0..parts).map(|_| image(c, hw)).collect();
            Box::new(move || Tensor::f_cat(&xs, 1).map(drop))
        }
        Config::Shuffle { c, groups, hw } => {
            let x = image(c, hw).f_view([1, groups, c / groups, hw, hw])?.f_transpose(1, 2)?;
            Box::new(move || x.f_contiguous().map(drop))
        }
        Config::Cheap { cheap, c, hw } => {
            let x = image(c, hw);
            let other = image(c, hw);
            let half = (c / 2).max(1);
            Box::new(move || match cheap {
                Cheap::View => x.f_view([1, -1]).map(drop),
                Cheap::Transpose => x.f_transpose(1, 2).map(drop),
                Cheap::Split => x.f_split(half, 1).map(drop),
                Cheap::Dropout => x.f_dropout(0.5, false).map(drop),
                Cheap::FeatureDropout => x.f_feature_dropout(0.5, false).map(drop),
                Cheap::ExpandAs => x.f_expand_as(&other).map(drop),
            })
        }
    })
}
