//! A time series written as it is measured: a CSV file that only ever grows, by whole rows, and
//! is split into parts by size.
//!
//! Rows are serialised into memory and written in batches of complete lines, so the file on
//! disk always ends at a row boundary (except while a write is under way, or after a crash in
//! one). A write that fails (a full disk) is cut back to the last complete row and its rows are
//! held in memory, up to [`HOLD_BYTES`], to be tried again before the next batch: a disk that
//! frees up gets them in order, and a run whose disk stays full hands them to the snapshot that
//! ends it elsewhere ([`SeriesFile::take_held`]). Rows beyond that are counted as lost. When the current part reaches its size limit it
//! is synced and renamed `<stem>.<k>.csv` (k = 1, 2, ... in order of creation; none is ever
//! renamed again or deleted) and a new `<stem>.csv` begins with the header: every row is in
//! exactly one part, and the parts in order `<stem>.1.csv`, `<stem>.2.csv`, ..., `<stem>.csv`
//! hold the rows in order.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Rows are written once this many bytes of them are waiting.
const BATCH_BYTES: u64 = 64 * 1024;

/// Rows that could not be written are held at most this many bytes per series (some 60,000
/// inference rows): a few MB of a board's memory, rather than rows lost to a disk that fills.
pub(super) const HOLD_BYTES: usize = 8 * 1024 * 1024;

/// One finished or current part of a series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Part {
    pub file: String,
    /// Data rows (the header not counted).
    pub rows: u64,
    /// Length of the file, header included.
    pub bytes: u64,
}

/// An append-only CSV series in a folder.
#[derive(Debug)]
pub(super) struct SeriesFile {
    dir: PathBuf,
    stem: &'static str,
    header: Vec<u8>,
    /// The current part; `None` after a rotation that could not open the next one.
    file: Option<File>,
    current: Part,
    finished: Vec<Part>,
    /// Rows serialised but not yet written.
    pending: ::csv::Writer<Vec<u8>>,
    pending_rows: u64,
    /// Rows a write refused, oldest first, written before `pending` next time.
    held: Vec<u8>,
    held_rows: u64,
    /// A part is finished once it reaches this many bytes; `None`: never.
    max_part_bytes: Option<u64>,
    rows_lost: u64,
}

impl SeriesFile {
    /// Creates `<dir>/<stem>.csv` holding `header` (a CSV header line, with its newline).
    ///
    /// # Errors
    /// When the file cannot be created or written.
    pub(super) fn create(
        dir: &Path,
        stem: &'static str,
        header: Vec<u8>,
        max_part_bytes: Option<u64>,
    ) -> io::Result<Self> {
        let mut series = Self {
            dir: dir.to_path_buf(),
            stem,
            header,
            file: None,
            current: Part { file: format!("{stem}.csv"), rows: 0, bytes: 0 },
            finished: Vec::new(),
            pending: rows_in_memory(),
            pending_rows: 0,
            held: Vec::new(),
            held_rows: 0,
            max_part_bytes,
            rows_lost: 0,
        };
        series.open_current()?;
        Ok(series)
    }

    /// The current part's file name: `<stem>.csv`.
    pub(super) fn file_name(&self) -> &str {
        &self.current.file
    }

    /// Adds a row; writes a batch when enough are waiting or the part is full (so a part ends
    /// within a row of its size limit).
    ///
    /// # Errors
    /// When a batch could not be written (its rows are counted as lost) or the part could not
    /// be rotated.
    pub(super) fn push(&mut self, row: &impl Serialize) -> io::Result<()> {
        // Serialising into memory fails only for types csv cannot write, which rows are not.
        self.pending.serialize(row).map_err(io::Error::other)?;
        // Into the vector, so that its length is what waits.
        self.pending.flush()?;
        self.pending_rows += 1;
        let waiting = self.pending.get_ref().len() as u64;
        let part_full = self.max_part_bytes.is_some_and(|max| self.current.bytes + waiting >= max);
        if waiting >= BATCH_BYTES || part_full {
            self.write_pending()?;
        }
        Ok(())
    }

