//! An episode played into a private folder: made atomically under a random name, mode 0700, so
//! no other user can make it first or put anything in it, and written only through handles on
//! its own folders, never following a symbolic link (not even one planted inside it).

use std::ffi::{OsStr, OsString};
use std::fs::{File, Permissions};
use std::io::{self, Write as _};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path};
use std::time::Duration;

use rustix::fs::{AtFlags, Mode, OFlags, CWD};

use super::base_tree::Entry;
use super::{Episode, Step};

/// The permission bits of a file a step writes and of a folder a replay creates.
const FILE_MODE: u32 = 0o644;
const FOLDER_MODE: u32 = 0o755;

/// An episode being played into a private copy of its base tree.
#[derive(Debug)]
pub struct Replay {
    /// Removed, with all it holds, when the replay is dropped (links inside are removed, not
    /// followed).
    folder: tempfile::TempDir,
    /// The folder as opened right after it was made: writes start here, not at its path.
    root: OwnedFd,
    steps: Vec<Step>,
    /// Steps applied so far.
    applied: usize,
    speed: f64,
}

impl Replay {
    /// Copies the episode's base tree into a new private folder under `scratch` (the system's
    /// temporary folder in a run) to play it at `speed` times real time.
    ///
    /// # Errors
    /// When the folder cannot be made or the copy cannot be written; nothing is left behind.
    pub fn start(episode: &Episode, speed: f64, scratch: &Path) -> io::Result<Self> {
        let folder = tempfile::Builder::new()
            .prefix("infertop-replay-")
            .permissions(Permissions::from_mode(0o700))
            .tempdir_in(scratch)?;
        let root = rustix::fs::openat(CWD, folder.path(), folder_flags(), Mode::empty())?;
        let replay =
            Self { folder, root, steps: episode.steps.clone(), applied: 0, speed: speed.max(f64::MIN_POSITIVE) };
        for entry in &episode.tree.entries {
            match entry {
                Entry::Folder(path) => drop(replay.folder_at(path)?),
                Entry::File { path, contents, mode } => replay.replace_file(path, contents, *mode)?,
            }
        }
        Ok(replay)
    }

    /// The folder the sampler reads.
    #[must_use]
    pub fn root(&self) -> &Path {
        self.folder.path()
    }

    /// Writes every step due `elapsed` after the start (scaled by the speed); returns how many
    /// were applied now. A file that cannot be written is skipped: the sampler then reads the
    /// value before, as it would from a sensor that did not update.
    pub fn advance(&mut self, elapsed: Duration) -> usize {
        let episode_time = elapsed.mul_f64(self.speed);
        let due = self.steps[self.applied..].iter().take_while(|s| s.at <= episode_time).count();
        for step in &self.steps[self.applied..self.applied + due] {
            for (path, contents) in &step.files {
                let _ = self.replace_file(path, format!("{contents}\n").as_bytes(), FILE_MODE);
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

    /// The folder at `path` below the root, opened, made where missing (a step may add a file
    /// the base lacks, such as a sensor appearing). A link on the way is an error, not followed.
    fn folder_at(&self, path: &Path) -> io::Result<OwnedFd> {
        let mut folder = rustix::fs::openat(&self.root, ".", folder_flags(), Mode::empty())?;
        for part in path.components() {
            let Component::Normal(name) = part else {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "a path leaving the replay folder"));
            };
            folder = match rustix::fs::openat(&folder, name, folder_flags(), Mode::empty()) {
                Err(rustix::io::Errno::NOENT) => {
                    match rustix::fs::mkdirat(&folder, name, Mode::from_raw_mode(FOLDER_MODE)) {
                        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    rustix::fs::openat(&folder, name, folder_flags(), Mode::empty())?
                }
                opened => opened?,
            };
        }
        Ok(folder)
    }

    /// Writes `contents` beside `path` and renames it over `path`, so a sample never reads half
    /// a value; the rename replaces a link at `path` rather than writing where it leads.
    fn replace_file(&self, path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a file name"));
        };
        let folder = self.folder_at(parent)?;
        let aside = aside_name(name);
        // A leftover of a write that failed half-way; its absence is the usual case.
        let _ = rustix::fs::unlinkat(&folder, &aside, AtFlags::empty());
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let file = rustix::fs::openat(&folder, &aside, flags, Mode::from_raw_mode(mode))?;
        let written = File::from(file)
            .write_all(contents)
            .and_then(|()| Ok(rustix::fs::renameat(&folder, &aside, &folder, name)?));
        if written.is_err() {
            let _ = rustix::fs::unlinkat(&folder, &aside, AtFlags::empty());
        }
        written
    }
}

/// Opens a folder only: a link (even to a folder) or a file fails.
fn folder_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// The hidden name a file is written under before it is renamed into place: no sampler's
/// listing (`thermal_zone*`, `hwmon*`, ...) matches a name starting with a dot.
fn aside_name(name: &OsStr) -> OsString {
    let mut aside = OsString::from(".");
    aside.push(name);
    aside.push(".infertop-replay-tmp");
    aside
}
