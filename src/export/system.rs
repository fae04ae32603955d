//! Rows of `system.csv`: the system history in long form, one row per (sample, metric,
//! source). A sensor a sample lacks gives no row, so "n/a" is never confused with 0.
//!
//! | metric | source | value |
//! |---|---|---|
//! | `cpu_usage_pct` | `cpu0`, `cpu1`, ... | usage of the core |
//! | `freq_cur_mhz`, `freq_max_mhz`, `freq_limit_mhz` | `policy0`, ... | current clock, hardware maximum, current limit (`scaling_max_freq`) |
//! | `freq_measured_mhz` | `engine` | the clock the engine measured |
//! | `freq_capped` | `machine` | 0/1: a limit holds the clock below its maximum (`scaling_max_freq` below `cpuinfo_max_freq`, or a CPU-clock cooling device above state 0); a clock merely running below it is not capped |
//! | `temp_c` | zone or `chip/label` | temperature |
//! | `throttle_now`, `throttle_since_boot`, `throttle_during_run` | `under_voltage`, `freq_capped`, `throttled`, `soft_temp_limit` | 0/1 firmware flags (Raspberry Pi) |
//! | `thermal_throttle_events` | `core`, `package` | x86 throttle events since boot (the most any CPU counted) |
//! | `thermal_throttle_ms` | `core`, `package` | x86 time throttled since boot, where the kernel keeps it |
//! | `thermal_throttle_new_events` | `interval`, `run` | x86 throttle events since the sample before (none at the first) and since the run's first sample |
//! | `cooling_state`, `cooling_max_state` | cooling device (`cpufreq-cpu0`, `Processor#2`, `pwm-fan`) | its `cur_state` and `max_state` |
//! | `passive_trip_c` | zone | the zone's lowest passive trip point |
//! | `trip_reached` | zone | 0/1: the zone is at or above a passive, hot or critical trip (zones that have one) |
//! | `throttle_source` | `firmware`, `thermal_throttle`, `cooling_device`, `trip_point`, `freq_cap` | 0/1: what each source the machine has says about now (see `core::machine::throttle::verdict`) |
//! | `machine_throttled` | `machine` | 0/1: the verdict now, what inferences are tagged with: any source says throttled |
//! | `machine_throttled_during_run`, `machine_throttled_since_boot` | `machine` | 0/1: the verdict over this run and since boot, where a source knows |
//! | `mem_total_bytes`, `mem_used_bytes`, `mem_available_bytes`, `swap_total_bytes`, `swap_used_bytes` | `system` | memory |
//! | `load_avg` | `1m`, `5m`, `15m` | load average |
//! | `process_rss_bytes`, `process_cpu_pct`, `process_cpu_time_ms` | `process` | infertop itself |
//! | `cores`, `cpu_busy_pct`, `steal_pct`, `other_cpu_cores` | `proc_stat` | since the sample before: cores online, % of all cores' time busy and stolen, CPU of everything but infertop in cores |
//! | `contended` | `proc_stat` | 0/1: other work competed for the cores (see `core::machine::contention`) |
//! | `process_cpu_cores`, `process_threads` | `proc_self` | infertop over the same interval: CPU in cores, threads |
//! | `power_w` | the power source (`ina3221/VDD_IN`, `RAPL package-0`, `PMIC rails`) | watts now: a monitor's latest reading; for RAPL counters the mean since the sample before |
//! | `power_interval_w` | the power source | mean watts since the sample before, what energy per inference is charged with (none at the first sample) |
//! | `power_needs_root` | the power source | 0/1: the source exists but only root may read it (RAPL's `energy_uj` since Linux 5.10); then there is no `power_w` |
//! | `rail_power_w` | rail (`ina3221/VDD_CPU_GPU_CV`, `pmic/VDD_CORE`) | every monitored rail's watts, the source's and the others |
//! | `energy_uj` | RAPL zone (`package-0`, `package-0/core`, `psys`) | the counter as read (µJ, wrapping at the zone's `max_energy_range_uj`), where readable |
//!
//! A machine without a power source has no power rows at all.
//!
//! `source` is never empty, so that a pivot on (metric, source) keeps every metric (pandas
//! drops empty keys).

mod power;

use std::borrow::Cow;

