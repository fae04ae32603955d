//! Calibration on the board: every configuration of the sampled space timed in two passes (the
//! median of a few calls in each), and the cache of the result per CPU model, thread count and libtorch
//! version, next to the peak and bandwidth caches (`kernel-calibration.json`). A calibration
//! stopped early is saved as far as it got and is usable: the kinds are interleaved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::forest::{Predictor, Timed};
use super::last_level;
use super::space::{sample_space, Config};
use super::sweep::Sweep;
use super::timing::{time_config, Weights};
use crate::core::limits::{cache, peak};
use crate::core::machine::sysfs::{level2_bytes, read_cpu_caches};

/// The cache file's name in infertop's cache folder.
pub const CACHE_FILE: &str = "kernel-calibration.json";

/// One configuration and its time (the lower of its two passes' medians).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub config: Config,
    /// With a convolution's or linear layer's weights read from memory.
    pub ns: f64,
    /// A convolution or linear layer with its weights in the last-level cache; `None` for ops
    /// without weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns_warm: Option<f64>,
    /// Not swept before each call (and any weights in the cache): the op as a small net calls
    /// it, its neighbours' data small enough to leave its own in the private caches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns_hot: Option<f64>,
}

/// How samples are timed, kept with each calibration: one made another way (an older infertop's)
/// reads as none, so this machine is calibrated again rather than predicted from times that
/// mean something else. 3: with and without the caches swept before each call, weights both
/// from memory and cache.
pub const METHOD: u32 = 3;

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
    /// See [`METHOD`]; 0 in caches written before it was kept.
    #[serde(default)]
    pub method: u32,
    /// The largest block this machine reads at a cache's pace (see `last_level.rs`): a model
    /// whose weights fit is predicted with its weights in cache. `None`: no cache the reads
    /// could tell from memory, or not measured yet.
    #[serde(default)]
    pub cache_bytes: Option<u64>,
    /// The level-2 caches together, as the kernel describes them (`None`: not described): an
    /// op whose neighbourhood fits is predicted as not swept.
    #[serde(default)]
    pub l2_bytes: Option<u64>,
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
                Timed { op: op.into(), shapes, ns: s.ns, ns_warm: s.ns_warm, ns_hot: s.ns_hot }
            })
            .collect();
        Predictor::fit(&timed).with_caches(self.l2_bytes, self.cache_bytes)
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
    /// Made on the first timing (so a calibrator not yet stepped holds no memory) and dropped
    /// with the calibrator.
    sweep: Option<Sweep>,
    /// The last-level cache's read rates so far, per block size (the best of each): measured
    /// at the start and again at the start of the second pass, since on a shared machine what
    /// the others use of the cache comes and goes.
    curve: Vec<(u64, f64)>,
    /// Times the curve was measured.
    curve_measured: usize,
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
            method: METHOD,
            cache_bytes: None,
            l2_bytes: None,
        };
        Self {
            calibration,
            pending: configs.into_iter(),
            second: 0,
            reps: options.reps,
            sweep: None,
            curve: Vec::new(),
            curve_measured: 0,
        }
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
    /// are done. The first timing measures the cache first.
    fn time_next(&mut self) -> bool {
        let second_pass_starts = self.pending.len() == 0 && self.second == 0;
        if self.curve_measured == 0 || (second_pass_starts && self.curve_measured < 2) {
            self.measure_cache();
        }
        let sweep = self.sweep.get_or_insert_with(|| Sweep::for_machine(Path::new("/")));
        let reps = self.reps;
        if let Some(config) = self.pending.next() {
            match time_states(&config, reps, sweep) {
                Ok(sample) => self.calibration.samples.push(sample),
                Err(_) => self.calibration.planned -= 1,
            }
        } else if let Some(sample) = self.calibration.samples.get_mut(self.second) {
            if let Ok(again) = time_states(&sample.config, reps, sweep) {
                let lower = |a: Option<f64>, b: Option<f64>| match (a, b) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                sample.ns = sample.ns.min(again.ns);
                sample.ns_warm = lower(sample.ns_warm, again.ns_warm);
                sample.ns_hot = lower(sample.ns_hot, again.ns_hot);
            }
            self.second += 1;
        } else {
            return false;
        }
        true
    }

    /// Measures the last-level cache's curve again, keeps each size's best rate, and takes the
    /// cache's size from the result (the level-2 caches' from sysfs the first time).
    fn measure_cache(&mut self) {
        let again = last_level::measure_curve();
        if self.curve.is_empty() {
            self.calibration.l2_bytes = level2_bytes(&read_cpu_caches(Path::new("/")));
            self.curve = again;
        } else {
            for ((_, best), (_, now)) in self.curve.iter_mut().zip(again) {
                *best = best.max(now);
            }
        }
        self.curve_measured += 1;
        self.calibration.cache_bytes = last_level::knee(&self.curve);
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

/// `config` timed swept with its weights from memory, swept with them in the cache (an op with
/// weights), and not swept.
fn time_states(config: &Config, reps: usize, sweep: &Sweep) -> Result<Sample, tch::TchError> {
    let ns = time_config(config, reps, Some(sweep), Weights::FromMemory)?;
    let ns_warm =
        if config.has_weights() { Some(time_config(config, reps, Some(sweep), Weights::FromCache)?) } else { None };
    let ns_hot = Some(time_config(config, reps, None, Weights::FromCache)?);
    Ok(Sample { config: config.clone(), ns, ns_warm, ns_hot })
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

/// The calibration cached in `path` for this machine at `threads`, `None` when there is none
/// or it was timed by another [`METHOD`].
///
/// # Errors
/// A file that exists but is not a calibration cache.
pub fn load(path: &Path, threads: usize) -> Result<Option<Calibration>, CacheError> {
    Ok(read_all(path)?.remove(&peak::machine_key(threads)).filter(|c| c.method == METHOD))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calibration_measures_the_cache_at_each_pass_start_and_times_each_state() {
        let options = Options { threads: 1, scale: 0.004, reps: 1, seed: 3 };
        let mut calibrator = Calibrator::new(&options);
        assert_eq!(calibrator.curve_measured, 0, "nothing measured before the first step");
        while !calibrator.step(Duration::ZERO) {}
        assert_eq!(calibrator.curve_measured, 2);
        assert_eq!(calibrator.curve.len(), last_level::sizes().len());
        let made = calibrator.calibration();
        assert_eq!(made.method, METHOD);
        for sample in &made.samples {
            assert!(sample.ns_hot.is_some(), "{:?}", sample.config);
            assert_eq!(sample.ns_warm.is_some(), sample.config.has_weights(), "{:?}", sample.config);
        }
        assert!(made.samples.iter().any(|s| s.config.has_weights()));
    }
}
