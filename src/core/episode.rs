//! Recorded episodes: a board tree whose files change over time (a temperature ramp, a clock cap
//! appearing, throttle flags set and cleared), played back so that tests and users can replay a
//! throttling episode deterministically.
//!
//! An episode is a folder with an `episode.toml`:
//!
//! ```toml
//! base = "../../sysfs/rpi4"   # the tree at time zero, relative to this file
//!
//! [[step]]
//! at = "10s"                  # time since the start of the replay
//! files = { "sys/class/thermal/thermal_zone0/temp" = "81000" }
//! ```
//!
//! `--sysfs-root` pointed at such a folder makes the sampler read a private copy of `base`
//! into which each step's files are written once its time has come (`--replay-speed 10` plays
//! ten times faster). Files are replaced whole (written aside and renamed), so a sample never
//! reads half a value. The copy is removed when the replay ends.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The file that makes a folder an episode.
pub const EPISODE_FILE: &str = "episode.toml";

/// Why an episode cannot be played. Its message is one line naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", file.display())]
pub struct EpisodeError {
    pub file: PathBuf,
    pub problem: String,
}

/// One change of the tree: at `at`, these files get these contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub at: Duration,
    /// Paths relative to the tree's root, with their new contents.
    pub files: Vec<(PathBuf, String)>,
}

/// A loaded, checked episode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Episode {
    /// The tree at time zero.
    pub base: PathBuf,
    /// In time order.
    pub steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEpisode {
    base: PathBuf,
    #[serde(default)]
    step: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: String,
    files: toml::Table,
}

impl Episode {
    /// The episode in `dir`, `None` when `dir` holds no [`EPISODE_FILE`] (a plain tree).
    ///
    /// # Errors
    /// A file that does not parse, a base that is not a folder, a time that does not parse or
    /// goes back, a path that leaves the tree, a value that is not text or a number.
    pub fn load(dir: &Path) -> Result<Option<Self>, EpisodeError> {
        let file = dir.join(EPISODE_FILE);
        if !file.is_file() {
            return Ok(None);
        }
        let fail = |problem: String| EpisodeError { file: file.clone(), problem };
        let text = fs::read_to_string(&file).map_err(|e| fail(e.to_string()))?;
        let raw: RawEpisode = toml::from_str(&text).map_err(|e| fail(crate::core::oneline::one_line(e.message())))?;
        let base = dir.join(&raw.base);
        if !base.is_dir() {
            return Err(fail(format!("base '{}' is not a folder", raw.base.display())));
        }
        let mut steps = Vec::with_capacity(raw.step.len());
        for (n, step) in raw.step.into_iter().enumerate() {
            let at = humantime::parse_duration(&step.at)
                .map_err(|e| fail(format!("step {}: at = '{}' is not a duration ({e})", n + 1, step.at)))?;
            if steps.last().is_some_and(|before: &Step| before.at > at) {
                return Err(fail(format!("step {}: at = '{}' is earlier than the step before", n + 1, step.at)));
            }
            let mut files = Vec::with_capacity(step.files.len());
            for (path, value) in step.files {
                let contents = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    other => {
                        return Err(fail(format!("step {}: '{path}' = {other} is not text or a number", n + 1)));
                    }
                };
                let path = PathBuf::from(&path);
                if !stays_inside(&path) {
                    return Err(fail(format!("step {}: '{}' leaves the tree", n + 1, path.display())));
                }
                files.push((path, contents));
            }
            steps.push(Step { at, files });
        }
        Ok(Some(Self { base, steps }))
    }

    /// When the last step happens.
    #[must_use]
    pub fn length(&self) -> Duration {
        self.steps.last().map_or(Duration::ZERO, |s| s.at)
    }
}

/// A relative path without `..`: a step writes only inside its tree.
fn stays_inside(path: &Path) -> bool {
    !path.as_os_str().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// An episode being played into a private copy of its base tree.
#[derive(Debug)]
pub struct Replay {
    root: PathBuf,
    steps: Vec<Step>,
    /// Steps applied so far.
    applied: usize,
    speed: f64,
}

impl Replay {
    /// Copies the episode's base tree into a new folder under `scratch` (the system's temporary
    /// folder in a run) to play it at `speed` times real time.
    ///
    /// # Errors
    /// When the copy cannot be made.
    pub fn start(episode: &Episode, speed: f64, scratch: &Path) -> std::io::Result<Self> {
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let root = scratch.join(format!("infertop-replay-{}-{n}", std::process::id()));
        let replay = Self { root, steps: episode.steps.clone(), applied: 0, speed: speed.max(f64::MIN_POSITIVE) };
        copy_tree(&episode.base, &replay.root)?;
        Ok(replay)
    }

    /// The folder the sampler reads.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes every step due `elapsed` after the start (scaled by the speed); returns how many
    /// were applied now. A file that cannot be written is skipped: the sampler then reads the
    /// value before, as it would from a sensor that did not update.
    pub fn advance(&mut self, elapsed: Duration) -> usize {
        let episode_time = elapsed.mul_f64(self.speed);
        let due = self.steps[self.applied..].iter().take_while(|s| s.at <= episode_time).count();
        for step in &self.steps[self.applied..self.applied + due] {
            for (path, contents) in &step.files {
                let _ = replace_file(&self.root.join(path), contents);
            }
        }
        self.applied += due;
        due
    }

    /// Whether every step has been applied.
    #[must_use]
    pub fn finished(&self) -> bool {
        self.applied == self.steps.len()
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Writes `contents` beside `path` and renames it over `path`, creating missing folders (a step
/// may add a file the base lacks, such as a sensor appearing).
fn replace_file(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let aside = path.with_extension("infertop-replay-tmp");
    fs::write(&aside, format!("{contents}\n"))?;
    fs::rename(&aside, path)
}

/// Copies the files and folders of `from` into `to` (symbolic links are followed: the copy is
/// plain files, as the recorded trees are).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
