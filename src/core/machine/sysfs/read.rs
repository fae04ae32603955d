//! The reading every sysfs reader shares: bounded reads of single values, an access check that
//! tells "needs root" from "absent", and bounded folder listings.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::core::common::bounded_read::{self, ReadError};

/// The most a file may hold. A sysfs attribute is one value or a short list and the kernel
/// caps it at a page; anything longer is not an attribute, and a cut-off value would parse as
/// a wrong one, so it reads as missing.
pub const MAX_FILE_BYTES: u64 = 4096;

/// The most entries a listing looks at. A board has a few dozen zones, chips or policies
/// (and a few hundred platform devices); a folder with more is not sysfs.
pub const MAX_DIR_ENTRIES: usize = 4096;

/// The file's contents without surrounding whitespace; `None` when it cannot be read, is
/// empty, is not a regular file, or is longer than [`MAX_FILE_BYTES`].
pub(crate) fn read_trimmed(path: &Path) -> Option<String> {
    trimmed(&bounded_read::read_text_at_most(path, MAX_FILE_BYTES).ok()?)
}

/// What reading a file found, for the files where "exists, but only root may read it" must not
/// look like "absent".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access<T> {
    Read(T),
    /// The file is there and opening it was refused (`EACCES`, `EPERM`).
    Denied,
    /// Missing, not a regular file, empty, too long or malformed.
    Missing,
}

impl<T> Access<T> {
    /// The value, when read.
    pub fn value(self) -> Option<T> {
        match self {
            Self::Read(value) => Some(value),
            Self::Denied | Self::Missing => None,
        }
    }

    /// `f` applied to a read value; a value `f` rejects is missing.
    pub fn and_then<U>(self, f: impl FnOnce(T) -> Option<U>) -> Access<U> {
        match self {
            Self::Read(value) => f(value).map_or(Access::Missing, Access::Read),
            Self::Denied => Access::Denied,
            Self::Missing => Access::Missing,
        }
    }
}

/// [`read_trimmed`] that tells a refused file from a missing one.
pub(crate) fn read_access(path: &Path) -> Access<String> {
    match bounded_read::read_text_at_most(path, MAX_FILE_BYTES) {
        Ok(text) => trimmed(&text).map_or(Access::Missing, Access::Read),
        Err(err) => access_error(&err),
    }
}

/// How a failed read reads: refused, or as good as missing.
fn access_error<T>(err: &ReadError) -> Access<T> {
    // EACCES and EPERM both map to `PermissionDenied`.
    if err.kind() == io::ErrorKind::PermissionDenied {
        Access::Denied
    } else {
        Access::Missing
    }
}