    /// Writes every waiting row (not synced), held ones first.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub(super) fn write_pending(&mut self) -> io::Result<()> {
        if self.pending_rows == 0 && self.held_rows == 0 {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending_rows);
        let bytes = std::mem::replace(&mut self.pending, rows_in_memory())
            .into_inner()
            .map_err(::csv::IntoInnerError::into_error)?;
        let mut batch = std::mem::take(&mut self.held);
        let held = (batch.len(), std::mem::take(&mut self.held_rows));
        batch.extend_from_slice(&bytes);
        if let Err(e) = self.append(&batch) {
            self.hold(batch, held, rows);
            return Err(e);
        }
        self.current.rows += held.1 + rows;
        self.current.bytes += batch.len() as u64;
        if self.max_part_bytes.is_some_and(|max| self.current.bytes >= max) {
            self.rotate()?;
        }
        Ok(())
    }

    /// Keeps a refused `batch` for the next write: the rows held before (`held`: their bytes
    /// at its start, and their number), then `pending_rows` newer ones. When that would pass
    /// [`HOLD_BYTES`] the newer ones are counted lost instead, so the held rows stay the oldest,
    /// in order.
    fn hold(&mut self, mut batch: Vec<u8>, held: (usize, u64), pending_rows: u64) {
        let (held_len, held_rows) = held;
        if batch.len() <= HOLD_BYTES {
            (self.held, self.held_rows) = (batch, held_rows + pending_rows);
            return;
        }
        batch.truncate(held_len);
        self.rows_lost += pending_rows;
        (self.held, self.held_rows) = (batch, held_rows);
    }

    /// The rows no write has taken (held after a refusal, and pending), as CSV lines without a
    /// header, and how many; the series then has none waiting. For the snapshot that ends a run
    /// whose disk stayed full.
    pub(super) fn take_held(&mut self) -> (Vec<u8>, u64) {
        let pending = std::mem::replace(&mut self.pending, rows_in_memory()).into_inner().unwrap_or_default();
        let mut held = std::mem::take(&mut self.held);
        held.extend_from_slice(&pending);
        (held, std::mem::take(&mut self.held_rows) + std::mem::take(&mut self.pending_rows))
    }

    /// The header line of the series.
    pub(super) fn header(&self) -> &[u8] {
        &self.header
    }

    /// Writes every waiting row and makes the current part durable.
    ///
    /// # Errors
    /// As [`push`](Self::push), or when the file cannot be synced.
    pub(super) fn sync(&mut self) -> io::Result<()> {
        self.write_pending()?;
        match &self.file {
            Some(file) => file.sync_all(),
            None => Err(io::Error::other(format!("{} could not be reopened", self.current.file))),
        }
    }

    /// Follows the folder to its new name (the open file moved with it).
    pub(super) fn moved_to(&mut self, dir: &Path) {
        dir.clone_into(&mut self.dir);
    }

    /// Every part so far, oldest first, the current one last.
    pub(super) fn parts(&self) -> Vec<Part> {
        self.finished.iter().chain([&self.current]).cloned().collect()
    }

    /// Data rows written, over all parts.
    pub(super) fn rows(&self) -> u64 {
        self.finished.iter().chain([&self.current]).map(|p| p.rows).sum()
    }

    /// Rows that could not be written and are not held for another try.
    pub(super) fn rows_lost(&self) -> u64 {
        self.rows_lost
    }

    /// Rows that could not be written and are held for another try.
    #[cfg(test)]
    pub(super) fn rows_held(&self) -> u64 {
        self.held_rows
    }

    /// Appends whole lines to the current part, or, when that fails, cuts the file back to
    /// the last complete row so the next batch does not continue a broken line.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            self.open_current()?;
        }
        let Some(file) = self.file.as_mut() else { unreachable!("opened above") };
        let written = file.write_all(bytes);
        if written.is_err() {
            // Best effort: on a full disk truncating still works, and frees what was written.
            let _ = file.set_len(self.current.bytes);
        }
        written
    }

    /// Finishes the current part under its numbered name and starts a new one.
    fn rotate(&mut self) -> io::Result<()> {
        if let Some(file) = &self.file {
            file.sync_all()?;
        }
        let number = self.finished.len() + 1;
        let finished_name = format!("{}.{number}.csv", self.stem);
        fs::rename(self.dir.join(&self.current.file), self.dir.join(&finished_name))?;
        let mut finished =
            std::mem::replace(&mut self.current, Part { file: format!("{}.csv", self.stem), rows: 0, bytes: 0 });
        finished.file = finished_name;
        self.finished.push(finished);
        self.file = None;
        self.open_current()
    }

    /// Creates the current part with its header.
    fn open_current(&mut self) -> io::Result<()> {
        let path = self.dir.join(&self.current.file);
        let mut file = OpenOptions::new().create_new(true).append(true).open(&path)?;
        if let Err(e) = file.write_all(&self.header) {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        self.current.bytes = self.header.len() as u64;
        self.file = Some(file);
        Ok(())
    }
}

