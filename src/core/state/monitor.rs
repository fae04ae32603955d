//! `MonitorState::apply(event)`: the only place measurement state changes. Front ends read it
//! and render; they never change it except through events and [`MonitorState::reset`].

use std::sync::Arc;

use crate::core::common::stats::{LatencyStats, Ring};
use crate::core::limits::kernels::{predict_scope, CalibrationHandle, ModelPrediction};
use crate::core::machine::contention::ContentionSummary;
use crate::core::machine::rusage::Usage;
use crate::core::machine::sample::SystemSample;
use crate::core::machine::throttle::{MachineTag, ThrottleStats};
use crate::core::profiling::optree::OpTree;
use crate::core::profiling::profiler::NodeId;
use crate::core::run::event::{Event, Inference, ModelId, ModelInfo};
use crate::core::state::counters::RunCounters;
use crate::core::state::energy::EnergyTotals;
use crate::core::state::profiled_window::ProfiledWindow;
use crate::core::state::soak::Soak;
use crate::core::state::timeline::Timeline;

/// Latencies kept per model for percentiles and sparklines.
pub const LATENCY_WINDOW: usize = 512;
/// System samples kept: an hour at the default 500 ms.
pub const SYSTEM_HISTORY: usize = 7200;

/// Where a model is in its life.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelStatus {
    Loading,
    Running,
    Failed(String),
}

impl ModelStatus {
    /// `loading`, `running` or `failed`: the name every front end and the export use.
    #[must_use]
    pub fn key(&self) -> &'static str {
        match self {
            ModelStatus::Loading => "loading",
            ModelStatus::Running => "running",
            ModelStatus::Failed(_) => "failed",
        }
    }
}

/// One model's measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelState {
    pub name: Arc<str>,
    pub status: ModelStatus,
    pub info: Option<ModelInfo>,
    /// Latency of the warm, unprofiled inferences: the model's own steady state.
    pub latency: LatencyStats,
    /// Latency of the first inference after a switch from another model (dwell schedule).
    pub cold: LatencyStats,
    /// Page faults and context switches of the inferences in `latency`.
    pub usage: UsageTotals,
    /// Root of this model's op subtree.
    pub scope: Option<NodeId>,
    /// Inferences whose op counters are in the tree totals: the kept ones of `window`.
    pub profiled: u64,
    /// Summed wall time of those inferences, which the profiler slowed a little.
    pub profiled_wall_ns: u64,
    /// The latest profiled inferences and which of them the op figures rest on.
    pub window: ProfiledWindow,
    /// When the latest inference ended (ns since engine start).
    pub last_at_ns: Option<u64>,
    pub throttle: ThrottleStats,
    /// Energy charged to the inferences in `latency` (see [`crate::core::state::energy`]).
    pub energy: EnergyTotals,
    /// Counts since the start that [`MonitorState::reset`] leaves alone, for monitoring.
    pub counters: RunCounters,
    /// What the kernel calibration predicts for this model on this machine, layer by layer
    /// (issue #29): worked out once its calibration pass is in and a calibration is known.
    pub prediction: Option<Arc<ModelPrediction>>,
}

impl ModelState {
    /// Whether this row is a what-if variant of another (known once it has loaded).
    #[must_use]
    pub fn is_variant(&self) -> bool {
        self.info.as_ref().is_some_and(|i| i.variant.is_some())
    }

    fn new(name: Arc<str>) -> Self {
        Self {
            name,
            status: ModelStatus::Loading,
            info: None,
            latency: LatencyStats::new(LATENCY_WINDOW),
            cold: LatencyStats::new(LATENCY_WINDOW),
            usage: UsageTotals::default(),
            scope: None,
            profiled: 0,
            profiled_wall_ns: 0,
            window: ProfiledWindow::default(),
            last_at_ns: None,
            throttle: ThrottleStats::default(),
            energy: EnergyTotals::default(),
            counters: RunCounters::default(),
            prediction: None,
        }
    }
}

/// Sums of what the kernel counted over a model's inferences.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageTotals {
    /// Inferences with a count.
    pub inferences: u64,
    pub minor_faults: u64,
    pub context_switches: u64,
}

impl UsageTotals {
    fn add(&mut self, usage: Usage) {
        self.inferences += 1;
        self.minor_faults += usage.minor_faults;
        self.context_switches += usage.context_switches;
    }

