//! How well latency is predicted on this machine (issue #18): the ten built-in models run with
//! the op profiler in one session until each has enough profiled and timed inferences; then
//! each model is left out in turn and predicted by the MAC-only model (latency = a·MACs + c) and
//! by the op-level model (per op kind: time = a·MACs + b·bytes + c·calls, all non-negative),
//! both fitted on the other nine. Prints a table of the errors and the share within ±10 %, plus
//! each model's roofline split (compute / memory / kernel below peak / outside kernels) and the machine's two limits.
//!
//! `make bench` runs it with the others, or `cargo bench --bench latency_model`.
//! `INFERTOP_BENCH_INFERENCES` (default 40) is how many profiled and timed inferences each
//! model needs before the fit.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

use std::time::{Duration, Instant};

use infertop::core::analysis::observations;
use infertop::core::analysis::{leave_one_out, GOOD_WITHIN};
use infertop::core::analysis::{roofline, Limits};
use infertop::core::run::{Plan, Session};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let needed: u64 = std::env::var("INFERTOP_BENCH_INFERENCES").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let plan = Plan::new(None, &[], None, threads, true).expect("built-in manifest");
    // Half the inferences profiled: op times and unprofiled latencies accumulate together.
    let plan = Plan { sample_every: None, profile_every: 2, ..plan };
    let mut session = Session::start(&plan, false).expect("engine starts");
    let start = Instant::now();
    let deadline = start + Duration::from_secs(600);
    let enough = |s: &infertop::core::state::MonitorState| {
        s.models.iter().all(|m| {
            m.status.key() == "failed"
                || (m.profiled >= needed && m.latency.summary().is_some_and(|l| l.count >= needed))
        })
    };
    while !enough(&session.state) && Instant::now() < deadline {
        match session.events.blocking_recv() {
            Some(e) => session.state.apply(e),
            None => break,
        }
    }
    session.stop();
    let state = &session.state;
    println!(
        "latency_model: {} models, {needed} profiled + {needed} timed inferences each, {threads} threads, {:.0} s",
        state.models.len(),
        start.elapsed().as_secs_f64()
    );
    if let Some(limits) = Limits::of(state) {
        println!("limits: peak {:.1} GMAC/s, bandwidth {:.1} GB/s", limits.peak_gmacs, limits.bandwidth_gbs);
        println!(
            "{:<14} {:>9} {:>9} {:>9} {:>11} {:>9}",
            "model", "op ms", "compute", "memory", "below peak", "outside"
        );
        for m in &state.models {
            let split = roofline(&state.tree, m, &limits).model;
            let [c, mem, below, outside] = split.shares().map(|s| s * 100.0);
            println!(
                "{:<14} {:>9.2} {:>8.0}% {:>8.0}% {:>10.0}% {:>8.0}%",
                m.name,
                split.total_ms(),
                c,
                mem,
                below,
                outside
            );
        }
    }
    let Some(fitted) = leave_one_out(&observations(state)) else {
        println!("latency_model: fewer than three models measured; no fit");
        return;
    };
    println!("{:<14} {:>10} {:>12} {:>12}", "model", "p50 ms", "MAC-only", "op-level");
    for p in &fitted.predictions {
        println!(
            "{:<14} {:>10.2} {:>+11.1}% {:>+11.1}%",
            p.name,
            p.measured_ms,
            p.mac_model_error() * 100.0,
            p.op_model_error() * 100.0
        );
    }
    println!(
        "within ±{:.0} %: MAC-only {:.0} %, op-level {:.0} % of {} models (leave-one-model-out)",
        GOOD_WITHIN * 100.0,
        fitted.mac_model_good_share() * 100.0,
        fitted.op_model_good_share() * 100.0,
        fitted.predictions.len()
    );
}
