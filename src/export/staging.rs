//! Hidden staging folders (`.<name>.<pid>.tmp`): claiming one under a free name, publishing it
//! under that name once complete, and finding those whose writer is gone (a killed run's, which
//! [`super::recover`] publishes).
//!
//! Only folders named exactly so are ever touched, with `<name>` a snapshot name: the export
//! folder may be one the user keeps other things in.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::ExportError;

/// The staging folder's name for snapshot `name` written by process `pid`.
pub(super) fn folder_name(name: &str, pid: u32) -> String {
    format!(".{name}.{pid}.tmp")
}

/// The `n`th name for snapshots taken at `stamp`: `stamp`, `stamp-2`, `stamp-3`, ...
fn numbered(stamp: &str, n: u32) -> String {
    if n == 1 {
        stamp.to_string()
    } else {
        format!("{stamp}-{n}")
    }
}

/// Finds the first snapshot name (`stamp`, `stamp-2`, ...) not yet published and creates this
/// process's staging folder for it; returns the name's number and the folder.
pub(super) fn claim_staging(base: &Path, stamp: &str) -> Result<(u32, PathBuf), ExportError> {
    for n in 1u32.. {
        let name = numbered(stamp, n);
        if base.join(&name).exists() {
            continue;
        }
        let staging = base.join(folder_name(&name, std::process::id()));
        match fs::create_dir(&staging) {
            Ok(()) => return Ok((n, staging)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(ExportError::new("cannot create snapshot folder", &staging, &e)),
        }
    }
    unreachable!("a free suffix exists")
}

/// Renames the complete staging folder to the `n`th name, or the next free one: another
/// process may have published a snapshot of the same second under that name since the claim
/// (staging folders carry the pid, so claims no longer exclude each other). A snapshot folder
/// is never empty, so renaming onto a taken name fails rather than replacing it.
pub(super) fn publish(base: &Path, stamp: &str, n: u32, staging: &Path) -> Result<PathBuf, ExportError> {
    for n in n.. {
        let target = base.join(numbered(stamp, n));
        match fs::rename(staging, &target) {
            Ok(()) => return Ok(target),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY | libc::EEXIST)) => {}
            Err(e) => return Err(ExportError::new("cannot rename snapshot folder to", &target, &e)),
        }
    }
    unreachable!("a free suffix exists")
}

/// Who wrote a staging folder, as its name says.
#[derive(Debug, PartialEq, Eq)]
enum Writer {
    /// The process with this id.
    Process(libc::pid_t),
    /// Named `.<name>.tmp` by a version that did not record the writer; that version is long
    /// gone, or soon will be.
    Unrecorded,
}

impl Writer {
    /// Parses a folder name into its writer and the snapshot name it was for; `None` for
    /// anything that is not a staging folder.
    fn of(folder: &str) -> Option<(Self, &str)> {
        let inner = folder.strip_prefix('.')?.strip_suffix(".tmp")?;
        if is_snapshot_name(inner) {
            return Some((Self::Unrecorded, inner));
        }
        let (name, pid) = inner.rsplit_once('.')?;
        let pid: u32 = pid.parse().ok().filter(|_| pid.bytes().all(|b| b.is_ascii_digit()))?;
        // 0 and negative ids would make kill(2) below address process groups.
        let pid = libc::pid_t::try_from(pid).ok().filter(|pid| *pid > 0)?;
        is_snapshot_name(name).then_some((Self::Process(pid), name))
    }

    /// Whether the writer is certainly gone. A process of another user that exists counts as
    /// alive (EPERM), and so does a new process that reuses a dead writer's id: its folder stays
    /// until a later start.
    fn is_gone(&self) -> bool {
        match *self {
            Self::Unrecorded => true,
            Self::Process(pid) => {
                // SAFETY: signal 0 only checks whether the process exists.
                let found = unsafe { libc::kill(pid, 0) };
                found == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
            }
        }
    }
}

/// `YYYYMMDD-HHMMSS`, optionally followed by `-N`, as [`super::snapshot_name`] and its
/// numbering make them.
fn is_snapshot_name(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut parts = name.split('-');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return false;
    };
    let number = parts.next();
    date.len() == 8
        && digits(date)
        && time.len() == 6
        && digits(time)
        && number.is_none_or(digits)
        && parts.next().is_none()
}

/// A staging folder whose writer is gone: where it is, and the snapshot name it was to take
/// (`stamp`, numbered `n` as [`claim_staging`] numbers them).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Abandoned {
    pub dir: PathBuf,
    pub stamp: String,
    pub n: u32,
}

