//! Manifest errors: each one line that starts with the file and names the entry, the key and
//! the bad value.

use std::fmt;
use std::path::PathBuf;

use super::rules::{INPUT_HINT, KEYS, MAX_BATCH, MAX_INPUT_BYTES};
use crate::core::models::nets::{Arch, UnknownArch};

/// Which `[[model]]` table an error is about: by name when it has a usable one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `model 'resnet50'`.
    Named(String),
    /// `model[3]`: the position among the `[[model]]` tables, counted from 0.
    Index(usize),
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Named(name) => write!(f, "model '{name}'"),
            Entry::Index(index) => write!(f, "model[{index}]"),
        }
    }
}

/// A manifest that cannot be used. Display is one line starting with the file.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{file}: cannot read: {source}")]
    Read { file: String, source: std::io::Error },
    #[error("{file}:{line}:{column}: invalid TOML: {message}")]
    Syntax { file: String, line: usize, column: usize, message: String },
    #[error("{file}: unknown top-level key '{key}' (valid: model, written as [[model]] tables)")]
    UnknownTopKey { file: String, key: String },
    #[error("{file}: 'model' holds a {found}; expected [[model]] tables")]
    NotTables { file: String, found: &'static str },
    #[error("{file}: no models (add a [[model]] table with a name, an arch or torchscript, and an input)")]
    Empty { file: String },
    #[error("{file}: {entry}: {problem}")]
    Entry { file: String, entry: Entry, problem: EntryProblem },
    #[error("{file}: unknown model '{name}' (valid: {valid})")]
    UnknownModel { file: String, name: String, valid: String },
    #[error("{file}: every model has enabled = false (enable one, or name the models to run)")]
    NoneEnabled { file: String },
}

/// What is wrong with one `[[model]]` table.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum EntryProblem {
    #[error("unknown key '{key}' (valid: {valid})", valid = KEYS.join(", "))]
    UnknownKey { key: String },
    #[error("{key} = {value}: expected {expected}")]
    BadType { key: String, value: String, expected: &'static str },
    /// Serde rejected the table but no single key explains it (not expected in practice).
    #[error("{0}")]
    Invalid(String),
    #[error("missing 'name' (every model needs a unique, non-empty name)")]
    MissingName,
    #[error("name = \"\": expected a non-empty name")]
    EmptyName,
    #[error("name: holds a control character (an escape, a newline, a tab…); names are shown in terminals and files")]
    ControlInName,
    #[error("name = '{name}' is already used by {first} (names must be unique)")]
    DuplicateName { name: String, first: Entry },
    #[error("needs 'arch' (a built-in: {valid}) or 'torchscript' (a file path)", valid = arch_names())]
    NoSource,
    #[error("has both arch = '{arch}' and torchscript = '{path}' (give exactly one)")]
    BothSources { arch: String, path: PathBuf },
    #[error("arch: {0}")]
    UnknownArch(UnknownArch),
    #[error("variants: {0}")]
    BadVariant(crate::core::models::variant::UnknownVariant),
    #[error("missing 'input' (expected {INPUT_HINT})")]
    MissingInput,
    #[error("input = {value}: expected {INPUT_HINT}")]
    BadInput { value: String },
    #[error("batch = {value}: expected a positive integer up to {MAX_BATCH}")]
    BadBatch { value: i64 },
    #[error(
        "input = {value} with batch {batch} needs {} per inference; at most {} (256 MiB) is allowed",
        bytes.map_or_else(|| "more bytes than fit in 64 bits".to_string(), |b| format!("{b} bytes")),
        MAX_INPUT_BYTES
    )]
    InputTooLarge { value: String, batch: i64, bytes: Option<u64> },
    #[error("{key} = {value}: expected a percentage from 0 to 100")]
    BadPercent { key: &'static str, value: f64 },
    #[error("weights = '{path}': only 'arch' models take weights (a TorchScript file holds its own)")]
    WeightsOnTorchScript { path: PathBuf },
    #[error("weights = '{path}': expected a .safetensors or tch VarStore .ot file")]
    BadWeightsKind { path: PathBuf },
    #[error("{key} = '{path}': no such file (looked for {resolved})")]
    MissingFile { key: &'static str, path: PathBuf, resolved: PathBuf },
}

fn arch_names() -> String {
    Arch::ALL.map(Arch::name).join(", ")
}
