//! The system sampler: one [`SystemSample`] per call, from sysfs (temperatures, cpufreq,
//! Raspberry Pi throttle flags, the kernel's throttle sources: x86 counters, cooling devices,
//! trip points; power, see [`crate::core::machine::power`]) and `proc` (contention, see
//! [`crate::core::machine::contention`]) under an injected root, and from `sysinfo` (CPU usage, memory,
//! load, this process).
//!
//! Sysfs is read on a thread of its own, awaited at most [`SENSOR_DEADLINE`] per sample: a
//! read stuck in the kernel leaves that sample without sensor values instead of stopping the
//! sampler.
//!
//! Frequencies and temperatures never come from `sysinfo`: its frequency reads `BogoMIPS` on
//! some Arm boards and costs milliseconds per core, and its components hide thermal zones as
//! soon as any hwmon sensor exists.

mod config;
mod kernel_watch;
mod power_watch;
mod throttle_watch;
mod worker;

use std::time::{Duration, Instant};

use sysinfo::{MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::core::machine::contention::{Contention, ContentionWatch};
pub use crate::core::machine::kernel_throttle::KernelThrottle;
use crate::core::machine::power::PowerReading;
use crate::core::machine::sample::{LoadAverage, MemoryUsage, SystemSample};
use crate::core::machine::sysfs;
use crate::core::machine::sysfs::{CpuFreqPolicy, TempReading, ThrottleState};
pub use config::SamplerConfig;
use kernel_watch::KernelWatch;
use power_watch::PowerWatch;
use throttle_watch::{ThrottleWatch, COMMAND_TIMEOUT};
use worker::TimedWorker;

/// The longest a sample waits for its sensor files (2 s): the timeouts of the two commands a
/// sample may run (throttle flags, PMIC), and far above the milliseconds a healthy read takes.
/// Both are run only on a Raspberry Pi lacking the files, and a hung one is given up.
pub const SENSOR_DEADLINE: Duration = COMMAND_TIMEOUT.saturating_mul(2);

/// Samples the system. Synchronous: each [`sample`](Self::sample) reads a few dozen small files
/// (four throttle counters more per CPU on x86, two per power rail or one per energy counter,
/// and at most every `throttle_interval` the firmware's throttle flags; on a Raspberry Pi 5
/// without a power monitor, the PMIC command once a second), waiting for them at most
/// [`SENSOR_DEADLINE`].
pub struct Sampler {
    started: Instant,
    host: Option<HostStats>,
    /// The sensor thread; `None` when it could not be started (then no sensor is read).
    sensors: Option<TimedWorker<Instant, SensorReadings>>,
}

impl Sampler {
    #[must_use]
    pub fn new(config: SamplerConfig) -> Self {
        let host = config.system_stats.then(HostStats::new).flatten();
        let sensors = TimedWorker::spawn("infertop-sysfs", sensor_reader(config)).ok();
        Self { started: Instant::now(), host, sensors }
    }

    /// Takes a sample now.
    pub fn sample(&mut self) -> SystemSample {
        self.sample_at(Instant::now())
    }

    /// Takes a sample, with `now` as the current time (tests step it instead of sleeping).
    /// Sensor values are absent when the sensor thread did not answer in time; once it answers
    /// again, the next sample carries that late answer.
    pub fn sample_at(&mut self, now: Instant) -> SystemSample {
        let mut sample = SystemSample {
            at_ms: u64::try_from(now.saturating_duration_since(self.started).as_millis()).unwrap_or(u64::MAX),
            ..SystemSample::default()
        };
        if let Some(readings) = self.sensors.as_mut().and_then(|s| s.ask(now, SENSOR_DEADLINE)) {
            sample.cpufreq = readings.cpufreq;
            sample.temps = readings.temps;
            sample.throttle = readings.throttle;
            sample.kernel_throttle = Box::new(readings.kernel_throttle);
            sample.contention = readings.contention.map(Box::new);
            sample.power = readings.power.map(Box::new);
        }
        if let Some(host) = &mut self.host {
            host.fill(&mut sample);
        }
        sample
    }
}

/// What the sensor thread reads under the root for one sample.
struct SensorReadings {
    cpufreq: Vec<CpuFreqPolicy>,
    temps: Vec<TempReading>,
    throttle: ThrottleState,
    kernel_throttle: KernelThrottle,
    contention: Option<Contention>,
    power: Option<PowerReading>,
}

/// The sensor thread's work for a sample at a given time. The throttle flags' file and the
/// power sources are looked for at the first request, on that thread, since the search reads
/// folders under the root.
fn sensor_reader(config: SamplerConfig) -> impl FnMut(Instant) -> SensorReadings + Send + 'static {
    let mut throttle: Option<ThrottleWatch> = None;
    let mut contention = ContentionWatch::default();
    let mut kernel = KernelWatch::default();
    let mut power: Option<PowerWatch> = None;
    move |now| {
        let throttle = throttle.get_or_insert_with(|| ThrottleWatch::new(&config));
        let power = power.get_or_insert_with(|| PowerWatch::new(&config));
        let cpufreq = sysfs::read_policies(&config.root);
        SensorReadings {
            kernel_throttle: kernel.next(&config.root, &cpufreq),
            cpufreq,
            temps: sysfs::read_temperatures(&config.root),
            throttle: throttle.state_at(&config, now),
            contention: contention.next(&config.root),
            power: power.next(now),
        }
    }
}

/// `sysinfo`'s view of this machine and process.
struct HostStats {
    system: System,
    pid: Option<Pid>,
}

impl HostStats {
    fn new() -> Option<Self> {
        let mut stats = Self { system: System::new().ok()?, pid: sysinfo::get_current_pid().ok() };
        // Usage is a difference between two reads: the first sample then covers the time
        // since the sampler was made.
        stats.refresh();
        Some(stats)
    }

    fn refresh(&mut self) {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram().with_swap());
        if let Some(pid) = self.pid {
            self.system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                false,
                ProcessRefreshKind::nothing().with_memory().with_cpu(),
            );
        }
    }

    fn fill(&mut self, sample: &mut SystemSample) {
        self.refresh();
        let system = &self.system;
        sample.usage_pct = system.cpus().iter().map(sysinfo::Cpu::usage).collect();
        sample.memory = (system.total_memory() > 0).then(|| MemoryUsage {
            total_bytes: system.total_memory(),
            used_bytes: system.used_memory(),
            available_bytes: system.available_memory(),
            swap_total_bytes: system.total_swap(),
            swap_used_bytes: system.used_swap(),
        });
        sample.load = System::load_average().ok().map(|load| LoadAverage {
            one: load.one,
            five: load.five,
            fifteen: load.fifteen,
        });
        if let Some(process) = self.pid.and_then(|pid| system.process(pid)) {
            sample.process_rss_bytes = Some(process.memory());
            sample.process_cpu_pct = Some(process.cpu_usage());
            sample.process_cpu_time_ms = Some(process.accumulated_cpu_time());
        }
    }
}
