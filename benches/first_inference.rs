//! Time to the first timed inference: from the session's start to the end of the first timed
//! inference (`t_ms` of the first row of `inferences.csv`), for `tiny` and `mobilenet`,
//! with the per-user cache of the machine's limits empty (cold: the GEMM peak and bandwidth are
//! measured at full length) and filled (warm). The limits are measured after the first
//! inference, so cold and warm should read alike; before issue #24 they ran first.
//!
//! `make bench` (or `cargo bench --bench first_inference`). Runs the real binary: this build's,
//! or `INFERTOP_BENCH_BIN` (for example an aarch64 bundle's `infertop`, with
//! `INFERTOP_TEST_RUNNER` set to the qemu command `scripts/arch-env.sh aarch64` prints), so the
//! same bench measures an emulated build. `INFERTOP_BENCH_ROUNDS` (default 3) sets the rounds;
//! the median is printed.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

#[path = "../tests/binary/command.rs"]
mod binary;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// One run of `--iterations 1` on `model` with the limits cache under `cache`: the first
/// inference's end (ms since the session's start) and the whole process's wall time (ms).
fn first_inference(model: &str, cache: &Path, threads: &str) -> (f64, f64) {
    let out_dir = tempfile::tempdir().expect("temporary folder");
    let started = Instant::now();
    let out = infertop()
        .args(["--headless", "--iterations", "1", "--print-every", "1h", "--threads", threads, "--only", model])
        .arg("--export-dir")
        .arg(out_dir.path())
        .env("XDG_CACHE_HOME", cache)
        .output()
        .expect("infertop runs");
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let folder = std::fs::read_dir(out_dir.path())
        .expect("snapshots")
        .map(|e| e.expect("entry").path())
        .find(|p| p.is_dir())
        .expect("a run folder");
    let mut reader = csv::Reader::from_path(folder.join("inferences.csv")).expect("inferences.csv");
    let headers = reader.headers().expect("header").clone();
    let column = headers.iter().position(|h| h == "t_ms").expect("a t_ms column");
    let first = reader.records().next().expect("a row").expect("a record");
    (first[column].parse().expect("t_ms is a number"), wall_ms)
}

/// The binary to measure: `INFERTOP_BENCH_BIN` under `INFERTOP_TEST_RUNNER` when given, else
/// this build's (under the runner, if any).
fn infertop() -> Command {
    match std::env::var_os("INFERTOP_BENCH_BIN") {
        Some(bin) => binary::infertop_at(bin),
        None => binary::infertop(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo's test harness protocol: nothing to list
    }
    let rounds: usize = std::env::var("INFERTOP_BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).to_string();
    let where_ = if binary::emulated() { "emulated (INFERTOP_TEST_RUNNER)" } else { "native" };
    println!("time to the first timed inference, {where_}, {threads} threads, median of {rounds} rounds");
    println!("{:<10} {:<5} {:>14} {:>14}", "model", "cache", "first inf. ms", "process ms");
    for model in ["tiny", "mobilenet"] {
        for warm in [false, true] {
            let (mut firsts, mut walls) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                let cache = tempfile::tempdir().expect("cache folder");
                if warm {
                    // One run fills the cache with this machine's limits.
                    first_inference(model, cache.path(), &threads);
                }
                let (first, wall) = first_inference(model, cache.path(), &threads);
                firsts.push(first);
                walls.push(wall);
            }
            let label = if warm { "warm" } else { "cold" };
            println!("{model:<10} {label:<5} {:>14.0} {:>14.0}", median(firsts), median(walls));
        }
    }
}
