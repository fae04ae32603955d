//! The model-set manifest: which networks the monitor runs (`models/manifest.toml`).
//!
//! Two layers, as for every file a user writes: [`RawModel`] mirrors one `[[model]]` table as
//! serde reads it (every key optional, so a bad value can be pinned to its key), then
//! [`Manifest::parse`] checks it and turns it into [`ModelSpec`]s. Every error is one line that
//! names the file, the entry, the key and the bad value, and says what is valid.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Table, Value};

use crate::core::common::oneline::one_line;
use crate::core::models::nets::Arch;
use crate::core::models::variant::{VariantOf, VariantRequest};

mod error;
mod rules;
pub use error::{Entry, EntryProblem, ManifestError};
use rules::{INPUT_HINT, KEYS};
pub use rules::{MAX_BATCH, MAX_INPUT_BYTES};

/// The default manifest, compiled in so the program runs from any folder.
const BUILTIN_TEXT: &str = include_str!("../../../models/manifest.toml");

/// The [`Manifest::source`] of the compiled-in manifest.
pub const BUILTIN_SOURCE: &str = "built-in";

/// A validated model set.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The file it was read from, or [`BUILTIN_SOURCE`].
    pub source: String,
    /// Every entry in file order, enabled or not (see [`Manifest::select`]).
    pub models: Vec<ModelSpec>,
}

/// One model to run, checked: paths are resolved and exist, numbers are in range.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Unique within the manifest; the label on screen and the name `--only` takes.
    pub name: String,
    /// Where the network comes from.
    pub source: ModelSource,
    /// One image as `[channels, height, width]`, each positive.
    pub input: [i64; 3],
    /// Images per inference, positive (default 1).
    pub batch: i64,
    /// Whether the model runs when no names are given (default true).
    pub enabled: bool,
    /// Weights for an `arch` model (a safetensors or tch `VarStore` `.ot` file), resolved; never
    /// set for a `TorchScript` model.
    pub weights: Option<PathBuf>,
    /// Reference top-1 error in percent, shown on screen.
    pub top1_error: Option<f64>,
    /// Reference top-5 error in percent, shown on screen.
    pub top5_error: Option<f64>,
    /// Free text shown on screen.
    pub notes: Option<String>,
    /// What-if variants to run beside it (`variants = [...]`, and `--what-if`).
    pub what_if: Vec<VariantRequest>,
    /// Set on a variant's own row (made by [`crate::core::run::session::Plan`]): which model it
    /// varies and how. `None` for a model of the manifest.
    pub variant_of: Option<VariantOf>,
}

impl ModelSpec {
    /// The entry a manifest table with only `name`, a source and `input` gives: batch 1,
    /// enabled, no weights, no metadata, no variants.
    #[must_use]
    pub fn new(name: &str, source: ModelSource, input: [i64; 3]) -> Self {
        Self {
            name: name.into(),
            source,
            input,
            batch: 1,
            enabled: true,
            weights: None,
            top1_error: None,
            top5_error: None,
            notes: None,
            what_if: Vec::new(),
            variant_of: None,
        }
    }
}

/// Where a model's network comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A built-in architecture (`arch = "..."`).
    Arch(Arch),
    /// A `TorchScript` file (`torchscript = "..."`), resolved against the manifest's folder.
    TorchScript(PathBuf),
}

/// One `[[model]]` table as written. Everything is optional here; [`convert`] decides what is
/// required, so serde only ever complains about a key's type.
#[derive(Debug, Default, Deserialize)]
// The keys are snake_case (`top1_error`) as the manifest format defines them.
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct RawModel {
    name: Option<String>,
    arch: Option<String>,
    torchscript: Option<PathBuf>,
    input: Option<Vec<i64>>,
    batch: Option<i64>,
    enabled: Option<bool>,
    weights: Option<PathBuf>,
    top1_error: Option<f64>,
    top5_error: Option<f64>,
    notes: Option<String>,
    variants: Option<Vec<String>>,
}

