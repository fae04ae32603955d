//! A snapshot folder read back: `run.json` and the CSV files as typed rows.
//!
//! Required: `run.json` (with the `snapshot_format` this version writes), `models.csv`,
//! `ops.csv`, `system.csv`, and every part of `inferences.csv` that `run.json` lists (a one-shot
//! snapshot from the live screen has none). `layers.csv` is not read. A series whose row count
//! differs from the one `run.json` gives is reported as truncated.
//!
//! A snapshot folder may come from anywhere, so its files are read through
//! [`bounded_read`]: regular files only (a FIFO would hang the report, a link to `/dev/zero`
//! would fill memory), `run.json` and the tables up to a bound, no CSV line longer than
//! [`MAX_LINE_BYTES`], and a series no further than its length when opened.

mod rows;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;

pub use crate::schema::{InferenceRecord, ModelRecord, OpRecord, SystemRecord, CATEGORIES};
pub use rows::{Metric, SystemPoint};

use super::ReportError;
use crate::core::common::{open_bounded, read_text_at_most};

/// The `snapshot_format` this version reads (and writes, see `export::meta`).
pub const SNAPSHOT_FORMAT: u64 = 2;

/// The most `run.json` may hold: its part lists grow with a run, by about 50 bytes a part.
pub const MAX_RUN_JSON_BYTES: u64 = 16 << 20;
/// The most `models.csv` and `ops.csv` may hold: a row per model, and per op of each model.
pub const MAX_TABLE_BYTES: u64 = 256 << 20;
/// The longest line of any CSV file; infertop's longest rows are a few kilobytes.
pub const MAX_LINE_BYTES: u64 = 1 << 20;

/// A snapshot read back.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub folder: PathBuf,
    pub run: RunInfo,
    pub models: Vec<ModelRecord>,
    pub ops: Vec<OpRecord>,
    /// The metrics the report draws, in file order (see [`SystemPoint`]).
    pub system: Vec<SystemPoint>,
    /// Every inference, all parts in order; empty for a one-shot snapshot.
    pub inferences: Vec<InferenceRecord<'static>>,
}

