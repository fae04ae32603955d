//! Does the harness shape the latency? Two targets of issue #11, measured as ratios within one
//! run (the machine is shared and noisy; absolute times are not compared across runs):
//!
//! 1. **Schedule**: each of the ten built-in models alone (the engine's focus) against the same
//!    model under the default dwell schedule with all ten, in interleaved phases of one session
//!    (same process, same weights). Target: warm p50 under the schedule / alone ≤ 1.05.
//! 2. **Profiler sampling**: resnet50 and shufflenetv2 with one inference in four profiled
//!    (the default) against the op profiler switched off, in alternating phases of one session
//!    (`Control::OpProfile`; separate processes differed by more than the effect sought).
//!    Target: p50 ratio within 0.98–1.02 (the latency statistics come from the unprofiled
//!    inferences only).
//!
//! `make bench` runs it with the others, or `cargo bench --bench trust`. Set
//! `INFERTOP_BENCH_SECONDS` (default 3) for the length of each phase and
//! `INFERTOP_BENCH_ROUNDS` (default 2; the profiler phases repeat four times as often) for how
//! many times the phases repeat; `INFERTOP_BENCH_ONLY=schedule` or `=profiler` runs one target.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use infertop::core::common::quantile_sorted;
use infertop::core::run::{Control, Event};
use infertop::core::run::{Plan, Session};

fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, 0.5)
}

fn env_or(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Warm, unprofiled latencies (ms) per model received during `phase`.
fn collect(session: &mut Session, phase: Duration) -> HashMap<usize, Vec<f64>> {
    let mut out: HashMap<usize, Vec<f64>> = HashMap::new();
    let end = Instant::now() + phase;
    while Instant::now() < end {
        let Ok(event) = session.events.try_recv() else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        if let Event::Inference(i) = &event {
            if !i.cold && !i.profiled {
                out.entry(i.model).or_default().push(i.wall_ns as f64 / 1e6);
            }
        }
        session.state.apply(event);
    }
    out
}

/// Waits until every model is loaded (or failed).
fn wait_loaded(session: &mut Session) {
    while session.state.models.iter().any(|m| m.info.is_none() && m.status.key() != "failed") {
        match session.events.blocking_recv() {
            Some(e) => session.state.apply(e),
            None => return,
        }
    }
}

fn schedule_target(seconds: f64, rounds: usize) {
    let plan = Plan::new(None, &[], None, threads(), false).expect("built-in manifest");
    let plan = Plan { sample_every: None, ..plan };
    let names = plan.names();
    let mut session = Session::start(&plan, false).expect("engine starts");
    wait_loaded(&mut session);
    let phase = Duration::from_secs_f64(seconds);
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..rounds {
        session.control(Control::Focus(None));
        let together = collect(&mut session, phase * u32::try_from(names.len()).unwrap_or(10));
        for (id, ratio_list) in ratios.iter_mut().enumerate() {
            session.control(Control::Focus(Some(id)));
            // Let the focus reach the engine and its first (cold) inference pass.
            let _ = collect(&mut session, Duration::from_millis(300));
            let alone = collect(&mut session, phase);
            let (Some(a), Some(t)) =
                (alone.get(&id).and_then(|v| median(v)), together.get(&id).and_then(|v| median(v)))
            else {
                continue;
            };
            ratio_list.push(t / a);
        }
    }
    session.stop();
    println!("schedule: warm p50 under the default dwell schedule / alone (median of {rounds} rounds; target <= 1.05)");
    println!("{:<14} {:>8}  rounds", "model", "ratio");
    for (name, r) in names.iter().zip(&ratios) {
        let verdict = match median(r) {
            Some(m) if m <= 1.05 => format!("{m:>8.3}  ok"),
            Some(m) => format!("{m:>8.3}  NOT MET"),
            None => format!("{:>8}  no data", "-"),
        };
        println!("{name:<14} {verdict}  {}", r.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(" "));
    }
}

fn profiler_target(seconds: f64, rounds: usize) {
    println!(
        "\nprofiler sampling: p50 with one in four profiled / with the profiler off, one session (target 0.98-1.02)"
    );
    for model in ["resnet50", "shufflenetv2"] {
        let plan = Plan::new(None, &[model.to_string()], None, threads(), true).expect("built-in");
        let mut session = Session::start(&Plan { sample_every: None, ..plan }, false).expect("engine starts");
        wait_loaded(&mut session);
        let mut ratios = Vec::new();
        for round in 0..rounds {
            let mut p50 = [f64::NAN; 2];
            // Alternate which phase goes first, so that neither always follows the other.
            let order = if round % 2 == 0 { [true, false] } else { [false, true] };
            for sampling in order {
                session.control(Control::OpProfile(sampling));
                // Let the switch reach the engine.
                let _ = collect(&mut session, Duration::from_millis(300));
                p50[usize::from(!sampling)] = collect(&mut session, Duration::from_secs_f64(seconds))
                    .get(&0)
                    .and_then(|v| median(v))
                    .unwrap_or(f64::NAN);
            }
            ratios.push(p50[0] / p50[1]);
        }
        session.stop();
        let m = median(&ratios).unwrap_or(f64::NAN);
        let verdict = if (0.98..=1.02).contains(&m) { "ok" } else { "NOT MET" };
        let all = ratios.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(" ");
        println!("{model:<14} {m:>8.3}  {verdict}  {all}");
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
    let seconds = env_or("INFERTOP_BENCH_SECONDS", 3.0);
    let rounds = env_or("INFERTOP_BENCH_ROUNDS", 2.0).max(1.0) as usize;
    println!("trust benchmark: {} threads, {seconds} s phases, {rounds} rounds", threads());
    let only = std::env::var("INFERTOP_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "schedule" {
        schedule_target(seconds, rounds);
    }
    if only.is_empty() || only == "profiler" {
        profiler_target(seconds, rounds * 4);
    }
}
