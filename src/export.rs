//! Snapshots: everything measured so far, written as a folder of CSV files and a JSON file that
//! pandas, R or a spreadsheet read without help.
//!
//! ```text
//! <base>/20261124-163000/      (UTC; "-2", "-3", ... when the name is taken)
//!   models.csv       one row per model: latency, MACs, rates, category shares, throttling, energy
//!   ops.csv          one row per (model, op, parent op): calls and time per inference, MACs, bytes
//!   layers.csv       one row per (model, layer): kind, kernel path, shapes, convolution geometry,
//!                    time and MACs per inference, shares
//!   system.csv       the system time series in long form: t_ms, metric, source, value, running_model
//!   inferences.csv   one row per inference: t_ms, model, latency, profiled, cold, the machine's state
//!                    (run folders only; inferences.1.csv, inferences.2.csv, ... before it)
//!   run.json         machine, versions, settings, models, start and snapshot times, contention,
//!                    and how far each time series goes
//! ```
//!
//! Every table is tidy: one header line, one observation per row, units in the column names
//! (`latency_ms_p50`) or, in `system.csv`, in the metric name (`freq_cur_mhz`). An unknown value
//! is an empty field, never 0. The system series is long rather than wide because its columns
//! would depend on the machine (a policy per cluster, any number of sensors); a long table has
//! the same five columns everywhere and pivots in one call (`df.pivot_table(index="t_ms",
//! columns=["metric", "source"], values="value")`). Its `t_ms` counts from the session's epoch
//! (`core::run::epoch`, the one time axis of a run), which is close to `started_at` in `run.json`; `inferences.csv`'s `t_ms` uses the same clock.
//!
//! Two kinds of folder. A **run folder** ([`RunExport`], headless mode) is written as the run
//! goes: its time series are appended row by row and each export (periodic, and the final one)
//! rewrites only the aggregates and `run.json`, so disk use grows linearly with run time. A
//! **snapshot** ([`write_snapshot`], the live screen's `e`) is written once, complete, from
//! what the state holds (the latest hour of system samples, no per-inference rows).
//!
//! Nobody ever reads part of a folder: its files are written into a hidden staging folder
//! `<base>/.<name>.<pid>.tmp/`, each under a temporary name and renamed when complete, and the
//! folder is renamed to `<base>/<name>/` once every file is in. A failed one-shot snapshot
//! removes its staging folder (the state it was written from is still there); a run folder is
//! never removed but by `q`. A killed run leaves its staging folder behind, and the next start
//! publishes it ([`recover_staging`]), the pid in the name telling a dead writer's folder from a
//! live one's. In a published run folder the aggregates and `run.json` are replaced whole, and
//! the series only grow by whole rows.
//!
//! The same figures also leave without a file: `--listen` serves them to Prometheus in the
//! `OpenMetrics` format ([`metrics`] says what, [`listen`] serves it).

mod files;
mod inferences;
pub mod listen;
mod meta;
pub mod metrics;
mod progress;
mod recover;
mod rows;
mod run_folder;
mod series;
mod soak;
mod staging;
mod stream;
mod system;
pub mod trace;

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::core::state::MonitorState;

pub use inferences::InferenceRecord;
pub use meta::{MachineInfo, RunMeta};
pub use progress::{EarlierRows, FolderProgress, SeriesProgress};
pub use recover::{recover_staging, Leftover};
pub use rows::{layer_rows, model_rows, op_rows, LayerRecord, ModelRecord, OpRecord};
use run_folder::Salvage;
pub use series::Part;
pub use soak::soak_json;
use staging::{claim_staging, publish};
pub use stream::{Report, RunExport};
pub use system::{sample_records, system_rows, SystemRecord};

/// A snapshot's files, in the order they are written (`run.json` last). A run folder has
/// these and `inferences.csv`.
pub const FILES: [&str; 5] = ["models.csv", "ops.csv", "layers.csv", "system.csv", "run.json"];

/// Why a snapshot could not be written. Its message is one line naming the path.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {reason}", path.display())]
pub struct ExportError {
    /// What failed, as the start of the message (`cannot create snapshot folder`).
    pub action: &'static str,
    /// The folder or file concerned.
    pub path: PathBuf,
    /// The operating system's reason, on one line.
    pub reason: String,
    pub kind: io::ErrorKind,
}

