//! Weights files for built-in architectures: `VarStore` `.ot` and safetensors, and clear errors.

#![allow(clippy::float_cmp)] // MAC and byte counts are integers held in f64: exact comparison is the test.

use std::path::Path;

use infertop::core::models::Arch;
use infertop::core::models::{LoadedModel, ModelError};
use infertop::core::models::{ModelSource, ModelSpec};
use tch::{nn, Device, Kind, Tensor};

fn spec(weights: &Path) -> ModelSpec {
    ModelSpec {
        weights: Some(weights.to_path_buf()),
        ..ModelSpec::new("tiny", ModelSource::Arch(Arch::Tiny), [3, 32, 32])
    }
}

/// A tiny net's variables with recognisable values.
fn tiny_vars() -> nn::VarStore {
    let vs = nn::VarStore::new(Device::Cpu);
    let _ = Arch::Tiny.build(&vs.root(), 100);
    tch::no_grad(|| {
        for (_, mut t) in vs.variables() {
            let _ = t.fill_(0.25);
        }
    });
    vs
}

fn loaded_value(model: &LoadedModel, name: &str) -> f64 {
    match model {
        LoadedModel::BuiltIn { vars, .. } => vars.variables()[name].mean(Kind::Float).double_value(&[]),
        LoadedModel::Script(_) | LoadedModel::Frozen { .. } => panic!("a built-in"),
    }
}

#[test]
fn varstore_and_safetensors_files_load_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let vs = tiny_vars();
    let ot = dir.path().join("tiny.ot");
    vs.save(&ot).unwrap();
    let st = dir.path().join("tiny.safetensors");
    let named: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    Tensor::write_safetensors(&named, &st).unwrap();
    for file in [&ot, &st] {
        let model = LoadedModel::load(&spec(file)).unwrap();
        assert_eq!(loaded_value(&model, "conv1.weight"), 0.25, "{}", file.display());
    }
}

#[test]
fn a_missing_or_misshapen_tensor_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut named: Vec<(String, Tensor)> = tiny_vars().variables().into_iter().collect();
    named.retain(|(n, _)| n != "fc.weight");
    let missing = dir.path().join("missing.safetensors");
    Tensor::write_safetensors(&named, &missing).unwrap();
    let err = LoadedModel::load(&spec(&missing)).unwrap_err();
    assert!(matches!(err, ModelError::Weights { .. }));
    let msg = err.to_string();
    assert!(msg.contains("fc.weight") && msg.contains("missing") && msg.contains("missing.safetensors"), "{msg}");

    named.push(("fc.weight".into(), Tensor::zeros([3, 3], (Kind::Float, Device::Cpu))));
    let bad = dir.path().join("bad.safetensors");
    Tensor::write_safetensors(&named, &bad).unwrap();
    let msg = LoadedModel::load(&spec(&bad)).unwrap_err().to_string();
    assert!(msg.contains("fc.weight") && msg.contains("[3, 3]") && msg.contains("[100, 32]"), "{msg}");
    assert_eq!(msg.lines().count(), 1);
}

#[test]
fn a_corrupt_weights_file_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.ot");
    std::fs::write(&corrupt, b"garbage").unwrap();
    let msg = LoadedModel::load(&spec(&corrupt)).unwrap_err().to_string();
    assert!(msg.contains("corrupt.ot") && msg.starts_with("model 'tiny'"), "{msg}");
    assert_eq!(msg.lines().count(), 1, "{msg}");
}
