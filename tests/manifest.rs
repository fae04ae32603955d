//! The model-set manifest: the built-in set, defaults, `select`, path resolution, and one broken
//! fixture per error case (`tests/fixtures/manifests/`), each with its exact one-line message.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

use std::path::{Path, PathBuf};

use infertop::core::models::Arch;
use infertop::core::models::{Manifest, ManifestError, ModelSource, BUILTIN_SOURCE};

const ARCHS: &str = "vgg16, inceptionv3, inceptionv4, resnet50, seresnet50, xception, \
                     mobilenet, mobilenetv2, shufflenet, shufflenetv2, tiny";
const KEYS: &str = "name, arch, torchscript, input, batch, enabled, weights, top1_error, \
                    top5_error, notes, variants";
const INPUT_HINT: &str = "3 positive integers [channels, height, width], e.g. [3, 32, 32]";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests").join(name)
}

/// Loads a broken fixture and returns its error message after the file name, checking that the
/// message is one line and starts with the file.
fn error_after_file(name: &str) -> String {
    let path = fixture(name);
    let err = Manifest::load(&path).expect_err("the fixture is broken");
    let message = err.to_string();
    assert!(!message.contains('\n'), "not one line: {message}");
    let file = path.display().to_string();
    message
        .strip_prefix(&file)
        .unwrap_or_else(|| panic!("does not start with the file '{file}': {message}"))
        .to_string()
}

fn parse(text: &str) -> Result<Manifest, ManifestError> {
    Manifest::parse(text, "test.toml", Path::new("."))
}

fn names(models: &[infertop::core::models::ModelSpec]) -> Vec<&str> {
    models.iter().map(|m| m.name.as_str()).collect()
}

// ---- the built-in set ----

#[test]
fn builtin_has_the_ten_models_in_order_then_tiny_disabled() {
    let manifest = Manifest::builtin();
    assert_eq!(manifest.source, BUILTIN_SOURCE);
    let (tiny, manifest) = {
        let mut m = manifest;
        let tiny = m.models.pop().unwrap();
        (tiny, m)
    };
    assert_eq!((tiny.name.as_str(), &tiny.source, tiny.enabled), ("tiny", &ModelSource::Arch(Arch::Tiny), false));
    let expected = [
        "vgg16",
        "inceptionv3",
        "inceptionv4",
        "resnet50",
        "seresnet50",
        "xception",
        "mobilenet",
        "mobilenetv2",
        "shufflenet",
        "shufflenetv2",
    ];
    assert_eq!(names(&manifest.models), expected);
    for (spec, arch) in manifest.models.iter().zip(&Arch::ALL[..10]) {
        assert_eq!(spec.source, ModelSource::Arch(*arch), "{}", spec.name);
        assert_eq!(spec.name, arch.name());
        assert_eq!(spec.input, [3, 32, 32]);
        assert_eq!(spec.batch, 1);
        assert!(spec.enabled);
        assert!(spec.weights.is_none());
        assert!(spec.top1_error.is_some_and(|e| e > 20.0 && e < 35.0), "{}", spec.name);
        assert!(spec.top5_error.is_some_and(|e| e > 5.0 && e < 11.0), "{}", spec.name);
    }
    let resnet = &manifest.models[3];
    assert_eq!((resnet.top1_error, resnet.top5_error), (Some(22.61), Some(6.04)));
}

#[test]
fn builtin_selects_all_ten_by_default() {
    assert_eq!(Manifest::builtin().select(&[]).unwrap().len(), 10);
}

#[test]
fn builtin_tiny_runs_when_named() {
    let chosen = Manifest::builtin().select(&["tiny".to_string()]).unwrap();
    assert_eq!(names(&chosen), ["tiny"]);
}

#[test]
fn the_models_folder_copy_loads_from_disk() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/manifest.toml");
    let loaded = Manifest::load(&path).unwrap();
    assert_eq!(loaded.models, Manifest::builtin().models);
}

// ---- defaults and values ----

