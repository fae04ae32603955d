//! What each what-if variant wins or loses on this machine (issue #16): for each of the ten
//! built-in models, one session runs the original and its variants (fold-bn, channels-last,
//! threads=1, no-mkldnn) interleaved under the dwell schedule, without the op profiler, until
//! each row has enough warm inferences; then it prints the change in median latency against
//! the original with its 95 % interval, the verdict, and the output check. A variant whose
//! output disagrees is printed as such, never as a speed-up.
//!
//! `make bench` runs it with the others, or `cargo bench --bench what_if`.
//! `INFERTOP_BENCH_INFERENCES` (default 30) is how many warm inferences each row needs;
//! `INFERTOP_BENCH_MODELS` (comma separated) picks models.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

use std::time::{Duration, Instant};

use infertop::core::analysis::{comparisons, Comparison, Verdict};
use infertop::core::models::{Variant, VariantRequest};
use infertop::core::run::{Plan, Session};
use infertop::core::state::MonitorState;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let needed: u64 = std::env::var("INFERTOP_BENCH_INFERENCES").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).max(2);
    let only: Vec<String> =
        std::env::var("INFERTOP_BENCH_MODELS").map(|s| s.split(',').map(str::to_string).collect()).unwrap_or_default();
    let mut variants = vec![Variant::FoldBn, Variant::ChannelsLast, Variant::Threads(1)];
    if infertop::core::models::mkldnn_available() {
        variants.push(Variant::NoMkldnn);
    }
    let requests: Vec<VariantRequest> = variants.iter().map(|v| VariantRequest::One(*v)).collect();
    let models = Plan::new(None, &only, None, threads, false).expect("built-in manifest").names();
    println!("what_if: {needed} warm inferences per row, {threads} threads for the originals, dwell schedule");
    print!("{:<14}", "model");
    for v in &variants {
        print!(" {:>26}", v.to_string());
    }
    println!();
    let start = Instant::now();
    let mut largest_diff = vec![0f64; variants.len()];
    for model in &models {
        let mut plan = Plan::new(None, std::slice::from_ref(model), None, threads, false).expect("built-in manifest");
        plan.what_if(&requests).expect("every variant fits a built-in");
        plan.sample_every = None;
        let state = run(&plan, needed);
        let compared = comparisons(&state);
        print!("{model:<14}");
        for (i, v) in variants.iter().enumerate() {
            let found = compared.iter().find(|c| c.variant == *v);
            if let Some(Ok(check)) = found.map(|c| &c.check) {
                largest_diff[i] = largest_diff[i].max(check.max_rel);
            }
            print!(" {:>26}", found.map_or_else(|| "failed".into(), cell));
        }
        println!();
    }
    print!("{:<14}", "max rel diff");
    for d in &largest_diff {
        print!(" {:>26}", format!("{d:.1e}"));
    }
    println!();
    println!(
        "({:.0} s; Δ = variant p50 / original p50 − 1, [95 % interval]; ✗ = output differs)",
        start.elapsed().as_secs_f64()
    );
}

/// Runs the plan until every row has `needed` warm inferences (or failed, or ten minutes).
fn run(plan: &Plan, needed: u64) -> MonitorState {
    let mut session = Session::start(plan, false).expect("engine starts");
    let deadline = Instant::now() + Duration::from_secs(600);
    let enough = |s: &MonitorState| {
        s.models.iter().all(|m| m.status.key() == "failed" || m.latency.summary().is_some_and(|l| l.count >= needed))
    };
    while !enough(&session.state) && Instant::now() < deadline {
        match session.events.blocking_recv() {
            Some(e) => session.state.apply(e),
            None => break,
        }
    }
    session.stop();
    session.state.clone()
}

/// `−12.3% [−15.0, −9.1] faster`, or `✗ output differs (3e-2)`.
fn cell(c: &Comparison) -> String {
    if c.verdict == Verdict::Disagrees {
        return match &c.check {
            Ok(k) => format!("✗ differs ({:.0e})", k.max_rel),
            Err(_) => "✗ not checked".into(),
        };
    }
    let pct = |v: f64| format!("{:+.1}", 100.0 * v);
    match (c.delta_p50, c.delta_ci) {
        (Some(d), Some((lo, hi))) => format!("{}% [{}, {}]", pct(d), pct(lo), pct(hi)),
        (Some(d), None) => format!("{}%", pct(d)),
        _ => "-".into(),
    }
}
