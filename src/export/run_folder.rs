//! A run's folder, written as the run goes: the time series (`inferences.csv`, `system.csv`)
//! grow row by row from the start, and each export rewrites the aggregates (`models.csv`,
//! `ops.csv`, `layers.csv`) and then `run.json`, each under a temporary name renamed over the
//! old one. Disk use grows with the rows measured, never with the number of exports.
//!
//! The folder starts as a hidden staging folder (`.<name>.<pid>.tmp`, as one-shot snapshots
//! do) holding every file from the start (the aggregates empty, `run.json` saying no export
//! yet), and is renamed to `<name>` by the first export, so it never appears half made. A run
//! killed before that leaves the staging folder, whole, for the next start to publish
//! ([`super::recover`]). After that a reader may open it at any time: the aggregates and
//! `run.json` are always whole files, and the series only grow by whole rows. `run.json`
//! says how many rows (and bytes) of each series the export it was written by covers.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::files::header_of;
use super::inferences::{AwaitingEnergy, InferenceRecord};
use super::progress::{FolderProgress, SeriesProgress};
use super::series::SeriesFile;
use super::staging::{claim_staging, publish};
use super::system::{sample_records, SystemRecord};
use super::{snapshot_name, write_aggregates, write_run_json, ExportError, RunMeta};
use crate::core::run::{InferenceEntry, JournalEntry};
use crate::core::state::MonitorState;

/// Entries the writer never received, counted where they were dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Unqueued {
    pub inferences: u64,
    pub samples: u64,
}

/// The inference rows of a run whose folder failed at the end.
#[derive(Debug)]
pub(super) struct Salvage {
    /// The run folder, holding the first `rows_in_folder` rows.
    pub folder: PathBuf,
    pub rows_in_folder: u64,
    /// The header line, and the `count` rows no write took, as CSV lines.
    pub header: Vec<u8>,
    pub rows: Vec<u8>,
    pub count: u64,
    /// Rows neither in the folder nor here.
    pub rows_lost: u64,
    pub last_t_ms: Option<f64>,
}

/// The run folder being written.
#[derive(Debug)]
pub(super) struct RunFolder {
    base: PathBuf,
    stamp: String,
    number: u32,
    /// The staging folder until the first export, then the published one.
    dir: PathBuf,
    published: bool,
    meta: RunMeta,
    inferences: SeriesFile,
    awaiting: AwaitingEnergy,
    system: SeriesFile,
    samples: u64,
    last_inference_t_ms: Option<f64>,
    last_sample_t_ms: Option<u64>,
    exports: u32,
}

