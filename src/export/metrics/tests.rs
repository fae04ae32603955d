use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::core::machine::{Sampler, SamplerConfig};
use crate::core::run::{Event, Inference, ModelInfo};

fn info(name: &str) -> ModelInfo {
    ModelInfo {
        name: name.into(),
        source: "arch:tiny".into(),
        params: 10,
        batch: 1,
        input: [3, 8, 8],
        top1_error: None,
        variant: None,
    }
}

fn inference(model: usize, seq: u64, ms: f64, profiled: bool, cold: bool) -> Event {
    Event::Inference(Inference {
        model,
        seq,
        wall_ns: (ms * 1e6) as u64,
        at_ns: seq * 1_000_000,
        profiled,
        cold,
        usage: None,
        ops: vec![],
    })
}

/// `text` has each of `lines` as one of its lines, whole.
fn assert_lines(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.lines().any(|l| l == *line), "no line {line} in\n{text}");
    }
}

/// Two samples of a recorded board (the second one closes a power interval).
fn board_samples(board: &str) -> Vec<Event> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs").join(board);
    let config = SamplerConfig {
        root,
        throttle_command: None,
        power_command: None,
        system_stats: false,
        ..SamplerConfig::default()
    };
    let mut sampler = Sampler::new(config);
    let now = std::time::Instant::now();
    vec![
        Event::System(sampler.sample_at(now)),
        Event::System(sampler.sample_at(now + std::time::Duration::from_millis(500))),
    ]
}

/// `a` ran three warm inferences (2, 4 and 6 ms), a cold one and a profiled one; `b` is
/// loading.
fn two_models() -> MonitorState {
    let mut state = MonitorState::new(&["a", "b"]);
    state.apply(Event::Profiling { every: 4 });
    state.apply(Event::ModelReady { model: 0, info: info("a") });
    state.apply(inference(0, 1, 9.0, false, true));
    for (seq, ms) in [(2, 2.0), (3, 4.0), (4, 6.0)] {
        state.apply(inference(0, seq, ms, false, false));
    }
    state.apply(inference(0, 5, 50.0, true, false));
    state
}

#[test]
fn counts_cover_every_inference_and_the_histogram_the_warm_timed_ones() {
    let snapshot = MetricsSnapshot::of(&two_models());
    let a = &snapshot.models[0];
    assert_eq!((&*a.name, a.status, a.inferences), ("a", "running", 5));
    assert_eq!(a.latency.count(), 3);
    assert!((a.latency.sum_s() - 0.012).abs() < 1e-12);
    assert_eq!(a.p50_s, Some(0.004));
    // Three inferences are too few for a p90 or a p99, as on the screen.
    assert_eq!((a.p90_s, a.p99_s), (None, None));
    let b = &snapshot.models[1];
    assert_eq!((b.status, b.inferences, b.latency.count(), b.p50_s), ("loading", 0, 0, None));
}

#[test]
fn the_screens_reset_leaves_the_counters_growing() {
    let mut state = two_models();
    state.reset();
    state.apply(inference(0, 6, 3.0, false, false));
    let a = &MetricsSnapshot::of(&state).models[0];
    assert_eq!((a.inferences, a.latency.count()), (6, 4));
    // The percentiles follow the screen, which starts again.
    assert_eq!(a.p50_s, Some(0.003));
}

#[test]
fn a_machine_without_sensors_has_no_sensor_figures() {
    let mut state = two_models();
    for event in board_samples("vm") {
        state.apply(event);
    }
    let machine = MetricsSnapshot::of(&state).machine;
    assert_eq!(machine, MachineMetrics::default());
    let text = encode(Arc::new(MetricsSnapshot::of(&state))).unwrap();
    for absent in ["temperature", "clock", "throttled", "power", "energy", "memory", "op_time_share"] {
        assert!(!text.contains(absent), "{absent} in\n{text}");
    }
    // An unknown figure is left out, never written as 0.
    assert!(!text.contains("model_macs"), "{text}");
}

