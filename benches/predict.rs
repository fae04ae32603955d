//! How well the per-kernel latency model predicts whole models (issue #29): calibrate this
//! machine (or reuse its cached calibration), predict the ten built-in models and the models of
//! `models/outside.toml` from the calibration alone, then measure each in one session (half the
//! inferences profiled, for the layer times) and print per model the prediction, the warm p50
//! and the error, and per model the share of its measured leaf-layer time in layers predicted
//! within ±10 % and ±20 %.
//!
//! `cargo bench --bench predict`. `INFERTOP_BENCH_INFERENCES` (default 30): timed inferences per
//! model (and 16 profiled ones for the layer times); `INFERTOP_BENCH_RECALIBRATE=1` calibrates even when a cache exists;
//! `INFERTOP_BENCH_THREADS` (default: all cores); `INFERTOP_BENCH_OP=KIND` (a kind of the
//! by-kind table) prints each op of that kind with its shapes; `INFERTOP_BENCH_ONLY=builtin|outside|traced`
//! (`traced`: ResNet-18, VGG-11 and `SqueezeNet` 1.1 traced to `TorchScript` by
//! `benches/predict/outside_nets.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

use std::collections::BTreeMap;
use std::path::Path;

#[path = "predict/outside_nets.rs"]
mod outside_nets;
use std::time::{Duration, Instant};

use infertop::core::analysis::layer_rows;
use infertop::core::limits::predict_scope;
use infertop::core::limits::{calibrate, calibration};
use infertop::core::limits::{Calibration, ModelPrediction, Options};
use infertop::core::profiling::OpTree;
use infertop::core::run::{Plan, Session};
use infertop::core::state::MonitorState;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

fn calibration(threads: usize) -> Calibration {
    let path = calibration::cache_path().expect("a cache folder");
    if env("INFERTOP_BENCH_RECALIBRATE").is_none() {
        if let Ok(Some(found)) = calibration::load(&path, threads) {
            if found.complete() {
                println!(
                    "calibration: cached ({} samples, took {:.0} s when made)",
                    found.samples.len(),
                    found.seconds
                );
                return found;
            }
        }
    }
    let made = std::thread::spawn(move || {
        calibrate(
            &Options::new(threads, false),
            |_, _| {},
            |c| {
                let _ = calibration::store(&path, c);
            },
        )
    })
    .join()
    .expect("calibration thread");
    println!("calibration: {} samples in {:.0} s ({threads} threads)", made.samples.len(), made.seconds);
    made
}

/// Profiled inferences the layer times need: the state keeps the latest 32 minus stalled ones
/// (`core::state::profiled_window`), so on a busy machine more may never be kept at once.
const PROFILED: u64 = 16;

/// Runs `plan` until every model has `needed` timed and [`PROFILED`] profiled inferences (or 15
/// minutes).
fn measure(plan: &Plan, needed: u64) -> MonitorState {
    let plan = Plan { sample_every: None, profile_every: 2, ..plan.clone() };
    let mut session = Session::start(&plan, false).expect("engine starts");
    let deadline = Instant::now() + Duration::from_secs(900);
    let enough = |s: &MonitorState| {
        s.models.iter().all(|m| {
            m.status.key() == "failed"
                || (m.profiled >= PROFILED && m.latency.summary().is_some_and(|l| l.count >= needed))
        })
    };
    while !enough(&session.state) && Instant::now() < deadline {
        match session.events.blocking_recv() {
            Some(e) => session.state.apply(e),
            None => break,
        }
    }
    session.stop();
    std::mem::replace(&mut session.state, MonitorState::new::<&str>(&[]))
}

/// Per model: (name, predicted, measured, layers within 10 %, within 20 %).
fn report(title: &str, state: &MonitorState, calibration: &Calibration) -> (usize, usize) {
    let predictor = calibration.predictor();
    println!("\n{title}");
    println!(
        "{:<18} {:>10} {:>10} {:>8} {:>9} {:>9} {:>10} {:>8}",
        "model", "pred ms", "p50 ms", "error", "lay±10%", "lay±20%", "overhd ms", "pred s"
    );
    let (mut within, mut count) = (0, 0);
    let (mut all_time, mut all_10, mut all_20) = (0.0, 0.0, 0.0);
    let mut by_kind = ByKind::default();
    for m in &state.models {
        let started = Instant::now();
        let Some(p) = m.scope.and_then(|scope| predict_scope(&state.tree, scope, &predictor)) else {
            println!("{:<18} no prediction ({})", m.name, m.status.key());
            continue;
        };
        let took = started.elapsed().as_secs_f64();
        let Some(p50) = m.latency.summary().map(|l| l.p50_ms) else { continue };
        by_kind.add(&state.tree, m.profiled, &p);
        let error = p.ms / p50 - 1.0;
        count += 1;
        within += usize::from(error.abs() <= 0.10);
        let (mut time, mut t10, mut t20) = (0.0, 0.0, 0.0);
        for layer in layer_rows(&state.tree, m).into_iter().filter(|l| l.leaf && l.ms > 0.0) {
            let predicted = p.layers.get(&layer.layer).copied().unwrap_or(0.0);
            let e = (predicted / layer.ms - 1.0).abs();
            time += layer.ms;
            t10 += if e <= 0.10 { layer.ms } else { 0.0 };
            t20 += if e <= 0.20 { layer.ms } else { 0.0 };
        }
        (all_time, all_10, all_20) = (all_time + time, all_10 + t10, all_20 + t20);
        // A traced TorchScript model has no named layers: nothing to compare per layer.
        let share = |t: f64| if time > 0.0 { format!("{:.0}%", t / time * 100.0) } else { "n/a".into() };
        println!(
            "{:<18} {:>10.2} {:>10.2} {:>+7.1}% {:>9} {:>9} {:>10.2} {:>8.3}",
            m.name,
            p.ms,
            p50,
            error * 100.0,
            share(t10),
            share(t20),
            p.dispatch_ms + p.unmodelled_ms,
            took
        );
    }
    let share = |t: f64| if all_time > 0.0 { format!("{:.0} %", t / all_time * 100.0) } else { "n/a".into() };
    println!(
        "{within} of {count} models within ±10 %; leaf-layer time within ±10 %: {}, within ±20 %: {}",
        share(all_10),
        share(all_20)
    );
    by_kind.print();
    (within, count)
}

