//! Rows of `system.csv`: the system history in long form, one row per (sample, metric,
//! source). A sensor a sample lacks gives no row, so "n/a" is never confused with 0.
//!
//! | metric | source | value |
//! |---|---|---|
//! | `cpu_usage_pct` | `cpu0`, `cpu1`, ... | usage of the core |
//! | `freq_cur_mhz`, `freq_max_mhz`, `freq_limit_mhz` | `policy0`, ... | current clock, hardware maximum, current limit (`scaling_max_freq`) |
//! | `freq_measured_mhz` | `engine` | the clock the engine measured |
//! | `freq_capped` | `machine` | 0/1: a limit or a busy core holds the clock below its maximum |
//! | `temp_c` | zone or `chip/label` | temperature |
//! | `throttle_now`, `throttle_since_boot`, `throttle_during_run` | `under_voltage`, `freq_capped`, `throttled`, `soft_temp_limit` | 0/1 firmware flags (Raspberry Pi) |
//! | `machine_throttled` | `machine` | 0/1: what inferences are tagged with (a firmware flag or a capped clock) |
//! | `mem_total_bytes`, `mem_used_bytes`, `mem_available_bytes`, `swap_total_bytes`, `swap_used_bytes` | `system` | memory |
//! | `load_avg` | `1m`, `5m`, `15m` | load average |
//! | `process_rss_bytes`, `process_cpu_pct`, `process_cpu_time_ms` | `process` | infertop itself |
//! | `cores`, `cpu_busy_pct`, `steal_pct`, `other_cpu_cores` | `proc_stat` | since the sample before: cores online, % of all cores' time busy and stolen, CPU of everything but infertop in cores |
//! | `contended` | `proc_stat` | 0/1: other work competed for the cores (see `core::contention`) |
//! | `process_cpu_cores`, `process_threads` | `proc_self` | infertop over the same interval: CPU in cores, threads |
//!
//! `source` is never empty, so that a pivot on (metric, source) keeps every metric (pandas
//! drops empty keys).

use serde::Serialize;

use super::rows::as_f64;
use crate::core::sampler::{SystemSample, ThrottleBits, ThrottleSource};
use crate::core::state::MonitorState;
use crate::core::sysfs::cpufreq::khz_to_mhz;
use crate::core::throttle::MachineTag;

/// One row of `system.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SystemRecord<'a> {
    /// When the sample was taken, in ms since the sampler started.
    pub t_ms: u64,
    /// What was measured, with its unit at the end of the name.
    pub metric: &'static str,
    /// Which core, policy, sensor or flag, or what a machine-wide value describes.
    pub source: String,
    pub value: f64,
    /// The model whose inference was the latest when the sample arrived.
    pub running_model: Option<&'a str>,
}

/// Every row of the state's system history, oldest sample first, produced one sample at a
/// time.
pub fn system_rows(state: &MonitorState) -> impl Iterator<Item = SystemRecord<'_>> {
    state.system.iter().zip(state.running_at_sample.iter()).flat_map(move |(sample, running)| {
        let model = running.and_then(|id| state.models.get(id)).map(|m| &*m.name);
        sample_rows(sample).into_iter().map(move |(metric, source, value)| SystemRecord {
            t_ms: sample.at_ms,
            metric,
            source,
            value,
            running_model: model,
        })
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
    put("machine_throttled", "machine".into(), MachineTag::from_sample(s).throttled.map(flag));
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
    rows
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
