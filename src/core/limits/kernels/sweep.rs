//! The caches swept before each timed call of a calibration.
//!
//! An op in a net runs after other layers have read their own weights and written their own
//! outputs, so what the op reads and writes (its weights, the buffer the convolution reorders
//! them into, its output) is no longer in the core's private caches. The same op called in a
//! loop finds all of that where the previous call left it. Measured on this project's x86 VM
//! (2 cores, 2 MiB of L2 each): ResNet-50's 53 convolutions timed one after another, as the
//! net runs them, took 19.7-20.9 ms together; each timed in a loop of its own calls, 16.2-18.2
//! ms; each timed in a loop with a 32 MiB read between calls, 19.5-21.7 ms (`examples`-style
//! harness, not kept; see docs/predict.md).
//!
//! The sweep is a read of eight times the machine's level-2 caches: enough to empty them on a
//! Raspberry Pi (where L2 is the last level) and on a server core, while a server's large last
//! level keeps part of what it held, as it does between a net's layers.

use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::core::machine::sysfs::{level2_bytes, read_cpu_caches, CpuCache};

/// Bytes swept when the kernel does not describe the caches.
pub const DEFAULT_BYTES: u64 = 32 << 20;
const MIN_BYTES: u64 = 4 << 20;
const MAX_BYTES: u64 = 64 << 20;

/// How many bytes to read between timed calls on a machine with `caches`.
#[must_use]
pub fn sweep_bytes(caches: &[CpuCache]) -> u64 {
    level2_bytes(caches).map_or(DEFAULT_BYTES, |l2| (8 * l2).clamp(MIN_BYTES, MAX_BYTES))
}

/// A block of memory read whole before each timed call.
pub struct Sweep {
    block: Tensor,
    /// Sweeps done (what the tests count).
    runs: std::cell::Cell<usize>,
}

impl Sweep {
    /// The sweep for the machine whose sysfs is under `root` (`/` on a board).
    #[must_use]
    pub fn for_machine(root: &Path) -> Self {
        Self::of_bytes(sweep_bytes(&read_cpu_caches(root)))
    }

    /// A sweep of `bytes` (rounded down to whole floats, at least one).
    #[must_use]
    pub fn of_bytes(bytes: u64) -> Self {
        let floats = i64::try_from(bytes / 4).unwrap_or(i64::MAX).max(1);
        Self { block: Tensor::ones([floats], (Kind::Float, Device::Cpu)), runs: std::cell::Cell::new(0) }
    }

    /// Reads the whole block, with libtorch's threads (each core's caches get their share).
    pub fn run(&self) {
        let _ = self.block.sum(Kind::Float);
        self.runs.set(self.runs.get() + 1);
    }

    /// Bytes read per sweep.
    #[cfg(test)]
    fn bytes(&self) -> u64 {
        4 * self.block.numel() as u64
    }

    /// Sweeps done so far.
    #[cfg(test)]
    pub(super) fn runs(&self) -> usize {
        self.runs.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l2(bytes: u64, copies: usize) -> Vec<CpuCache> {
        (0..copies).map(|i| CpuCache { level: 2, kind: "Unified".into(), bytes, shared_cpus: i.to_string() }).collect()
    }

    #[test]
    fn the_sweep_is_eight_times_the_level_2_caches_within_bounds() {
        // A Raspberry Pi 4: one 1 MiB L2.
        assert_eq!(sweep_bytes(&l2(1 << 20, 1)), 8 << 20);
        // This VM: two cores with 2 MiB each.
        assert_eq!(sweep_bytes(&l2(2 << 20, 2)), 32 << 20);
        // A Pi 3's 512 KiB: at least 4 MiB.
        assert_eq!(sweep_bytes(&l2(512 << 10, 1)), MIN_BYTES);
        // A 64-core server: at most 64 MiB.
        assert_eq!(sweep_bytes(&l2(2 << 20, 64)), MAX_BYTES);
        // No description: the default.
        assert_eq!(sweep_bytes(&[]), DEFAULT_BYTES);
    }

    #[test]
    fn a_sweep_reads_its_block_each_run() {
        let sweep = Sweep::of_bytes(1 << 20);
        assert_eq!(sweep.bytes(), 1 << 20);
        sweep.run();
        sweep.run();
        assert_eq!(sweep.runs(), 2);
    }
}