#[test]
fn defaults_apply_when_keys_are_left_out() {
    let manifest = parse("[[model]]\nname = \"t\"\narch = \"tiny\"\ninput = [1, 8, 9]\n").unwrap();
    let spec = &manifest.models[0];
    assert_eq!(manifest.source, "test.toml");
    assert_eq!(spec.source, ModelSource::Arch(Arch::Tiny));
    assert_eq!(spec.input, [1, 8, 9]);
    assert_eq!(spec.batch, 1);
    assert!(spec.enabled);
    assert_eq!((spec.weights.as_ref(), spec.top1_error, spec.top5_error), (None, None, None));
    assert_eq!(spec.notes, None);
}

#[test]
fn every_key_is_read() {
    let text = "[[model]]\nname = \"t\"\narch = \"tiny\"\ninput = [3, 32, 32]\nbatch = 8\n\
                enabled = false\ntop1_error = 30\ntop5_error = 9.5\nnotes = \"a note\"\n";
    let spec = parse(text).unwrap().models.remove(0);
    assert_eq!(spec.batch, 8);
    assert!(!spec.enabled);
    assert_eq!(spec.top1_error, Some(30.0), "an integer is accepted as a percentage");
    assert_eq!(spec.top5_error, Some(9.5));
    assert_eq!(spec.notes.as_deref(), Some("a note"));
}

// ---- select ----

const THREE: &str = r#"
[[model]]
name = "a"
arch = "tiny"
input = [3, 32, 32]

[[model]]
name = "b"
arch = "tiny"
input = [3, 32, 32]
enabled = false

[[model]]
name = "c"
arch = "tiny"
input = [3, 32, 32]
"#;

#[test]
fn select_without_names_takes_the_enabled_models() {
    let manifest = parse(THREE).unwrap();
    assert_eq!(names(&manifest.select(&[]).unwrap()), ["a", "c"]);
}

#[test]
fn select_with_names_takes_exactly_those_in_manifest_order_even_if_disabled() {
    let manifest = parse(THREE).unwrap();
    let only = ["c".to_string(), "b".to_string()];
    assert_eq!(names(&manifest.select(&only).unwrap()), ["b", "c"]);
}

#[test]
fn select_with_an_unknown_name_lists_the_valid_ones() {
    let manifest = parse(THREE).unwrap();
    let err = manifest.select(&["a".to_string(), "resnet51".to_string()]).unwrap_err();
    assert_eq!(err.to_string(), "test.toml: unknown model 'resnet51' (valid: a, b, c)");
}

#[test]
fn select_without_names_fails_when_every_model_is_disabled() {
    let path = fixture("all_disabled.toml");
    let manifest = Manifest::load(&path).unwrap();
    let err = manifest.select(&[]).unwrap_err();
    let expected =
        format!("{}: every model has enabled = false (enable one, or name the models to run)", path.display());
    assert_eq!(err.to_string(), expected);
    assert_eq!(names(&manifest.select(&["resnet50".to_string()]).unwrap()), ["resnet50"]);
}

// ---- paths ----

#[test]
fn paths_resolve_against_the_manifest_folder() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["nets/scripted.pt", "weights/tiny.ot", "weights/tiny.safetensors"] {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"").unwrap();
    }
    let text = r#"
        [[model]]
        name = "scripted"
        torchscript = "nets/scripted.pt"
        input = [3, 32, 32]

        [[model]]
        name = "ot"
        arch = "tiny"
        weights = "weights/tiny.ot"
        input = [3, 32, 32]

        [[model]]
        name = "st"
        arch = "tiny"
        weights = "weights/../weights/tiny.safetensors"
        input = [3, 32, 32]
    "#;
    let path = dir.path().join("set.toml");
    std::fs::write(&path, text).unwrap();

    let manifest = Manifest::load(&path).unwrap();
    assert_eq!(manifest.source, path.display().to_string());
    let [scripted, ot, st] = &manifest.models[..] else { panic!("three models") };
    assert_eq!(scripted.source, ModelSource::TorchScript(dir.path().join("nets/scripted.pt")));
    assert_eq!(ot.weights.as_deref(), Some(dir.path().join("weights/tiny.ot").as_path()));
    assert_eq!(st.weights.as_deref(), Some(dir.path().join("weights/../weights/tiny.safetensors").as_path()));

    // `parse` resolves against the folder it is given, whatever the current folder.
    let parsed = Manifest::parse(text, "inline", dir.path()).unwrap();
    assert_eq!(parsed.models, manifest.models);
    assert!(Manifest::parse(text, "inline", Path::new("/nonexistent")).is_err());
}