/// What the report uses of `run.json`.
#[derive(Clone, Debug, Deserialize)]
pub struct RunInfo {
    pub snapshot_format: u64,
    pub infertop_version: String,
    pub libtorch_version: String,
    pub started_at: String,
    pub snapshot_at: String,
    pub elapsed_s: f64,
    pub machine: Machine,
    pub peak_gmacs_per_s: Option<f64>,
    /// Shown as given: the settings change more often than this reader.
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub models: Vec<ModelMeta>,
    pub contention: Contention,
    pub first_throttled_ms: Option<f64>,
    pub engine_error: Option<String>,
    /// `run` or `snapshot`.
    pub layout: String,
    pub series: BTreeMap<String, SeriesInfo>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Machine {
    pub cpu_model: String,
    pub board: Option<String>,
    pub cores: Option<u64>,
    pub arch: String,
    pub os: String,
    pub kernel: Option<String>,
    pub hostname: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ModelMeta {
    pub name: String,
    pub status: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Contention {
    pub warning: Option<String>,
}

/// One time series' files as `run.json` lists them.
#[derive(Clone, Debug, Deserialize)]
pub struct SeriesInfo {
    pub parts: Vec<PartInfo>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PartInfo {
    pub file: String,
    pub rows: u64,
}

impl Snapshot {
    /// Reads the snapshot in `folder`.
    ///
    /// # Errors
    /// [`ReportError::Snapshot`] naming the folder or the file that is missing or bad.
    pub fn load(folder: &Path) -> Result<Self, ReportError> {
        if !folder.is_dir() {
            return Err(ReportError::snapshot(folder, "not a folder"));
        }
        let run = read_run_json(folder)?;
        let models: Vec<ModelRecord> = read_table(&folder.join("models.csv"))?;
        if models.len() != run.models.len() {
            let reason =
                format!("{} model rows, run.json lists {} models (truncated?)", models.len(), run.models.len());
            return Err(ReportError::snapshot(&folder.join("models.csv"), reason));
        }
        let ops = read_table(&folder.join("ops.csv"))?;
        let system = read_series(folder, &run, "system", rows::SystemPoint::from_row)?;
        let inferences = if run.series.contains_key("inferences") {
            read_series(folder, &run, "inferences", Some)?
        } else {
            Vec::new()
        };
        Ok(Self { folder: folder.to_path_buf(), run, models, ops, system, inferences })
    }

    /// The snapshot's name: its folder's last component.
    #[must_use]
    pub fn name(&self) -> String {
        self.folder.file_name().map_or_else(|| self.folder.display().to_string(), |n| n.to_string_lossy().into())
    }
}

fn read_run_json(folder: &Path) -> Result<RunInfo, ReportError> {
    let path = folder.join("run.json");
    let text = read_text_at_most(&path, MAX_RUN_JSON_BYTES).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound { " (not an infertop snapshot folder)" } else { "" };
        ReportError::snapshot(&path, format!("{e}{hint}"))
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ReportError::snapshot(&path, format!("not valid JSON ({e})")))?;
    match value.get("snapshot_format").and_then(serde_json::Value::as_u64) {
        Some(SNAPSHOT_FORMAT) => {}
        Some(other) => {
            let reason = format!("snapshot_format {other}, this infertop reads {SNAPSHOT_FORMAT}");
            return Err(ReportError::snapshot(&path, reason));
        }
        None => return Err(ReportError::snapshot(&path, "no snapshot_format (not an infertop snapshot)")),
    }
    serde_json::from_value(value).map_err(|e| ReportError::snapshot(&path, e))
}

/// Every row of the CSV file at `path`, at most [`MAX_TABLE_BYTES`] long; a missing file or
/// column, a short row or a bad value is an error naming the file (and the line, as the csv
/// crate gives it).
fn read_table<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, ReportError> {
    let mut rows = Vec::new();
    for_each_row(path, Some(MAX_TABLE_BYTES), |row| rows.push(row))?;
    Ok(rows)
}

/// Calls `each` with every row of `path`, counting them. The file is read up to `limit` bytes,
/// or without one up to its length when opened: a series is as long as the run made it, and
/// one still growing is read as it was.
fn for_each_row<T: DeserializeOwned>(
    path: &Path,
    limit: Option<u64>,
    mut each: impl FnMut(T),
) -> Result<u64, ReportError> {
    let limit = match limit {
        Some(limit) => limit,
        None => fs::metadata(path).map_err(|e| ReportError::snapshot(path, e))?.len(),
    };
    let file = open_bounded(path, limit, MAX_LINE_BYTES).map_err(|e| ReportError::snapshot(path, e))?;
    let mut reader = csv::Reader::from_reader(std::io::BufReader::with_capacity(1 << 16, file));
    // Read first and on their own: `deserialize` drops an error reading them (a header line
    // past the bound) and then reads as if the file were empty.
    if reader.byte_headers().map_err(|e| ReportError::snapshot(path, e))?.is_empty() {
        return Err(ReportError::snapshot(path, "empty file (no header line)"));
    }
    let mut count = 0;
    for row in reader.deserialize() {
        let row = row.map_err(|e| ReportError::snapshot(path, e))?;
        each(row);
        count += 1;
    }
    Ok(count)
}

/// The rows of every part of `series` that `keep` keeps, checked against the row counts in
/// `run.json` (a shorter file was cut short).
fn read_series<R: DeserializeOwned, T>(
    folder: &Path,
    run: &RunInfo,
    series: &str,
    mut keep: impl FnMut(R) -> Option<T>,
) -> Result<Vec<T>, ReportError> {
    let run_json = folder.join("run.json");
    let info =
        run.series.get(series).ok_or_else(|| ReportError::snapshot(&run_json, format!("no '{series}' series")))?;
    let mut kept = Vec::new();
    for part in &info.parts {
        if part.file.contains(['/', '\\']) || part.file.starts_with('.') {
            return Err(ReportError::snapshot(&run_json, format!("bad part file name '{}'", part.file)));
        }
        let path = folder.join(&part.file);
        let rows = for_each_row(&path, None, |row| kept.extend(keep(row)))?;
        if rows < part.rows {
            let reason = format!("{rows} rows, run.json says {} (truncated)", part.rows);
            return Err(ReportError::snapshot(&path, reason));
        }
    }
    Ok(kept)
}
