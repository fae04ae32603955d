//! What a sampler reads and how: apart from the sampler so that the watches it runs can read
//! it without importing the sampler.

use std::path::PathBuf;
use std::time::Duration;

/// What a [`Sampler`](super::Sampler) reads and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamplerConfig {
    /// The filesystem root sysfs lives under: `/` on a board, a fixture tree in tests.
    pub root: PathBuf,
    /// The command (program and arguments) printing `throttled=0x…`, tried when no firmware
    /// `get_throttled` file exists; `None` never runs one. It is given up after one failure.
    pub throttle_command: Option<Vec<String>>,
    /// The shortest time between two reads of the throttle flags: the firmware refreshes them
    /// every 2 s, and each read of the sysfs file logs a kernel warning.
    pub throttle_interval: Duration,
    /// The command printing the Raspberry Pi 5 PMIC's rails, tried when no power monitor or
    /// RAPL counter exists; `None` never runs one. It is given up after one failure.
    pub power_command: Option<Vec<String>>,
    /// Whether to read CPU usage, memory, load and this process through `sysinfo`. Those
    /// describe the running machine, not `root`, so fixture tests turn them off.
    pub system_stats: bool,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            root: PathBuf::from("/"),
            throttle_command: Some(vec!["vcgencmd".into(), "get_throttled".into()]),
            throttle_interval: Duration::from_secs(2),
            power_command: Some(vec!["vcgencmd".into(), "pmic_read_adc".into()]),
            system_stats: true,
        }
    }
}
