//! The machine beside the model: one data-only `SystemSample` of sensors and load (`sample`), the
//! sampler that takes it, the sysfs and power readers, the throttle and contention verdicts that
//! judge a sample, recorded sysfs episodes, the effective-clock probe and the process's own
//! resource use.
//!
//! Its files are private to the core; what the front ends use is re-exported here.

pub(in crate::core) mod clock;
pub(in crate::core) mod contention;
pub(in crate::core) mod episode;
pub(in crate::core) mod kernel_throttle;
pub(in crate::core) mod power;
pub(in crate::core) mod rusage;
pub(in crate::core) mod sample;
pub(in crate::core) mod sampler;
pub(in crate::core) mod sysfs;
pub(in crate::core) mod throttle;

pub use clock::effective_mhz;
pub use contention::{describe, Contention, ContentionSummary, Reasons, LOAD_MARGIN, OTHER_CORES, STEAL_PCT};
pub use episode::replay::Replay;
pub use episode::Episode;
pub use kernel_throttle::{KernelThrottle, SeenDuringRun, ThrottleCounters};
pub use power::{EnergyCounter, PowerReading, PowerScope, RailPower};
pub use rusage::{make_allocation_deterministic, Usage};
pub use sample::{LoadAverage, MemoryUsage, SystemSample};
pub use sampler::{Sampler, SamplerConfig};
pub use sysfs::cpufreq::khz_to_mhz;
pub use sysfs::{
    CoolingDevice, CoolingKind, CpuFreqPolicy, TempReading, ThrottleBits, ThrottleReport, ThrottleSource,
    ThrottleState, TripKind, TripPoint, ZoneTrips,
};
pub use throttle::verdict::{Source as FindingSource, ThrottleVerdict};
pub use throttle::MachineTag;