/// The staging folders in `base` whose writer is gone (a killed run's), oldest name first.
/// Never a folder of a live process, nor anything not named like a staging folder, nor a link.
pub(super) fn abandoned(base: &Path) -> Vec<Abandoned> {
    let Ok(entries) = fs::read_dir(base) else {
        return Vec::new();
    };
    let mut found: Vec<Abandoned> = entries
        .filter_map(Result::ok)
        // Not following links: a link is not a folder this program made.
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let (writer, snapshot) = Writer::of(&name)?;
            let (stamp, n) = split_number(snapshot);
            writer.is_gone().then(|| Abandoned { dir: entry.path(), stamp: stamp.to_string(), n })
        })
        .collect();
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    found
}

/// `YYYYMMDD-HHMMSS-N` into the stamp and N (1 without a number).
fn split_number(name: &str) -> (&str, u32) {
    match name.rsplit_once('-') {
        Some((stamp, n)) if stamp.contains('-') => (stamp, n.parse().unwrap_or(1)),
        _ => (name, 1),
    }
}

/// The id of a process that has certainly ended: a child that was reaped.
#[cfg(test)]
pub(super) fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    child.id()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_folders_carry_the_pid_and_a_name_taken_meanwhile_is_skipped() {
        let base = tempfile::tempdir().unwrap();
        let stamp = "20261124-163000";
        let (n, staging) = claim_staging(base.path(), stamp).unwrap();
        let expected = format!(".{stamp}.{}.tmp", std::process::id());
        assert_eq!((n, staging.file_name().unwrap().to_str()), (1, Some(expected.as_str())));
        fs::write(staging.join("run.json"), "{}").unwrap();
        // Another process publishes its snapshot of the same second first.
        let other = base.path().join(stamp);
        fs::create_dir(&other).unwrap();
        fs::write(other.join("run.json"), "{}").unwrap();
        let published = publish(base.path(), stamp, n, &staging).unwrap();
        assert_eq!(published, base.path().join(format!("{stamp}-2")));
        assert!(published.join("run.json").is_file() && other.join("run.json").is_file());
        assert!(!staging.exists());
    }

    #[test]
    fn names_are_read_back() {
        let me = std::process::id();
        assert_eq!(
            Writer::of(&folder_name("20261124-163000", me)),
            Some((Writer::Process(libc::pid_t::try_from(me).unwrap()), "20261124-163000"))
        );
        assert_eq!(Writer::of(".20261124-163000-2.4242.tmp"), Some((Writer::Process(4242), "20261124-163000-2")));
        assert_eq!(Writer::of(".20261124-163000.tmp"), Some((Writer::Unrecorded, "20261124-163000")));
        assert_eq!(Writer::of(".20261124-163000-12.tmp"), Some((Writer::Unrecorded, "20261124-163000-12")));
        assert_eq!(split_number("20261124-163000-12"), ("20261124-163000", 12));
        assert_eq!(split_number("20261124-163000"), ("20261124-163000", 1));
        for other in [
            ".cache.tmp",
            ".20261124-163000.0.tmp",
            ".20261124-163000.-1.tmp",
            ".20261124-163000.+5.tmp",
            ".20261124-163000.4294967295.tmp",
            ".20261124-163000.tmp.tmp",
            ".2026112-163000.tmp",
            ".20261124-163000-.tmp",
            ".20261124-163000-2-3.tmp",
            "20261124-163000.tmp",
            ".20261124-163000",
        ] {
            assert_eq!(Writer::of(other), None, "{other}");
        }
    }

    #[test]
    fn only_the_folders_of_dead_writers_are_found() {
        let base = tempfile::tempdir().unwrap();
        let make = |name: &str| {
            let dir = base.path().join(name);
            fs::create_dir(&dir).unwrap();
            fs::write(dir.join("models.csv"), "model\n").unwrap();
        };
        let dead = folder_name("20261124-163000-3", dead_pid());
        let old = ".20261124-163001.tmp".to_string();
        let mine = folder_name("20261124-163002", std::process::id());
        for name in [mine.as_str(), "20261124-163000", ".cache.tmp", ".20261124-163003.1.tmp", &dead, &old] {
            make(name);
        }
        // A file named like a staging folder is not one.
        fs::write(base.path().join(folder_name("20261124-163004", dead_pid())), "").unwrap();
        // Not: this process's folder, a published snapshot, a stranger's folder, and one of
        // pid 1, which is always alive.
        let expected = [
            Abandoned { dir: base.path().join(&dead), stamp: "20261124-163000".into(), n: 3 },
            Abandoned { dir: base.path().join(&old), stamp: "20261124-163001".into(), n: 1 },
        ];
        assert_eq!(abandoned(base.path()), expected);
        assert_eq!(abandoned(&base.path().join("missing")), []);
    }
}
