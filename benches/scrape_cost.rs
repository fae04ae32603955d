//! What serving `--listen` costs the engine (issue #14): a Prometheus-style scraper fetching
//! `/metrics` once a second, against no scraper, in alternating phases of one session (same
//! process, same weights; separate processes differ by more than the effect sought), as
//! `benches/trust.rs` measures the profiler. The loop below is what a front end does: it applies
//! events and, when a scrape asks, publishes a snapshot, which the server's thread encodes and
//! sends. Target: warm p50 with the scraper / without ≤ 1.01.
//!
//! It also times the work one scrape causes (taking the snapshot on the front end's thread,
//! encoding it on the server's) directly, as a share of a second: the cost of one scrape per
//! second in CPU, which the phase ratio can only bound through the machine's noise.
//!
//! `make bench` runs it with the others, or `cargo bench --bench scrape_cost`.
//! `INFERTOP_BENCH_SECONDS` (default 1: short phases follow the machine's drift closely, and
//! each scraped one holds one scrape) is the length of each phase, `INFERTOP_BENCH_ROUNDS`
//! (default 30) how many times the pair repeats, `INFERTOP_BENCH_MODELS` (default
//! `shufflenetv2,resnet50`: the fastest built-in, where a fixed cost weighs most, and a slow
//! one) the models, `INFERTOP_BENCH_SCRAPE_MS` (default 1000) the scrape interval.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use infertop::core::common::quantile_sorted;
use infertop::core::run::Event;
use infertop::core::run::{Plan, Session};
use infertop::export::listen::MetricsServer;
use infertop::export::metrics::{encode, MetricsSnapshot};

fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, 0.5)
}

