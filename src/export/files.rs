//! Whole files or nothing: each file is written under a temporary name in its own folder,
//! synced, and renamed over the final name, so a reader sees either no file or all of it.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ExportError;

/// Writes `path` through `fill`, atomically.
///
/// # Errors
/// When the temporary file cannot be created, written, synced or renamed; the error names the
/// final path.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) -> Result<(), ExportError> {
    let tmp = temporary_name(path);
    let result = write_then_rename(&tmp, path, fill);
    if result.is_err() {
        // Best effort: the write error is the one to report.
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| ExportError::new("cannot write", path, &e))
}

fn write_then_rename(
    tmp: &Path,
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let mut writer = BufWriter::new(File::create(tmp)?);
    fill(&mut writer)?;
    let synced = writer.into_inner().map_err(io::IntoInnerError::into_error)?;
    // A board may lose power at any moment (under-voltage is what we watch for): make the data
    // durable before the name says the file is complete.
    synced.sync_all()?;
    fs::rename(tmp, path)
}

/// `dir/.name.tmp` for `dir/name`: hidden, and in the same folder so the rename is atomic.
fn temporary_name(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "snapshot".into(), |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.tmp"))
}

/// Writes `rows` as CSV with one header line, atomically, streaming (a long system history is
/// never held as rows in memory). An empty table still gets its header, taken from
/// `R::default()`, so the columns never depend on the data.
///
/// Returns how many rows were written.
///
/// # Errors
/// As [`write_atomic`].
pub fn write_rows<R: Serialize + Default>(path: &Path, rows: impl IntoIterator<Item = R>) -> Result<u64, ExportError> {
    let mut count = 0;
    write_atomic(path, |out| {
        let mut csv = ::csv::Writer::from_writer(&mut *out);
        for row in rows {
            csv.serialize(row)?;
            count += 1;
        }
        csv.flush()?;
        drop(csv);
        if count == 0 {
            out.write_all(&header_of::<R>()?)?;
        }
        Ok(())
    })?;
    Ok(count)
}

/// The header line (with its newline) that `csv` writes for rows of type `R`.
pub(super) fn header_of<R: Serialize + Default>() -> io::Result<Vec<u8>> {
    let mut csv = ::csv::Writer::from_writer(Vec::new());
    csv.serialize(R::default())?;
    let text = csv.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
    let end = text.iter().position(|&b| b == b'\n').map_or(text.len(), |i| i + 1);
    Ok(text[..end].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Serialize)]
    struct Row {
        a_ms: f64,
        b: Option<u32>,
    }

    #[test]
    fn empty_tables_keep_their_header_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        write_rows::<Row>(&path, []).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a_ms,b\n");
        write_rows(&path, [Row { a_ms: 1.5, b: None }]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a_ms,b\n1.5,\n");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["t.csv"]);
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let err = write_atomic(&path, |_| Err(io::Error::other("disk on fire"))).unwrap_err();
        assert_eq!(err.to_string(), format!("cannot write {}: disk on fire", path.display()));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
