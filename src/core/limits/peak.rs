//! The machine's own limit: the fp32 GMAC/s a large matrix multiply reaches through libtorch
//! with the engine's threads, measured at each start and cached per machine and thread count.

use std::time::{Duration, Instant};

use tch::{Device, Kind, Tensor};

use crate::core::limits::cache;

/// Side of the square matrices: large enough to reach the BLAS kernel's steady state.
const SIDE: i64 = 1024;

/// Times `SIDE`³ MAC matrix products for about `budget` and returns the best rate in GMAC/s.
#[must_use]
pub fn measure_gmacs(budget: Duration) -> f64 {
    let a = Tensor::randn([SIDE, SIDE], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([SIDE, SIDE], (Kind::Float, Device::Cpu));
    let macs = (SIDE * SIDE * SIDE) as f64;
    let _ = a.mm(&b); // warm-up: thread pool start, page faults
    let start = Instant::now();
    let mut best = f64::INFINITY;
    while start.elapsed() < budget || best.is_infinite() {
        let t = Instant::now();
        let c = a.mm(&b);
        let _ = c.numel();
        best = best.min(t.elapsed().as_secs_f64());
    }
    macs / best / 1e9
}

/// The peak for this machine and thread count: a short measurement now, or the best one cached
/// from earlier runs if that is higher (see [`cache`]). The cache key holds the CPU
/// model, the thread count and the libtorch version.
#[must_use]
pub fn peak_gmacs(threads: usize) -> f64 {
    cache::best_of_runs("peak-gmacs.json", &machine_key(threads), measure_gmacs)
}

/// What a cached limit is valid for: the CPU, the thread count and the libtorch version.
#[must_use]
pub fn machine_key(threads: usize) -> String {
    format!("{} | threads={threads} | torch={}", cpu_model(), torch_version())
}

/// The CPU model name from /proc/cpuinfo (`model name` on x86, `Model`/`CPU part` on Arm).
#[must_use]
pub fn cpu_model() -> String {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    ["model name", "Model", "Hardware", "CPU part"]
        .iter()
        .find_map(|key| {
            text.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim() == *key)
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown cpu".into())
}

/// The libtorch version this binary was built for.
#[must_use]
pub fn torch_version() -> &'static str {
    env!("INFERTOP_LIBTORCH_VERSION")
}
