//! The run folder's writer: a thread that owns the folder and takes, through one ordered queue,
//! the journal's entries and the front end's requests for exports. One owner means the files
//! are never written from two places, and one queue means an export covers exactly the
//! inferences the state it was given had counted.
//!
//! The front end never waits for it: entries and periodic exports go in with `try_send`, and a
//! full queue (a disk stalled for seconds) drops the entry, which is counted and reported in
//! `run.json` as lost, rather than stalling the front end and, through its channel, the engine.
//! Only the final export waits, once the engine has stopped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::run_folder::{RunFolder, Salvage, Unqueued};
use super::{or_in_temp_dir, ExportError, FinalSnapshot, RunMeta};
use crate::core::run::{JournalEntry, JournalSink};
use crate::core::state::MonitorState;

/// Entries the queue holds: seconds of the fastest model's inferences, a few MB.
const QUEUE: usize = 16 * 1024;

/// Rows waiting in memory are written at least this often, so that the files keep up with a
/// slow model too (a batch of a fast one fills sooner).
const WRITE_EVERY: Duration = Duration::from_secs(1);

enum Message {
    Entry(JournalEntry),
    Export {
        state: Box<MonitorState>,
        run_ended: bool,
    },
    /// End without a final export (the live screen's `q`).
    Discard,
    /// End without a final export because the front end is gone (an error ended it): the
    /// folder keeps its rows.
    Abandon,
}

/// The final export's outcome: the folder, or why it failed and what was left of the rows.
type Finished = Result<PathBuf, (ExportError, Box<Salvage>)>;

/// What the writer tells the front end.
#[derive(Debug)]
pub enum Report {
    /// A periodic export is done: the run folder, or why it failed. A failure with the same
    /// cause as the one before (a disk that stays full) is not reported again until an export
    /// succeeds.
    Exported(Result<PathBuf, ExportError>),
    /// Rows were lost, counted in `run.json`, and measuring goes on; the sentence says why:
    /// rows could not be written (a full disk; said once, until an export succeeds again), or
    /// the writer fell so far behind that entries never reached it (said at the periodic export
    /// after it happened).
    RowsLost(String),
}

/// Entries dropped before they reached the writer.
#[derive(Debug, Default)]
struct Dropped {
    inferences: AtomicU64,
    samples: AtomicU64,
}

impl Dropped {
    fn get(&self) -> Unqueued {
        Unqueued { inferences: self.inferences.load(Ordering::Relaxed), samples: self.samples.load(Ordering::Relaxed) }
    }
}

/// A run folder being written on a thread of its own.
#[derive(Debug)]
pub struct RunExport {
    queue: SyncSender<Message>,
    dropped: Arc<Dropped>,
    writer: Option<JoinHandle<Option<Finished>>>,
    reports: UnboundedReceiver<Report>,
    exporting: bool,
    /// The cause of the latest failed export reported, until one succeeds.
    failing: Option<(std::io::ErrorKind, String)>,
    base: PathBuf,
    meta: RunMeta,
}

impl RunExport {
    /// Starts a run folder under `base` (which must exist) and its writer; `inferences.csv`
    /// starts a new part at `max_part_bytes`.
    ///
    /// # Errors
    /// When the folder or its first files cannot be created, naming them.
    pub fn start(base: &Path, meta: RunMeta, max_part_bytes: Option<u64>) -> Result<Self, ExportError> {
        let folder = RunFolder::create(base, meta.clone(), max_part_bytes)?;
        let (queue, received) = sync_channel(QUEUE);
        let (reporter, reports) = unbounded_channel();
        let dropped = Arc::new(Dropped::default());
        let counts = Arc::clone(&dropped);
        let writer = std::thread::Builder::new()
            .name("infertop-export".into())
            .spawn(move || write(folder, &received, &counts, &reporter))
            .map_err(|e| ExportError::new("cannot start the snapshot writer for", base, &e))?;
        Ok(Self {
            queue,
            dropped,
            writer: Some(writer),
            reports,
            exporting: false,
            failing: None,
            base: base.into(),
            meta,
        })
    }

