//! What trace mode costs a profiled inference: resnet50 and shufflenetv2 (the slow model with
//! the most ops per millisecond), profiled inferences with and without trace mode interleaved
//! in one run, ratio of median latencies (traced ÷ profiled). A traced inference is what the
//! timeline shows, so it should run like any profiled one.
//!
//! Trace mode off costs the timing path one branch per closed frame (`pop` in the shim), too
//! little to measure against an inference: this measures the mode switched on.
//!
//! `cargo bench --bench trace_cost`. `INFERTOP_BENCH_ROUNDS` (default 20) pairs per model,
//! `INFERTOP_BENCH_THREADS` the thread count (default: all cores).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

use std::time::Instant;

use infertop::core::common::quantile_sorted;
use infertop::core::models::LoadedModel;
use infertop::core::models::Manifest;
use infertop::core::profiling::{Recorder, Scope};
use infertop::core::run::TRACE_RESERVE;
use tch::{Device, Kind, Tensor};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, 0.5).unwrap_or(f64::NAN)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo's test harness protocol: nothing to list
    }
    let rounds: usize = env_or("INFERTOP_BENCH_ROUNDS", 20);
    let cores = std::thread::available_parallelism().map_or(1, |n| i32::try_from(n.get()).unwrap_or(1));
    let threads: i32 = env_or("INFERTOP_BENCH_THREADS", cores);
    tch::set_num_threads(threads);
    let _no_grad = tch::no_grad_guard();
    let mut recorder = Recorder::start().expect("no other recorder on this thread");
    println!("trace mode cost, {threads} threads, {rounds} interleaved pairs per model (median latency)");
    println!("{:<14} {:>12} {:>12} {:>8} {:>8}", "model", "profiled ms", "traced ms", "ratio", "spans");
    let models = Manifest::builtin().select(&["resnet50".into(), "shufflenetv2".into()]).expect("built-in models");
    for spec in models {
        let model = LoadedModel::load(&spec).expect("built-in model loads");
        let [c, h, w] = spec.input;
        let x = Tensor::randn([spec.batch, c, h, w], (Kind::Float, Device::Cpu));
        let scope = Scope::new(&format!("model:{}", spec.name));
        for _ in 0..3 {
            let _ = scope.run(|| model.forward(&x));
        }
        let _ = recorder.take();
        let (mut profiled, mut traced, mut spans) = (Vec::new(), Vec::new(), 0);
        for _ in 0..rounds {
            let start = Instant::now();
            let _ = scope.run(|| model.forward(&x));
            profiled.push(start.elapsed().as_secs_f64() * 1e3);
            let _ = recorder.take();
            let start = Instant::now();
            let (_, recording) = recorder.trace(TRACE_RESERVE, || scope.run(|| model.forward(&x)));
            traced.push(start.elapsed().as_secs_f64() * 1e3);
            let _ = recorder.take();
            spans = recording.map_or(0, |r| r.spans.len());
        }
        let (profiled_ms, traced_ms) = (median(profiled), median(traced));
        let ratio = traced_ms / profiled_ms;
        println!("{:<14} {profiled_ms:>12.3} {traced_ms:>12.3} {ratio:>8.3} {spans:>8}", spec.name);
    }
}