#[test]
fn an_absolute_path_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("abs.pt");
    std::fs::write(&file, b"").unwrap();
    let text = format!("[[model]]\nname = \"a\"\ntorchscript = '{}'\ninput = [3, 32, 32]\n", file.display());
    let manifest = Manifest::parse(&text, "inline", Path::new("/somewhere/else")).unwrap();
    assert_eq!(manifest.models[0].source, ModelSource::TorchScript(file));
}

// ---- one broken fixture per error case ----

#[test]
fn unreadable_file() {
    let path = fixture("no-such-manifest.toml");
    let message = Manifest::load(&path).unwrap_err().to_string();
    assert!(message.starts_with(&format!("{}: cannot read: ", path.display())), "{message}");
    assert!(!message.contains('\n'));
}

#[test]
fn syntax_error_names_line_and_column() {
    let message = error_after_file("syntax.toml");
    assert_eq!(message, ":4:14: invalid TOML: invalid basic string, expected `\"`");
    // The same place toml's own (multi-line) report points at.
    let text = std::fs::read_to_string(fixture("syntax.toml")).unwrap();
    let toml_report = toml::from_str::<toml::Table>(&text).unwrap_err().to_string();
    assert!(toml_report.starts_with("TOML parse error at line 4, column 14\n"), "{toml_report}");
}

#[test]
fn unknown_key() {
    assert_eq!(error_after_file("unknown_key.toml"), format!(": model 'vgg16': unknown key 'colour' (valid: {KEYS})"));
}

#[test]
fn unknown_top_level_key() {
    assert_eq!(
        error_after_file("unknown_top_key.toml"),
        ": unknown top-level key 'models' (valid: model, written as [[model]] tables)"
    );
}

#[test]
fn model_as_a_single_table() {
    assert_eq!(error_after_file("model_not_array.toml"), ": 'model' holds a table; expected [[model]] tables");
}

#[test]
fn no_models() {
    assert_eq!(
        error_after_file("empty.toml"),
        ": no models (add a [[model]] table with a name, an arch or torchscript, and an input)"
    );
}

#[test]
fn missing_name_names_the_entry_by_index() {
    assert_eq!(
        error_after_file("missing_name.toml"),
        ": model[1]: missing 'name' (every model needs a unique, non-empty name)"
    );
}

#[test]
fn empty_name() {
    assert_eq!(error_after_file("empty_name.toml"), ": model[0]: name = \"\": expected a non-empty name");
}

/// A name with an escape sequence or a newline would reach terminals raw (a headless line could
/// set the terminal's title, or forge a line): refused, and the entry named by its index.
#[test]
fn control_characters_in_a_name() {
    assert_eq!(
        error_after_file("control_in_name.toml"),
        ": model[0]: name: holds a control character (an escape, a newline, a tab…); names are shown in terminals and files"
    );
}

#[test]
fn duplicate_name() {
    assert_eq!(
        error_after_file("duplicate_name.toml"),
        ": model[2]: name = 'resnet50' is already used by model[0] (names must be unique)"
    );
}

#[test]
fn neither_arch_nor_torchscript() {
    assert_eq!(
        error_after_file("no_source.toml"),
        format!(": model 'mystery': needs 'arch' (a built-in: {ARCHS}) or 'torchscript' (a file path)")
    );
}

#[test]
fn both_arch_and_torchscript() {
    assert_eq!(
        error_after_file("both_sources.toml"),
        ": model 'vgg16': has both arch = 'vgg16' and torchscript = 'vgg16.pt' (give exactly one)"
    );
}

#[test]
fn unknown_architecture() {
    assert_eq!(
        error_after_file("unknown_arch.toml"),
        format!(": model 'foo': arch: unknown architecture 'resnet51' (valid: {ARCHS})")
    );
}

