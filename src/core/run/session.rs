//! A measuring session: the model list, the engine and the event channel that both front ends
//! drain into a [`MonitorState`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::core::limits::kernels::{self, Options};
use crate::core::machine::clock::ClockProbe;
use crate::core::machine::episode::replay::Replay;
use crate::core::machine::episode::Episode;
use crate::core::machine::rusage::make_allocation_deterministic;
use crate::core::machine::sampler::{Sampler, SamplerConfig};
use crate::core::models::applicable::{self, NotApplicable, RunFacts};
use crate::core::models::manifest::{check_input_size, EntryProblem, Manifest, ManifestError, ModelSpec};
use crate::core::models::variant::{variant_name, Variant, VariantOf, VariantRequest};
use crate::core::run::engine::{self, EngineConfig, EngineHandle};
use crate::core::run::epoch::Epoch;
use crate::core::run::event::{Control, Event};
use crate::core::run::journal::{JournalSink, Pending};
use crate::core::run::schedule::{Schedule, DEFAULT_DWELL};
use crate::core::state::monitor::MonitorState;
use crate::core::state::trace_doc::TraceDoc;

/// Where traced inferences go, resolved against the state; called on the front end's thread,
/// so it must not block (a writer thread does the writing).
pub type TraceSink = Box<dyn FnMut(TraceDoc)>;

/// One inference in this many is profiled by default: the others time the model untouched.
pub const DEFAULT_PROFILE_EVERY: u32 = 4;

/// Events waiting for the front end at most: enough for a few frames of the fastest model.
const EVENT_CAPACITY: usize = 4096;

/// What to run, resolved from the command line and the manifest.
#[derive(Clone, Debug)]
pub struct Plan {
    pub models: Vec<ModelSpec>,
    pub threads: usize,
    pub op_profile: bool,
    /// Profile one inference in this many per model.
    pub profile_every: u32,
    /// Where the model list came from (a file path or `built-in`).
    pub manifest_source: String,
    /// How often the system sampler runs; `None` runs none.
    pub sample_every: Option<Duration>,
    /// The root sysfs is read under; a recorded episode ([`crate::core::machine::episode`]) is played.
    pub sysfs_root: PathBuf,
    /// How many times faster than real time a recorded episode plays.
    pub replay_speed: f64,
    /// How the engine moves between models.
    pub schedule: Schedule,
    /// Untimed passes per model after loading, before timing starts.
    pub warmup: usize,
    /// Stop each model after this many timed inferences counted toward its latency.
    pub iterations: Option<u64>,
    /// Where this machine's kernel calibrations are read (for the predictions) and saved
    /// (`None`: no cache folder; nothing is predicted unless the run calibrates).
    pub calibration_cache: Option<PathBuf>,
    /// Calibrate this machine's kernels between inferences, with these options, when the cache
    /// has no calibration at the run's threads (the live screen's default;
    /// [`crate::core::run::background`]).
    pub background_calibration: Option<Options>,
}

/// Why a run ends when every model has timed its `--iterations`, in both front ends' words.
pub const ITERATIONS_REACHED: &str = "iterations reached";

/// Untimed passes per model before timing starts, by default.
pub const DEFAULT_WARMUP: usize = 2;

/// Why a plan could not be made: always the user's input, so a usage error.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The manifest does not load, or `--only` names an unknown model.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// `--batch` makes a model's input too large.
    #[error("--batch {batch}: model '{model}': {problem}")]
    Batch { model: String, batch: i64, problem: EntryProblem },
    /// A what-if variant (`--what-if` or a manifest's `variants`) does not fit its model.
    #[error(transparent)]
    Variant(#[from] NotApplicable),
}

impl Plan {
    /// Loads the manifest (`None`: the built-in one), selects models and applies overrides.
    ///
    /// # Errors
    /// A manifest that does not parse or validate, or an unknown name in `only`.
    pub fn new(
        manifest: Option<&std::path::Path>,
        only: &[String],
        batch: Option<i64>,
        threads: usize,
        op_profile: bool,
    ) -> Result<Self, PlanError> {
        let manifest = match manifest {
            Some(path) => Manifest::load(path)?,
            None => Manifest::builtin(),
        };
        let mut models = manifest.select(only)?;
        if let Some(batch) = batch {
            for m in &mut models {
                m.batch = batch;
                check_input_size(m.input, batch).map_err(|problem| PlanError::Batch {
                    model: m.name.clone(),
                    batch,
                    problem,
                })?;
            }
        }
        let mut plan = Self {
            models,
            threads,
            op_profile,
            profile_every: DEFAULT_PROFILE_EVERY,
            manifest_source: manifest.source,
            sample_every: Some(Duration::from_millis(500)),
            sysfs_root: PathBuf::from("/"),
            replay_speed: 1.0,
            schedule: Schedule::Dwell(DEFAULT_DWELL),
            warmup: DEFAULT_WARMUP,
            iterations: None,
            calibration_cache: crate::core::limits::kernels::calibration::cache_path(),
            background_calibration: None,
        };
        plan.what_if(&[])?;
        Ok(plan)
    }

