//! What the monitor costs while it only watches: the live screen on a pseudo-terminal at
//! 160x45 with inference paused (`p`), CPU time of every infertop thread from
//! `/proc/<pid>/task/*/stat` over a window. Target (issue #17): at most 0.3 % of one core.
//!
//! `make bench` (or `cargo bench --bench idle_cost`). `INFERTOP_BENCH_SECONDS` (default 30) sets
//! the window. Needs a quiet machine only for the start-up; the figure is the process's own CPU
//! time.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

#[path = "../tests/binary/command.rs"]
mod binary;
#[path = "../tests/binary/pty.rs"]
mod pty;

use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// CPU ticks per thread name (several threads may share one).
fn ticks_by_thread(pid: u32) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return out };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let name = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        let ticks: u64 = fields.get(11..13).map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
        *out.entry(name).or_default() += ticks;
    }
    out
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo's test harness protocol: nothing to list
    }
    let seconds: f64 = std::env::var("INFERTOP_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30.0);
    let dir = std::env::temp_dir().join(format!("infertop-idle-{}", std::process::id()));
    let pty = pty::Pty::open(160, 45);
    let out = pty::Output::collect(pty.master.as_raw_fd());
    let args = ["--only", "tiny,mobilenet", "--threads", "1", "--export-dir", &dir.display().to_string()];
    let mut running = pty::start(&pty, &args);
    out.wait_for("inferences");
    std::thread::sleep(Duration::from_secs(3));
    pty.send(b"p");
    out.wait_for("paused");
    std::thread::sleep(Duration::from_secs(2));
    let pid = running.child.id();
    let (before, started) = (ticks_by_thread(pid), Instant::now());
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let (after, elapsed) = (ticks_by_thread(pid), started.elapsed().as_secs_f64());
    // SAFETY: sysconf has no preconditions.
    let hz = f64::from(u32::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100));
    let pct = |ticks: u64| 100.0 * ticks as f64 / hz / elapsed;
    println!("idle cost: live screen 160x45, inference paused, {elapsed:.0} s (target <= 0.30 % of a core)");
    let mut total = 0;
    for (name, ticks) in &after {
        let used = ticks.saturating_sub(before.get(name).copied().unwrap_or(0));
        total += used;
        println!("  {name:<18} {:>6.2} %", pct(used));
    }
    let verdict = if pct(total) <= 0.3 { "ok" } else { "NOT MET" };
    println!("  {:<18} {:>6.2} %  {verdict}", "total", pct(total));
    pty.send(b"q");
    let _ = running.wait();
    let _ = std::fs::remove_dir_all(dir);
}
