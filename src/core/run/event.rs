//! Typed messages from the producers (engine, sampler) to the state, and controls back to the
//! engine. State changes only by applying these.

use std::sync::Arc;

use crate::core::limits::kernels::CalibrationHandle;
use crate::core::machine::rusage::Usage;
use crate::core::machine::sample::SystemSample;
use crate::core::models::variant::{OutputCheck, VariantOf};
use crate::core::profiling::profiler::{NodeInfo, NodeTiming};
use crate::core::run::trace::TraceCapture;

pub use crate::core::run::model_id::ModelId;

/// What the engine knows about a model once it is loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    pub name: Arc<str>,
    /// `arch:NAME` for built-ins, the file path for `TorchScript`.
    pub source: String,
    pub params: u64,
    pub batch: i64,
    pub input: [i64; 3],
    /// Reference top-1 error (%) from the manifest, shown beside the measurements.
    pub top1_error: Option<f64>,
    /// For a what-if variant's row: what it varies and how its output compared.
    pub variant: Option<VariantInfo>,
}

/// A variant row's origin and its output against the original's on the same input.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantInfo {
    pub of: VariantOf,
    /// `Err` when the comparison could not run (the original failed to load, say): such a
    /// variant is never reported as a speed-up either.
    pub check: Result<OutputCheck, String>,
}

/// One timed inference.
#[derive(Clone, Debug, PartialEq)]
pub struct Inference {
    pub model: ModelId,
    /// Counts every inference of the run, across models.
    pub seq: u64,
    /// Wall time of the forward pass.
    pub wall_ns: u64,
    /// When it ended, in ns since the session's epoch ([`crate::core::run::epoch`]).
    pub at_ns: u64,
    /// Whether the op profiler recorded this inference (its latency then includes the
    /// profiler's overhead).
    pub profiled: bool,
    /// The first inference after the engine ran another model (dwell schedule): its caches
    /// were cold, so it is kept apart from the model's warm latency.
    pub cold: bool,
    /// Page faults and context switches the process incurred during the inference.
    pub usage: Option<Usage>,
    /// Per-node counters for this inference (empty when not profiled).
    pub ops: Vec<NodeTiming>,
}

/// Everything that changes the monitor's state.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A model was loaded and warmed up.
    ModelReady {
        model: ModelId,
        info: ModelInfo,
    },
    /// A model could not be loaded or failed while running; the others go on.
    ModelFailed {
        model: ModelId,
        name: Arc<str>,
        error: String,
    },
    /// New op-tree nodes, or calibration results (MACs, bytes) for known ones.
    Nodes(Vec<NodeInfo>),
    /// The model whose subtree root is `scope` (each model runs inside a scope of its own).
    ModelScope {
        model: ModelId,
        scope: u32,
    },
    Inference(Inference),
    /// A reading of clocks, temperatures, throttle flags and memory.
    System(SystemSample),
    /// One inference in `every` per model runs with the op profiler; when `every` > 1, the
    /// latency statistics come from the others only, so the profiler's overhead never reaches
    /// them.
    Profiling {
        every: u32,
    },
    /// The machine's peak fp32 GMAC/s through libtorch with the engine's thread count.
    Peak {
        gmacs_per_s: f64,
    },
    /// The machine's memory bandwidth in GB/s through libtorch with the same threads.
    Bandwidth {
        gb_per_s: f64,
    },
    /// One inference traced op by op (asked for with [`Control::Trace`]); it follows that
    /// inference's [`Event::Inference`]. The state keeps nothing of it: a session hands it to
    /// its trace sink (see [`crate::core::run::session::Session::set_trace_sink`]).
    Trace(Box<TraceCapture>),
    /// This machine's kernel calibration at the run's threads (cached, or made during the run):
    /// what the models are predicted from.
    Calibration(CalibrationHandle),
    /// How far the calibration a live run makes in the background has got: `timed` of `of`
    /// timings (two passes over the configurations).
    CalibrationProgress {
        timed: usize,
        of: usize,
    },
    /// Every model that did not fail has timed its `--iterations`; the engine stops next.
    IterationsDone,
    /// The engine thread has ended (with the reason when it failed).
    EngineStopped {
        error: Option<String>,
    },
}

/// Controls from a front end to the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// Stop running inferences until resumed.
    Pause(bool),
    /// Run only this model (or all again with `None`).
    Focus(Option<ModelId>),
    /// Profile one inference in `--profile-every` again (`true`) or none (`false`), without
    /// restarting: an unprofiled baseline in the same process, with the same weights. Ignored
    /// with `--no-op-profile` (no recorder was started).
    OpProfile(bool),
    /// Trace the next warm inference of this model (`None`: of each model), op by op, as an
    /// [`Event::Trace`]. Ignored with `--no-op-profile`.
    Trace(Option<ModelId>),
}
