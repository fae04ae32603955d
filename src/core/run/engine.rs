//! The engine thread: owns the models, runs them round-robin under the no-grad guard, and
//! sends one typed event per inference. libtorch work blocks, so this is a plain thread.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tch::{Device, Kind, Tensor};

use crate::core::common::oneline::{error_line, one_line};
use crate::core::limits::kernels::Options;
use crate::core::machine::clock::ClockProbe;
use crate::core::machine::rusage::Usage;
use crate::core::models::manifest::{ModelSource, ModelSpec};
use crate::core::models::model::{LoadedModel, ModelError};
use crate::core::models::variant::{OutputCheck, Variant};
use crate::core::profiling::profiler::{NodeKind, Recorder, Scope};
use crate::core::run::background::BackgroundCalibration;
use crate::core::run::epoch::Epoch;
use crate::core::run::event::{Control, Event, Inference, ModelId, ModelInfo, VariantInfo};
use crate::core::run::schedule::{Schedule, Scheduler};
use crate::core::run::trace::{TraceCapture, TraceTargets, TRACE_RESERVE};

/// What the engine runs and how.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub models: Vec<ModelSpec>,
    pub threads: usize,
    /// Record per-op timings (off for an unprofiled baseline).
    pub op_profile: bool,
    /// Profile one inference in this many per model (1: every one).
    pub profile_every: u32,
    /// Untimed passes per model before timing starts (0: the first timed inference is cold).
    pub warmup: usize,
    /// Stop a model after this many timed inferences that count toward its latency (warm and,
    /// unless every inference is profiled, unprofiled); the engine ends when every model has.
    pub iterations: Option<u64>,
    /// Measure the machine's peak GMAC/s and memory bandwidth, after the first timed inference
    /// so that nothing waits for it.
    pub measure_peak: bool,
    /// Load, warm up and calibrate every model, then stop without timing (`--summary`).
    pub calibrate_only: bool,
    /// Effective-clock measurements the sampler asks for, run between inferences.
    pub clock: Option<Arc<ClockProbe>>,
    /// The session's time zero ([`crate::core::run::epoch`]).
    pub epoch: Epoch,
    /// How the engine moves between models.
    pub schedule: Schedule,
    /// Calibrate this machine's kernels in steps between inferences with these options, saving
    /// to the cache file when there is one (a live run on a machine without a calibration; see
    /// [`crate::core::run::background`]).
    pub calibrate_kernels: Option<(Options, Option<PathBuf>)>,
}

/// Engine threads alive in this process (see [`threads_running`]).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Engine threads still alive, typically inside an inference that a front end stopped waiting
/// for. While one runs, the process must end without running libtorch's static destructors
/// under it (`main` ends with `_exit` then).
#[must_use]
pub fn threads_running() -> usize {
    RUNNING.load(Ordering::SeqCst)
}

/// Counts the engine thread as alive until dropped, however the thread ends.
struct Alive;