impl ExportError {
    pub(crate) fn new(action: &'static str, path: &Path, err: &io::Error) -> Self {
        let reason = crate::core::common::one_line(&err.to_string());
        Self { action, path: path.to_path_buf(), reason, kind: err.kind() }
    }
}

/// Where snapshots go unless told otherwise: `./infertop-snapshots`.
#[must_use]
pub fn default_export_base() -> PathBuf {
    PathBuf::from("infertop-snapshots")
}

/// Creates `base` if missing and proves that files can be created in it (a probe file is made
/// and removed), so that a run does not measure for an hour and then fail to save.
///
/// # Errors
/// When the folder cannot be created or written, naming it and the reason.
pub fn check_writable(base: &Path) -> Result<(), ExportError> {
    fs::create_dir_all(base).map_err(|e| ExportError::new("cannot create snapshot folder", base, &e))?;
    let probe = base.join(format!(".infertop-probe-{}", std::process::id()));
    fs::write(&probe, b"").map_err(|e| ExportError::new("cannot write in snapshot folder", base, &e))?;
    fs::remove_file(&probe).map_err(|e| ExportError::new("cannot remove a file in snapshot folder", base, &e))
}

/// The free space a snapshot folder must have when a run starts. A snapshot of ten models and
/// an hour of system samples takes about 8 MB; the margin covers periodic snapshots and the
/// other users of a small SD card.
pub const MIN_FREE_BYTES: u64 = 32 * 1024 * 1024;

/// Checks that the file system holding `base` (which must exist) has [`MIN_FREE_BYTES`] free
/// for an unprivileged writer: a run on a full disk would otherwise measure for an hour and
/// then fail to save.
///
/// # Errors
/// When there is less room, or the file system cannot be asked.
pub fn check_room(base: &Path) -> Result<(), ExportError> {
    let free =
        free_bytes(base).map_err(|e| ExportError::new("cannot check free space of snapshot folder", base, &e))?;
    require_room(base, free)
}

/// [`check_room`]'s verdict for `free` bytes.
fn require_room(base: &Path, free: u64) -> Result<(), ExportError> {
    if free >= MIN_FREE_BYTES {
        return Ok(());
    }
    let reason = format!("{} KiB free, {} MiB needed", free / 1024, MIN_FREE_BYTES / 1024 / 1024);
    let err = io::Error::new(io::ErrorKind::StorageFull, reason);
    Err(ExportError::new("not enough free space in snapshot folder", base, &err))
}

/// Bytes an unprivileged process may still write on the file system holding `path`.
fn free_bytes(path: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: statvfs is plain data; the call fills it from a NUL-terminated path we own.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid path pointer and a statvfs we own.
    if unsafe { libc::statvfs(c_path.as_ptr(), &raw mut stat) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Where the final snapshot of a run went.
#[derive(Debug)]
pub enum FinalSnapshot {
    /// In the folder asked for.
    Written(PathBuf),
    /// The folder asked for failed (`error`); the snapshot went to the temporary folder.
    Elsewhere { path: PathBuf, error: ExportError },
    /// Both failed: nothing could be saved.
    Lost { error: ExportError, fallback: ExportError },
}

impl FinalSnapshot {
    /// The folder the snapshot is in, if any.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            FinalSnapshot::Written(p) | FinalSnapshot::Elsewhere { path: p, .. } => Some(p),
            FinalSnapshot::Lost { .. } => None,
        }
    }

    /// One line saying where the data went, or why it could not be saved.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            FinalSnapshot::Written(p) => format!("snapshot: {}", p.display()),
            FinalSnapshot::Elsewhere { path, error } => {
                format!("snapshot: {} (the snapshot folder failed: {error})", path.display())
            }
            FinalSnapshot::Lost { error, fallback } => format!("snapshot failed: {error}; also {fallback}"),
        }
    }
}

/// Writes the snapshot that ends a run: into `base`, or, when that fails (a full disk, a
/// removed USB stick), into `<temp dir>/infertop-snapshots`, so an hour of measurement is not
/// lost to a full SD card.
#[must_use]
pub fn write_final_snapshot(base: &Path, state: &MonitorState, meta: &RunMeta) -> FinalSnapshot {
    or_in_temp_dir(write_one_shot(base, state, meta, true, None), state, meta, None)
}

