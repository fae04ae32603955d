//! The machine's own limit: the fp32 GMAC/s a large matrix multiply reaches through libtorch
//! with the engine's threads, measured at each start and cached per machine and thread count.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tch::{Device, Kind, Tensor};

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
/// from earlier runs if that is higher. A measurement taken while something else loaded the
/// machine reads low; keeping the best of all runs corrects it. The cache key holds the CPU
/// model, the thread count and the libtorch version.
#[must_use]
pub fn peak_gmacs(threads: usize) -> f64 {
    let key = format!("{} | threads={threads} | torch={}", cpu_model(), torch_version());
    let path = cache_file();
    let mut cache: BTreeMap<String, f64> = path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let cached = cache.get(&key).copied().filter(|v| v.is_finite() && *v > 0.0);
    let budget = if cached.is_some() { 200 } else { 600 };
    let measured = measure_gmacs(Duration::from_millis(budget));
    let best = cached.map_or(measured, |c| c.max(measured));
    if cached != Some(best) {
        cache.insert(key, best);
        if let (Some(p), Ok(text)) = (path, serde_json::to_string_pretty(&cache)) {
            // A cache we cannot write only costs a longer measurement next time.
            let _ = p.parent().map(std::fs::create_dir_all);
            let _ = std::fs::write(p, text);
        }
    }
    best
}

fn cache_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("infertop").join("peak-gmacs.json"))
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