    /// Adds `requests` to every model's what-if variants (the manifest's own come first) and
    /// lays the rows out: each model, then its variants, so they sit beside it on screen.
    ///
    /// # Errors
    /// A variant that does not fit its model, naming both.
    pub fn what_if(&mut self, requests: &[VariantRequest]) -> Result<(), PlanError> {
        let facts = RunFacts::here(self.threads);
        let originals: Vec<ModelSpec> = self.models.iter().filter(|m| m.variant_of.is_none()).cloned().collect();
        let mut rows = Vec::with_capacity(originals.len());
        for mut spec in originals {
            for r in requests {
                if !spec.what_if.contains(r) {
                    spec.what_if.push(*r);
                }
            }
            let variants = applicable::expand(&spec, &spec.what_if, facts)?;
            rows.push(spec.clone());
            rows.extend(variants.into_iter().map(|v| variant_row(&spec, v)));
        }
        self.models = rows;
        Ok(())
    }

    /// Model names in id order (variants as `resnet50 ⟨fold-bn⟩`).
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.models.iter().map(|m| m.name.clone()).collect()
    }
}

/// The row of `variant` of `base`: the same model and input under the variant's name.
fn variant_row(base: &ModelSpec, variant: Variant) -> ModelSpec {
    ModelSpec {
        name: variant_name(&base.name, variant),
        what_if: Vec::new(),
        variant_of: Some(VariantOf { base: base.name.clone(), variant }),
        ..base.clone()
    }
}

/// How long stopping waits for the sampler, whose sensor reads may hang on a broken board (an
/// I2C sensor that never answers); after that the thread is left to end with the process.
const SAMPLER_PATIENCE: Duration = Duration::from_secs(1);

/// A running engine with its event receiver and the state the events fold into.
pub struct Session {
    pub state: MonitorState,
    pub events: mpsc::Receiver<Event>,
    engine: Option<EngineHandle>,
    sampler: Option<std::thread::JoinHandle<()>>,
    sampler_stop: Arc<AtomicBool>,
    journal: Option<JournalSink>,
    traces: Option<TraceSink>,
}

impl Session {
    /// Starts the engine for `plan`.
    ///
    /// # Errors
    /// When the engine thread cannot be spawned.
    pub fn start(plan: &Plan, calibrate_only: bool) -> std::io::Result<Self> {
        // Before the engine allocates anything for the models.
        make_allocation_deterministic();
        let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
        // One time zero for engine and sampler, so inferences and samples share an axis.
        let epoch = Epoch::now();
        let clock = Arc::new(ClockProbe::default());
        let sampler_stop = Arc::new(AtomicBool::new(false));
        let sampler = match plan.sample_every.filter(|_| !calibrate_only) {
            Some(every) => {
                let link = SamplerLink {
                    events: tx.clone(),
                    clock: Arc::clone(&clock),
                    stop: Arc::clone(&sampler_stop),
                    epoch,
                };
                Some(spawn_sampler(plan, every, link)?)
            }
            None => None,
        };
        let cached = plan.calibration_cache.as_deref().and_then(|path| kernels::cached(path, plan.threads));
        let config = EngineConfig {
            models: plan.models.clone(),
            threads: plan.threads,
            op_profile: plan.op_profile || calibrate_only,
            profile_every: plan.profile_every,
            warmup: plan.warmup,
            iterations: plan.iterations,
            measure_peak: !calibrate_only,
            calibrate_only,
            clock: Some(clock),
            epoch,
            schedule: plan.schedule,
            calibrate_kernels: plan
                .background_calibration
                .clone()
                .filter(|_| !calibrate_only && cached.is_none())
                .map(|options| (options, plan.calibration_cache.clone())),
        };
        let engine = engine::spawn(config, tx)?;
        let mut session = Self {
            state: MonitorState::new(&plan.names()),
            events: rx,
            engine: Some(engine),
            sampler,
            sampler_stop,
            journal: None,
            traces: None,
        };
        if let Some(calibration) = cached {
            // Fitted here, before the front end draws: the first prediction needs the forests.
            let _ = calibration.0.predictor();
            session.state.apply(Event::Calibration(calibration));
        }
        Ok(session)
    }

    /// Sends a journal entry for every inference and system sample applied from now on,
    /// including those applied while stopping.
    pub fn set_journal(&mut self, sink: JournalSink) {
        self.journal = Some(sink);
    }

    /// Hands every traced inference applied from now on to `sink`; without one, traces are
    /// dropped.
    pub fn set_trace_sink(&mut self, sink: TraceSink) {
        self.traces = Some(sink);
    }

    /// Folds one event into the state, and tells the journal and the trace sink, if there are
    /// any.
    pub fn apply(&mut self, event: Event) {
        if let (Event::Trace(capture), Some(sink)) = (&event, self.traces.as_mut()) {
            sink(TraceDoc::assemble(capture, &self.state));
        }
        let pending = self.journal.as_ref().and_then(|_| Pending::of(&event));
        self.state.apply(event);
        if let (Some(sink), Some(entry)) = (self.journal.as_mut(), pending.and_then(|p| p.entry(&self.state))) {
            sink(entry);
        }
    }