impl RawModel {
    /// Reads a table, naming the first unknown key or badly typed value.
    fn from_table(table: &Table) -> Result<Self, EntryProblem> {
        if let Some(key) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(EntryProblem::UnknownKey { key: key.clone() });
        }
        table.clone().try_into().map_err(|err: toml::de::Error| {
            // serde does not say which key failed: try each on its own to find it.
            table
                .iter()
                .find(|(key, value)| {
                    Table::from_iter([((*key).clone(), (*value).clone())]).try_into::<RawModel>().is_err()
                })
                .map_or_else(
                    || EntryProblem::Invalid(one_line(err.message())),
                    |(key, value)| EntryProblem::BadType {
                        key: key.clone(),
                        value: one_line(&value.to_string()),
                        expected: expected_for(key),
                    },
                )
        })
    }
}

/// What a key's value must be, for type errors.
fn expected_for(key: &str) -> &'static str {
    match key {
        "arch" => "a built-in architecture name (a string)",
        "torchscript" | "weights" => "a file path (a string)",
        "input" => INPUT_HINT,
        "batch" => "a positive integer up to 4096",
        "enabled" => "true or false",
        "top1_error" | "top5_error" => "a percentage from 0 to 100",
        "variants" => "a list of variant names, e.g. [\"fold-bn\", \"threads=1\"]",
        _ => "a string",
    }
}

impl Manifest {
    /// The compiled-in ten-model set (`models/manifest.toml`).
    ///
    /// # Panics
    /// Only if the compiled-in text is invalid, which a test rules out.
    #[must_use]
    pub fn builtin() -> Manifest {
        // It names no files, so the base folder is never used.
        Manifest::parse(BUILTIN_TEXT, BUILTIN_SOURCE, Path::new("."))
            .unwrap_or_else(|err| panic!("the built-in manifest is invalid: {err}"))
    }

    /// Reads and checks a manifest file; its paths are relative to the file's folder.
    ///
    /// # Errors
    /// An unreadable file or any problem [`Manifest::parse`] reports.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| ManifestError::Read { file: file.clone(), source })?;
        Manifest::parse(&text, &file, path.parent().unwrap_or(Path::new("")))
    }

    /// Checks manifest text. `source_name` labels errors; `base_dir` is where relative paths
    /// start. Every `torchscript` and `weights` file must exist.
    ///
    /// # Errors
    /// The first problem found, as a one-line [`ManifestError`].
    pub fn parse(text: &str, source_name: &str, base_dir: &Path) -> Result<Manifest, ManifestError> {
        let file = source_name.to_string();
        let doc: Table = text.parse().map_err(|err| syntax_error(&file, text, &err))?;
        let tables = model_tables(&file, doc)?;
        if tables.is_empty() {
            return Err(ManifestError::Empty { file });
        }
        let mut models = Vec::with_capacity(tables.len());
        let mut first_use: HashMap<String, usize> = HashMap::new();
        for (index, table) in tables.iter().enumerate() {
            let entry = entry_label(index, table);
            let entry_error = |entry, problem| ManifestError::Entry { file: file.clone(), entry, problem };
            let spec = convert(table, base_dir).map_err(|problem| entry_error(entry, problem))?;
            if let Some(&first) = first_use.get(&spec.name) {
                let problem = EntryProblem::DuplicateName { name: spec.name, first: Entry::Index(first) };
                return Err(entry_error(Entry::Index(index), problem));
            }
            first_use.insert(spec.name.clone(), index);
            models.push(spec);
        }
        Ok(Manifest { source: file, models })
    }

    /// The models to run, in manifest order. With no names, the enabled ones; with names,
    /// exactly those, even if disabled (naming a model asks for it explicitly).
    ///
    /// # Errors
    /// A name not in the manifest (the message lists the valid ones), or no names given and
    /// every model disabled.
    pub fn select(&self, only: &[String]) -> Result<Vec<ModelSpec>, ManifestError> {
        if let Some(name) = only.iter().find(|n| !self.models.iter().any(|m| &m.name == *n)) {
            let valid = self.models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ");
            return Err(ManifestError::UnknownModel { file: self.source.clone(), name: name.clone(), valid });
        }
        let chosen: Vec<ModelSpec> = self
            .models
            .iter()
            .filter(|m| if only.is_empty() { m.enabled } else { only.contains(&m.name) })
            .cloned()
            .collect();
        if chosen.is_empty() {
            return Err(ManifestError::NoneEnabled { file: self.source.clone() });
        }
        Ok(chosen)
    }
}