fn env_or(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Scrapes `addr` every `every` while `on` is set, as Prometheus would; counts the scrapes.
struct Scraper {
    on: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    scrapes: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Scraper {
    fn start(addr: SocketAddr, every: Duration) -> Self {
        let (on, done) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let scrapes = Arc::new(AtomicU64::new(0));
        let (t_on, t_done, t_scrapes) = (Arc::clone(&on), Arc::clone(&done), Arc::clone(&scrapes));
        let thread = std::thread::spawn(move || {
            let mut next = Instant::now();
            while !t_done.load(Ordering::SeqCst) {
                if t_on.load(Ordering::SeqCst) && Instant::now() >= next {
                    next = Instant::now() + every;
                    if scrape(addr).is_ok_and(|body| body.ends_with("# EOF\n")) {
                        t_scrapes.fetch_add(1, Ordering::SeqCst);
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Self { on, done, scrapes, thread: Some(thread) }
    }
}

impl Drop for Scraper {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn scrape(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nAccept: application/openmetrics-text\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// Applies events for `phase` as a front end would (publishing when a scrape asks); returns the
/// warm, unprofiled latencies (ms) of model 0.
fn run_phase(session: &mut Session, server: &MetricsServer, phase: Duration) -> Vec<f64> {
    let mut latencies = Vec::new();
    let end = Instant::now() + phase;
    while Instant::now() < end {
        if server.take_wanted() {
            server.publish(&session.state);
        }
        let Ok(event) = session.events.try_recv() else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        if let Event::Inference(i) = &event {
            if i.model == 0 && !i.cold && !i.profiled {
                latencies.push(i.wall_ns as f64 / 1e6);
            }
        }
        session.apply(event);
    }
    latencies
}

fn wait_loaded(session: &mut Session) {
    while session.state.models.iter().any(|m| m.info.is_none() && m.status.key() != "failed") {
        match session.events.blocking_recv() {
            Some(e) => session.apply(e),
            None => return,
        }
    }
}

/// Microseconds per snapshot and per encoding of `session`'s state, over `n` of each.
fn work_per_scrape(session: &Session, n: u32) -> (f64, f64, usize) {
    let started = Instant::now();
    let mut snapshot = MetricsSnapshot::default();
    for _ in 0..n {
        snapshot = MetricsSnapshot::of(&session.state);
    }
    let snapshot_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let snapshot = Arc::new(snapshot);
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        bytes = encode(Arc::clone(&snapshot)).map_or(0, |t| t.len());
    }
    (snapshot_us, started.elapsed().as_secs_f64() * 1e6 / f64::from(n), bytes)
}

fn measure(model: &str, seconds: f64, rounds: usize, every: Duration) {
    let plan = Plan::new(None, &[model.to_string()], None, threads(), true).expect("built-in manifest");
    let mut session = Session::start(&plan, false).expect("engine starts");
    wait_loaded(&mut session);
    let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap()).expect("a loopback port");
    let scraper = Scraper::start(server.local_addr(), every);
    // Warm up: the first inferences and the first samples.
    let _ = run_phase(&mut session, &server, Duration::from_secs(2));
    let phase = Duration::from_secs_f64(seconds);
    let mut ratios = Vec::new();
    for round in 0..rounds {
        let mut p50 = [f64::NAN; 2];
        // Alternate which phase goes first, so that neither always follows the other.
        let order = if round % 2 == 0 { [true, false] } else { [false, true] };
        for scraping in order {
            scraper.on.store(scraping, Ordering::SeqCst);
            p50[usize::from(!scraping)] = median(&run_phase(&mut session, &server, phase)).unwrap_or(f64::NAN);
        }
        // A phase without a warm inference (a slow model on a busy machine) compares nothing.
        let ratio = p50[0] / p50[1];
        if ratio.is_finite() {
            ratios.push(ratio);
        }
    }
    scraper.on.store(false, Ordering::SeqCst);
    let scrape_count = scraper.scrapes.load(Ordering::SeqCst);
    drop(scraper);
    let (snapshot_us, encode_us, bytes) = work_per_scrape(&session, 200);
    let p50_ms = session.state.models[0].latency.summary().map_or(f64::NAN, |s| s.p50_ms);
    session.stop();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    let quartile = |q| quantile_sorted(&sorted, q).unwrap_or(f64::NAN);
    let (q1, m, q3) = (quartile(0.25), quartile(0.5), quartile(0.75));
    // The middle half of the rounds: wider than the 1 % sought, the machine's noise, not the
    // scrapes, sets the ratio, and the run cannot tell.
    let verdict = match (m <= 1.01, q3 - q1 <= 0.02) {
        (true, true) => "ok",
        (true, false) => "ok in the median, but the rounds' middle half is wider than 0.02: noise",
        (false, true) => "NOT MET",
        (false, false) => "NOT MET in the median, but the rounds' middle half is wider than 0.02: noise",
    };
    let all = ratios.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(" ");
    let n = ratios.len();
    println!("{model:<14} {m:>8.3}  {verdict}");
    println!("{:<14} middle half {q1:.3}-{q3:.3} of {n} rounds, {scrape_count} scrapes, p50 {p50_ms:.2} ms", "");
    println!("{:<14} rounds {all}", "");
    let share = (snapshot_us + encode_us) / 1e6 * 100.0;
    println!(
        "{:<14} work per scrape: snapshot {snapshot_us:.0} us (front end), encoding {encode_us:.0} us (server), \
         {bytes} bytes: {share:.3} % of one core at one scrape per second",
        ""
    );
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
    let seconds = env_or("INFERTOP_BENCH_SECONDS", 1.0);
    let rounds = env_or("INFERTOP_BENCH_ROUNDS", 30.0).max(1.0) as usize;
    let every = Duration::from_secs_f64(env_or("INFERTOP_BENCH_SCRAPE_MS", 1000.0).max(1.0) / 1e3);
    let models = std::env::var("INFERTOP_BENCH_MODELS").unwrap_or_else(|_| "shufflenetv2,resnet50".into());
    println!(
        "scrape cost: warm p50 with /metrics scraped every {} ms / without, one session, {} threads, {seconds} s \
         phases, {rounds} rounds (target <= 1.01)",
        every.as_millis(),
        threads()
    );
    for model in models.split(',').filter(|m| !m.is_empty()) {
        measure(model, seconds, rounds, every);
    }
}
