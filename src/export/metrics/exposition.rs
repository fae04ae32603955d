//! A [`MetricsSnapshot`] in the `OpenMetrics` text format, through the official
//! `prometheus-client` crate: a [`Collector`] writes the snapshot's metric families on each
//! scrape. Names follow Prometheus' conventions: the `infertop_` prefix, the unit as a suffix
//! (`_seconds`, `_bytes`, `_hertz`, `_celsius`, `_joules`, `_ratio`, `_watts`), `_total` on
//! counters; labels say which model, zone, policy or source a value belongs to.
//!
//! A family whose values are all unknown is left out whole (no `HELP` line without a value).

use std::fmt;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{text, DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::{MachineMetrics, MetricsSnapshot, ModelMetrics};

/// The HTTP content type of [`encode`]'s text, as Prometheus asks for it.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The snapshot as an `OpenMetrics` exposition, `# EOF` included.
///
/// # Errors
/// Never in practice: the text goes into a `String` and every value is a number.
pub fn encode(snapshot: Arc<MetricsSnapshot>) -> Result<String, fmt::Error> {
    let mut registry = Registry::with_prefix("infertop");
    registry.register_collector(Box::new(SnapshotCollector(snapshot)));
    let mut out = String::new();
    text::encode(&mut out, &registry)?;
    Ok(out)
}

#[derive(Debug)]
struct SnapshotCollector(Arc<MetricsSnapshot>);

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let snapshot = &self.0;
        model_families(&mut encoder, &snapshot.models)?;
        machine_families(&mut encoder, &snapshot.machine)?;
        let peak = snapshot.peak_macs_per_s.map(|v| (Vec::new(), v));
        let help = "The machine's measured peak rate of multiply-accumulates (a large matrix product).";
        family(
            &mut encoder,
            "peak_macs_per_second",
            help,
            None,
            MetricType::Gauge,
            &peak.into_iter().collect::<Vec<_>>(),
        )?;
        let bandwidth = snapshot.bandwidth_bytes_per_s.map(|v| (Vec::new(), v));
        let help = "The machine's measured memory bandwidth (large-tensor copy and add).";
        gauges(
            &mut encoder,
            "memory_bandwidth_bytes_per_second",
            help,
            None,
            &bandwidth.into_iter().collect::<Vec<_>>(),
        )
    }
}