/// Measured (profiled, so with the profiler's cost per op) against predicted milliseconds per
/// inference, summed over the models' top-level ops by kernel kind: where the error comes from.
#[derive(Default)]
struct ByKind(BTreeMap<String, (f64, f64, u64)>);

impl ByKind {
    fn add(&mut self, tree: &OpTree, profiled: u64, p: &ModelPrediction) {
        if profiled == 0 {
            return;
        }
        for op in &p.ops {
            let groups = tree.descendants(op.id).into_iter().chain([op.id]).find_map(|d| {
                let shapes = tree.get(d)?.shapes()?;
                Some((shapes.conv.as_ref()?.groups, shapes.input.clone()?))
            });
            let kind = match groups {
                Some((1, _)) => "conv".to_string(),
                Some((g, input)) if input.get(1) == Some(&g) => "conv-depthwise".to_string(),
                Some(_) => "conv-grouped".to_string(),
                None => op.op.to_string(),
            };
            let measured = tree.totals(op.id).total_ns as f64 / profiled as f64 / 1e6;
            if env("INFERTOP_BENCH_OP").is_some_and(|k| k == kind) {
                let shapes = tree.get(op.id).and_then(|n| n.shapes());
                println!(
                    "  {kind} {shapes:?}: measured {measured:.4} ms, predicted {:.4} ms ({} calls)",
                    op.ms, op.calls
                );
            }
            let entry = self.0.entry(kind).or_default();
            *entry = (entry.0 + measured, entry.1 + op.ms, entry.2 + op.calls);
        }
    }

    fn print(&self) {
        let mut rows: Vec<_> = self.0.iter().collect();
        rows.sort_by(|a, b| (b.1 .0 - b.1 .1).abs().total_cmp(&(a.1 .0 - a.1 .1).abs()));
        println!("by kernel kind, summed over these models (measured in profiled inferences):");
        println!("{:<24} {:>8} {:>10} {:>10} {:>9}", "kind", "calls", "meas ms", "pred ms", "meas/pred");
        for (kind, (measured, predicted, calls)) in rows.into_iter().take(12) {
            println!(
                "{kind:<24} {calls:>8} {measured:>10.2} {predicted:>10.2} {:>9.2}",
                measured / predicted.max(1e-9)
            );
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // As the binary does first thing (src/main.rs), so the models allocate as they do there.
    infertop::core::machine::make_allocation_deterministic();
    let needed: u64 = env("INFERTOP_BENCH_INFERENCES").and_then(|s| s.parse().ok()).unwrap_or(30);
    let threads = env("INFERTOP_BENCH_THREADS")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    println!("predict: {threads} threads, {PROFILED} profiled + {needed} timed inferences per model");
    let calibration = calibration(threads);
    let only = env("INFERTOP_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "builtin" {
        let plan = Plan::new(None, &[], None, threads, true).expect("built-in manifest");
        let state = measure(&plan, needed);
        report("built-in models (predicted from the calibration alone)", &state, &calibration);
    }
    if only.is_empty() || only == "outside" {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/outside.toml");
        let plan = Plan::new(Some(&manifest), &[], None, threads, true).expect("models/outside.toml");
        let state = measure(&plan, needed);
        report("built-in architectures at other input sizes (models/outside.toml)", &state, &calibration);
    }
    if only.is_empty() || only == "traced" {
        // Traced on first use into target/ (tens of MB each: not kept in the repository).
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/outside-models");
        let manifest = outside_nets::write(&dir);
        let plan = Plan::new(Some(&manifest), &[], None, threads, true).expect("the traced models' manifest");
        let state = measure(&plan, needed);
        report("other architectures, traced to TorchScript (benches/predict/outside_nets.rs)", &state, &calibration);
    }
}