    /// Mean minor page faults per inference.
    #[must_use]
    pub fn faults_per_inference(&self) -> Option<f64> {
        (self.inferences > 0).then(|| self.minor_faults as f64 / self.inferences as f64)
    }

    /// Mean context switches per inference.
    #[must_use]
    pub fn switches_per_inference(&self) -> Option<f64> {
        (self.inferences > 0).then(|| self.context_switches as f64 / self.inferences as f64)
    }
}

/// Everything measured so far.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorState {
    pub models: Vec<ModelState>,
    pub tree: OpTree,
    pub peak_gmacs: Option<f64>,
    /// The machine's measured memory bandwidth (GB/s).
    pub bandwidth_gbs: Option<f64>,
    /// Inferences applied since the start (not reset).
    pub inferences: u64,
    /// Latest engine time seen (ns since engine start).
    pub now_ns: u64,
    pub engine_stopped: bool,
    /// Every model that did not fail has timed its `--iterations`.
    pub iterations_done: bool,
    pub engine_error: Option<String>,
    /// Profiled inferences come one in this many per model (1: all, 0: profiler off).
    pub profile_every: u32,
    /// System samples, oldest first.
    pub system: Ring<SystemSample>,
    /// The machine as of the latest sample; inferences are tagged with it.
    pub machine: MachineTag,
    /// Which model was running when each system sample arrived (same order as `system`).
    pub running_at_sample: Ring<Option<ModelId>>,
    /// Latency per model on the system samples' time axis.
    pub timeline: Timeline,
    /// Competition for the cores over the whole run (not reset).
    pub contention: ContentionSummary,
    /// When a sample first found the machine throttled now (ms on the samples' axis, not reset):
    /// the time to first throttle of a run that started cool.
    pub first_throttled_ms: Option<u64>,
    /// A thermal soak, when the run is one (`--soak`); it sees every event.
    pub soak: Option<Soak>,
    /// This machine's kernel calibration, when one is cached or made: predicted times (issue
    /// #29). Comes as [`Event::Calibration`], which predicts the models again.
    pub calibration: Option<CalibrationHandle>,
    /// Timings done and planned of a calibration made during the run (`None`: none under way).
    pub calibration_progress: Option<(usize, usize)>,
    last_model: Option<ModelId>,
}

impl MonitorState {
    /// State for a run of the named models (in `ModelId` order), all loading.
    #[must_use]
    pub fn new<S: AsRef<str>>(model_names: &[S]) -> Self {
        Self {
            models: model_names.iter().map(|n| ModelState::new(n.as_ref().into())).collect(),
            tree: OpTree::default(),
            peak_gmacs: None,
            bandwidth_gbs: None,
            inferences: 0,
            now_ns: 0,
            engine_stopped: false,
            iterations_done: false,
            engine_error: None,
            profile_every: 0,
            system: Ring::new(SYSTEM_HISTORY),
            machine: MachineTag::default(),
            running_at_sample: Ring::new(SYSTEM_HISTORY),
            timeline: Timeline::default(),
            contention: ContentionSummary::default(),
            first_throttled_ms: None,
            soak: None,
            calibration: None,
            calibration_progress: None,
            last_model: None,
        }
    }

