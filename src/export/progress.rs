//! What `run.json` says about the folder it is in: how many exports went into it, whether the
//! run had ended, and how far each time series goes, so that a reader of a folder still being
//! written knows which rows the other files agree with.

use std::collections::BTreeMap;

use serde::Serialize;

use super::series::Part;

/// How a time series stood at an export.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SeriesProgress {
    /// The files holding it, oldest first; their rows in this order are the series. A file may
    /// have grown since (rows of the next export): the first `rows` rows, `bytes` bytes, are
    /// the ones this export covers.
    pub parts: Vec<Part>,
    /// Data rows over all parts.
    pub rows: u64,
    /// Rows measured but never written: the disk refused them, or the writer fell so far behind
    /// that its queue was full.
    pub rows_lost: u64,
    /// The latest `t_ms` among the rows.
    pub last_t_ms: Option<f64>,
    /// For `inferences.csv` on a machine with a power source: inferences measured but held
    /// until the next sample gives their energy (then written), so `rows + rows_waiting +
    /// rows_lost` are the inferences counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_waiting: Option<u64>,
    /// For `system.csv`: samples written, and samples lost before they became rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples_lost: Option<u64>,
    /// In the snapshot that ends a run whose run folder failed (a full disk): the rows before
    /// these are in that folder, so `earlier_rows.rows + rows + rows_lost` are the inferences
    /// counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier_rows: Option<EarlierRows>,
}

/// Where the rows of a series before a snapshot's own are.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EarlierRows {
    /// The run folder.
    pub folder: String,
    /// Its rows, every part together.
    pub rows: u64,
}

/// The folder as of one export.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FolderProgress {
    /// `run`: written as the run goes (time series appended, the other files rewritten at each
    /// export); `snapshot`: written once, complete.
    pub layout: &'static str,
    /// Exports into this folder so far, this one included.
    pub exports: u32,
    /// The run had ended at this export: the folder will not change again.
    pub run_ended: bool,
    /// Per file stem (`system`, `inferences`).
    pub series: BTreeMap<&'static str, SeriesProgress>,
}
