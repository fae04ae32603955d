//! What placing `TorchScript` ops under their modules' scopes costs (the shim asks the
//! interpreter for the module hierarchy before each op that runs directly in a layer), measured
//! in one run with blocks of profiled inferences interleaved: following the modules on, off,
//! and the profiler off. On a small scripted model with nested submodules (where the lookup
//! finds modules) and on a built-in net (where it finds no interpreter).
//!
//! `cargo bench --bench module_scopes`. `INFERTOP_BENCH_SECONDS` (default 3) per model.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

use std::time::{Duration, Instant};

use infertop::core::common::quantile_sorted;
use infertop::core::models::Arch;
use infertop::core::models::LoadedModel;
use infertop::core::models::{ModelSource, ModelSpec};
use infertop::core::profiling::{follow_modules, save_scripted_test_net, Recorder, Scope};
use tch::{Device, Kind, Tensor};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, 0.5).unwrap_or(f64::NAN)
}

fn spec(name: &str, source: ModelSource) -> ModelSpec {
    ModelSpec::new(name, source, [3, 32, 32])
}

/// How one block of inferences runs.
#[derive(Clone, Copy)]
enum Mode {
    Off,
    Flat,
    Modules,
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo's test harness protocol: nothing to list
    }
    let seconds: f64 = std::env::var("INFERTOP_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    tch::set_num_threads(1);
    let _no_grad = tch::no_grad_guard();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let scripted = dir.path().join("scripted.pt");
    save_scripted_test_net(&scripted).expect("the scripted net saves");
    let specs = [spec("scripted", ModelSource::TorchScript(scripted)), spec("tiny", ModelSource::Arch(Arch::Tiny))];
    let mut recorder = Recorder::start().expect("no other recorder on this thread");
    println!("module scopes, 1 thread, {seconds} s per model (median µs per inference, interleaved blocks of 8)");
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>12} {:>7}",
        "model", "no prof", "flat", "modules", "modules/flat", "blocks"
    );
    for spec in specs {
        let model = LoadedModel::load(&spec).expect("model loads");
        let x = Tensor::randn([1, 3, 32, 32], (Kind::Float, Device::Cpu));
        let scope = Scope::new(&format!("model:{}", spec.name));
        let mut run = |mode: Mode| {
            recorder.set_enabled(!matches!(mode, Mode::Off));
            follow_modules(matches!(mode, Mode::Modules));
            let start = Instant::now();
            let _ = scope.run(|| model.forward(&x));
            let us = start.elapsed().as_secs_f64() * 1e6;
            let _ = recorder.take();
            us
        };
        for mode in [Mode::Off, Mode::Flat, Mode::Modules].repeat(10) {
            run(mode);
        }
        let mut times: [Vec<f64>; 3] = Default::default();
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let mut blocks = 0usize;
        while Instant::now() < deadline || blocks < 6 {
            // Rotate the order so no mode always follows another.
            for k in 0..3 {
                let m = (k + blocks) % 3;
                let mode = [Mode::Off, Mode::Flat, Mode::Modules][m];
                (0..8).for_each(|_| times[m].push(run(mode)));
            }
            blocks += 1;
        }
        let [off, flat, modules] = times.map(median);
        println!("{:<10} {off:>10.1} {flat:>10.1} {modules:>10.1} {:>12.3} {blocks:>7}", spec.name, modules / flat);
    }
    follow_modules(true);
}
