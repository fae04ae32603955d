//! A killed run's staging folder, published by the next start rather than lost.
//!
//! A run folder holds every file from its creation on (see [`super::run_folder`]), so a run
//! killed (`kill -9`, the out-of-memory killer, a power cut) before its first export leaves a
//! whole folder whose series hold every row that reached the disk. The next start that checks
//! the export folder renames it into place, as an export would have: a partial last row is cut,
//! `run.json` is given the rows each series now holds, `run_ended` false and `recovered_at`.
//! A folder without `run.json` (killed while its first files were written, or a snapshot of an
//! older version) is left where it is and reported, never removed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value;

use super::series::Part;
use super::staging::{abandoned, publish, Abandoned};
use super::{files, utc_rfc3339, ExportError};

/// What became of a staging folder a killed run left.
#[derive(Debug)]
pub enum Leftover {
    /// Published under this name.
    Published(PathBuf),
    /// Left where it is, for the reason given.
    Kept { path: PathBuf, reason: String },
}

impl Leftover {
    /// One line for stderr.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Leftover::Published(path) => {
                format!(
                    "published {}, left by a run that was killed (run_ended is false in its run.json)",
                    path.display()
                )
            }
            Leftover::Kept { path, reason } => {
                format!("kept {}, left by a run that was killed, unpublished: {reason}", path.display())
            }
        }
    }
}

/// Publishes the staging folders in `base` whose writer is gone, or says why one stays.
#[must_use]
pub fn recover_staging(base: &Path) -> Vec<Leftover> {
    abandoned(base)
        .into_iter()
        .map(|left| match recover(base, &left) {
            Ok(path) => Leftover::Published(path),
            Err(e) => Leftover::Kept { path: left.dir, reason: e.to_string() },
        })
        .collect()
}

/// The time series a run folder may hold.
const SERIES: [&str; 2] = ["inferences", "system"];

fn recover(base: &Path, left: &Abandoned) -> Result<PathBuf, ExportError> {
    let run_json = left.dir.join("run.json");
    let text = read_regular(&run_json).map_err(|e| ExportError::new("no complete run.json in", &left.dir, &e))?;
    let mut json: Value = serde_json::from_str(&text)
        .map_err(|e| ExportError::new("cannot read", &run_json, &io::Error::new(io::ErrorKind::InvalidData, e)))?;
    remove_partial_files(&left.dir);
    for stem in SERIES {
        let parts = series_parts(&left.dir, stem).map_err(|e| ExportError::new("cannot read", &left.dir, &e))?;
        if parts.is_empty() {
            continue;
        }
        let series = &mut json["series"][stem];
        if !series.is_object() {
            *series = Value::Object(serde_json::Map::new());
        }
        series["rows"] = parts.iter().map(|p| p.rows).sum::<u64>().into();
        series["parts"] = serde_json::to_value(&parts).unwrap_or_default();
    }
    json["run_ended"] = false.into();
    json["recovered_at"] = utc_rfc3339(SystemTime::now()).into();
    files::write_atomic(&run_json, |w| {
        serde_json::to_writer_pretty(&mut *w, &json)?;
        io::Write::write_all(w, b"\n")
    })?;
    publish(base, &left.stamp, left.n, &left.dir)
}

/// A file's text, refusing anything but a regular file (a link, a FIFO) and files over 16 MB
/// (a `run.json` is a few KB).
fn read_regular(path: &Path) -> io::Result<String> {
    let kind = fs::symlink_metadata(path)?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut text = String::new();
    File::open(path)?.take(16 << 20).read_to_string(&mut text)?;
    Ok(text)
}

/// Removes the temporary files of writes the kill interrupted (`.models.csv.tmp`): each is an
/// unfinished copy of a file whose previous version, if any, is beside it.
fn remove_partial_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") && entry.file_type().is_ok_and(|t| t.is_file()) {
            // Best effort: one left behind is only untidy.
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The parts of series `stem` in order (`<stem>.1.csv`, `<stem>.2.csv`, ..., `<stem>.csv`), each
/// counted; the current part cut back to its last whole row first.
fn series_parts(dir: &Path, stem: &str) -> io::Result<Vec<Part>> {
    let mut numbered = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let number = name.strip_prefix(stem).and_then(|r| r.strip_prefix('.')).and_then(|r| r.strip_suffix(".csv"));
        if let Some(k) = number.and_then(|k| k.parse::<u32>().ok()) {
            numbered.push((k, name));
        }
    }
    numbered.sort_unstable();
    let current = format!("{stem}.csv");
    let mut parts = Vec::new();
    for (_, name) in numbered {
        parts.push(count_rows(&dir.join(&name), name)?);
    }
    if dir.join(&current).is_file() {
        cut_partial_row(&dir.join(&current))?;
        parts.push(count_rows(&dir.join(&current), current)?);
    }
    Ok(parts)
}

/// Cuts a series file back to its last newline: a kill or a power cut may end it mid-row.
fn cut_partial_row(path: &Path) -> io::Result<()> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    // A row is far shorter than this; the header alone ends with a newline.
    let from = len.saturating_sub(64 * 1024);
    file.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    let whole = tail.iter().rposition(|&b| b == b'\n').map_or(from, |i| from + i as u64 + 1);
    if whole < len {
        file.set_len(whole)?;
    }
    Ok(())
}

/// A part's data rows (lines after the header) and bytes.
fn count_rows(path: &Path, file: String) -> io::Result<Part> {
    let mut reader = File::open(path)?;
    let (mut lines, mut bytes, mut chunk) = (0u64, 0u64, vec![0u8; 64 * 1024]);
    loop {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        lines += chunk[..n].iter().fold(0, |count, &b| count + u64::from(b == b'\n'));
        bytes += n as u64;
    }
    Ok(Part { file, rows: lines.saturating_sub(1), bytes })
}

#[cfg(test)]
mod tests;
