//! The effective clock: how fast the core running this thread really ticks, measured with a
//! short busy loop rather than read from cpufreq (which on a Raspberry Pi shows the requested
//! clock even while the firmware throttles).
//!
//! # How it works, and what it assumes
//! The loop runs a chain of integer additions in which every `add` needs the result of the one
//! before (`x += y`, register to register, written in inline assembly so the compiler cannot fold
//! or vectorise it). Such a chain cannot go faster than the latency of one add, and:
//! - **one dependent add completes per cycle**: an integer add between registers has a latency of
//!   one cycle on the cores infertop targets (Cortex-A53/A57/A72/A76/A78AE in Raspberry Pi and
//!   Jetson boards, x86 cores of the last two decades). A core with a slower add would read as a
//!   proportionally lower clock; one that folded such adds at rename would read higher (none
//!   known does so for register operands);
//! - **the loop costs nothing extra**: each block has 64 adds, and the loop counter and branch do
//!   not depend on the chain, so they run beside it on another ALU (an in-order dual-issue
//!   Cortex-A53 pairs them too);
//! - **the thread stays on one core** for each ~200 µs chunk; the result is the clock of whichever
//!   core the scheduler chose (on big.LITTLE systems, possibly a little one);
//! - **interruptions are rare**: the time is split into chunks and the median chunk rate is
//!   kept, so one preemption or interrupt does not pull the result down.
//!
//! So: MHz = additions / microseconds. It takes about [`DEFAULT_DURATION`] of one core.

use std::time::{Duration, Instant};

/// How long [`effective_mhz`] runs: short enough to sit between two inferences.
pub const DEFAULT_DURATION: Duration = Duration::from_micros(1500);
/// Chunks timed separately; the median of their rates is the answer.
const CHUNKS: u32 = 8;
/// Dependent additions in one assembly block.
const ADDS_PER_BLOCK: u64 = 64;
/// Blocks run between two reads of the timer (16 384 adds: 4 µs at 4 GHz, 27 µs at 600 MHz),
/// so the timer's own cost stays well under 1 %.
const BLOCKS_PER_BATCH: u64 = 256;

/// The effective clock of the current core in MHz, measured over [`DEFAULT_DURATION`].
/// `None` on architectures without the calibrated loop (anything but 64-bit x86 and Arm).
#[must_use]
pub fn effective_mhz() -> Option<f64> {
    effective_mhz_over(DEFAULT_DURATION)
}

/// The effective clock of the current core in MHz, measured over about `duration`.
#[must_use]
pub fn effective_mhz_over(duration: Duration) -> Option<f64> {
    let chunk = duration / CHUNKS;
    let mut rates = Vec::with_capacity(CHUNKS as usize);
    for _ in 0..CHUNKS {
        rates.push(chunk_rate_mhz(chunk)?);
    }
    rates.sort_by(f64::total_cmp);
    let mid = rates.len() / 2;
    Some(f64::midpoint(rates[mid - 1], rates[mid]))
}

/// Runs batches of the chain until `target` has passed; additions per microsecond.
fn chunk_rate_mhz(target: Duration) -> Option<f64> {
    let start = Instant::now();
    let mut blocks = 0_u64;
    loop {
        dependent_adds(BLOCKS_PER_BATCH)?;
        blocks += BLOCKS_PER_BATCH;
        let elapsed = start.elapsed();
        if elapsed >= target {
            #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
            let adds = (blocks * ADDS_PER_BLOCK) as f64;
            return Some(adds / (elapsed.as_secs_f64() * 1e6));
        }
    }
}

/// Eight dependent additions of `{y}` into `{x}`, in each architecture's assembly syntax.
#[cfg(target_arch = "x86_64")]
macro_rules! add8 {
    () => {
        "add {x}, {y}\nadd {x}, {y}\nadd {x}, {y}\nadd {x}, {y}\n\
         add {x}, {y}\nadd {x}, {y}\nadd {x}, {y}\nadd {x}, {y}"
    };
}
/// Eight dependent additions of `{y}` into `{x}`, in each architecture's assembly syntax.
#[cfg(target_arch = "aarch64")]
macro_rules! add8 {
    () => {
        "add {x}, {x}, {y}\nadd {x}, {x}, {y}\nadd {x}, {x}, {y}\nadd {x}, {x}, {y}\n\
         add {x}, {x}, {y}\nadd {x}, {x}, {y}\nadd {x}, {x}, {y}\nadd {x}, {x}, {y}"
    };
}

/// Runs `blocks` blocks of [`ADDS_PER_BLOCK`] dependent additions.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[allow(clippy::unnecessary_wraps)] // `None` on other architectures
fn dependent_adds(blocks: u64) -> Option<u64> {
    let mut x: u64 = 0;
    let y: u64 = std::hint::black_box(1);
    for _ in 0..blocks {
        // SAFETY: register arithmetic only: no memory, no stack, no other registers.
        unsafe {
            std::arch::asm!(
                add8!(), add8!(), add8!(), add8!(), add8!(), add8!(), add8!(), add8!(),
                x = inout(reg) x,
                y = in(reg) y,
                options(nomem, nostack),
            );
        }
    }
    Some(std::hint::black_box(x))
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn dependent_adds(_blocks: u64) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn the_chain_really_adds() {
        assert_eq!(dependent_adds(3), Some(3 * ADDS_PER_BLOCK));
    }

    /// Not a timing assertion: machines (and shared CI VMs) are noisy, so only plausibility.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn a_plausible_clock() {
        let started = Instant::now();
        let mhz = effective_mhz().expect("a clock on this architecture");
        assert!(mhz > 100.0 && mhz < 10_000.0, "{mhz} MHz");
        // Short enough to run between inferences, with room for a loaded test machine.
        assert!(started.elapsed() < Duration::from_millis(200));
    }

    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[test]
    fn no_clock_elsewhere() {
        assert_eq!(effective_mhz(), None);
    }
}

/// Shares the effective-clock measurement between the sampler, which asks for one per sample,
/// and the engine, which runs it between inferences on the cores that do the inference.
#[derive(Debug, Default)]
pub struct ClockProbe {
    requested: std::sync::atomic::AtomicBool,
    /// The latest result as `f64` bits; 0 means none yet.
    latest_bits: std::sync::atomic::AtomicU64,
}

impl ClockProbe {
    /// Asks for a measurement at the engine's next opportunity.
    pub fn request(&self) {
        self.requested.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs the measurement if one was asked for (the engine calls this between inferences).
    pub fn serve(&self) {
        if self.requested.swap(false, std::sync::atomic::Ordering::Relaxed) {
            if let Some(mhz) = effective_mhz() {
                self.latest_bits.store(mhz.to_bits(), std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    /// The latest measured clock in MHz.
    #[must_use]
    pub fn latest(&self) -> Option<f64> {
        let bits = self.latest_bits.load(std::sync::atomic::Ordering::Relaxed);
        (bits != 0).then(|| f64::from_bits(bits))
    }
}
