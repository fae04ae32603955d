//! What the op profiler costs, for every built-in model, measured in one run with blocks of
//! inferences interleaved:
//! - baseline: four inferences with the profiler off;
//! - sampled: what infertop runs by default, one profiled inference and three unprofiled ones.
//!
//! It prints two ratios of median latencies against the baseline: `profiled` (an inference with
//! the op profiler on: what the op times are measured on) and `reported` (the unprofiled
//! inferences of the sampled block: what infertop's latency statistics are made of).
//!
//! `make bench` (or `cargo bench --bench profiler_overhead`). Set `INFERTOP_BENCH_SECONDS`
//! (default 4) for the time per model, `INFERTOP_BENCH_THREADS` for the thread count
//! (default: all cores).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

use std::time::{Duration, Instant};

use infertop::core::common::quantile_sorted;
use infertop::core::models::LoadedModel;
use infertop::core::models::Manifest;
use infertop::core::profiling::{Recorder, Scope};
use tch::{Device, Kind, Tensor};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, 0.5).unwrap_or(f64::NAN)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo's test harness protocol: nothing to list
    }
    let seconds: f64 = std::env::var("INFERTOP_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(4.0);
    let threads: i32 = std::env::var("INFERTOP_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| i32::try_from(n.get()).unwrap_or(1)));
    tch::set_num_threads(threads);
    let _no_grad = tch::no_grad_guard();
    let mut recorder = Recorder::start().expect("no other recorder on this thread");
    println!("profiler overhead, {threads} threads, {seconds} s per model (median latency, interleaved blocks)");
    println!(
        "{:<14} {:>11} {:>11} {:>9} {:>11} {:>9} {:>7}",
        "model", "base ms", "profiled", "ratio", "reported", "ratio", "blocks"
    );
    for spec in Manifest::builtin().models {
        let model = match LoadedModel::load(&spec) {
            Ok(m) => m,
            Err(e) => {
                println!("{:<14} {e}", spec.name);
                continue;
            }
        };
        let [channels, height, width] = spec.input;
        let x = Tensor::randn([spec.batch, channels, height, width], (Kind::Float, Device::Cpu));
        let scope = Scope::new(&format!("model:{}", spec.name));
        let run = |profiled: bool, recorder: &mut Recorder| {
            recorder.set_enabled(profiled);
            let start = Instant::now();
            let _ = scope.run(|| model.forward(&x));
            let ms = start.elapsed().as_secs_f64() * 1e3;
            if profiled {
                let _ = recorder.take();
            }
            ms
        };
        for _ in 0..3 {
            run(true, &mut recorder);
            run(false, &mut recorder);
        }
        let (mut base, mut profiled, mut reported) = (Vec::new(), Vec::new(), Vec::new());
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let mut blocks = 0u64;
        while Instant::now() < deadline || blocks < 4 {
            let mut sampled = |recorder: &mut Recorder| {
                profiled.push(run(true, recorder));
                for _ in 0..3 {
                    reported.push(run(false, recorder));
                }
            };
            // Alternate which block goes first so neither always follows the other.
            if blocks % 2 == 0 {
                sampled(&mut recorder);
                (0..4).for_each(|_| base.push(run(false, &mut recorder)));
            } else {
                (0..4).for_each(|_| base.push(run(false, &mut recorder)));
                sampled(&mut recorder);
            }
            blocks += 1;
        }
        let (b, p, r) = (median(base), median(profiled), median(reported));
        println!("{:<14} {b:>11.3} {p:>11.3} {:>9.3} {r:>11.3} {:>9.3} {blocks:>7}", spec.name, p / b, r / b);
    }
}
