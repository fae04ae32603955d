//! What the op profiler costs: for every built-in model, profiled and unprofiled inferences
//! interleaved in one run, and the ratio of their median latencies.
//!
//! `make bench` (or `cargo bench --bench profiler_overhead`). Target: at most 1.03 for every
//! model and at most 1.01 for the large ones. Set `INFERTOP_BENCH_SECONDS` (default 4) for the
//! time spent per model, `INFERTOP_BENCH_THREADS` for the thread count (default: all cores).

use std::time::{Duration, Instant};

use infertop::core::manifest::Manifest;
use infertop::core::model::LoadedModel;
use infertop::core::profiler::{Recorder, Scope};
use infertop::core::stats::quantile_sorted;
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
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as i32));
    tch::set_num_threads(threads);
    let _no_grad = tch::no_grad_guard();
    let mut recorder = Recorder::start();
    println!("profiler overhead, {threads} threads, {seconds} s per model (median latency, interleaved)");
    println!("{:<14} {:>12} {:>12} {:>8} {:>8}", "model", "off ms", "on ms", "ratio", "pairs");
    for spec in Manifest::builtin().models {
        let model = match LoadedModel::load(&spec) {
            Ok(m) => m,
            Err(e) => {
                println!("{:<14} {e}", spec.name);
                continue;
            }
        };
        let [c, h, w] = spec.input;
        let x = Tensor::randn([spec.batch, c, h, w], (Kind::Float, Device::Cpu));
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
        let (mut off, mut on) = (Vec::new(), Vec::new());
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let mut i = 0u64;
        while Instant::now() < deadline || off.len() < 5 {
            // Alternate which mode goes first so neither always follows the other.
            if i % 2 == 0 {
                off.push(run(false, &mut recorder));
                on.push(run(true, &mut recorder));
            } else {
                on.push(run(true, &mut recorder));
                off.push(run(false, &mut recorder));
            }
            i += 1;
        }
        let (m_off, m_on) = (median(off), median(on));
        println!("{:<14} {:>12.3} {:>12.3} {:>8.3} {:>8}", spec.name, m_off, m_on, m_on / m_off, i);
    }
}