/// A CSV writer without a header, into memory.
fn rows_in_memory() -> ::csv::Writer<Vec<u8>> {
    ::csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        n: u64,
        name: &'static str,
    }

    fn series(dir: &Path, max: Option<u64>) -> SeriesFile {
        SeriesFile::create(dir, "s", b"n,name\n".to_vec(), max).unwrap()
    }

    fn read(dir: &Path, file: &str) -> String {
        fs::read_to_string(dir.join(file)).unwrap()
    }

    #[test]
    fn rows_reach_the_file_in_batches_of_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = series(dir.path(), None);
        assert_eq!(read(dir.path(), "s.csv"), "n,name\n");
        s.push(&Row { n: 1, name: "a,b" }).unwrap();
        assert_eq!(read(dir.path(), "s.csv"), "n,name\n", "waits for a batch");
        s.sync().unwrap();
        assert_eq!(read(dir.path(), "s.csv"), "n,name\n1,\"a,b\"\n");
        assert_eq!(s.parts(), [Part { file: "s.csv".into(), rows: 1, bytes: 15 }]);
        assert_eq!(s.rows(), 1);
    }

    #[test]
    fn parts_rotate_by_size_and_every_row_is_in_exactly_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = series(dir.path(), Some(40));
        for n in 0..20 {
            s.push(&Row { n, name: "row" }).unwrap();
        }
        s.sync().unwrap();
        let parts = s.parts();
        assert!(parts.len() > 3, "{parts:?}");
        assert_eq!(parts.last().unwrap().file, "s.csv");
        assert_eq!(parts[0].file, "s.1.csv");
        // Each finished part ends at the first row that reaches the limit.
        assert!(parts[..parts.len() - 1].iter().all(|p| (40..47).contains(&p.bytes)), "{parts:?}");
        let mut all = Vec::new();
        for part in &parts {
            let text = read(dir.path(), &part.file);
            assert_eq!(text.len() as u64, part.bytes, "{}", part.file);
            let mut lines = text.lines();
            assert_eq!(lines.next(), Some("n,name"), "each part has the header");
            let rows: Vec<u64> = lines.map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
            assert_eq!(rows.len() as u64, part.rows);
            all.extend(rows);
        }
        assert_eq!(all, (0..20).collect::<Vec<_>>());
        assert_eq!(s.rows(), 20);
    }

    #[test]
    fn refused_rows_are_held_and_written_in_order_once_the_disk_takes_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let mut s = series(dir.path(), None);
        s.push(&Row { n: 1, name: "kept" }).unwrap();
        s.sync().unwrap();
        // A handle that cannot write, as a disk that refuses every write.
        s.file = Some(File::open(&path).unwrap());
        s.push(&Row { n: 2, name: "held" }).unwrap();
        assert!(s.write_pending().is_err());
        s.push(&Row { n: 3, name: "held" }).unwrap();
        assert!(s.write_pending().is_err());
        assert_eq!((s.rows(), s.rows_held(), s.rows_lost()), (1, 2, 0));
        assert_eq!(read(dir.path(), "s.csv"), "n,name\n1,kept\n", "cut back to whole rows");
        s.file = Some(OpenOptions::new().append(true).open(&path).unwrap());
        s.push(&Row { n: 4, name: "after" }).unwrap();
        s.sync().unwrap();
        assert_eq!(read(dir.path(), "s.csv"), "n,name\n1,kept\n2,held\n3,held\n4,after\n");
        assert_eq!((s.rows(), s.rows_held(), s.rows_lost()), (4, 0, 0));
    }

    #[test]
    fn rows_beyond_what_is_held_are_counted_lost_and_the_held_ones_handed_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let mut s = series(dir.path(), None);
        s.file = Some(File::open(&path).unwrap());
        let name: &'static str = Box::leak("x".repeat(1000).into_boxed_str());
        let mut pushed = 0u64;
        // Pushing writes a batch every 64 KiB; each is refused and held until the limit.
        while (s.rows_lost() == 0) && pushed < 100_000 {
            pushed += 1;
            let _ = s.push(&Row { n: pushed, name });
        }
        assert!(s.rows_lost() > 0, "{pushed} rows pushed");
        assert!(s.held.len() <= HOLD_BYTES && s.held.len() + BATCH_BYTES as usize * 2 > HOLD_BYTES);
        let (held, rows) = s.take_held();
        assert_eq!(rows + s.rows_lost(), pushed);
        let text = String::from_utf8(held).unwrap();
        assert_eq!(text.lines().count() as u64, rows);
        assert!(text.starts_with("1,x"), "the oldest rows are the ones held");
        assert_eq!((s.rows_held(), s.rows(), s.take_held().1), (0, 0, 0));
    }
}
