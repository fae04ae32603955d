//! Costs the MAC count never sees but the kernel counts: minor page faults (memory the
//! allocator maps afresh) and context switches (threads waiting or preempted), per inference,
//! from `getrusage` around it; and the allocator settings that keep those faults from depending
//! on what happened to run before.

use std::sync::Once;

/// What the kernel counted for this process between two moments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Page faults served without I/O: first touches of freshly mapped memory.
    pub minor_faults: u64,
    /// Voluntary (waiting) and involuntary (preempted) context switches.
    pub context_switches: u64,
}

impl Usage {
    /// The process's counters so far (all its threads: libtorch's workers fault too); `None`
    /// where `getrusage` fails.
    #[must_use]
    pub fn now() -> Option<Self> {
        // SAFETY: rusage is plain data, filled by getrusage.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: a valid `who` and a rusage we own.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut ru) } != 0 {
            return None;
        }
        let count = |v: libc::c_long| u64::try_from(v).unwrap_or(0);
        Some(Self { minor_faults: count(ru.ru_minflt), context_switches: count(ru.ru_nvcsw) + count(ru.ru_nivcsw) })
    }

    /// What was counted since `earlier`.
    #[must_use]
    pub fn since(self, earlier: Self) -> Self {
        Self {
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
            context_switches: self.context_switches.saturating_sub(earlier.context_switches),
        }
    }
}

/// Allocations at least this large come from `mmap` (and return to the kernel when freed). A
/// 32×32 CIFAR model's activations stay below it, so they are reused from the heap.
const MMAP_THRESHOLD: libc::c_int = 32 * 1024 * 1024;
/// Free memory at the top of the heap is returned to the kernel only beyond this much.
const TRIM_THRESHOLD: libc::c_int = 256 * 1024 * 1024;

/// Fixes glibc malloc's thresholds, once per process. By default glibc adapts its mmap
/// threshold to the history of frees, so whether a model's activations come from fresh
/// mappings (thousands of page faults per inference) depended on what ran before it, such as
/// the profiler's calibration pass: the same command measured 1.4 million or 50 thousand
/// faults from one evening to the next. Setting both thresholds turns the adaptation off.
/// Called before the engine loads anything; libtorch's own start-up allocations are few.
pub fn make_allocation_deterministic() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes malloc's tuning parameters.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_fresh_pages_counts_minor_faults() {
        let before = Usage::now().unwrap();
        // 64 MiB through mmap, each page touched once.
        let mut block = vec![0u8; 64 << 20];
        for page in block.chunks_mut(4096) {
            page[0] = 1;
        }
        std::hint::black_box(&block);
        let delta = Usage::now().unwrap().since(before);
        // 16384 pages of 4 KiB, or 32 huge pages where transparent huge pages are on.
        assert!(delta.minor_faults >= 32, "{delta:?}");
        assert_eq!(Usage::default().since(delta), Usage::default());
    }
}