/// `written` if it succeeded, else a snapshot of `state` in `<temp dir>/infertop-snapshots`,
/// with the inference rows of a failed run folder (`salvage`).
fn or_in_temp_dir(
    written: Result<PathBuf, ExportError>,
    state: &MonitorState,
    meta: &RunMeta,
    salvage: Option<&Salvage>,
) -> FinalSnapshot {
    let error = match written {
        Ok(path) => return FinalSnapshot::Written(path),
        Err(e) => e,
    };
    let fallback = std::env::temp_dir().join("infertop-snapshots");
    match write_one_shot(&fallback, state, meta, true, salvage) {
        Ok(path) => FinalSnapshot::Elsewhere { path, error },
        Err(fallback) => FinalSnapshot::Lost { error, fallback },
    }
}

/// A snapshot being written on a thread of its own, if any.
pub type PendingSnapshot = Option<tokio::task::JoinHandle<Result<PathBuf, ExportError>>>;

/// Writes a snapshot of a copy of the state on a blocking thread, so a slow disk never stalls
/// the front end (and, through the full event channel, the engine).
#[must_use]
pub fn spawn_snapshot(base: PathBuf, state: MonitorState, meta: RunMeta) -> PendingSnapshot {
    Some(tokio::task::spawn_blocking(move || write_snapshot(&base, &state, &meta)))
}

/// The result of the pending snapshot once its thread is done (then none is pending); never,
/// while none is. Cancel-safe, for `select!`.
///
/// # Errors
/// Why the snapshot could not be written.
pub async fn snapshot_written(pending: &mut PendingSnapshot) -> Result<PathBuf, ExportError> {
    let Some(handle) = pending.as_mut() else { return std::future::pending().await };
    let result = handle.await;
    *pending = None;
    result
        .unwrap_or_else(|e| Err(ExportError::new("cannot write snapshot under", Path::new("."), &io::Error::other(e))))
}

/// Writes a snapshot of `state` into a new folder under `base` (created if missing) and returns
/// that folder.
///
/// # Errors
/// When a folder or file cannot be created, written or renamed, naming it and the reason.
pub fn write_snapshot(base: &Path, state: &MonitorState, meta: &RunMeta) -> Result<PathBuf, ExportError> {
    write_one_shot(base, state, meta, false, None)
}

/// [`write_snapshot`], saying in `run.json` whether the run has ended, with a failed run
/// folder's inference rows.
fn write_one_shot(
    base: &Path,
    state: &MonitorState,
    meta: &RunMeta,
    run_ended: bool,
    salvage: Option<&Salvage>,
) -> Result<PathBuf, ExportError> {
    let now = SystemTime::now();
    fs::create_dir_all(base).map_err(|e| ExportError::new("cannot create snapshot folder", base, &e))?;
    let stamp = snapshot_name(now);
    let (n, staging) = claim_staging(base, &stamp)?;
    let written =
        write_files(&staging, state, meta, now, run_ended, salvage).and_then(|()| publish(base, &stamp, n, &staging));
    if written.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_dir_all(&staging);
    }
    written
}

fn write_files(
    dir: &Path,
    state: &MonitorState,
    meta: &RunMeta,
    now: SystemTime,
    run_ended: bool,
    salvage: Option<&Salvage>,
) -> Result<(), ExportError> {
    write_aggregates(dir, state)?;
    let path = dir.join(FILES[3]);
    let rows = files::write_rows(&path, system_rows(state))?;
    let bytes = fs::metadata(&path).map_err(|e| ExportError::new("cannot read back", &path, &e))?.len();
    let system = SeriesProgress {
        parts: vec![Part { file: FILES[3].into(), rows, bytes }],
        rows,
        rows_lost: 0,
        last_t_ms: state.system.last().map(|s| s.at_ms as f64),
        rows_waiting: None,
        samples: Some(state.system.len() as u64),
        // Samples older than the history the state keeps are not in a snapshot; how many is
        // not known here.
        samples_lost: None,
        earlier_rows: None,
    };
    let mut folder = FolderProgress { layout: "snapshot", exports: 1, run_ended, series: [("system", system)].into() };
    if let Some(salvage) = salvage {
        folder.series.insert("inferences", write_salvaged(dir, salvage)?);
    }
    write_run_json(dir, state, meta, now, &folder)
}