use super::rows::as_f64;
use crate::core::machine::khz_to_mhz;
use crate::core::machine::KernelThrottle;
use crate::core::machine::MachineTag;
use crate::core::machine::{SystemSample, ThrottleBits, ThrottleSource};
use crate::core::state::MonitorState;
pub use crate::schema::SystemRecord;

/// Every row of the state's system history, oldest sample first, produced one sample at a
/// time.
pub fn system_rows(state: &MonitorState) -> impl Iterator<Item = SystemRecord<'_>> {
    state.system.iter().zip(state.running_at_sample.iter()).flat_map(move |(sample, running)| {
        let model = running.and_then(|id| state.models.get(id)).map(|m| &*m.name);
        sample_records(sample, model)
    })
}

/// The rows of one sample taken while `running_model` ran.
pub fn sample_records<'a>(
    sample: &SystemSample,
    running_model: Option<&'a str>,
) -> impl Iterator<Item = SystemRecord<'a>> {
    let t_ms = sample.at_ms;
    sample_rows(sample).into_iter().map(move |(metric, source, value)| SystemRecord {
        t_ms,
        metric: Cow::Borrowed(metric),
        source,
        value,
        running_model: running_model.map(Cow::Borrowed),
    })
}

type Cell = (&'static str, String, f64);

/// The rows of one sample, as (metric, source, value).
fn sample_rows(s: &SystemSample) -> Vec<Cell> {
    let mut rows: Vec<Cell> = Vec::new();
    let mut put = |metric, source: String, value: Option<f64>| {
        if let Some(v) = value {
            rows.push((metric, source, v));
        }
    };
    for (cpu, usage) in s.usage_pct.iter().enumerate() {
        put("cpu_usage_pct", format!("cpu{cpu}"), Some(f64::from(*usage)));
    }
    for p in &s.cpufreq {
        let source = || format!("policy{}", p.policy);
        put("freq_cur_mhz", source(), p.cur_mhz());
        put("freq_max_mhz", source(), p.max_mhz());
        put("freq_limit_mhz", source(), p.scaling_max_khz.map(khz_to_mhz));
    }
    put("freq_measured_mhz", "engine".into(), s.measured_mhz);
    put("freq_capped", "machine".into(), s.is_freq_capped().map(flag));
    for t in &s.temps {
        put("temp_c", t.name.clone(), Some(t.celsius));
    }
    if let Some(report) = s.throttle.report() {
        // The under-voltage alarm knows nothing but under-voltage.
        let only_voltage = report.source == ThrottleSource::UnderVoltageAlarm;
        for (metric, bits) in [
            ("throttle_now", Some(report.now)),
            ("throttle_since_boot", report.since_boot),
            ("throttle_during_run", Some(report.during_run)),
        ] {
            let Some(bits) = bits else { continue };
            for (name, on) in flags(bits).into_iter().take(if only_voltage { 1 } else { 4 }) {
                put(metric, name.to_string(), Some(flag(on)));
            }
        }
    }
    kernel_rows(&s.kernel_throttle, &mut put);
    let verdict = s.throttle_verdict();
    for finding in &verdict.findings {
        put("throttle_source", finding.source.name().into(), finding.now.map(flag));
    }
    put("machine_throttled", "machine".into(), MachineTag::from_sample(s).throttled.map(flag));
    put("machine_throttled_during_run", "machine".into(), verdict.during_run().map(flag));
    put("machine_throttled_since_boot", "machine".into(), verdict.since_boot().map(flag));
    if let Some(m) = s.memory {
        put("mem_total_bytes", "system".into(), Some(as_f64(m.total_bytes)));
        put("mem_used_bytes", "system".into(), Some(as_f64(m.used_bytes)));
        put("mem_available_bytes", "system".into(), Some(as_f64(m.available_bytes)));
        put("swap_total_bytes", "system".into(), Some(as_f64(m.swap_total_bytes)));
        put("swap_used_bytes", "system".into(), Some(as_f64(m.swap_used_bytes)));
    }
    if let Some(l) = s.load {
        for (window, v) in [("1m", l.one), ("5m", l.five), ("15m", l.fifteen)] {
            put("load_avg", window.to_string(), Some(v));
        }
    }
    put("process_rss_bytes", "process".into(), s.process_rss_bytes.map(as_f64));
    put("process_cpu_pct", "process".into(), s.process_cpu_pct.map(f64::from));
    put("process_cpu_time_ms", "process".into(), s.process_cpu_time_ms.map(as_f64));
    if let Some(c) = s.contention.as_deref() {
        put("cores", "proc_stat".into(), Some(f64::from(c.cores)));
        put("cpu_busy_pct", "proc_stat".into(), Some(c.busy_pct));
        put("steal_pct", "proc_stat".into(), Some(c.steal_pct));
        put("other_cpu_cores", "proc_stat".into(), c.other_cores);
        put("contended", "proc_stat".into(), c.verdict().map(flag));
        put("process_cpu_cores", "proc_self".into(), c.own_cores);
        put("process_threads", "proc_self".into(), c.own_threads.map(f64::from));
    }
    if let Some(p) = s.power.as_deref() {
        power::power_rows(p, &mut rows);
    }
    rows
}

/// The kernel's throttle sources: x86 counters, cooling devices, trip points.
fn kernel_rows(k: &KernelThrottle, put: &mut impl FnMut(&'static str, String, Option<f64>)) {
    if let Some(c) = &k.counters {
        put("thermal_throttle_events", "core".into(), c.core_events.map(as_f64));
        put("thermal_throttle_events", "package".into(), c.package_events.map(as_f64));
        put("thermal_throttle_ms", "core".into(), c.core_ms.map(as_f64));
        put("thermal_throttle_ms", "package".into(), c.package_ms.map(as_f64));
        put("thermal_throttle_new_events", "interval".into(), c.interval_events.map(as_f64));
        put("thermal_throttle_new_events", "run".into(), Some(as_f64(c.run_events)));
    }
    for d in &k.cooling {
        #[allow(clippy::cast_precision_loss)] // cooling states are small integers
        put("cooling_state", d.name.clone(), d.cur_state.map(|state| state as f64));
        put("cooling_max_state", d.name.clone(), d.max_state.map(as_f64));
    }
    for zone in &k.zones {
        put("passive_trip_c", zone.zone.clone(), zone.passive_celsius());
        let throttling_trip = zone.trips.iter().any(|trip| trip.kind.throttles());
        put("trip_reached", zone.zone.clone(), throttling_trip.then(|| flag(zone.throttling_trip_reached().is_some())));
    }
}

/// The four firmware flags by name, under-voltage first.
fn flags(bits: ThrottleBits) -> [(&'static str, bool); 4] {
    [
        ("under_voltage", bits.under_voltage),
        ("freq_capped", bits.freq_capped),
        ("throttled", bits.throttled),
        ("soft_temp_limit", bits.soft_temp_limit),
    ]
}

fn flag(on: bool) -> f64 {
    if on {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::machine::{CoolingDevice, CoolingKind, CpuFreqPolicy, TripKind, TripPoint, ZoneTrips};
    use crate::core::machine::{SeenDuringRun, ThrottleCounters};

    /// A laptop whose package throttled once since the sample before, with its clock capped.
    fn laptop() -> SystemSample {
        let device = |name: &str, cur_state| CoolingDevice {
            name: name.into(),
            kind: CoolingKind::of(name),
            cur_state: Some(cur_state),
            max_state: Some(3),
        };
        let kernel = KernelThrottle {
            counters: Some(ThrottleCounters {
                cpus: 4,
                core_events: Some(2),
                package_events: Some(15),
                core_ms: None,
                package_ms: Some(3520),
                interval_events: Some(1),
                run_events: 1,
            }),
            cooling: vec![device("Processor", 0), device("Processor#2", 0), device("Fan", 1)],
            zones: vec![
                ZoneTrips {
                    zone: "acpitz".into(),
                    celsius: 40.0,
                    trips: vec![TripPoint { kind: TripKind::Critical, celsius: 128.0 }],
                },
                ZoneTrips {
                    zone: "acpitz#2".into(),
                    celsius: 41.0,
                    trips: vec![TripPoint { kind: TripKind::Active, celsius: 40.0 }],
                },
            ],
            seen: SeenDuringRun::default(),
        };
        let policy =
            CpuFreqPolicy { max_khz: Some(4_700_000), scaling_max_khz: Some(3_000_000), ..CpuFreqPolicy::default() };
        SystemSample { cpufreq: vec![policy], kernel_throttle: Box::new(kernel), ..SystemSample::default() }
    }

    fn value(rows: &[Cell], metric: &str, source: &str) -> Option<f64> {
        let found: Vec<f64> = rows.iter().filter(|r| r.0 == metric && r.1 == source).map(|r| r.2).collect();
        assert!(found.len() <= 1, "one {metric}/{source}");
        found.first().copied()
    }

    #[test]
    fn kernel_sources_and_the_verdict_get_rows() {
        let rows = sample_rows(&laptop());
        let v = |metric, source| value(&rows, metric, source);
        assert_eq!(v("thermal_throttle_events", "package"), Some(15.0));
        assert_eq!(v("thermal_throttle_events", "core"), Some(2.0));
        assert_eq!(v("thermal_throttle_ms", "package"), Some(3520.0));
        assert_eq!(v("thermal_throttle_ms", "core"), None, "not kept by this kernel: no row");
        assert_eq!(v("thermal_throttle_new_events", "interval"), Some(1.0));
        assert_eq!(v("cooling_state", "Fan"), Some(1.0));
        assert_eq!(v("cooling_max_state", "Processor#2"), Some(3.0));
        // A critical trip not reached: known; an active trip says nothing about throttling.
        assert_eq!(v("trip_reached", "acpitz"), Some(0.0));
        assert_eq!(v("trip_reached", "acpitz#2"), None);
        assert_eq!(v("passive_trip_c", "acpitz"), None);
        assert_eq!(v("freq_capped", "machine"), Some(1.0));
        assert_eq!(v("throttle_source", "thermal_throttle"), Some(1.0));
        assert_eq!(v("throttle_source", "cooling_device"), Some(0.0));
        assert_eq!(v("throttle_source", "freq_cap"), Some(1.0));
        assert_eq!(v("throttle_source", "firmware"), None, "no firmware here");
        assert_eq!(v("machine_throttled", "machine"), Some(1.0));
        assert_eq!(v("machine_throttled_during_run", "machine"), Some(1.0));
        assert_eq!(v("machine_throttled_since_boot", "machine"), Some(1.0));
    }

    #[test]
    fn power_gets_rows_and_a_refused_counter_is_no_zero() {
        use crate::core::machine::{EnergyCounter, PowerReading, PowerScope, RailPower};
        let mut rapl = PowerReading::new("RAPL package-0".into(), PowerScope::CpuPackage);
        rapl.needs_root = true;
        rapl.counters = vec![EnergyCounter { name: "package-0".into(), energy_uj: None, needs_root: true }];
        let rows = sample_rows(&SystemSample { power: Some(Box::new(rapl)), ..SystemSample::default() });
        let v = |metric, source| value(&rows, metric, source);
        assert_eq!(v("power_needs_root", "RAPL package-0"), Some(1.0));
        assert_eq!((v("power_w", "RAPL package-0"), v("energy_uj", "package-0")), (None, None));

        let mut jetson = PowerReading::new("ina3221/VDD_IN".into(), PowerScope::BoardInput);
        jetson.watts = Some(6.5);
        jetson.interval_watts = Some(6.25);
        let monitored =
            |name: &str, watts| RailPower { name: name.into(), volts: None, amps: None, watts: Some(watts) };
        jetson.rails = vec![monitored("ina3221/VDD_IN", 6.5), monitored("ina3221/VDD_SOC", 1.25)];
        let rows = sample_rows(&SystemSample { power: Some(Box::new(jetson)), ..SystemSample::default() });
        let v = |metric, source| value(&rows, metric, source);
        assert_eq!(v("power_w", "ina3221/VDD_IN"), Some(6.5));
        assert_eq!(v("power_interval_w", "ina3221/VDD_IN"), Some(6.25));
        assert_eq!(v("power_needs_root", "ina3221/VDD_IN"), Some(0.0));
        assert_eq!(v("rail_power_w", "ina3221/VDD_SOC"), Some(1.25));
    }

    #[test]
    fn a_machine_without_sources_has_no_throttle_rows() {
        let rows = sample_rows(&SystemSample::default());
        assert!(rows.is_empty(), "{rows:?}");
    }
}