    /// Applies every event already waiting; returns how many there were.
    pub fn drain(&mut self) -> usize {
        let mut n = 0;
        while let Ok(e) = self.events.try_recv() {
            self.apply(e);
            n += 1;
        }
        n
    }

    /// Forwards a control to the engine.
    pub fn control(&self, c: Control) {
        if let Some(e) = &self.engine {
            e.control(c);
        }
    }

    /// Asks the engine to stop after its current inference and the sampler after its current
    /// sample, without waiting; see [`Session::has_stopped`].
    pub fn request_stop(&self) {
        self.sampler_stop.store(true, Ordering::SeqCst);
        if let Some(sampler) = &self.sampler {
            sampler.thread().unpark();
        }
        if let Some(engine) = &self.engine {
            engine.request_stop();
        }
    }

    /// Whether the engine has ended (after [`Session::request_stop`], once its current
    /// inference is done). Keep draining while waiting: the engine may be blocked on a full
    /// channel.
    #[must_use]
    pub fn has_stopped(&self) -> bool {
        self.engine.as_ref().is_none_or(EngineHandle::is_finished)
    }

    /// Stops the engine and the sampler and applies what they sent before stopping. Waits for
    /// the current inference, however long it takes; a sampler stuck in a read is waited for
    /// only briefly.
    pub fn stop(&mut self) {
        self.request_stop();
        if let Some(engine) = self.engine.take() {
            let joiner = std::thread::spawn(move || engine.stop());
            while !joiner.is_finished() {
                self.drain();
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = joiner.join();
        }
        self.stop_sampler();
        self.drain();
    }

    /// Stops waiting for the engine: what was measured stays, an inference still running is
    /// left to the process's end (a second Ctrl-C during a minute-long inference).
    pub fn abandon(&mut self) {
        self.request_stop();
        if let Some(engine) = self.engine.take() {
            engine.detach();
        }
        self.stop_sampler();
        self.drain();
    }

    /// Joins the sampler if it ends within [`SAMPLER_PATIENCE`], else leaves it.
    fn stop_sampler(&mut self) {
        self.sampler_stop.store(true, Ordering::SeqCst);
        let Some(sampler) = self.sampler.take() else { return };
        sampler.thread().unpark();
        let deadline = Instant::now() + SAMPLER_PATIENCE;
        while !sampler.is_finished() && Instant::now() < deadline {
            self.drain();
            std::thread::sleep(Duration::from_millis(5));
        }
        if sampler.is_finished() {
            let _ = sampler.join();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the sampler thread shares with the session.
struct SamplerLink {
    events: mpsc::Sender<Event>,
    /// The engine measures the effective clock when asked, between inferences.
    clock: Arc<ClockProbe>,
    stop: Arc<AtomicBool>,
    epoch: Epoch,
}

/// The sampler's thread: a sample every `every`, each carrying the latest effective clock the
/// engine measured and the time since the session's epoch, until `stop` is set or nobody
/// listens. A thread rather than a task because reading sysfs and `sysinfo` blocks.
fn spawn_sampler(plan: &Plan, every: Duration, link: SamplerLink) -> std::io::Result<std::thread::JoinHandle<()>> {
    // A recorded episode plays into a copy that the sampler reads instead of the recording.
    let mut replay = match Episode::load(&plan.sysfs_root).map_err(std::io::Error::other)? {
        Some(episode) => Some(Replay::start(&episode, plan.replay_speed, &std::env::temp_dir())?),
        None => None,
    };
    let config = match &replay {
        // The episode is the board: no command asks the real one (neither for throttle flags
        // nor for the PMIC's rails), and the firmware's flags are read as often in episode time
        // as on the board.
        Some(r) => {
            let board = SamplerConfig::default();
            SamplerConfig {
                root: r.root().to_path_buf(),
                throttle_command: None,
                power_command: None,
                throttle_interval: board.throttle_interval.div_f64(plan.replay_speed.max(f64::MIN_POSITIVE)),
                ..board
            }
        }
        None => SamplerConfig { root: plan.sysfs_root.clone(), ..SamplerConfig::default() },
    };
    std::thread::Builder::new().name("infertop-sampler".into()).spawn(move || {
        let mut sampler = Sampler::new(config);
        while !link.stop.load(Ordering::SeqCst) {
            if let Some(replay) = replay.as_mut() {
                replay.advance(link.epoch.elapsed());
            }
            let mut sample = sampler.sample();
            sample.at_ms = link.epoch.ms();
            sample.measured_mhz = link.clock.latest();
            link.clock.request();
            if link.events.blocking_send(Event::System(sample)).is_err() {
                return;
            }
            // Woken early by a stop (`Session::stop_sampler` unparks); polling the flag every
            // 20 ms cost a paused monitor a fifth of a percent of a core in wake-ups alone.
            let next = Instant::now() + every;
            while !link.stop.load(Ordering::SeqCst) {
                let left = next.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                std::thread::park_timeout(left);
            }
        }
    })
}
