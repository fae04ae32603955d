//! The machine's second limit: the memory bandwidth libtorch reaches with the engine's threads,
//! from a large-tensor copy and a large-tensor add (what batch norm, `ReLU`, add and concat
//! do to whole activations). Measured at each start and cached per machine like the GEMM peak.

use std::time::{Duration, Instant};

use tch::{Device, Kind, Tensor};

use crate::core::limits::{cache, peak};

/// Floats per tensor: 32 MiB each, 96 MiB for the three, well beyond the last-level cache of a
/// board (1–4 MiB) or a server core's share, so the loop streams from memory, not a cache.
const ELEMENTS: i64 = 8 << 20;

/// Times copies (`dst ← a`: one read, one write) and adds (`dst ← a + b`: two reads, one write)
/// of `ELEMENTS` floats for about `budget`, and returns the best rate in GB/s (10⁹ bytes).
#[must_use]
pub fn measure_gbs(budget: Duration) -> f64 {
    let options = (Kind::Float, Device::Cpu);
    // Constant fills: the values do not matter to a copy or an add, and a fill is far quicker
    // to make than random numbers (which matters under emulation).
    let a = Tensor::full([ELEMENTS], 1.0, options);
    let b = Tensor::full([ELEMENTS], 2.0, options);
    let mut dst = Tensor::zeros([ELEMENTS], options);
    let bytes = (ELEMENTS * 4) as f64;
    // Warm-up: the destination's pages are touched once, so page faults are not timed.
    dst.copy_(&a);
    let _ = a.add_out(&dst, &b);
    let start = Instant::now();
    let mut best = 0.0_f64;
    while start.elapsed() < budget || best == 0.0 {
        let t = Instant::now();
        dst.copy_(&a);
        best = best.max(2.0 * bytes / t.elapsed().as_secs_f64());
        let t = Instant::now();
        let _ = a.add_out(&dst, &b);
        best = best.max(3.0 * bytes / t.elapsed().as_secs_f64());
    }
    best / 1e9
}

/// The bandwidth for this machine and thread count: a short measurement now, or the best one
/// cached from earlier runs if that is higher.
#[must_use]
pub fn bandwidth_gbs(threads: usize) -> f64 {
    cache::best_of_runs("bandwidth-gbs.json", &peak::machine_key(threads), measure_gbs)
}