#[test]
fn missing_input() {
    assert_eq!(
        error_after_file("missing_input.toml"),
        format!(": model 'vgg16': missing 'input' (expected {INPUT_HINT})")
    );
}

#[test]
fn input_with_two_dims() {
    assert_eq!(
        error_after_file("input_two_dims.toml"),
        format!(": model 'vgg16': input = [3, 32]: expected {INPUT_HINT}")
    );
}

#[test]
fn input_with_a_zero_dim() {
    assert_eq!(
        error_after_file("input_zero.toml"),
        format!(": model 'vgg16': input = [3, 0, 32]: expected {INPUT_HINT}")
    );
}

#[test]
fn input_with_a_negative_dim() {
    assert_eq!(
        error_after_file("input_negative.toml"),
        format!(": model 'vgg16': input = [3, 32, -32]: expected {INPUT_HINT}")
    );
}

#[test]
fn input_of_the_wrong_type() {
    assert_eq!(
        error_after_file("input_not_integers.toml"),
        format!(": model 'vgg16': input = \"3x32x32\": expected {INPUT_HINT}")
    );
}

#[test]
fn zero_batch() {
    assert_eq!(
        error_after_file("batch_zero.toml"),
        ": model 'vgg16': batch = 0: expected a positive integer up to 4096"
    );
}

#[test]
fn batch_above_the_limit() {
    assert_eq!(
        error_after_file("batch_huge.toml"),
        ": model 'vgg16': batch = 5000: expected a positive integer up to 4096"
    );
}

#[test]
fn input_too_large_for_memory() {
    assert_eq!(
        error_after_file("input_huge.toml"),
        ": model 'vgg16': input = [3, 100000, 100000] with batch 1 needs 120000000000 bytes per inference; \
         at most 268435456 (256 MiB) is allowed"
    );
}

#[test]
fn input_whose_size_overflows() {
    assert_eq!(
        error_after_file("input_overflow.toml"),
        ": model 'vgg16': input = [3, 4611686018427387904, 8] with batch 2 needs more bytes than fit in 64 bits \
         per inference; at most 268435456 (256 MiB) is allowed"
    );
}

#[test]
fn negative_batch() {
    assert_eq!(
        error_after_file("batch_negative.toml"),
        ": model 'vgg16': batch = -4: expected a positive integer up to 4096"
    );
}

#[test]
fn batch_of_the_wrong_type() {
    assert_eq!(
        error_after_file("wrong_type.toml"),
        ": model 'vgg16': batch = \"4\": expected a positive integer up to 4096"
    );
}

#[test]
fn name_of_the_wrong_type_names_the_entry_by_index() {
    assert_eq!(error_after_file("wrong_type_unnamed.toml"), ": model[1]: name = 7: expected a string");
}

#[test]
fn error_rate_out_of_range() {
    assert_eq!(
        error_after_file("bad_percent.toml"),
        ": model 'vgg16': top1_error = 127.07: expected a percentage from 0 to 100"
    );
}

#[test]
fn weights_on_a_torchscript_model() {
    assert_eq!(
        error_after_file("weights_on_torchscript.toml"),
        ": model 'scripted': weights = 'does-not-exist/scripted.ot': only 'arch' models take \
         weights (a TorchScript file holds its own)"
    );
}

#[test]
fn weights_of_an_unknown_kind() {
    assert_eq!(
        error_after_file("weights_bad_kind.toml"),
        ": model 'vgg16': weights = 'vgg16.pth': expected a .safetensors or tch VarStore .ot file"
    );
}

#[test]
fn missing_weights_file() {
    let resolved = fixture("does-not-exist/vgg16.safetensors");
    assert_eq!(
        error_after_file("missing_weights.toml"),
        format!(
            ": model 'vgg16': weights = 'does-not-exist/vgg16.safetensors': no such file \
             (looked for {})",
            resolved.display()
        )
    );
}

#[test]
fn missing_torchscript_file() {
    let resolved = fixture("does-not-exist/scripted.pt");
    assert_eq!(
        error_after_file("missing_torchscript.toml"),
        format!(
            ": model 'scripted': torchscript = 'does-not-exist/scripted.pt': no such file \
             (looked for {})",
            resolved.display()
        )
    );
}
