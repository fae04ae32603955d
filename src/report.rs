//! Reports read from snapshot folders: `infertop report` (the study's figures for one board)
//! and `infertop compare` (two snapshots side by side), each one self-contained HTML file with
//! inline SVG figures drawn by `plotters`, no script and nothing fetched from the network.
//!
//! The reader ([`snapshot`]) is strict: a folder that is not a snapshot, a `snapshot_format`
//! this version does not read, a missing or truncated CSV each give one line naming the file.
//! Nothing is written until every figure is drawn, and the page goes to a temporary name in the
//! target folder that is renamed when complete, so no half-written report is ever left. Only a
//! regular file (or nothing) is replaced: `-o` naming a FIFO or a device is refused.
//!
//! Figures whose data a snapshot lacks are not drawn: the page says what is missing instead of
//! showing an empty frame. (The roofline split and the latency model's errors are not in
//! `snapshot_format` 2 at all.)

pub mod breakdown;
pub mod chart;
pub mod compare;
pub mod html;
pub mod page;
pub mod snapshot;
pub mod study;
pub mod timeline;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

pub use snapshot::Snapshot;

/// Why a report could not be made. The message is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The snapshot folder or one of its files is missing, of another version, or malformed.
    #[error("{}: {reason}", path.display())]
    Snapshot { path: PathBuf, reason: String },
    /// A figure could not be drawn.
    #[error("cannot draw figure '{figure}': {reason}")]
    Figure { figure: String, reason: String },
    /// The report file could not be written.
    #[error("cannot write {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
    /// The output names something a report must not replace.
    #[error("{}: {reason}", path.display())]
    Output { path: PathBuf, reason: String },
}

impl ReportError {
    pub(crate) fn snapshot(path: &Path, reason: impl std::fmt::Display) -> Self {
        let reason = crate::core::common::one_line(&reason.to_string());
        Self::Snapshot { path: path.to_path_buf(), reason }
    }

    pub(crate) fn figure(figure: &str, reason: impl std::fmt::Display) -> Self {
        Self::Figure { figure: figure.into(), reason: crate::core::common::one_line(&reason.to_string()) }
    }
}

/// Reads the snapshot in `folder` and writes its report to `out`.
///
/// # Errors
/// A [`ReportError`] naming the file that is missing or bad, or the output that failed.
pub fn write_report(folder: &Path, out: &Path) -> Result<(), ReportError> {
    check_output(out)?;
    let snap = Snapshot::load(folder)?;
    let html = page::report_page(&snap)?;
    write_atomic(out, &html)
}

/// Reads snapshots `a` and `b` and writes their comparison to `out`.
///
/// # Errors
/// As [`write_report`].
pub fn write_compare(a: &Path, b: &Path, out: &Path) -> Result<(), ReportError> {
    check_output(out)?;
    let (a, b) = (Snapshot::load(a)?, Snapshot::load(b)?);
    let html = compare::compare_page(&a, &b)?;
    write_atomic(out, &html)
}

/// The output path, if writing there replaces at most a regular file: a FIFO, a device (as root,
/// `/dev/null`), a socket or a folder is refused rather than renamed over. A link is followed
/// for this check (the rename then replaces the link itself, not what it points to).
fn check_output(path: &Path) -> Result<(), ReportError> {
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(ReportError::Output {
            path: path.to_path_buf(),
            reason: format!("it is {}, not a regular file", crate::core::common::describe(meta.file_type())),
        }),
        // Missing (or a link to nothing): a new file. Any other failure shows at the write.
        _ => Ok(()),
    }
}

/// Writes `text` to a new file of a random name beside `path` (created exclusively, so no link
/// planted there is followed), syncs it and renames it to `path`; on failure the temporary file
/// is removed.
fn write_atomic(path: &Path, text: &str) -> Result<(), ReportError> {
    let err = |e: std::io::Error| ReportError::Write {
        path: path.to_path_buf(),
        reason: crate::core::common::one_line(&e.to_string()),
    };
    let name = path.file_name().ok_or_else(|| err(std::io::Error::other("not a file name")))?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        // As any new file: readable by all unless the umask says otherwise.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(text.as_bytes()).and_then(|()| tmp.as_file().sync_all()).map_err(err)?;
    // Checked again just before the rename: the path may have changed while the page was drawn.
    check_output(path)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}
