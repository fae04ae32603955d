//! Pure readers of Linux sysfs (thermal zones and their trip points, cooling devices, hwmon
//! temperatures and power monitors, RAPL energy counters, cpufreq, x86 thermal throttle
//! counters, Raspberry Pi throttle flags), all taking the filesystem root as an argument: `/` on
//! a board, a recorded tree in tests.
//!
//! Nothing here fails: a missing, unreadable or malformed file reads as `None` (or is left out
//! of a list), because a VM without sensors is a normal place to run. The one exception is a
//! file that exists but that only root may read (RAPL's `energy_uj`): [`read_access`](read::read_access) tells it
//! apart, so that "needs root" never shows as 0 or as "no such sensor".
//!
//! Nothing here waits or grows without bound either, whatever the root holds: files are read
//! through [`bounded_read`](crate::core::common::bounded_read) (regular files only: a FIFO would block, a link to `/dev/zero`
//! never ends), each up to [`MAX_FILE_BYTES`], and a listing stops after [`MAX_DIR_ENTRIES`](read::MAX_DIR_ENTRIES)
//! entries.

pub mod cooling;
pub mod cpu_sensor;
pub mod cpufreq;
pub mod power_monitor;
pub mod rapl;
mod read;
pub mod thermal;
pub mod thermal_throttle;
pub mod throttle;
pub mod trips;

pub use cooling::{read_cooling_devices, CoolingDevice, CoolingKind};
pub use cpufreq::{read_policies, CpuFreqPolicy};
pub use power_monitor::{find_power_rails, RailFiles};
pub use rapl::{find_rapl_zones, RaplZone};
pub(crate) use read::{dir_entries, read_head_lines, read_trimmed};
pub use read::{Access, MAX_FILE_BYTES};
pub use thermal::{read_temperatures, TempReading};
pub use thermal_throttle::{read_throttle_counters, CpuThrottleCounters};
pub use throttle::{ThrottleBits, ThrottleReport, ThrottleSource, ThrottleState};
pub use trips::{read_zone_trips, TripKind, TripPoint, ZoneTrips};
