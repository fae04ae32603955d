//! A fixed monitor state built from events, shared by the render tests and the frame benchmark.
//! Op trees look like what libtorch's dispatcher records for real CNNs (`aten::conv2d` →
//! `aten::convolution` → `aten::`_convolution → kernel, with allocations under it), timings are
//! integers derived from the round number, so every number on screen is the same on every run.

#![allow(dead_code)] // each test crate uses a different part of it

#[path = "what_if.rs"]
pub mod what_if;

use std::sync::Arc;

use infertop::core::machine::Usage;
use infertop::core::machine::{Contention, Reasons};
use infertop::core::machine::{CoolingDevice, CoolingKind, TripKind, TripPoint, ZoneTrips};
use infertop::core::machine::{
    CpuFreqPolicy, LoadAverage, MemoryUsage, SystemSample, TempReading, ThrottleBits, ThrottleReport, ThrottleSource,
    ThrottleState,
};
use infertop::core::machine::{KernelThrottle, SeenDuringRun};
use infertop::core::machine::{PowerReading, PowerScope, RailPower};
use infertop::core::profiling::{ConvGeometry, NodeId, NodeInfo, NodeKind, NodeTiming, OpShapes};
use infertop::core::run::{Event, Inference, ModelInfo};
use infertop::core::state::MonitorState;

/// Model names in id order; the first `n` run, then one fails and one is still loading.
const NAMES: [&str; 10] = [
    "resnet18",
    "mobilenet",
    "densenet121",
    "vgg11",
    "shufflenet",
    "squeezenet",
    "googlenet",
    "resnet50",
    "mnasnet",
    "regnet",
];

/// How one fixture model is built.
#[allow(clippy::struct_excessive_bools)] // each switches one kind of layer on
struct Shape {
    stages: u32,
    /// MACs of one stage's convolution.
    conv_macs: f64,
    /// Microseconds of one stage's conv kernel.
    kernel_us: u64,
    depthwise: bool,
    residual: bool,
    concat: bool,
    /// A `BatchNorm` after each convolution (a fold-bn variant has none).
    batch_norm: bool,
}

fn shape(i: usize) -> Shape {
    let i64 = i as u64;
    Shape {
        stages: 3 + (i as u32 % 4),
        conv_macs: 40e6 * (1 + (i64 * 7) % 11) as f64,
        kernel_us: 3_000 + 1_700 * ((i64 * 5) % 9),
        depthwise: i % 3 == 1,
        residual: i % 2 == 0,
        concat: i % 3 == 2,
        batch_norm: true,
    }
}

/// Builds `NodeInfos` with fresh ids and remembers each node's self time and calls per inference.
#[derive(Default)]
struct Tree {
    infos: Vec<NodeInfo>,
    /// (node, calls, self µs) per inference.
    costs: Vec<(NodeId, u32, u64)>,
    next: NodeId,
}

impl Tree {
    /// A node with `calls` and `self_us` per inference, and `(macs, bytes)` from calibration.
    fn add(
        &mut self,
        parent: Option<NodeId>,
        kind: NodeKind,
        name: &str,
        calls: u32,
        self_us: u64,
        (macs, bytes): (f64, f64),
    ) -> NodeId {
        let id = self.next;
        self.next += 1;
        self.infos.push(NodeInfo {
            id,
            parent,
            kind,
            name: Arc::from(name),
            calib_calls: u64::from(calls),
            macs,
            bytes,
            call_shapes: Arc::default(),
        });
        self.costs.push((id, calls, self_us));
        id
    }

    fn scope(&mut self, parent: NodeId, name: &str) -> NodeId {
        self.add(Some(parent), NodeKind::Scope, name, 1, 2, (0.0, 0.0))
    }

    fn op(&mut self, parent: NodeId, name: &str, calls: u32, self_us: u64, macs: f64, bytes: f64) -> NodeId {
        self.add(Some(parent), NodeKind::Op, name, calls, self_us, (macs, bytes))
    }

    /// Sets the shapes calibration saw for op `id`: `[1, channels, size, size]` in and out.
    fn shaped(&mut self, id: NodeId, channels: i64, size: i64, conv: Option<ConvGeometry>) {
        let dims = vec![1, channels, size, size];
        self.infos[id as usize].call_shapes =
            Arc::new([OpShapes { input: Some(dims.clone()), output: Some(dims), conv }]);
    }

