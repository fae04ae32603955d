//! Does the op breakdown describe the latency beside it when other work shares the cores?
//! Issue #27's fidelity check, measured as ratios within one session per model:
//!
//! - a **quiet** phase and a **contended** phase, in which another process spins on one core
//!   for 2 s out of every 5 (a build, a browser, a second benchmark: everyday contention);
//! - per phase, the op time per inference (the sum of the top-level ops, what the shares divide)
//!   over the warm p50. Target: within 0.8–1.2, quiet and contended;
//! - the category shares of the contended phase against the quiet phase's. Target: no category
//!   more than 5 points away;
//! - beside them, what a plain mean over every profiled inference would have said (the
//!   aggregation before `core::state::profiled_window`), computed from the same events.
//!
//! `make bench` runs it with the others, or `cargo bench --bench fidelity`. Set
//! `INFERTOP_BENCH_SECONDS` (default 40) for each phase, `INFERTOP_BENCH_MODELS` (default
//! `resnet50,mobilenetv2`) and `INFERTOP_BENCH_THREADS` (default: all cores).

use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use infertop::core::analysis::model_profile;
use infertop::core::profiling::Category;
use infertop::core::profiling::NodeId;
use infertop::core::run::Event;
use infertop::core::run::{Plan, Session};
use infertop::core::state::LeftOut;
use infertop::core::state::MonitorState;

/// What one phase measured of model 0.
struct Phase {
    p50_ms: f64,
    op_ms: f64,
    shares: HashMap<Category, f64>,
    naive_op_ms: f64,
    naive_shares: HashMap<Category, f64>,
    kept: u64,
    stalled: usize,
    contended: usize,
    contended_samples: usize,
    samples: usize,
}

/// Another process spinning on one core 2 s out of every 5 while `on` is set.
fn busy_loop(on: Arc<AtomicBool>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut child: Option<Child> = None;
        let mut cycle = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let busy = on.load(Ordering::Relaxed) && cycle.elapsed().as_secs_f64() % 5.0 < 2.0;
            match (busy, child.is_some()) {
                (true, false) => child = Command::new("sh").args(["-c", "while :; do :; done"]).spawn().ok(),
                (false, true) => {
                    if let Some(mut c) = child.take() {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
                }
                _ => {}
            }
            if !on.load(Ordering::Relaxed) {
                cycle = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(mut c) = child {
            let _ = c.kill();
            let _ = c.wait();
        }
    })
}

fn top_level_categories(state: &MonitorState) -> HashMap<NodeId, Category> {
    let Some(root) = state.models[0].scope else { return HashMap::new() };
    state
        .tree
        .descendants(root)
        .into_iter()
        .filter_map(|id| state.tree.get(id).filter(|n| n.is_top_level_op()).map(|n| (id, n.category)))
        .collect()
}

fn shares(by_cat: &HashMap<Category, f64>) -> HashMap<Category, f64> {
    let total: f64 = by_cat.values().sum();
    by_cat.iter().map(|(c, ms)| (*c, if total > 0.0 { 100.0 * ms / total } else { 0.0 })).collect()
}

