//! Why calibration times an op on an input fresh from a layer before it (issue #29,
//! `core::limits::kernels::timing`): a batch norm, and the `ReLU` after it, called in a loop of
//! their own calls against the same ops right after a 3x3 convolution made their input, as in a
//! net. Medians of 40 calls each, at the thread count of the machine, in one run.
//!
//! `cargo bench --bench op_context`

#![allow(clippy::unwrap_used, reason = "a bench that cannot set up has nothing to time")]

use std::time::Instant;

use tch::{Device, Kind, Tensor};

const CALLS: usize = 40;

fn randn(shape: &[i64]) -> Tensor {
    Tensor::randn(shape, (Kind::Float, Device::Cpu))
}

fn median_us(mut ns: Vec<f64>) -> f64 {
    ns.sort_by(f64::total_cmp);
    ns[ns.len() / 2] / 1e3
}

fn elapsed_ns(start: Instant) -> f64 {
    start.elapsed().as_nanos() as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    infertop::core::machine::make_allocation_deterministic();
    let _no_grad = tch::no_grad_guard();
    println!("op_context: {} threads, median of {CALLS} calls", tch::get_num_threads());
    println!(
        "{:<14} {:>12} {:>14} {:>7} {:>14} {:>15} {:>7}",
        "feature map", "bn alone µs", "bn after conv", "ratio", "relu_ alone µs", "relu_ after bn", "ratio"
    );
    for (channels, side) in [(64_i64, 32_i64), (256, 32), (512, 16), (1024, 8), (2048, 4)] {
        let input = randn(&[1, channels, side, side]);
        let (weight, bias, mean, var) =
            (randn(&[channels]), randn(&[channels]), randn(&[channels]), randn(&[channels]).abs());
        let batch_norm =
            |x: &Tensor| x.batch_norm(Some(&weight), Some(&bias), Some(&mean), Some(&var), false, 0.1, 1e-5, true);
        let conv_weight = randn(&[channels, channels, 3, 3]) * 0.01;

        let (mut bn_alone, mut relu_alone) = (Vec::new(), Vec::new());
        let mut relu_input = input.copy();
        for _ in 0..CALLS {
            let start = Instant::now();
            drop(batch_norm(&input));
            bn_alone.push(elapsed_ns(start));
            let start = Instant::now();
            let _ = relu_input.relu_();
            relu_alone.push(elapsed_ns(start));
        }
        let (mut bn_after, mut relu_after) = (Vec::new(), Vec::new());
        for _ in 0..CALLS {
            let conv_out = input.conv2d(&conv_weight, None::<&Tensor>, [1, 1], [1, 1], [1, 1], 1);
            let start = Instant::now();
            let mut normalised = batch_norm(&conv_out);
            bn_after.push(elapsed_ns(start));
            let start = Instant::now();
            let _ = normalised.relu_();
            relu_after.push(elapsed_ns(start));
        }
        let (bn_alone, bn_after) = (median_us(bn_alone), median_us(bn_after));
        let (relu_alone, relu_after) = (median_us(relu_alone), median_us(relu_after));
        println!(
            "{:<14} {bn_alone:>12.1} {bn_after:>14.1} {:>6.1}x {relu_alone:>14.1} {relu_after:>15.1} {:>6.1}x",
            format!("{channels}x{side}x{side}"),
            bn_after / bn_alone,
            relu_after / relu_alone
        );
    }
}