#[test]
fn a_recorded_raspberry_pi_gives_clock_temperature_throttle_and_power() {
    let mut state = two_models();
    for event in board_samples("rpi4") {
        state.apply(event);
    }
    state.apply(inference(0, 6, 2.0, false, false));
    state.apply(board_samples("rpi4").remove(1));
    let snapshot = MetricsSnapshot::of(&state);
    let machine = &snapshot.machine;
    assert_eq!(machine.clocks, vec![PolicyClock { policy: 0, reported_hz: Some(1.8e9), max_hz: Some(1.8e9) }]);
    assert_eq!(machine.temperatures, vec![("cpu-thermal".to_string(), 48.686)]);
    // `get_throttled` reads 50000: nothing now, under-voltage and throttling since boot.
    assert_eq!(machine.throttled, [Some(false), Some(false), Some(true)]);
    assert!(machine.throttle_sources.iter().any(|(s, w)| *s == "firmware" && w[2] == Some(true)));
    assert_eq!(machine.power_w, Some((6.17, "ina219".to_string())));
    let (joules, source) = snapshot.models[0].energy_j.clone().expect("energy of the charged inference");
    assert_eq!(&*source, "ina219");
    assert!(joules > 0.0);
    let text = encode(Arc::new(snapshot)).unwrap();
    assert_lines(
        &text,
        &[
            "infertop_cpu_clock_reported_hertz{policy=\"0\"} 1800000000.0",
            "infertop_temperature_celsius{zone=\"cpu-thermal\"} 48.686",
            "infertop_throttled{when=\"since_boot\"} 1.0",
            "infertop_power_watts{source=\"ina219\"} 6.17",
            "# UNIT infertop_energy_per_inference_joules joules",
        ],
    );
}

#[test]
fn the_exposition_is_openmetrics_with_units_in_names_and_counters_in_total() {
    let text = encode(Arc::new(MetricsSnapshot::of(&two_models()))).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_lines(
        &text,
        &[
            "# TYPE infertop_inferences counter",
            "infertop_inferences_total{model=\"a\"} 5.0",
            "infertop_inferences_total{model=\"b\"} 0.0",
            "# TYPE infertop_inference_latency_seconds histogram",
            "# UNIT infertop_inference_latency_seconds seconds",
            "infertop_inference_latency_seconds_count{model=\"a\"} 3",
            "infertop_inference_latency_seconds_bucket{le=\"0.002\",model=\"a\"} 1",
            "infertop_inference_latency_seconds_bucket{le=\"0.005\",model=\"a\"} 2",
            "infertop_inference_latency_seconds_bucket{le=\"+Inf\",model=\"a\"} 3",
            "infertop_latency_p50_seconds{model=\"a\"} 0.004",
            "infertop_model_running{model=\"b\"} 0.0",
        ],
    );
    // Each family is described once, and every sample belongs to the family above it.
    let mut family = "";
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("# TYPE ") {
            family = name.split(' ').next().unwrap();
        } else if !line.starts_with('#') {
            assert!(line.starts_with(family), "{line} outside {family}");
        }
    }
}

#[test]
fn model_names_are_escaped_and_sensor_names_made_unique() {
    let mut state = MonitorState::new(&["odd \"name\" \\ here"]);
    state.apply(inference(0, 1, 1.0, false, false));
    let text = encode(Arc::new(MetricsSnapshot::of(&state))).unwrap();
    assert!(text.contains(r#"infertop_inferences_total{model="odd \"name\" \\ here"} 1.0"#), "{text}");
    let names = unique_names(
        [("nvme/temp1", 40.0), ("nvme/temp1", 41.0), ("x", 1.0)].map(|(n, c)| (n.to_string(), c)).into_iter(),
    );
    let names: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["nvme/temp1", "nvme/temp1#2", "x"]);
}

#[test]
fn an_empty_snapshot_is_only_the_end_marker() {
    assert_eq!(encode(Arc::default()).unwrap(), "# EOF\n");
}

#[test]
fn a_predicted_model_has_its_prediction_and_measured_over_predicted() {
    let mut snapshot = MetricsSnapshot::of(&two_models());
    let text = encode(Arc::new(snapshot.clone())).unwrap();
    assert!(!text.contains("predicted"), "no calibration, no prediction family:\n{text}");
    snapshot.models[0].predicted_s = Some(0.0025);
    snapshot.models[0].over_predicted = Some(1.6);
    let text = encode(Arc::new(snapshot)).unwrap();
    assert_lines(
        &text,
        &[
            "# TYPE infertop_latency_predicted_seconds gauge",
            "# UNIT infertop_latency_predicted_seconds seconds",
            "infertop_latency_predicted_seconds{model=\"a\"} 0.0025",
            "# UNIT infertop_latency_over_predicted_ratio ratio",
            "infertop_latency_over_predicted_ratio{model=\"a\"} 1.6",
        ],
    );
    assert!(!text.contains("predicted_seconds{model=\"b\"}"), "b is not predicted");
}