    /// Folds one event into the state.
    pub fn apply(&mut self, event: Event) {
        self.timeline.observe(&event);
        if let Some(soak) = self.soak.as_mut() {
            soak.observe(&event);
        }
        match event {
            Event::ModelReady { model, info } => {
                let m = self.model_mut(model, &info.name);
                m.status = ModelStatus::Running;
                m.info = Some(info);
                self.predict(model);
            }
            Event::ModelFailed { model, name, error } => {
                self.model_mut(model, &name).status = ModelStatus::Failed(error);
            }
            Event::Nodes(infos) => self.tree.merge(&infos),
            Event::ModelScope { model, scope } => {
                if let Some(m) = self.models.get_mut(model) {
                    m.scope = Some(scope);
                }
            }
            Event::Inference(inference) => self.apply_inference(inference),
            Event::System(sample) => {
                // The sample closes the interval of the inferences since the one before.
                let power =
                    sample.power.as_deref().and_then(|p| Some((Arc::from(p.source.as_str()), p.attributable_watts()?)));
                for m in &mut self.models {
                    m.energy.close(power.as_ref().map(|(source, watts)| (source, *watts)));
                }
                if sample.is_contended() == Some(true) {
                    // Profiled inferences in this interval ran beside other work: the window
                    // prefers quiet ones for the op figures.
                    let from_ns = self.system.last().map_or(0, |s| s.at_ms.saturating_mul(1_000_000));
                    let to_ns = sample.at_ms.saturating_mul(1_000_000);
                    for m in &mut self.models {
                        m.window.contended_between(&mut self.tree, from_ns, to_ns);
                        m.profiled = m.window.kept();
                        m.profiled_wall_ns = m.window.kept_wall_ns();
                    }
                }
                self.machine = MachineTag::from_sample(&sample);
                if self.machine.throttled == Some(true) {
                    self.first_throttled_ms.get_or_insert(sample.at_ms);
                }
                self.contention.record(sample.contention.as_deref());
                self.system.push(sample);
                self.running_at_sample.push(self.last_model);
            }
            Event::Profiling { every } => self.profile_every = every,
            // A trace is written whole, not kept: the session hands it to its trace sink.
            Event::Trace(_) => {}
            Event::Peak { gmacs_per_s } => self.peak_gmacs = Some(gmacs_per_s),
            Event::Bandwidth { gb_per_s } => self.bandwidth_gbs = Some(gb_per_s),
            Event::IterationsDone => self.iterations_done = true,
            Event::Calibration(calibration) => self.set_calibration(calibration),
            Event::CalibrationProgress { timed, of } => self.calibration_progress = Some((timed, of)),
            Event::EngineStopped { error } => {
                self.engine_stopped = true;
                self.engine_error = error;
            }
        }
    }

    fn apply_inference(&mut self, inf: Inference) {
        self.inferences += 1;
        self.now_ns = self.now_ns.max(inf.at_ns);
        let Some(m) = self.models.get_mut(inf.model) else { return };
        self.last_model = Some(inf.model);
        m.last_at_ns = Some(inf.at_ns);
        m.counters.inferences += 1;
        let profiled = inf.profiled;
        if profiled {
            m.window.push(&mut self.tree, inf.at_ns, inf.wall_ns, inf.ops);
            m.profiled = m.window.kept();
            m.profiled_wall_ns = m.window.kept_wall_ns();
        }
        // With unprofiled inferences interleaved, latency comes from those alone; a cold
        // inference measures the switch, not the model, and is kept apart.
        if !profiled || self.profile_every <= 1 {
            let ms = inf.wall_ns as f64 / 1e6;
            if inf.cold {
                m.cold.record(ms);
            } else {
                m.latency.record(ms);
                m.counters.latency.record(ms / 1e3);
                m.throttle.record(ms, &self.machine);
                m.energy.ran(inf.wall_ns);
                if let Some(usage) = inf.usage {
                    m.usage.add(usage);
                }
            }
        }
    }

    /// Uses `calibration` for the predictions from now on, and predicts every model whose
    /// calibration pass is in.
    fn set_calibration(&mut self, calibration: CalibrationHandle) {
        self.calibration = Some(calibration);
        for id in 0..self.models.len() {
            self.predict(id);
        }
    }

    /// Model `id`'s prediction from the calibration and the shapes its calibration pass
    /// recorded (none without either).
    fn predict(&mut self, id: ModelId) {
        let Some(m) = self.models.get(id) else { return };
        let predicted = match (&self.calibration, m.scope) {
            (Some(c), Some(scope)) => predict_scope(&self.tree, scope, c.0.predictor()).map(Arc::new),
            _ => None,
        };
        self.models[id].prediction = predicted;
    }

    /// Forgets latencies and op times (models, op tree and calibration stay).
    pub fn reset(&mut self) {
        for m in &mut self.models {
            m.latency = LatencyStats::new(LATENCY_WINDOW);
            m.cold = LatencyStats::new(LATENCY_WINDOW);
            m.usage = UsageTotals::default();
            m.profiled = 0;
            m.profiled_wall_ns = 0;
            m.window = ProfiledWindow::default();
            m.throttle = ThrottleStats::default();
            m.energy = EnergyTotals::default();
        }
        self.tree.reset_totals();
        self.timeline.reset();
    }

    fn model_mut(&mut self, id: ModelId, name: &str) -> &mut ModelState {
        while self.models.len() <= id {
            self.models.push(ModelState::new(name.into()));
        }
        &mut self.models[id]
    }
}