impl RunFolder {
    /// Starts a run folder under `base` (which must exist), named for now, with empty series;
    /// `inferences.csv` starts a new part at `max_part_bytes`.
    ///
    /// # Errors
    /// When the staging folder or a series file cannot be created.
    pub(super) fn create(base: &Path, meta: RunMeta, max_part_bytes: Option<u64>) -> Result<Self, ExportError> {
        let stamp = snapshot_name(SystemTime::now());
        let (number, dir) = claim_staging(base, &stamp)?;
        let series = |stem, header, max| {
            SeriesFile::create(&dir, stem, header, max)
                .map_err(|e| ExportError::new("cannot write", &dir.join(format!("{stem}.csv")), &e))
        };
        let files = header_of::<InferenceRecord>()
            .and_then(|inf| Ok((inf, header_of::<SystemRecord>()?)))
            .map_err(|e| ExportError::new("cannot write", &dir, &e))
            .and_then(|(inf, sys)| Ok((series("inferences", inf, max_part_bytes)?, series("system", sys, None)?)));
        let started = files.and_then(|series| {
            let empty = MonitorState::new::<&str>(&[]);
            write_aggregates(&dir, &empty)?;
            let nothing_yet = FolderProgress { layout: "run", ..FolderProgress::default() };
            write_run_json(&dir, &empty, &meta, SystemTime::now(), &nothing_yet)?;
            Ok(series)
        });
        let (inferences, system) = match started {
            Ok(files) => files,
            Err(e) => {
                // Best effort: the error that matters is the one returned.
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        Ok(Self {
            base: base.to_path_buf(),
            stamp,
            number,
            dir,
            published: false,
            meta,
            inferences,
            awaiting: AwaitingEnergy::default(),
            system,
            samples: 0,
            last_inference_t_ms: None,
            last_sample_t_ms: None,
            exports: 0,
        })
    }

    /// Adds an entry's rows to its series. An inference waits for the next sample where that
    /// sample will give its energy.
    ///
    /// # Errors
    /// When a batch of rows could not be written (they are counted as lost; the series goes on).
    pub(super) fn record(&mut self, entry: &JournalEntry) -> Result<(), ExportError> {
        match entry {
            JournalEntry::Inference(inference) if self.awaiting.hold(inference) => Ok(()),
            JournalEntry::Inference(inference) => self.push_inference(inference, None),
            JournalEntry::Sample(entry) => {
                // Every row is pushed even after a failed batch, so each is written or counted
                // lost; the first error is the one reported.
                let mut failed = Ok(());
                for (inference, energy) in self.awaiting.close(&entry.sample) {
                    failed = failed.and(self.push_inference(&inference, energy));
                }
                self.samples += 1;
                self.last_sample_t_ms = Some(entry.sample.at_ms);
                for row in sample_records(&entry.sample, entry.running_model.as_deref()) {
                    if let Err(e) = self.system.push(&row) {
                        failed = failed.and(Err(self.series_error(&self.system, &e)));
                    }
                }
                failed
            }
        }
    }

    fn push_inference(&mut self, inference: &InferenceEntry, energy_mj: Option<f64>) -> Result<(), ExportError> {
        let row = InferenceRecord::new(inference, energy_mj);
        self.last_inference_t_ms = Some(row.t_ms);
        self.inferences.push(&row).map_err(|e| self.series_error(&self.inferences, &e))
    }

    /// Writes the rows waiting in memory (a quiet moment: the files keep up with the run).
    ///
    /// # Errors
    /// As [`record`](Self::record).
    pub(super) fn write_pending(&mut self) -> Result<(), ExportError> {
        self.inferences.write_pending().map_err(|e| self.series_error(&self.inferences, &e))?;
        self.system.write_pending().map_err(|e| self.series_error(&self.system, &e))
    }

    /// Syncs the series, rewrites the aggregates and `run.json` from `state`, and publishes the
    /// folder if this is its first export; returns the folder.
    ///
    /// # Errors
    /// When a file cannot be written or the folder cannot be renamed, naming it.
    pub(super) fn export(
        &mut self,
        state: &MonitorState,
        unqueued: Unqueued,
        run_ended: bool,
    ) -> Result<PathBuf, ExportError> {
        if run_ended {
            // No sample will close their interval: written without energy. Each is pushed even
            // after a refused batch, so that each is written, held or counted.
            let mut failed = Ok(());
            for inference in self.awaiting.release() {
                failed = failed.and(self.push_inference(&inference, None));
            }
            failed?;
        }
        self.inferences.sync().map_err(|e| self.series_error(&self.inferences, &e))?;
        self.system.sync().map_err(|e| self.series_error(&self.system, &e))?;
        write_aggregates(&self.dir, state)?;
        self.exports += 1;
        let progress = self.progress(unqueued, run_ended);
        write_run_json(&self.dir, state, &self.meta, SystemTime::now(), &progress)?;
        if !self.published {
            self.dir = publish(&self.base, &self.stamp, self.number, &self.dir)?;
            self.published = true;
            self.inferences.moved_to(&self.dir);
            self.system.moved_to(&self.dir);
        }
        Ok(self.dir.clone())
    }

    /// Ends the folder without a final export, as the person at the screen asked (`q`): an
    /// unpublished one is removed (nothing in it was ever visible), a published one stays as
    /// its last export left it.
    pub(super) fn discard(self) {
        if !self.published {
            // Best effort: a leftover is published by the next start.
            let _ = fs::remove_dir_all(&self.dir);
        }
    }

    /// What is left of a run whose final export failed, for the snapshot written elsewhere:
    /// the rows no write took, and how many rows the folder holds. The folder itself stays,
    /// with every row written into it (published by the next start if it never was).
    pub(super) fn salvage(mut self, unqueued: Unqueued) -> Salvage {
        for inference in self.awaiting.release() {
            let row = InferenceRecord::new(&inference, None);
            self.last_inference_t_ms = Some(row.t_ms);
            // A batch that falls due is tried once more; refused, its rows are held as the rest.
            let _ = self.inferences.push(&row);
        }
        let (rows, count) = self.inferences.take_held();
        Salvage {
            folder: self.dir,
            rows_in_folder: self.inferences.rows(),
            header: self.inferences.header().to_vec(),
            rows,
            count,
            rows_lost: self.inferences.rows_lost() + unqueued.inferences,
            last_t_ms: self.last_inference_t_ms,
        }
    }

    fn progress(&self, unqueued: Unqueued, run_ended: bool) -> FolderProgress {
        let inferences = SeriesProgress {
            parts: self.inferences.parts(),
            rows: self.inferences.rows(),
            rows_lost: self.inferences.rows_lost() + unqueued.inferences,
            last_t_ms: self.last_inference_t_ms,
            rows_waiting: Some(self.awaiting.len() as u64),
            samples: None,
            samples_lost: None,
            earlier_rows: None,
        };
        let system = SeriesProgress {
            parts: self.system.parts(),
            rows: self.system.rows(),
            rows_lost: self.system.rows_lost(),
            last_t_ms: self.last_sample_t_ms.map(|t| t as f64),
            rows_waiting: None,
            samples: Some(self.samples),
            samples_lost: Some(unqueued.samples),
            earlier_rows: None,
        };
        FolderProgress {
            layout: "run",
            exports: self.exports,
            run_ended,
            series: [("inferences", inferences), ("system", system)].into(),
        }
    }

    fn series_error(&self, series: &SeriesFile, e: &std::io::Error) -> ExportError {
        ExportError::new("cannot write", &self.dir.join(series.file_name()), e)
    }
}