    /// The conv2d dispatch chain down to its kernel, with the kernel's allocations under it;
    /// stage `stage` has `16 << stage` channels at `32 >> stage` pixels square.
    fn conv(&mut self, layer: NodeId, s: &Shape, stage: u32) {
        let bytes = s.conv_macs / 20.0;
        let conv2d = self.op(layer, "aten::conv2d", 1, 6, s.conv_macs, bytes);
        let (channels, size) = (16 << stage, 32 >> stage);
        let groups = if s.depthwise { channels } else { 1 };
        let geometry = ConvGeometry {
            weight: vec![channels, channels / groups, 3, 3],
            stride: vec![1, 1],
            padding: vec![1, 1],
            dilation: vec![1, 1],
            groups,
        };
        self.shaped(conv2d, channels, size, Some(geometry));
        let convolution = self.op(conv2d, "aten::convolution", 1, 5, s.conv_macs, bytes);
        let inner = self.op(convolution, "aten::_convolution", 1, 14, s.conv_macs, bytes);
        let kernel = if s.depthwise { "aten::_conv_depthwise2d" } else { "aten::mkldnn_convolution" };
        let k = self.op(inner, kernel, 1, s.kernel_us, s.conv_macs, bytes);
        self.op(k, "aten::empty", 2, 9, 0.0, 0.0);
        if s.depthwise {
            self.op(inner, "aten::contiguous", 1, 21, 0.0, bytes / 2.0);
        } else {
            self.op(k, "aten::as_strided", 1, 3, 0.0, 0.0);
        }
    }

    fn batch_norm(&mut self, layer: NodeId, s: &Shape, stage: u32) {
        let bytes = s.conv_macs / 40.0;
        let bn = self.op(layer, "aten::batch_norm", 1, 4, 0.0, bytes);
        self.shaped(bn, 16 << stage, 32 >> stage, None);
        let imp = self.op(bn, "aten::_batch_norm_impl_index", 1, 3, 0.0, bytes);
        let native = self.op(imp, "aten::native_batch_norm", 1, s.kernel_us / 6, 0.0, bytes);
        self.op(native, "aten::empty_like", 1, 4, 0.0, 0.0);
    }

    /// One model's subtree under a scope of its own name; returns the scope.
    fn model(&mut self, name: &str, s: &Shape) -> NodeId {
        let root = self.add(None, NodeKind::Scope, name, 1, 5, (0.0, 0.0));
        for stage in 0..s.stages {
            let layer = self.scope(root, &format!("layer{stage}"));
            let conv = self.scope(layer, &format!("layer{stage}.conv"));
            self.conv(conv, s, stage);
            if s.batch_norm {
                let bn = self.scope(layer, &format!("layer{stage}.bn"));
                self.batch_norm(bn, s, stage);
            }
            self.op(layer, "aten::relu_", 1, 25 + s.kernel_us / 20, 0.0, s.conv_macs / 80.0);
            if s.residual {
                self.op(layer, "aten::add", 1, 40, 0.0, s.conv_macs / 60.0);
            }
            if s.concat {
                let cat = self.op(layer, "aten::cat", 1, 55, 0.0, s.conv_macs / 30.0);
                self.op(cat, "aten::empty", 1, 6, 0.0, 0.0);
            }
        }
        let pool = self.scope(root, "pool");
        let gap = self.op(pool, "aten::adaptive_avg_pool2d", 1, 18, 0.0, 2e5);
        self.op(gap, "aten::_adaptive_avg_pool2d", 1, 30, 0.0, 2e5);
        let flat = self.op(root, "aten::flatten", 1, 3, 0.0, 0.0);
        self.op(flat, "aten::view", 1, 2, 0.0, 0.0);
        let fc = self.scope(root, "fc");
        let linear = self.op(fc, "aten::linear", 1, 5, 51_200.0, 2.1e5);
        let t = self.op(linear, "aten::t", 1, 3, 0.0, 0.0);
        self.op(t, "aten::transpose", 1, 2, 0.0, 0.0);
        self.op(linear, "aten::addmm", 1, 41, 51_200.0, 2.1e5);
        root
    }

    /// One inference's timings with every self time scaled by `scale` (per mille), and totals
    /// as self plus children. Returns the timings and the wall time.
    fn timings(&self, nodes: std::ops::Range<NodeId>, scale: u64) -> (Vec<NodeTiming>, u64) {
        let range = nodes.start as usize..nodes.end as usize;
        let mut total: Vec<u64> = self.costs[range.clone()].iter().map(|(_, _, us)| us * scale).collect();
        // Children come after their parents: one backward sweep adds each total to its parent.
        for i in range.clone().rev() {
            if let Some(p) = self.infos[i].parent.filter(|p| *p >= nodes.start) {
                let child = total[i - range.start];
                total[p as usize - range.start] += child;
            }
        }
        let timings = self.costs[range.clone()]
            .iter()
            .zip(&total)
            .map(|(&(node, calls, us), &t)| NodeTiming { node, calls, total_ns: t, self_ns: us * scale })
            .collect();
        (timings, total[0] + total[0] / 50)
    }
}

