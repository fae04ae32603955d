//! A measuring session: the model list, the engine and the event channel that both front ends
//! drain into a [`MonitorState`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::core::clock::ClockProbe;
use crate::core::engine::{self, EngineConfig, EngineHandle};
use crate::core::sampler::{Sampler, SamplerConfig};
use crate::core::event::{Control, Event};
use crate::core::manifest::{Manifest, ModelSpec};
use crate::core::state::MonitorState;

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
    /// The root sysfs is read under.
    pub sysfs_root: PathBuf,
}

/// Why a plan could not be made: always the user's input, so a usage error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

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
            Some(path) => Manifest::load(path).map_err(|e| PlanError(e.to_string()))?,
            None => Manifest::builtin(),
        };
        let mut models = manifest.select(only).map_err(|e| PlanError(e.to_string()))?;
        if let Some(b) = batch {
            models.iter_mut().for_each(|m| m.batch = b);
        }
        Ok(Self {
            models,
            threads,
            op_profile,
            profile_every: DEFAULT_PROFILE_EVERY,
            manifest_source: manifest.source,
            sample_every: Some(Duration::from_millis(500)),
            sysfs_root: PathBuf::from("/"),
        })
    }

    /// Model names in id order.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.models.iter().map(|m| m.name.clone()).collect()
    }
}

/// A running engine with its event receiver and the state the events fold into.
pub struct Session {
    pub state: MonitorState,
    pub events: mpsc::Receiver<Event>,
    engine: Option<EngineHandle>,
    sampler: Option<std::thread::JoinHandle<()>>,
    sampler_stop: Arc<AtomicBool>,
}

impl Session {
    /// Starts the engine for `plan`.
    ///
    /// # Errors
    /// When the engine thread cannot be spawned.
    pub fn start(plan: &Plan, calibrate_only: bool) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
        let clock = Arc::new(ClockProbe::default());
        let sampler_stop = Arc::new(AtomicBool::new(false));
        let sampler = match plan.sample_every.filter(|_| !calibrate_only) {
            Some(every) => Some(spawn_sampler(plan, every, tx.clone(), Arc::clone(&clock), Arc::clone(&sampler_stop))?),
            None => None,
        };
        let config = EngineConfig {
            models: plan.models.clone(),
            threads: plan.threads,
            op_profile: plan.op_profile || calibrate_only,
            profile_every: plan.profile_every,
            warmup: 2,
            measure_peak: !calibrate_only,
            calibrate_only,
            clock: Some(clock),
        };
        let engine = engine::spawn(config, tx)?;
        Ok(Self {
            state: MonitorState::new(&plan.names()),
            events: rx,
            engine: Some(engine),
            sampler,
            sampler_stop,
        })
    }

    /// Applies every event already waiting; returns how many there were.
    pub fn drain(&mut self) -> usize {
        let mut n = 0;
        while let Ok(e) = self.events.try_recv() {
            self.state.apply(e);
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

    /// Stops the engine and the sampler and applies what they sent before stopping.
    pub fn stop(&mut self) {
        self.sampler_stop.store(true, Ordering::SeqCst);
        if let Some(engine) = self.engine.take() {
            // The engine may be blocked on a full channel: keep draining while it stops.
            let flag = engine.cancel_flag();
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            let joiner = std::thread::spawn(move || engine.stop());
            while !joiner.is_finished() {
                self.drain();
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let _ = joiner.join();
        }
        if let Some(sampler) = self.sampler.take() {
            while !sampler.is_finished() {
                self.drain();
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let _ = sampler.join();
        }
        self.drain();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The sampler's thread: a sample every `every`, each carrying the latest effective clock the
/// engine measured, until `stop` is set or nobody listens. A thread rather than a task because
/// reading sysfs and `sysinfo` blocks.
fn spawn_sampler(
    plan: &Plan,
    every: Duration,
    events: mpsc::Sender<Event>,
    clock: Arc<ClockProbe>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let config = SamplerConfig { root: plan.sysfs_root.clone(), ..SamplerConfig::default() };
    std::thread::Builder::new().name("infertop-sampler".into()).spawn(move || {
        let mut sampler = Sampler::new(config);
        let tick = Duration::from_millis(20).min(every);
        while !stop.load(Ordering::SeqCst) {
            let mut sample = sampler.sample();
            sample.measured_mhz = clock.latest();
            clock.request();
            if events.blocking_send(Event::System(sample)).is_err() {
                return;
            }
            let next = std::time::Instant::now() + every;
            while std::time::Instant::now() < next && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(tick);
            }
        }
    })
}
