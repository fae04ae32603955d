//! `--list-models`: the models of a manifest, one line each, read from the manifest alone
//! (nothing is built or run, so it answers at once even on a slow board).

use std::fmt::Write as _;

use crate::core::models::{Manifest, ModelSource, ModelSpec, BUILTIN_SOURCE};

/// The columns of the list, in order.
const HEADER: [&str; 8] = ["name", "source", "input", "batch", "params", "top-1 err", "runs", "what it is"];

/// The lines `--list-models` prints for `models` (every model of `manifest` when `only` is
/// empty, else those of `--only`): a line saying where they come from, a header, one aligned
/// line per model, and how to pick some.
#[must_use]
pub fn model_list(manifest: &Manifest, models: &[ModelSpec]) -> String {
    let rows: Vec<[String; 8]> = models.iter().map(row).collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let from = if manifest.source == BUILTIN_SOURCE {
        "the built-in set (models/manifest.toml, compiled in)".to_string()
    } else {
        manifest.source.clone()
    };
    let noun = if models.len() == 1 { "model" } else { "models" };
    let mut out = format!("{} {noun} of {from}:\n", models.len());
    for cells in std::iter::once(HEADER.map(String::from)).chain(rows) {
        out.push_str(&aligned(&cells, &widths));
    }
    out.push_str(
        "runs: yes, by default; --only, when named. params: trainable parameters (built-in\n\
         architectures; a TorchScript file's are known once loaded: --summary).\n",
    );
    out
}

/// One model's cells.
fn row(m: &ModelSpec) -> [String; 8] {
    let (source, params, about) = match &m.source {
        ModelSource::Arch(arch) => (arch.name().to_string(), count(arch.parameters()), arch.description()),
        ModelSource::TorchScript(path) => {
            let file = path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into());
            (file, "-".into(), "a TorchScript model")
        }
    };
    let [c, h, w] = m.input;
    [
        m.name.clone(),
        printable(&source),
        format!("{c}x{h}x{w}"),
        m.batch.to_string(),
        params,
        m.top1_error.map_or_else(|| "-".into(), |e| format!("{e:.2} %")),
        if m.enabled { "yes" } else { "--only" }.into(),
        printable(m.notes.as_deref().unwrap_or(about)),
    ]
}

/// `cells` padded to `widths`, numbers right-aligned, with no trailing spaces.
fn aligned(cells: &[String; 8], widths: &[usize; 8]) -> String {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let right = matches!(i, 3..=5);
        let _ = if right { write!(line, "{cell:>width$}  ") } else { write!(line, "{cell:<width$}  ") };
    }
    format!("{}\n", line.trim_end())
}

/// A parameter count with a unit: `34.0 M`, `8.4 k`.
fn count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1} k", n as f64 / 1e3),
        _ => format!("{:.1} M", n as f64 / 1e6),
    }
}

/// `text` with control characters (a manifest's free text may hold them) as spaces, so a line
/// stays one line.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_model_is_one_aligned_line() {
        let manifest = Manifest::builtin();
        let text = model_list(&manifest, &manifest.models);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), manifest.models.len() + 4, "{text}");
        let column = lines[1].find("params").unwrap();
        for (line, m) in lines[2..].iter().zip(&manifest.models) {
            assert!(line.starts_with(&format!("{} ", m.name)), "{line}");
            // Right-aligned parameter counts end where the header's column does.
            assert!(!line.as_bytes()[column + "params".len() - 1].is_ascii_whitespace(), "{line}");
        }
        assert!(text.contains("34.0 M") && text.contains("8.4 k"), "{text}");
        assert!(lines.iter().any(|l| l.starts_with("tiny ") && l.contains("--only")), "{text}");
    }

    #[test]
    fn torchscript_models_and_control_characters_keep_one_line_each() {
        let text =
            "[[model]]\nname = \"ts\"\ntorchscript = \"Cargo.toml\"\ninput = [3, 8, 8]\nnotes = \"two\\nlines\"\n";
        let manifest = Manifest::parse(text, "x.toml", Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let list = model_list(&manifest, &manifest.models);
        assert!(list.starts_with("1 model of x.toml:"), "{list}");
        assert!(list.lines().nth(2).unwrap().contains("Cargo.toml") && list.contains("two lines"), "{list}");
    }

    #[test]
    fn counts_have_units() {
        assert_eq!(count(999), "999");
        assert_eq!(count(8_436), "8.4 k");
        assert_eq!(count(34_015_396), "34.0 M");
    }
}