    /// The sink that hands the session's journal to the writer without ever waiting.
    #[must_use]
    pub fn journal(&self) -> JournalSink {
        let queue = self.queue.clone();
        let dropped = Arc::clone(&self.dropped);
        Box::new(move |entry| {
            let counter = match entry {
                JournalEntry::Inference(_) => &dropped.inferences,
                JournalEntry::Sample(_) => &dropped.samples,
            };
            if queue.try_send(Message::Entry(entry)).is_err() {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
    }

    /// Asks for a periodic export of a copy of `state`; does nothing while one is under way (a
    /// disk slower than the period skips a turn) or the queue is full. Returns whether one was
    /// asked for.
    pub fn request_export(&mut self, state: &MonitorState) -> bool {
        if self.exporting {
            return false;
        }
        let message = Message::Export { state: Box::new(state.clone()), run_ended: false };
        self.exporting = self.queue.try_send(message).is_ok();
        self.exporting
    }

    /// The writer's next report; never, once the writer has ended. Cancel-safe, for `select!`.
    pub async fn report(&mut self) -> Report {
        loop {
            let Some(report) = self.reports.recv().await else { return std::future::pending().await };
            if let Report::Exported(result) = &report {
                self.exporting = false;
                let cause = result.as_ref().err().map(|e| (e.kind, e.reason.clone()));
                if cause.is_some() && cause == self.failing {
                    continue;
                }
                self.failing = cause;
            }
            return report;
        }
    }

    /// The final export, of `state`, after every entry sent before; waits for it. When the run
    /// folder fails, the snapshot goes to the temporary folder (see
    /// [`write_final_snapshot`](super::write_final_snapshot)) with the inference rows the run
    /// folder could not take, and says how many it holds and how many were lost.
    #[must_use]
    pub fn finish(mut self, state: &MonitorState) -> FinalSnapshot {
        let message = Message::Export { state: Box::new(state.clone()), run_ended: true };
        let (result, salvage) = match (self.queue.send(message), self.writer.take().map(JoinHandle::join)) {
            (Ok(()), Some(Ok(Some(Ok(path))))) => (Ok(path), None),
            (Ok(()), Some(Ok(Some(Err((error, salvage)))))) => (Err(error), Some(salvage)),
            _ => {
                let stopped = std::io::Error::other("its writer stopped");
                (Err(ExportError::new("cannot write run folder under", &self.base, &stopped)), None)
            }
        };
        or_in_temp_dir(result, state, &self.meta, salvage.as_deref())
    }

    /// Ends without a final export: a folder never published is removed. Waits for the writer.
    pub fn discard(mut self) {
        if self.queue.send(Message::Discard).is_ok() {
            if let Some(writer) = self.writer.take() {
                let _ = writer.join();
            }
        }
    }
}

/// The writer's loop. Returns the final export's result, or `None` when discarded or abandoned
/// (or when every sender is gone without a final export).
fn write(
    mut folder: RunFolder,
    queue: &Receiver<Message>,
    dropped: &Dropped,
    reports: &UnboundedSender<Report>,
) -> Option<Finished> {
    let mut losses = Losses { reports, told: false, dropped_told: Unqueued::default() };
    let mut next_write = Instant::now() + WRITE_EVERY;
    loop {
        match queue.recv_timeout(next_write.saturating_duration_since(Instant::now())) {
            Ok(Message::Entry(entry)) => losses.check(folder.record(&entry)),
            Ok(Message::Export { state, run_ended: false }) => {
                let unqueued = dropped.get();
                let result = folder.export(&state, unqueued, false);
                if result.is_ok() {
                    losses.told = false;
                }
                let _ = reports.send(Report::Exported(result));
                losses.check_dropped(unqueued);
            }
            Ok(Message::Export { state, run_ended: true }) => {
                // A failed folder keeps what was written into it; the rest goes elsewhere.
                return Some(match folder.export(&state, dropped.get(), true) {
                    Ok(path) => Ok(path),
                    Err(e) => Err((e, Box::new(folder.salvage(dropped.get())))),
                });
            }
            Err(RecvTimeoutError::Timeout) => {}
            Ok(Message::Discard) => {
                folder.discard();
                return None;
            }
            // Rows measured stay on disk; an unpublished folder is published by the next start.
            Ok(Message::Abandon) | Err(RecvTimeoutError::Disconnected) => {
                let _ = folder.write_pending();
                return None;
            }
        }
        // However steadily entries come, none waits in memory for much longer than this.
        if Instant::now() >= next_write {
            losses.check(folder.write_pending());
            next_write = Instant::now() + WRITE_EVERY;
        }
    }
}

/// Tells the front end of lost rows once, not for every batch of a full disk.
struct Losses<'a> {
    reports: &'a UnboundedSender<Report>,
    /// Told since the last successful export.
    told: bool,
    /// Dropped entries the front end has been told of.
    dropped_told: Unqueued,
}

impl Losses<'_> {
    fn check(&mut self, result: Result<(), ExportError>) {
        if let Err(e) = result {
            if !std::mem::replace(&mut self.told, true) {
                let mb = super::series::HOLD_BYTES / (1024 * 1024);
                let why = format!(
                    "{e}; those rows are kept in memory until there is room (up to {mb} MB, then counted as \
                     lost in run.json), measuring goes on"
                );
                let _ = self.reports.send(Report::RowsLost(why));
            }
        }
    }

    /// Tells of entries dropped since the last time, if any.
    fn check_dropped(&mut self, now: Unqueued) {
        if now != self.dropped_told {
            let inferences = now.inferences - self.dropped_told.inferences;
            let samples = now.samples - self.dropped_told.samples;
            let why = format!(
                "the export writer fell behind: {inferences} inferences and {samples} system samples were not \
                 written (counted as lost in run.json), measuring goes on"
            );
            let _ = self.reports.send(Report::RowsLost(why));
            self.dropped_told = now;
        }
    }
}

impl Drop for RunExport {
    fn drop(&mut self) {
        // Dropped without `finish` or `discard`: an error ended the run. The writer writes what
        // it holds and leaves the folder, rows and all, to the next start. Not waited for.
        let _ = self.queue.try_send(Message::Abandon);
    }
}
