//! Calibration on the board: every configuration of the sampled space timed in two passes (the
//! median of a few calls in each), and the cache of the result per CPU model, thread count and libtorch
//! version, next to the peak and bandwidth caches (`kernel-calibration.json`). A calibration
//! stopped early is saved as far as it got and is usable: the kinds are interleaved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::forest::{Predictor, Timed};
use super::space::{sample_space, Config};
use crate::core::limits::{cache, peak};

/// The cache file's name in infertop's cache folder.
pub const CACHE_FILE: &str = "kernel-calibration.json";

/// One configuration and its time (the lower of its two passes' medians).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub config: Config,
    pub ns: f64,
}

/// A calibration of this machine at one thread count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// What it is valid for (see [`peak::machine_key`]).
    pub machine: String,
    pub threads: usize,
    /// Configurations it set out to time; fewer samples mean it was stopped early.
    pub planned: usize,
    /// Wall time it took.
    pub seconds: f64,
    pub samples: Vec<Sample>,
}

impl Calibration {
    /// Whether every planned configuration was timed.
    #[must_use]
    pub fn complete(&self) -> bool {
        self.samples.len() >= self.planned
    }

    /// Per-kernel predictors fitted on the samples.
    #[must_use]
    pub fn predictor(&self) -> Predictor {
        let timed: Vec<Timed> = self
            .samples
            .iter()
            .map(|s| {
                let (op, shapes) = s.config.describe();
                Timed { op: op.into(), shapes, ns: s.ns }
            })
            .collect();
        Predictor::fit(&timed)
    }
}

/// How much to calibrate.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub threads: usize,
    /// Share of the full plan's configurations (1.0 full, 0.25 `--quick`).
    pub scale: f64,
    /// Timed calls per configuration (their median is kept).
    pub reps: usize,
    pub seed: u64,
}

impl Options {
    /// The full calibration, or the quick one.
    #[must_use]
    pub fn new(threads: usize, quick: bool) -> Self {
        Self { threads, scale: if quick { 0.25 } else { 1.0 }, reps: if quick { 3 } else { 5 }, seed: 29 }
    }
}

/// How often a running calibration is handed to `save`, so a stopped one keeps its samples.
const SAVE_EVERY: Duration = Duration::from_secs(5);

/// A calibration made a step at a time: [`calibrate`] runs it to the end at once; a live run
/// takes short steps between inferences (see `core::run::background`). Every configuration is
/// timed in a first pass, then again in a second that keeps the faster time, so a burst of
/// other work during the first does not stay in the calibration.
pub struct Calibrator {
    calibration: Calibration,
    /// Configurations of the first pass not timed yet, in plan order.
    pending: std::vec::IntoIter<Config>,
    /// The next sample the second pass times again.
    second: usize,
    reps: usize,
}

impl Calibrator {
    /// A calibration of the sampled space of `options`, none of it timed yet. Timing needs
    /// libtorch set to `options.threads` (the caller's business: a live run shares the thread).
    #[must_use]
    pub fn new(options: &Options) -> Self {
        let configs = sample_space(options.scale, options.seed);
        let calibration = Calibration {
            machine: peak::machine_key(options.threads),
            threads: options.threads,
            planned: configs.len(),
            seconds: 0.0,
            samples: Vec::with_capacity(configs.len()),
        };
        Self { calibration, pending: configs.into_iter(), second: 0, reps: options.reps }
    }

    /// Times configurations, at least one, until `budget` is spent or the calibration is done;
    /// returns whether it is done. A configuration libtorch refuses is skipped.
    pub fn step(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        while self.time_next() && start.elapsed() < budget {}
        self.calibration.seconds += start.elapsed().as_secs_f64();
        self.done()
    }

    /// Times the next configuration of the first pass, else of the second; `false` when both
    /// are done.
    fn time_next(&mut self) -> bool {
        if let Some(config) = self.pending.next() {
            match super::timing::time_config(&config, self.reps) {
                Ok(ns) => self.calibration.samples.push(Sample { config, ns }),
                Err(_) => self.calibration.planned -= 1,
            }
        } else if let Some(sample) = self.calibration.samples.get_mut(self.second) {
            if let Ok(ns) = super::timing::time_config(&sample.config, self.reps) {
                sample.ns = sample.ns.min(ns);
            }
            self.second += 1;
        } else {
            return false;
        }
        true
    }

    /// Timings done and planned, both passes counted.
    #[must_use]
    pub fn progress(&self) -> (usize, usize) {
        let planned = 2 * self.calibration.planned;
        (self.calibration.samples.len() + self.second, planned)
    }

    /// Whether every configuration is timed once (the calibration is complete; the second
    /// pass only lowers times).
    #[must_use]
    pub fn first_pass_done(&self) -> bool {
        self.calibration.complete()
    }

    /// Whether both passes are done.
    #[must_use]
    pub fn done(&self) -> bool {
        self.first_pass_done() && self.second >= self.calibration.samples.len()
    }

    /// The calibration as far as it got.
    #[must_use]
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }
}

/// Times every configuration of the sampled space, twice, on the calling thread with `threads`
/// libtorch threads. `progress` sees (done, of) after each timing; `save` the calibration so far
/// every few seconds and at the end (after the first pass it is complete, the second only
/// lowers times).
pub fn calibrate(
    options: &Options,
    mut progress: impl FnMut(usize, usize),
    mut save: impl FnMut(&Calibration),
) -> Calibration {
    tch::set_num_threads(i32::try_from(options.threads).unwrap_or(1));
    let mut calibrator = Calibrator::new(options);
    let mut last_save = Instant::now();
    // One timing per step: progress after each, as the command line shows it.
    while !calibrator.step(Duration::ZERO) {
        let (done, of) = calibrator.progress();
        progress(done, of);
        if last_save.elapsed() >= SAVE_EVERY {
            save(calibrator.calibration());
            last_save = Instant::now();
        }
    }
    let (done, of) = calibrator.progress();
    progress(done, of);
    save(calibrator.calibration());
    calibrator.calibration
}

/// A cache file that exists but cannot be read as calibrations.
#[derive(Debug, thiserror::Error)]
#[error("{path}: not a calibration cache ({reason}); delete it or run `infertop calibrate`")]
pub struct CacheError {
    pub path: String,
    pub reason: String,
}

/// The default cache file, `~/.cache/infertop/kernel-calibration.json`.
#[must_use]
pub fn cache_path() -> Option<PathBuf> {
    cache::cache_dir().map(|d| d.join(CACHE_FILE))
}

fn read_all(path: &Path) -> Result<BTreeMap<String, Calibration>, CacheError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(CacheError { path: path.display().to_string(), reason: e.to_string() }),
    };
    serde_json::from_str(&text).map_err(|e| CacheError { path: path.display().to_string(), reason: e.to_string() })
}

/// The calibration cached in `path` for this machine at `threads`, `None` when there is none.
///
/// # Errors
/// A file that exists but is not a calibration cache.
pub fn load(path: &Path, threads: usize) -> Result<Option<Calibration>, CacheError> {
    Ok(read_all(path)?.remove(&peak::machine_key(threads)))
}

/// Stores `calibration` in `path` under its machine key (other keys kept; a corrupt file is
/// replaced), written to a temporary file and renamed.
///
/// # Errors
/// When the folder or the file cannot be written.
pub fn store(path: &Path, calibration: &Calibration) -> std::io::Result<()> {
    let mut all = read_all(path).unwrap_or_default();
    all.insert(calibration.machine.clone(), calibration.clone());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string(&all).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