/// Two clusters' cpufreq cooling devices (idle), a fan at `fan_state`, and the CPU zone's trips.
fn kernel_throttle(cpu_celsius: f64, fan_state: i64) -> KernelThrottle {
    let device = |name: &str, cur_state, max_state| CoolingDevice {
        name: name.into(),
        kind: CoolingKind::of(name),
        cur_state: Some(cur_state),
        max_state: Some(max_state),
    };
    let trip = |kind, celsius| TripPoint { kind, celsius };
    KernelThrottle {
        counters: None,
        cooling: vec![device("cpufreq-cpu0", 0, 15), device("cpufreq-cpu4", 0, 15), device("pwm-fan", fan_state, 3)],
        zones: vec![ZoneTrips {
            zone: "cpu-thermal".into(),
            celsius: cpu_celsius,
            trips: vec![trip(TripKind::Critical, 105.0), trip(TripKind::Passive, 95.0), trip(TripKind::Active, 60.0)],
        }],
        seen: SeenDuringRun::default(),
    }
}

fn sample(round: u64) -> SystemSample {
    // From round 20 on, the clock is capped to 1.5 GHz (`scaling_max_freq`), the firmware says
    // so and the fan runs at full speed.
    let capped = round >= 20;
    let cur_khz = if capped { 1_500_000 } else { 1_800_000 };
    let policy = |first: u32| CpuFreqPolicy {
        policy: first,
        cpus: (first..first + 4).collect(),
        cur_khz: Some(cur_khz - u64::from(first) * 25_000),
        min_khz: Some(600_000),
        max_khz: Some(1_800_000),
        scaling_max_khz: Some(cur_khz),
        governor: Some("ondemand".into()),
    };
    let word = if capped { 0x2_0002 } else { 0 };
    let cpu_celsius = 55.0 + round as f64 * 0.5;
    SystemSample {
        at_ms: round * 500,
        usage_pct: vec![97.0, 95.0, 99.0, 96.0, 12.0, 8.0, 5.0, 3.0],
        cpufreq: vec![policy(0), policy(4)],
        temps: vec![
            TempReading { name: "cpu-thermal".into(), celsius: cpu_celsius },
            TempReading { name: "gpu-thermal".into(), celsius: 50.0 },
        ],
        throttle: ThrottleState::Known(ThrottleReport {
            source: ThrottleSource::FirmwareSysfs,
            raw: Some(word),
            now: ThrottleBits::now_of(word),
            since_boot: Some(ThrottleBits::since_boot_of(word | 0x1_0000)),
            during_run: ThrottleBits::now_of(word),
        }),
        kernel_throttle: Box::new(kernel_throttle(cpu_celsius, if capped { 3 } else { 1 })),
        memory: Some(MemoryUsage {
            total_bytes: 4 << 30,
            used_bytes: (1 << 30) + (round << 20),
            available_bytes: 3 << 30,
            swap_total_bytes: 1 << 30,
            swap_used_bytes: 0,
        }),
        load: Some(LoadAverage { one: 3.9, five: 3.1, fifteen: 2.0 }),
        process_rss_bytes: Some(312 << 20),
        process_cpu_pct: Some(395.0),
        process_cpu_time_ms: Some(round * 2000),
        measured_mhz: Some(if capped { 1490.0 } else { 1795.0 }),
        // infertop alone: the cores' usage above less infertop's leaves 0.05 cores.
        contention: Some(Box::new(Contention {
            cores: 8,
            busy_pct: 51.9,
            steal_pct: 0.0,
            own_cores: Some(4.1),
            own_threads: Some(14),
            other_cores: Some(0.05),
            load_1m: Some(3.9),
            reasons: Reasons::default(),
        })),
        power: Some(Box::new(power(round))),
    }
}

/// A Jetson-like INA3221: the input rail at 6.0 to 6.6 W, up a little while capped (the fan at
/// full speed), and two inner rails.
fn power(round: u64) -> PowerReading {
    let watts = |round: u64| 6.0 + (round % 7) as f64 * 0.1 + if round >= 20 { 0.4 } else { 0.0 };
    let rail = |name: &str, watts| RailPower {
        name: name.into(),
        volts: Some(5.0),
        amps: Some(watts / 5.0),
        watts: Some(watts),
    };
    let mut reading = PowerReading::new("ina3221/VDD_IN".into(), PowerScope::BoardInput);
    reading.watts = Some(watts(round));
    reading.interval_watts = (round > 0).then(|| f64::midpoint(watts(round - 1), watts(round)));
    reading.rails =
        vec![rail("ina3221/VDD_IN", watts(round)), rail("ina3221/VDD_CPU_GPU_CV", 2.5), rail("ina3221/VDD_SOC", 1.5)];
    reading
}