fn run_phase(session: &mut Session, length: Duration) -> Phase {
    session.state.reset();
    let mut naive: HashMap<Category, f64> = HashMap::new();
    let mut naive_n = 0u64;
    let (mut samples, mut contended_samples) = (0, 0);
    let end = Instant::now() + length;
    while Instant::now() < end {
        let Ok(event) = session.events.try_recv() else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        match &event {
            Event::Inference(i) if i.profiled && i.model == 0 => {
                let top = top_level_categories(&session.state);
                naive_n += 1;
                for t in &i.ops {
                    if let Some(c) = top.get(&t.node) {
                        *naive.entry(*c).or_default() += t.total_ns as f64 / 1e6;
                    }
                }
            }
            Event::System(s) => {
                samples += 1;
                contended_samples += usize::from(s.is_contended() == Some(true));
            }
            _ => {}
        }
        session.state.apply(event);
    }
    let state = &session.state;
    let model = &state.models[0];
    let profile = model_profile(&state.tree, model);
    let by_cat: HashMap<Category, f64> = profile.categories.iter().filter_map(|c| Some((c.category?, c.ms))).collect();
    let naive_ms = naive.values().sum::<f64>() / naive_n.max(1) as f64;
    Phase {
        p50_ms: model.latency.summary().map_or(f64::NAN, |s| s.p50_ms),
        op_ms: profile.op_ms,
        shares: shares(&by_cat),
        naive_op_ms: naive_ms,
        naive_shares: shares(&naive),
        kept: model.profiled,
        stalled: model.window.left_out(LeftOut::Stalled),
        contended: model.window.left_out(LeftOut::Contended),
        contended_samples,
        samples,
    }
}

fn worst_share_gap(a: &HashMap<Category, f64>, b: &HashMap<Category, f64>) -> (Category, f64) {
    Category::ALL
        .iter()
        .map(|c| (*c, (a.get(c).unwrap_or(&0.0) - b.get(c).unwrap_or(&0.0)).abs()))
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .unwrap_or((Category::Other, 0.0))
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "NOT MET"
    }
}

fn threads() -> usize {
    std::env::var("INFERTOP_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo's test harness protocol: nothing to list
    }
    let seconds: f64 = std::env::var("INFERTOP_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(40.0);
    let models = std::env::var("INFERTOP_BENCH_MODELS").unwrap_or_else(|_| "resnet50,mobilenetv2".into());
    println!(
        "fidelity benchmark: {} threads, {seconds} s phases; contended = another process spinning 2 s of every 5",
        threads()
    );
    println!("targets: op time per inference / p50 within 0.8-1.2; contended shares within 5 points of quiet");
    let (on, stop) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let spinner = busy_loop(Arc::clone(&on), Arc::clone(&stop));
    for model in models.split(',') {
        let Ok(plan) = Plan::new(None, &[model.to_string()], None, threads(), true) else {
            println!("{model}: not a built-in model");
            continue;
        };
        let Ok(mut session) = Session::start(&plan, false) else {
            println!("{model}: the engine did not start");
            continue;
        };
        let length = Duration::from_secs_f64(seconds);
        // Loading, warm-up and the machine's limits.
        let _ = run_phase(&mut session, Duration::from_secs(5));
        let quiet = run_phase(&mut session, length);
        on.store(true, Ordering::Relaxed);
        let contended = run_phase(&mut session, length);
        on.store(false, Ordering::Relaxed);
        session.stop();
        for (name, p) in [("quiet", &quiet), ("contended", &contended)] {
            let ratio = p.op_ms / p.p50_ms;
            println!(
                "{model:<12} {name:<9} p50 {:>7.2} ms  op time {:>7.2} ms = {ratio:.2}x p50 {}  (plain mean {:.2}x)  \
                 kept {} stalled {} contended {}  samples contended {}/{}",
                p.p50_ms,
                p.op_ms,
                verdict((0.8..=1.2).contains(&ratio)),
                p.naive_op_ms / p.p50_ms,
                p.kept,
                p.stalled,
                p.contended,
                p.contended_samples,
                p.samples,
            );
        }
        let (cat, gap) = worst_share_gap(&quiet.shares, &contended.shares);
        let (naive_cat, naive_gap) = worst_share_gap(&quiet.naive_shares, &contended.naive_shares);
        println!(
            "{model:<12} shares    largest gap contended vs quiet {gap:.1} points ({}) {}  (plain mean: {naive_gap:.1} points, {})",
            cat.label(),
            verdict(gap <= 5.0),
            naive_cat.label(),
        );
    }
    stop.store(true, Ordering::Relaxed);
    let _ = spinner.join();
}