/// Label pairs of one sample.
type Labels = Vec<(&'static str, String)>;

/// Writes one family of gauges or counters; nothing when `samples` is empty.
fn family(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    kind: MetricType,
    samples: &[(Labels, f64)],
) -> fmt::Result {
    if samples.is_empty() {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(name, help, unit, kind)?;
    for (labels, value) in samples {
        let mut sample = metric.encode_family(labels)?;
        match kind {
            MetricType::Counter => sample.encode_counter::<NoLabelSet, _, f64>(value, None)?,
            _ => sample.encode_gauge(value)?,
        }
    }
    Ok(())
}

fn gauges(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    samples: &[(Labels, f64)],
) -> fmt::Result {
    family(encoder, name, help, unit, MetricType::Gauge, samples)
}

/// One sample per model that has a value.
fn per_model(models: &[ModelMetrics], value: impl Fn(&ModelMetrics) -> Option<f64>) -> Vec<(Labels, f64)> {
    models.iter().filter_map(|m| Some((vec![("model", m.name.to_string())], value(m)?))).collect()
}

fn ratio() -> Unit {
    Unit::Other("ratio".into())
}

fn model_families(encoder: &mut DescriptorEncoder, models: &[ModelMetrics]) -> fmt::Result {
    let help = "Inferences run since the start, warm, cold and profiled alike.";
    let inferences = per_model(models, |m| Some(m.inferences as f64));
    family(encoder, "inferences", help, None, MetricType::Counter, &inferences)?;
    latency_histograms(encoder, models)?;
    let help = "Median latency of the recent warm inferences (the screen's p50).";
    gauges(encoder, "latency_p50", help, Some(&Unit::Seconds), &per_model(models, |m| m.p50_s))?;
    let help = "90th percentile latency of the recent warm inferences, once there are enough of them.";
    gauges(encoder, "latency_p90", help, Some(&Unit::Seconds), &per_model(models, |m| m.p90_s))?;
    let help = "99th percentile latency of the recent warm inferences, once there are enough of them.";
    gauges(encoder, "latency_p99", help, Some(&Unit::Seconds), &per_model(models, |m| m.p99_s))?;
    let help = "Multiply-accumulates per inference (one forward pass of the batch).";
    gauges(encoder, "model_macs", help, None, &per_model(models, |m| m.macs))?;
    let help = "Median latency per billion multiply-accumulates: what a unit of arithmetic costs in time.";
    gauges(encoder, "latency_per_gmac", help, Some(&Unit::Seconds), &per_model(models, |m| m.per_gmac_s))?;
    let help = "Latency the kernel calibration predicts: the sum of the model's ops, each from its shapes (infertop calibrate).";
    gauges(encoder, "latency_predicted", help, Some(&Unit::Seconds), &per_model(models, |m| m.predicted_s))?;
    let help = "Median latency over the predicted one: time the calibrated kernels do not account for.";
    gauges(encoder, "latency_over_predicted", help, Some(&ratio()), &per_model(models, |m| m.over_predicted))?;
    let roofline = models
        .iter()
        .flat_map(|m| {
            m.roofline.iter().map(|(part, s)| (vec![("model", m.name.to_string()), ("part", (*part).to_string())], *s))
        })
        .collect::<Vec<_>>();
    let help = "Share of op time its MACs at the peak explain (compute), its bytes at the bandwidth (memory), spent in convolution and matrix-multiply kernels beyond that floor (below_peak), or outside those kernels beyond it (outside_kernels).";
    gauges(encoder, "op_time_roofline", help, Some(&ratio()), &roofline)?;
    let shares = models
        .iter()
        .flat_map(|m| {
            m.shares.iter().map(|(c, s)| (vec![("model", m.name.to_string()), ("category", (*c).to_string())], *s))
        })
        .collect::<Vec<_>>();
    gauges(
        encoder,
        "op_time_share",
        "Share of the profiled op time spent in each op category.",
        Some(&ratio()),
        &shares,
    )?;
    let help = "Minor page faults per warm inference.";
    gauges(encoder, "page_faults_per_inference", help, None, &per_model(models, |m| m.page_faults_per_inference))?;
    let help = "Context switches per warm inference.";
    let switches = per_model(models, |m| m.context_switches_per_inference);
    gauges(encoder, "context_switches_per_inference", help, None, &switches)?;
    let energy = models
        .iter()
        .filter_map(|m| {
            let (joules, source) = m.energy_j.as_ref()?;
            Some((vec![("model", m.name.to_string()), ("source", source.to_string())], *joules))
        })
        .collect::<Vec<_>>();
    let help = "Energy per warm inference: the power source's mean power while it ran, times its latency.";
    gauges(encoder, "energy_per_inference", help, Some(&Unit::Joules), &energy)?;
    let help = "Whether the model runs (1), or is loading or failed (0).";
    gauges(
        encoder,
        "model_running",
        help,
        None,
        &per_model(models, |m| Some(f64::from(u8::from(m.status == "running")))),
    )
}

fn latency_histograms(encoder: &mut DescriptorEncoder, models: &[ModelMetrics]) -> fmt::Result {
    if models.is_empty() {
        return Ok(());
    }
    let help = "Latency of every warm timed inference since the start.";
    let unit = Unit::Seconds;
    let mut metric = encoder.encode_descriptor("inference_latency", help, Some(&unit), MetricType::Histogram)?;
    for m in models {
        let labels: Labels = vec![("model", m.name.to_string())];
        let buckets: Vec<(f64, u64)> = m.latency.buckets().collect();
        metric.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
            m.latency.sum_s(),
            m.latency.count(),
            &buckets,
            None,
        )?;
    }
    Ok(())
}

fn machine_families(encoder: &mut DescriptorEncoder, machine: &MachineMetrics) -> fmt::Result {
    let hertz = Unit::Other("hertz".into());
    let measured: Vec<_> = machine.measured_hz.map(|hz| (Vec::new(), hz)).into_iter().collect();
    let help = "The CPU clock infertop measured by timing a known loop between inferences.";
    gauges(encoder, "cpu_clock_measured", help, Some(&hertz), &measured)?;
    let policy = |p: u32| vec![("policy", p.to_string())];
    let reported: Vec<_> = machine.clocks.iter().filter_map(|c| Some((policy(c.policy), c.reported_hz?))).collect();
    let help = "The CPU clock cpufreq reports per policy (on a Raspberry Pi, possibly the unthrottled one).";
    gauges(encoder, "cpu_clock_reported", help, Some(&hertz), &reported)?;
    let max: Vec<_> = machine.clocks.iter().filter_map(|c| Some((policy(c.policy), c.max_hz?))).collect();
    gauges(encoder, "cpu_clock_max", "The hardware's highest CPU clock per cpufreq policy.", Some(&hertz), &max)?;
    let temperatures: Vec<_> =
        machine.temperatures.iter().map(|(zone, c)| (vec![("zone", zone.clone())], *c)).collect();
    let help = "Temperature per thermal zone or hwmon sensor.";
    gauges(encoder, "temperature", help, Some(&Unit::Celsius), &temperatures)?;
    throttle_families(encoder, machine)?;
    memory_families(encoder, machine)?;
    let power: Vec<_> = machine.power_w.iter().map(|(w, source)| (vec![("source", source.clone())], *w)).collect();
    gauges(
        encoder,
        "power",
        "The machine's power now, from its power source.",
        Some(&Unit::Other("watts".into())),
        &power,
    )
}

/// The names of the three throttle questions, in [`MachineMetrics::throttled`] order.
const WHEN: [&str; 3] = ["now", "during_run", "since_boot"];

fn throttle_families(encoder: &mut DescriptorEncoder, machine: &MachineMetrics) -> fmt::Result {
    let flag = |b: bool| f64::from(u8::from(b));
    let combined = WHEN
        .iter()
        .zip(machine.throttled)
        .filter_map(|(when, v)| Some((vec![("when", (*when).to_string())], flag(v?))));
    let help =
        "Whether any throttle source says the machine is (now), was during this run, or was since boot throttled.";
    gauges(encoder, "throttled", help, None, &combined.collect::<Vec<_>>())?;
    let per_source = machine
        .throttle_sources
        .iter()
        .flat_map(|(source, answers)| {
            WHEN.iter().zip(*answers).filter_map(|(when, v)| {
                Some((vec![("source", (*source).to_string()), ("when", (*when).to_string())], flag(v?)))
            })
        })
        .collect::<Vec<_>>();
    let help = "What each throttle source says (firmware, thermal_throttle, cooling_device, trip_point, freq_cap).";
    gauges(encoder, "throttle_source_throttled", help, None, &per_source)
}

fn memory_families(encoder: &mut DescriptorEncoder, machine: &MachineMetrics) -> fmt::Result {
    let bytes = |v: Option<u64>| v.map(|b| (Vec::new(), b as f64)).into_iter().collect::<Vec<_>>();
    let memory = machine.memory;
    let field = |f: fn(&crate::core::machine::MemoryUsage) -> u64| bytes(memory.as_ref().map(f));
    gauges(encoder, "memory_total", "The machine's memory.", Some(&Unit::Bytes), &field(|m| m.total_bytes))?;
    gauges(encoder, "memory_used", "The machine's memory in use.", Some(&Unit::Bytes), &field(|m| m.used_bytes))?;
    let help = "The machine's memory available for new work without swapping.";
    gauges(encoder, "memory_available", help, Some(&Unit::Bytes), &field(|m| m.available_bytes))?;
    gauges(encoder, "swap_total", "The machine's swap space.", Some(&Unit::Bytes), &field(|m| m.swap_total_bytes))?;
    gauges(
        encoder,
        "swap_used",
        "The machine's swap space in use.",
        Some(&Unit::Bytes),
        &field(|m| m.swap_used_bytes),
    )?;
    let help = "Resident memory of the infertop process.";
    gauges(encoder, "process_resident_memory", help, Some(&Unit::Bytes), &bytes(machine.process_rss_bytes))?;
    let cpu: Vec<_> = machine.process_cpu_s.map(|s| (Vec::new(), s)).into_iter().collect();
    let help = "CPU time the infertop process has used, inference included.";
    family(encoder, "process_cpu", help, Some(&Unit::Seconds), MetricType::Counter, &cpu)
}