/// Model names of a fixture with `running` measured models (at most ten), one failed model and
/// one that is still loading.
pub fn names(running: usize) -> Vec<String> {
    let running = running.min(NAMES.len());
    let mut names: Vec<String> = NAMES[..running].iter().map(|s| (*s).to_string()).collect();
    names.push("seresnet50".into());
    names.push("xception".into());
    names
}

/// The events of a fixture run: readiness and op trees, then `rounds` rounds of one inference
/// per running model followed by a system sample.
pub fn events(running: usize, rounds: u64) -> Vec<Event> {
    let names = names(running);
    let running = names.len() - 2;
    let mut tree = Tree::default();
    // Every inference is profiled (its latency includes the profiler), as with --profile-every 1.
    let mut events =
        vec![Event::Profiling { every: 1 }, Event::Peak { gmacs_per_s: 40.0 }, Event::Bandwidth { gb_per_s: 12.0 }];
    let mut spans = Vec::new();
    for (id, name) in names.iter().take(running).enumerate() {
        let s = shape(id);
        let start = tree.next;
        let scope = tree.model(name, &s);
        spans.push(start..tree.next);
        let params = (s.conv_macs / 60.0) as u64 * u64::from(s.stages) + 51_300;
        let info = ModelInfo {
            name: Arc::from(name.as_str()),
            source: format!("arch:{name}"),
            params,
            batch: 1,
            input: [3, 32, 32],
            top1_error: Some(20.0 + id as f64),
            variant: None,
        };
        events.push(Event::ModelReady { model: id, info });
        events.push(Event::Nodes(tree.infos[start as usize..].to_vec()));
        events.push(Event::ModelScope { model: id, scope });
    }
    events.push(Event::ModelFailed {
        model: running,
        name: Arc::from("seresnet50"),
        error: "weights: tensor 'fc.weight' has shape [100, 2048], expected [10, 2048]".into(),
    });
    let (mut seq, mut at_ns) = (0, 0);
    for round in 0..rounds {
        for (id, span) in spans.iter().enumerate() {
            // A little jitter, and slower while the clock is capped.
            let jitter = (round * 37 + id as u64 * 11) % 23;
            let scale = if round >= 20 { 1_200 } else { 1_000 } + jitter * 4;
            let (ops, wall_ns) = tree.timings(span.clone(), scale);
            at_ns += wall_ns;
            seq += 1;
            events.push(Event::Inference(Inference {
                model: id,
                seq,
                wall_ns,
                at_ns,
                profiled: !ops.is_empty(),
                cold: false,
                usage: Some(Usage { minor_faults: id as u64 * 12 + round % 5, context_switches: 3 }),
                ops,
            }));
            // Now and then the model comes back after another ran: a cold, slower inference.
            if round % 10 == 5 {
                seq += 1;
                let cold_ns = wall_ns * 13 / 10;
                at_ns += cold_ns;
                let cold = Inference {
                    model: id,
                    seq,
                    wall_ns: cold_ns,
                    at_ns,
                    profiled: false,
                    cold: true,
                    usage: None,
                    ops: Vec::new(),
                };
                events.push(Event::Inference(cold));
            }
        }
        events.push(Event::System(sample(round)));
    }
    events
}

/// The state after the fixture's events.
pub fn state(running: usize, rounds: u64) -> MonitorState {
    let mut state = MonitorState::new(&names(running));
    for event in events(running, rounds) {
        state.apply(event);
    }
    state
}

/// `state` with a kernel calibration of synthetic timings, as `Event::Calibration` brings one:
/// a convolution costs a nanosecond per 50 MACs, every op one per two output elements, plus
/// 2 µs a call. The views then show what it predicts beside what was measured.
pub fn calibrated(mut state: MonitorState) -> MonitorState {
    use infertop::core::limits::{sample_space, Calibrated, Calibration, CalibrationHandle, Sample};
    let numel = |s: &Option<Vec<i64>>| s.as_deref().map_or(1.0, |d| d.iter().product::<i64>() as f64);
    let samples: Vec<Sample> = sample_space(0.2, 7)
        .into_iter()
        .map(|config| {
            let (_, shapes) = config.describe();
            let out = numel(&shapes.output);
            let macs = shapes.conv.as_ref().map_or(0.0, |c| out * c.weight[1..].iter().product::<i64>() as f64);
            Sample { config, ns: 2000.0 + out / 2.0 + macs / 50.0 }
        })
        .collect();
    let calibration =
        Calibration { machine: "fixture".into(), threads: 2, planned: samples.len(), seconds: 1.0, samples };
    state.apply(Event::Calibration(CalibrationHandle(Calibrated::new(calibration))));
    state
}