/// Condenses toml's multi-line syntax error to one line with a 1-based line and column.
fn syntax_error(file: &str, text: &str, err: &toml::de::Error) -> ManifestError {
    let offset = err.span().map_or(0, |span| span.start);
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    ManifestError::Syntax { file: file.to_string(), line, column, message: one_line(err.message()) }
}

/// The `[[model]]` tables of a document; any other top-level key is an error.
fn model_tables(file: &str, mut doc: Table) -> Result<Vec<Table>, ManifestError> {
    if let Some(key) = doc.keys().find(|k| *k != "model") {
        return Err(ManifestError::UnknownTopKey { file: file.to_string(), key: key.clone() });
    }
    let not_tables = |found| ManifestError::NotTables { file: file.to_string(), found };
    match doc.remove("model") {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::Table(table) => Ok(table),
                other => Err(not_tables(other.type_str())),
            })
            .collect(),
        Some(other) => Err(not_tables(other.type_str())),
    }
}

/// Names an entry by its `name` when that is a non-empty string, else by position.
fn entry_label(index: usize, table: &Table) -> Entry {
    match table.get("name").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() && !name.chars().any(char::is_control) => Entry::Named(name.to_string()),
        _ => Entry::Index(index),
    }
}

/// Checks one table and resolves its paths against `base_dir`. Files are checked last, so a
/// mistake in the table itself is reported before a missing file.
fn convert(table: &Table, base_dir: &Path) -> Result<ModelSpec, EntryProblem> {
    let raw = RawModel::from_table(table)?;
    let name = check_name(raw.name)?;
    let source = check_source(raw.arch, raw.torchscript)?;
    let input = check_input(raw.input)?;
    let batch = raw.batch.unwrap_or(1);
    if !(1..=MAX_BATCH).contains(&batch) {
        return Err(EntryProblem::BadBatch { value: batch });
    }
    check_input_size(input, batch)?;
    let top1_error = check_percent("top1_error", raw.top1_error)?;
    let top5_error = check_percent("top5_error", raw.top5_error)?;
    let what_if = raw
        .variants
        .unwrap_or_default()
        .iter()
        .map(|v| v.parse::<VariantRequest>().map_err(EntryProblem::BadVariant))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(path) = &raw.weights {
        check_weights(&source, path)?;
    }
    let source = match source {
        ModelSource::TorchScript(path) => ModelSource::TorchScript(existing("torchscript", path, base_dir)?),
        arch @ ModelSource::Arch(_) => arch,
    };
    Ok(ModelSpec {
        name,
        source,
        input,
        batch,
        enabled: raw.enabled.unwrap_or(true),
        weights: raw.weights.map(|path| existing("weights", path, base_dir)).transpose()?,
        top1_error,
        top5_error,
        notes: raw.notes,
        what_if,
        variant_of: None,
    })
}

/// `name` must be present and not blank.
fn check_name(name: Option<String>) -> Result<String, EntryProblem> {
    match name {
        None => Err(EntryProblem::MissingName),
        Some(name) if name.trim().is_empty() => Err(EntryProblem::EmptyName),
        // Names reach terminals (headless lines) and files: an escape sequence in one could set
        // the terminal's title or forge a line.
        Some(name) if name.chars().any(char::is_control) => Err(EntryProblem::ControlInName),
        Some(name) => Ok(name),
    }
}