impl Alive {
    fn new() -> Self {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Self
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running engine: stop it with [`EngineHandle::stop`] or let it stop when the event
/// receiver goes away.
pub struct EngineHandle {
    thread: Option<JoinHandle<()>>,
    control: Sender<Control>,
    cancel: Arc<AtomicBool>,
}

impl EngineHandle {
    /// Sends a control; ignored once the engine has stopped.
    pub fn control(&self, c: Control) {
        let _ = self.control.send(c);
        self.wake();
    }

    /// Wakes a paused engine, which sleeps until woken (or a while has passed).
    fn wake(&self) {
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }

    /// Asks the engine to stop after the current inference, without waiting.
    pub fn request_stop(&self) {
        self.cancel.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// Whether the engine thread has ended.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Asks the engine to stop after the current inference and waits for it.
    pub fn stop(mut self) {
        self.request_stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Asks the engine to stop and stops waiting for it: an inference that takes minutes runs
    /// on, and the process ends under it.
    pub fn detach(mut self) {
        self.request_stop();
        drop(self.thread.take());
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.request_stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the engine thread; events go to `events` (a bounded channel: when the front end
/// falls behind, the engine waits rather than growing a queue). The thread always ends with
/// [`Event::EngineStopped`], carrying the reason when it failed, also when it panicked.
///
/// # Errors
/// When the thread cannot be spawned.
pub fn spawn(config: EngineConfig, events: tokio::sync::mpsc::Sender<Event>) -> std::io::Result<EngineHandle> {
    let (control_tx, control_rx) = std::sync::mpsc::channel();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let alive = Alive::new();
    let thread = std::thread::Builder::new().name("infertop-engine".into()).spawn(move || {
        let _alive = alive;
        let engine = Engine::new(config, events.clone(), control_rx, flag);
        let error = match catch_unwind(AssertUnwindSafe(|| engine.run())) {
            Ok(result) => result.err(),
            Err(panic) => Some(format!("the engine thread panicked: {}", one_line(&panic_text(&*panic)))),
        };
        let _ = events.blocking_send(Event::EngineStopped { error });
    })?;
    Ok(EngineHandle { thread: Some(thread), control: control_tx, cancel })
}

/// The message a panic carried.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(ToString::to_string))
        .unwrap_or_else(|| "no message".into())
}

/// The longest a paused engine sleeps without looking at its controls and the stop flag.
const PAUSED_BACKSTOP: Duration = Duration::from_secs(1);

/// A model's place in the schedule: not loaded yet, running, done (its `--iterations` timed),
/// or gone (failed).
enum Slot {
    Waiting(ModelSpec),
    Ready(Runner),
    Done,
    Gone,
}

impl Slot {
    /// Whether the schedule still has work for this slot.
    fn open(&self) -> bool {
        matches!(self, Slot::Waiting(_) | Slot::Ready(_))
    }
}

/// A loaded model with its input and the scope that labels its ops.
struct Runner {
    id: ModelId,
    name: String,
    model: LoadedModel,
    input: Tensor,
    scope: Scope,
    /// Timed inferences so far (decides which ones are profiled).
    runs: u64,
    /// Timed inferences that count toward the latency (warm, and unprofiled unless every
    /// inference is profiled): what `--iterations` counts.
    counted: u64,
    /// What libtorch is set to while it runs (another thread count, `oneDNN` off).
    settings: Settings,
}

struct Engine {
    config: EngineConfig,
    events: tokio::sync::mpsc::Sender<Event>,
    control: Receiver<Control>,
    cancel: Arc<AtomicBool>,
    recorder: Option<Recorder>,
    /// Whether the recorder samples inferences now (switched by [`Control::OpProfile`]).
    sampling: bool,
    seq: u64,
    /// Models whose next warm inference is traced ([`Control::Trace`]).
    trace: TraceTargets,
    /// What libtorch is set to now; changed only when the next model needs otherwise.
    current: Settings,
    /// The next inference follows other work (the peak measurement) and is timed as cold.
    evicted: bool,
    /// The kernel calibration under way, when the run makes one.
    background: Option<BackgroundCalibration>,
}

/// How libtorch is set while a model runs: the run's thread count and `oneDNN` on, unless the
/// model is a variant that changes one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Settings {
    threads: usize,
    mkldnn: bool,
}

impl Settings {
    fn original(threads: usize) -> Self {
        Self { threads, mkldnn: true }
    }

    fn of(spec: &ModelSpec, run_threads: usize) -> Self {
        match spec.variant_of.as_ref().map(|v| v.variant) {
            Some(Variant::Threads(n)) => Self { threads: n, mkldnn: true },
            Some(Variant::NoMkldnn) => Self { threads: run_threads, mkldnn: false },
            _ => Self::original(run_threads),
        }
    }
}

/// The receiver is gone: the front end has ended, so the engine ends too.
struct Disconnected;

impl Engine {
    fn new(
        config: EngineConfig,
        events: tokio::sync::mpsc::Sender<Event>,
        control: Receiver<Control>,
        cancel: Arc<AtomicBool>,
    ) -> Self {
        let current = Settings::original(config.threads);
        let background =
            config.calibrate_kernels.clone().map(|(options, cache)| BackgroundCalibration::new(&options, cache));
        Self {
            config,
            events,
            control,
            cancel,
            recorder: None,
            sampling: true,
            seq: 0,
            trace: TraceTargets::default(),
            current,
            evicted: false,
            background,
        }
    }

    fn send(&self, e: Event) -> Result<(), Disconnected> {
        self.events.blocking_send(e).map_err(|_| Disconnected)
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Runs until cancelled, out of models, or disconnected. Model failures are events, not
    /// errors (the other models go on); the engine's own failure is an op profiler that cannot start.
    fn run(mut self) -> Result<(), String> {
        tch::set_num_threads(i32::try_from(self.config.threads).unwrap_or(1));
        tch::manual_seed(0);
        let _no_grad = tch::no_grad_guard();
        // Paused until `prepare` loads a model: the peak measurement is no inference.
        let recorder = self.config.op_profile.then(Recorder::start).transpose();
        self.recorder = recorder.map_err(|e| e.to_string())?;
        self.set_recording(false);
        // Disconnected only means nobody listens any more: a normal end.
        let _ = self.run_inner();
        Ok(())
    }

    fn run_inner(&mut self) -> Result<(), Disconnected> {
        self.send(Event::Profiling { every: self.profile_every() })?;
        if self.config.calibrate_only {
            for (id, spec) in self.config.models.clone().iter().enumerate() {
                if self.cancelled() {
                    break;
                }
                self.prepare(id, spec)?;
            }
            return Ok(());
        }
        self.run_schedule()
    }

    /// Measures the machine's GEMM peak and memory bandwidth (seconds under emulation, less
    /// with a warm cache). Called once the first inference is timed, so that a run's first
    /// figures never wait for it; the columns that need the limits fill in when they arrive.
    fn measure_limits(&mut self) -> Result<(), Disconnected> {
        self.config.measure_peak = false;
        // The run's own thread count and oneDNN on, whatever the last model was set to.
        self.apply(Settings::original(self.config.threads));
        self.set_recording(false);
        let gmacs = crate::core::limits::peak::peak_gmacs(self.config.threads);
        self.send(Event::Peak { gmacs_per_s: gmacs })?;
        let gbs = crate::core::limits::bandwidth::bandwidth_gbs(self.config.threads);
        self.send(Event::Bandwidth { gb_per_s: gbs })?;
        // Large matrices went through the caches: the next inference is not warm.
        self.evicted = true;
        Ok(())
    }

    /// A step of the background calibration when one is due (after the limits: they come
    /// first, and the two never share a pause).
    fn calibration_step(&mut self) -> Result<(), Disconnected> {
        let Some(mut background) = self.background.take() else { return Ok(()) };
        if !background.due(Instant::now()) {
            self.background = Some(background);
            return Ok(());
        }
        self.apply(Settings::original(self.config.threads));
        self.set_recording(false);
        let mut events = Vec::new();
        let done = background.step(&mut |e| events.push(e));
        for e in events {
            self.send(e)?;
        }
        // Its tensors went through the caches: the next inference is not warm.
        self.evicted = true;
        if !done {
            self.background = Some(background);
        }
        Ok(())
    }

    /// Loads, warms up and calibrates one model; failures become events, not errors.
    fn prepare(&mut self, id: ModelId, spec: &ModelSpec) -> Result<Option<Runner>, Disconnected> {
        let fail = |e: String| Event::ModelFailed { model: id, name: spec.name.as_str().into(), error: e };
        // Loading creates and fills tensors: not part of any inference, so not recorded.
        self.set_recording(false);
        let loaded = LoadedModel::load(spec);
        let [c, h, w] = spec.input;
        // Fallible: the manifest caps the input's size, but memory may still run out.
        let input = Tensor::f_randn([spec.batch, c, h, w], (Kind::Float, Device::Cpu));
        self.set_recording(true);
        let (model, input) = match (loaded, input) {
            (Ok(m), Ok(input)) => (m, input),
            (Err(e), _) => return self.send(fail(error_line(&e))).map(|()| None),
            (_, Err(e)) => {
                let e = ModelError::Input { model: spec.name.clone(), reason: one_line(&e.to_string()) };
                return self.send(fail(error_line(&e))).map(|()| None);
            }
        };
        let input = match LoadedModel::variant_input(spec, &input) {
            Ok(input) => input,
            Err(e) => {
                let e = ModelError::Variant { model: spec.name.clone(), reason: one_line(&e.to_string()) };
                return self.send(fail(error_line(&e))).map(|()| None);
            }
        };
        let runner = Runner {
            id,
            name: spec.name.clone(),
            model,
            input,
            scope: Scope::new(&format!("model:{}", spec.name)),
            runs: 0,
            counted: 0,
            settings: Settings::of(spec, self.config.threads),
        };
        self.apply(runner.settings);
        for _ in 0..self.config.warmup {
            if let Err(e) = Self::forward(&runner) {
                let e = ModelError::Forward { model: spec.name.clone(), source: e };
                return self.send(fail(error_line(&e))).map(|()| None);
            }
        }
        if let Some(recorder) = self.recorder.as_mut() {
            let _ = recorder.take();
            let (_, nodes) = recorder.calibrate(|| runner.scope.run(|| runner.model.forward(&runner.input)));
            let scope = nodes
                .iter()
                .find(|n| n.kind == NodeKind::Scope && n.parent == Some(0) && *n.name == *runner.scope.name())
                .map(|n| n.id);
            self.send(Event::Nodes(nodes))?;
            if let Some(scope) = scope {
                self.send(Event::ModelScope { model: id, scope })?;
            }
        }
        let info = ModelInfo {
            name: spec.name.as_str().into(),
            source: match &spec.source {
                ModelSource::Arch(a) => format!("arch:{a}"),
                ModelSource::TorchScript(p) => p.display().to_string(),
            },
            params: runner.model.parameter_count(),
            batch: spec.batch,
            input: spec.input,
            top1_error: spec.top1_error,
            variant: spec.variant_of.clone().map(|of| {
                self.set_recording(false);
                let check = self.check_output(spec, &runner);
                VariantInfo { of, check }
            }),
        };
        self.send(Event::ModelReady { model: id, info })?;
        Ok(Some(runner))
    }

    /// One inference in this many is profiled now; 0 for none.
    fn profile_every(&self) -> u32 {
        if self.recorder.is_some() && self.sampling {
            self.config.profile_every.max(1)
        } else {
            0
        }
    }

    /// Switches the op profiler on or off for what runs next (no-op with `--no-op-profile`).
    fn set_recording(&mut self, on: bool) {
        if let Some(rec) = self.recorder.as_mut() {
            rec.set_enabled(on);
        }
    }

    /// Sets libtorch up as `wanted` says, touching only what differs: a thread-count change
    /// clears `oneDNN`'s primitive cache, so the next inference after one is slower (the dwell
    /// schedule keeps it apart as cold).
    fn apply(&mut self, wanted: Settings) {
        if wanted.threads != self.current.threads {
            tch::set_num_threads(i32::try_from(wanted.threads).unwrap_or(1));
        }
        if wanted.mkldnn != self.current.mkldnn {
            crate::core::models::variant::ffi::set_mkldnn(wanted.mkldnn);
        }
        self.current = wanted;
    }

    /// Runs a variant and its original (loaded again, with the same weights) on the variant's
    /// input and compares the outputs.
    fn check_output(&mut self, spec: &ModelSpec, variant: &Runner) -> Result<OutputCheck, String> {
        let of = spec.variant_of.as_ref().ok_or("not a variant")?;
        let base_spec = ModelSpec { name: of.base.clone(), variant_of: None, ..spec.clone() };
        let text = |e: &dyn std::fmt::Display| one_line(&e.to_string());
        self.apply(variant.settings);
        let ours = variant.model.forward(&variant.input).map_err(|e| text(&e))?;
        self.apply(Settings::original(self.config.threads));
        let base = LoadedModel::load(&base_spec).map_err(|e| text(&e))?;
        let theirs = base.forward(&variant.input.contiguous()).map_err(|e| text(&e))?;
        let values = |t: &Tensor| -> Result<Vec<f32>, String> {
            Vec::<f32>::try_from(t.contiguous().view(-1)).map_err(|e| text(&e))
        };
        Ok(OutputCheck::between(&values(&theirs)?, &values(&ours)?))
    }

    fn forward(r: &Runner) -> Result<(), tch::TchError> {
        r.scope.run(|| r.model.forward(&r.input)).map(|_| ())
    }

    /// Runs the models by the schedule until cancelled or none is left. A model is loaded on
    /// its first turn, so the first model is timed while the others still wait to load.
    fn run_schedule(&mut self) -> Result<(), Disconnected> {
        let mut slots: Vec<Slot> = self.config.models.iter().cloned().map(Slot::Waiting).collect();
        let mut scheduler = Scheduler::new(self.config.schedule);
        let (mut paused, mut focus) = (false, None::<ModelId>);
        while !self.cancelled() {
            loop {
                match self.control.try_recv() {
                    Ok(Control::Pause(p)) => paused = p,
                    Ok(Control::Focus(f)) => focus = f,
                    Ok(Control::OpProfile(on)) => {
                        self.sampling = on;
                        self.send(Event::Profiling { every: self.profile_every() })?;
                    }
                    Ok(Control::Trace(model)) => self.trace.request(model, self.config.models.len()),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            if paused {
                // Woken by a control or a stop; the timeout is only a backstop. Polling here
                // cost a paused monitor a quarter of a percent of a core in wake-ups alone.
                std::thread::park_timeout(PAUSED_BACKSTOP);
                continue;
            }
            let open: Vec<bool> = slots.iter().map(Slot::open).collect();
            let Some(turn) = scheduler.next(&open, focus, Instant::now()) else { break };
            // A model's first turn loads it; timing starts right away, warm from loading
            // (unless there was no warm-up pass).
            let (runner, cold) = match std::mem::replace(&mut slots[turn.slot], Slot::Gone) {
                Slot::Waiting(spec) => (self.prepare(turn.slot, &spec)?, self.config.warmup == 0),
                Slot::Ready(runner) => (Some(runner), turn.cold),
                slot @ (Slot::Done | Slot::Gone) => {
                    slots[turn.slot] = slot;
                    (None, false)
                }
            };
            if let Some(mut runner) = runner {
                if let Some(probe) = &self.config.clock {
                    probe.serve();
                }
                let cold = cold || std::mem::take(&mut self.evicted);
                match self.time_one(&mut runner, cold) {
                    Ok(()) if self.config.iterations.is_some_and(|n| runner.counted >= n) => {
                        slots[turn.slot] = Slot::Done;
                    }
                    Ok(()) => slots[turn.slot] = Slot::Ready(runner),
                    Err(source) => {
                        let error = error_line(&ModelError::Forward { model: runner.name.clone(), source });
                        self.send(Event::ModelFailed { model: runner.id, name: runner.name.as_str().into(), error })?;
                    }
                }
                if self.config.measure_peak {
                    self.measure_limits()?;
                } else {
                    self.calibration_step()?;
                }
            }
            scheduler.ran(turn.slot, !matches!(slots[turn.slot], Slot::Gone), Instant::now());
        }
        if !self.cancelled() && slots.iter().any(|s| matches!(s, Slot::Done)) {
            self.send(Event::IterationsDone)?;
        }
        Ok(())
    }

    /// Times one inference and sends it (and its trace, when one was asked for); `Err` carries
    /// a model failure.
    fn time_one(&mut self, r: &mut Runner, cold: bool) -> Result<(), tch::TchError> {
        let every = u64::from(self.profile_every());
        // A cold inference is never profiled nor traced: its op times would describe the switch.
        let traced = !cold && self.recorder.is_some() && self.trace.take(r.id);
        let profiled = traced || (every > 0 && !cold && r.runs % every == 0);
        r.runs += 1;
        self.apply(r.settings);
        self.set_recording(profiled);
        let before = Usage::now();
        let start = Instant::now();
        let (result, spans) = match self.recorder.as_mut().filter(|_| traced) {
            Some(rec) => {
                let (result, spans) = rec.trace(TRACE_RESERVE, || Self::forward(r));
                (result, spans.ok())
            }
            None => (Self::forward(r), None),
        };
        let wall_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let usage = Usage::now().zip(before).map(|(after, before)| after.since(before));
        result?;
        let (ops, complete, nodes) = match self.recorder.as_mut().filter(|_| profiled) {
            Some(rec) => {
                let taken = rec.take();
                let complete = taken.is_ok();
                (taken.unwrap_or_default(), complete, rec.new_nodes())
            }
            None => (Vec::new(), false, Vec::new()),
        };
        if !nodes.is_empty() {
            let _ = self.send(Event::Nodes(nodes));
        }
        if !cold && (!profiled || every <= 1) {
            r.counted += 1;
        }
        self.seq += 1;
        let at_ns = self.config.epoch.ns();
        let inference = Inference { model: r.id, seq: self.seq, wall_ns, at_ns, profiled, cold, usage, ops };
        // A closed channel means the front end is gone; the loop sees `cancelled` next.
        if self.send(Event::Inference(inference)).is_err() {
            self.cancel.store(true, Ordering::SeqCst);
        }
        // A recording the shim cut short is no trace of the inference: the request stands.
        if traced {
            self.trace.settle(r.id, spans.is_some() && complete);
        }
        if let Some(spans) = spans.filter(|_| complete) {
            let capture = TraceCapture::new(r.id, self.seq, wall_ns, spans, self.config.epoch);
            let _ = self.send(Event::Trace(Box::new(capture)));
        }
        Ok(())
    }
}