/// `text` without surrounding whitespace, if anything is left.
fn trimmed(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The complete lines among the first `limit` bytes of the file, for the `/proc` files whose
/// first lines are what is wanted and whose rest grows with the machine (`/proc/stat` ends
/// with a counter per interrupt). A line cut off by the bound is left out, so it never parses
/// as a shorter one; `None` when the file cannot be read or holds no complete line.
pub(crate) fn read_head_lines(path: &Path, limit: u64) -> Option<String> {
    let mut bytes = Vec::new();
    bounded_read::open_regular(path).ok()?.take(limit).read_to_end(&mut bytes).ok()?;
    let end = if bytes.len() as u64 == limit { bytes.iter().rposition(|&b| b == b'\n')? + 1 } else { bytes.len() };
    bytes.truncate(end);
    let text = String::from_utf8(bytes).ok()?;
    (!text.trim().is_empty()).then_some(text)
}

/// The file parsed as one value; `None` when missing or malformed.
pub(crate) fn read_parsed<T: FromStr>(path: &Path) -> Option<T> {
    read_trimmed(path)?.parse().ok()
}

/// The readable entries of `dir`, at most [`MAX_DIR_ENTRIES`] of them, in the order the
/// filesystem gives; none when `dir` is missing or not a folder.
pub(crate) fn dir_entries(dir: &Path) -> impl Iterator<Item = fs::DirEntry> {
    fs::read_dir(dir).into_iter().flatten().take(MAX_DIR_ENTRIES).filter_map(Result::ok)
}

/// Entries of `dir` named `<prefix><number>` (such as `thermal_zone3`), sorted by number so
/// that `thermal_zone10` comes after `thermal_zone2`. A missing directory gives none.
pub(crate) fn numbered_entries(dir: &Path, prefix: &str) -> Vec<(u32, PathBuf)> {
    let mut found: Vec<(u32, PathBuf)> = dir_entries(dir)
        .filter_map(|entry| {
            let name = entry.file_name();
            let number = name.to_str()?.strip_prefix(prefix)?.parse().ok()?;
            Some((number, entry.path()))
        })
        .collect();
    found.sort_unstable_by_key(|(number, _)| *number);
    found
}

/// `names` made distinguishable, in order: the second `acpitz` becomes `acpitz#2`, the third
/// `acpitz#3` (laptops repeat zone types, and every ACPI processor is a `Processor` cooling
/// device).
pub(crate) fn unique_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    names
        .into_iter()
        .map(|name| {
            let count = seen.entry(name).or_insert(0);
            *count += 1;
            if *count == 1 {
                name.to_owned()
            } else {
                format!("{name}#{count}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::common::bounded_read::tests::{mkfifo, returns};

    #[test]
    fn repeated_names_get_numbered() {
        assert_eq!(
            unique_names(["acpitz", "acpitz", "iwlwifi_1", "acpitz"]),
            ["acpitz", "acpitz#2", "iwlwifi_1", "acpitz#3"]
        );
    }

    /// The error kinds of a refused open read as "denied", every other failure as missing:
    /// what tells "needs root" from "no such counter" (the chmod test of `tests/power.rs`
    /// exercises the same path on a real file where the test can drop root's override).
    #[test]
    fn a_refused_open_is_denied_and_other_failures_are_missing() {
        let denied = |errno| access_error::<()>(&ReadError::Io(io::Error::from_raw_os_error(errno)));
        assert_eq!(denied(libc::EACCES), Access::Denied);
        assert_eq!(denied(libc::EPERM), Access::Denied);
        assert_eq!(denied(libc::ENOENT), Access::Missing);
        assert_eq!(denied(libc::EIO), Access::Missing);
        assert_eq!(denied(libc::ENODATA), Access::Missing, "a disabled hwmon channel");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("energy_uj");
        assert_eq!(read_access(&path), Access::Missing);
        assert_eq!(read_access(dir.path()), Access::Missing, "a folder");
        fs::write(&path, "123456\n").unwrap();
        assert_eq!(read_access(&path), Access::Read("123456".into()));
        assert_eq!(read_access(&path).and_then(|t| t.parse::<u64>().ok()), Access::Read(123_456));
        fs::write(&path, "lots\n").unwrap();
        assert_eq!(read_access(&path).and_then(|t| t.parse::<u64>().ok()), Access::Missing);
    }

    #[test]
    fn numbered_entries_sort_numerically_and_skip_others() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["zone10", "zone2", "zone", "zonex", "other1"] {
            fs::create_dir(dir.path().join(name)).unwrap();
        }
        let numbers: Vec<u32> = numbered_entries(dir.path(), "zone").into_iter().map(|(n, _)| n).collect();
        assert_eq!(numbers, [2, 10]);
        assert!(numbered_entries(&dir.path().join("missing"), "zone").is_empty());
    }

    #[test]
    fn read_parsed_treats_garbage_and_empty_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("temp");
        fs::write(&path, "garbage\n").unwrap();
        assert_eq!(read_parsed::<i64>(&path), None);
        fs::write(&path, "\n").unwrap();
        assert_eq!(read_parsed::<i64>(&path), None);
        fs::write(&path, " 48686\n").unwrap();
        assert_eq!(read_parsed::<i64>(&path), Some(48686));
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let good = dir.path().join("good");
        fs::write(&good, "42\n").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        let found = returns(move || {
            [fifo.as_path(), zero.as_path(), dir.path(), good.as_path(), link.as_path()].map(read_trimmed)
        });
        assert_eq!(found, [None, None, None, Some("42".to_owned()), Some("42".to_owned())]);
    }

    #[test]
    fn files_longer_than_the_bound_read_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long");
        let bound = usize::try_from(MAX_FILE_BYTES).unwrap();
        fs::write(&path, format!("7{}", " ".repeat(bound - 1))).unwrap();
        assert_eq!(read_trimmed(&path).as_deref(), Some("7"));
        fs::write(&path, format!("7{}", " ".repeat(bound))).unwrap();
        assert_eq!(read_trimmed(&path), None);
    }

    #[test]
    fn head_lines_keep_only_lines_complete_within_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stat");
        fs::write(&path, "cpu  1 2 3\ncpu0 1 2 3\nintr 99999999\n").unwrap();
        assert_eq!(read_head_lines(&path, 4096).as_deref(), Some("cpu  1 2 3\ncpu0 1 2 3\nintr 99999999\n"));
        // 27 bytes end inside the `intr` line: it is left out rather than read as "intr ".
        assert_eq!(read_head_lines(&path, 27).as_deref(), Some("cpu  1 2 3\ncpu0 1 2 3\n"));
        assert_eq!(read_head_lines(&path, 5), None, "no complete line");
        fs::write(&path, "cpu  1 2 3").unwrap();
        assert_eq!(read_head_lines(&path, 4096).as_deref(), Some("cpu  1 2 3"), "the last line needs no newline");
        assert_eq!(read_head_lines(dir.path(), 4096), None, "a folder");
    }

    #[test]
    fn listings_are_bounded_and_a_fifo_is_no_folder() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..MAX_DIR_ENTRIES + 4 {
            fs::write(dir.path().join(format!("zone{n}")), "").unwrap();
        }
        assert_eq!(numbered_entries(dir.path(), "zone").len(), MAX_DIR_ENTRIES);
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        assert!(returns(move || numbered_entries(&fifo, "zone")).is_empty());
    }
}