/// Exactly one of `arch` (a known architecture) and `torchscript` (not yet resolved).
fn check_source(arch: Option<String>, torchscript: Option<PathBuf>) -> Result<ModelSource, EntryProblem> {
    match (arch, torchscript) {
        (Some(arch), None) => arch.parse().map(ModelSource::Arch).map_err(EntryProblem::UnknownArch),
        (None, Some(path)) => Ok(ModelSource::TorchScript(path)),
        (None, None) => Err(EntryProblem::NoSource),
        (Some(arch), Some(path)) => Err(EntryProblem::BothSources { arch, path }),
    }
}

/// `weights` belong to `arch` models and are a safetensors or `VarStore` file.
fn check_weights(source: &ModelSource, path: &Path) -> Result<(), EntryProblem> {
    if matches!(source, ModelSource::TorchScript(_)) {
        return Err(EntryProblem::WeightsOnTorchScript { path: path.to_path_buf() });
    }
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("safetensors" | "ot") => Ok(()),
        _ => Err(EntryProblem::BadWeightsKind { path: path.to_path_buf() }),
    }
}

/// `input` must be three positive integers.
fn check_input(input: Option<Vec<i64>>) -> Result<[i64; 3], EntryProblem> {
    let dims = input.ok_or(EntryProblem::MissingInput)?;
    match <[i64; 3]>::try_from(dims.as_slice()) {
        Ok(shape) if shape.iter().all(|&d| d > 0) => Ok(shape),
        _ => Err(EntryProblem::BadInput { value: Value::from(dims).to_string() }),
    }
}

/// Bytes of one inference's fp32 input, `None` when the product overflows.
#[must_use]
pub fn input_bytes(input: [i64; 3], batch: i64) -> Option<u64> {
    let elements =
        input.iter().try_fold(u64::try_from(batch).ok()?, |acc, &d| acc.checked_mul(u64::try_from(d).ok()?))?;
    elements.checked_mul(4)
}

/// One inference's input must fit in [`MAX_INPUT_BYTES`].
///
/// # Errors
/// [`EntryProblem::InputTooLarge`] naming the shape, the batch and the size.
pub fn check_input_size(input: [i64; 3], batch: i64) -> Result<(), EntryProblem> {
    match input_bytes(input, batch) {
        Some(bytes) if bytes <= MAX_INPUT_BYTES => Ok(()),
        bytes => Err(EntryProblem::InputTooLarge { value: Value::from(input.to_vec()).to_string(), batch, bytes }),
    }
}

/// An error rate, if given, must be a percentage.
fn check_percent(key: &'static str, value: Option<f64>) -> Result<Option<f64>, EntryProblem> {
    match value {
        Some(v) if !(0.0..=100.0).contains(&v) => Err(EntryProblem::BadPercent { key, value: v }),
        _ => Ok(value),
    }
}

/// Resolves `path` against `base_dir` and checks that a file is there.
fn existing(key: &'static str, path: PathBuf, base_dir: &Path) -> Result<PathBuf, EntryProblem> {
    let resolved = base_dir.join(&path);
    if resolved.is_file() {
        Ok(resolved)
    } else {
        Err(EntryProblem::MissingFile { key, path, resolved })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `KEYS` (used for the unknown-key message) lists exactly the fields serde accepts.
    #[test]
    fn keys_match_the_serde_struct() {
        let sample = |key: &str| -> Value {
            match key {
                "input" => Value::from(vec![3, 32, 32]),
                "batch" => Value::from(1),
                "enabled" => Value::from(true),
                "top1_error" | "top5_error" => Value::from(1.5),
                "variants" => Value::from(vec!["fold-bn"]),
                _ => Value::from("x"),
            }
        };
        for key in KEYS {
            let table = Table::from_iter([(key.to_string(), sample(key))]);
            assert!(RawModel::from_table(&table).is_ok(), "serde rejects listed key '{key}'");
        }
        let unlisted = Table::from_iter([("colour".to_string(), Value::from("red"))]);
        assert!(unlisted.try_into::<RawModel>().is_err(), "serde accepts unknown keys");
    }
}