/// `inferences.csv` of a snapshot that ends a run whose folder failed: the rows the folder
/// could not take; the progress says how many the folder holds and how many were lost.
fn write_salvaged(dir: &Path, salvage: &Salvage) -> Result<SeriesProgress, ExportError> {
    let file = "inferences.csv";
    files::write_atomic(&dir.join(file), |w| {
        w.write_all(&salvage.header)?;
        w.write_all(&salvage.rows)
    })?;
    let bytes = (salvage.header.len() + salvage.rows.len()) as u64;
    Ok(SeriesProgress {
        parts: vec![Part { file: file.into(), rows: salvage.count, bytes }],
        rows: salvage.count,
        rows_lost: salvage.rows_lost,
        last_t_ms: salvage.last_t_ms,
        rows_waiting: Some(0),
        earlier_rows: Some(EarlierRows { folder: salvage.folder.display().to_string(), rows: salvage.rows_in_folder }),
        ..SeriesProgress::default()
    })
}

/// `models.csv`, `ops.csv` and `layers.csv`, each replaced whole.
fn write_aggregates(dir: &Path, state: &MonitorState) -> Result<(), ExportError> {
    files::write_rows(&dir.join(FILES[0]), model_rows(state))?;
    files::write_rows(&dir.join(FILES[1]), op_rows(state))?;
    files::write_rows(&dir.join(FILES[2]), layer_rows(state))?;
    Ok(())
}

/// `run.json`, replaced whole; written last, so that it describes the files beside it.
fn write_run_json(
    dir: &Path,
    state: &MonitorState,
    meta: &RunMeta,
    now: SystemTime,
    folder: &FolderProgress,
) -> Result<(), ExportError> {
    let machine = MachineInfo::detect();
    let json = meta::run_json(state, meta, &machine, now, folder);
    files::write_atomic(&dir.join(FILES[4]), |w| {
        serde_json::to_writer_pretty(&mut *w, &json)?;
        w.write_all(b"\n")
    })
}

/// The folder name of a snapshot taken at `t`: `20261124-163000` (UTC).
#[must_use]
pub fn snapshot_name(t: SystemTime) -> String {
    let iso = utc_rfc3339(t);
    let digits: String = iso.chars().filter(char::is_ascii_digit).collect();
    format!("{}-{}", &digits[..8], &digits[8..14])
}

/// `t` as RFC 3339 in UTC to the second (`2026-11-24T16:30:00Z`), clamped to years 1970–9999.
#[must_use]
pub fn utc_rfc3339(t: SystemTime) -> String {
    let latest = UNIX_EPOCH + Duration::from_secs(253_402_300_799); // 9999-12-31T23:59:59Z
    let t = t.clamp(UNIX_EPOCH, latest);
    let mut out = String::new();
    // Cannot fail inside the clamped range.
    let _ = write!(out, "{}", humantime::format_rfc3339_seconds(t));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_utc_stamps() {
        // 2026-11-24T16:30:00Z
        let t = UNIX_EPOCH + Duration::from_secs(1_795_537_800);
        assert_eq!(utc_rfc3339(t), "2026-11-24T16:30:00Z");
        assert_eq!(snapshot_name(t), "20261124-163000");
        assert_eq!(snapshot_name(UNIX_EPOCH - Duration::from_secs(5)), "19700101-000000");
        assert_eq!(snapshot_name(UNIX_EPOCH + Duration::from_secs(u64::MAX / 4)), "99991231-235959");
    }

    #[test]
    fn a_nearly_full_disk_is_refused_naming_the_folder_and_the_room() {
        let err = require_room(Path::new("/media/sd/snaps"), 5 * 1024 * 1024).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not enough free space in snapshot folder /media/sd/snaps: 5120 KiB free, 32 MiB needed"
        );
        assert_eq!(err.kind, io::ErrorKind::StorageFull);
        assert!(require_room(Path::new("x"), MIN_FREE_BYTES).is_ok());
        // The real file system under the build folder has room.
        assert!(check_room(Path::new(env!("CARGO_MANIFEST_DIR"))).is_ok());
        assert!(check_room(Path::new("/nonexistent/folder")).is_err());
    }

    #[test]
    fn error_messages_are_one_line() {
        let err = io::Error::other("first\nsecond");
        let e = ExportError::new("cannot write", Path::new("/x/y"), &err);
        assert_eq!(e.to_string(), "cannot write /x/y: first; second");
    }
}
