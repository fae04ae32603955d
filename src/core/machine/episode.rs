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
//! ([`Replay`]) into which each step's files are written once its time has come
//! (`--replay-speed 10` plays ten times faster). Files are replaced whole (written aside and
//! renamed), so a sample never reads half a value. The copy is removed when the replay ends.
//!
//! The base tree is read and checked when the episode is loaded ([`base_tree`]), so that a
//! tree that cannot be played is a usage error naming `episode.toml` before a run starts.

pub mod base_tree;
pub mod replay;

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use base_tree::BaseTree;

use crate::core::common::bounded_read::{self, ReadError};

/// The most an `episode.toml` may hold: thousands of steps.
pub const MAX_EPISODE_FILE_BYTES: u64 = 1 << 20;

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
    /// The tree at time zero: where it was read from, and what it held.
    pub base: PathBuf,
    pub tree: BaseTree,
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
    /// An `episode.toml` that is not a regular file or does not parse, a base that is not a
    /// folder or holds what cannot be played ([`base_tree::TreeError`]), a time that does not
    /// parse or goes back, a path that leaves the tree, a value that is not text or a number.
    pub fn load(dir: &Path) -> Result<Option<Self>, EpisodeError> {
        let file = dir.join(EPISODE_FILE);
        let fail = |problem: String| EpisodeError { file: file.clone(), problem };
        let text = match bounded_read::read_text_at_most(&file, MAX_EPISODE_FILE_BYTES) {
            Ok(text) => text,
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail(e.to_string())),
        };
        let raw: RawEpisode =
            toml::from_str(&text).map_err(|e| fail(crate::core::common::oneline::one_line(e.message())))?;
        let base = dir.join(&raw.base);
        if !base.is_dir() {
            return Err(fail(format!("base '{}' is not a folder", raw.base.display())));
        }
        let tree = BaseTree::read(&base).map_err(|e| fail(format!("base '{}': {e}", raw.base.display())))?;
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
        Ok(Some(Self { base, tree, steps }))
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

#[cfg(test)]
mod tests;
