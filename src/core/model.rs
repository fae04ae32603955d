//! Turns a manifest entry into a model that runs: a built-in net with seeded random (or loaded)
//! weights, or a `TorchScript` module in eval mode.

use std::path::Path;

use tch::{nn, CModule, Device, TchError, Tensor};

use crate::core::manifest::{ModelSource, ModelSpec};
use crate::core::nets::{parameter_count, Net};
use crate::core::oneline::one_line;

/// Classes of the CIFAR-100 built-ins.
pub const NUM_CLASSES: i64 = 100;

/// Why a model could not be loaded or run; the message names the model and file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model '{model}': cannot load weights '{path}': {reason}")]
    Weights { model: String, path: String, reason: String },
    #[error("model '{model}': cannot load TorchScript '{path}': {reason}")]
    TorchScript { model: String, path: String, reason: String },
    #[error("model '{model}': cannot create its input: {reason}")]
    Input { model: String, reason: String },
    #[error("model '{model}': forward pass failed")]
    Forward {
        model: String,
        #[source]
        source: TchError,
    },
}

/// A model ready to run.
pub enum LoadedModel {
    BuiltIn { vars: nn::VarStore, net: Box<dyn Net> },
    Script(CModule),
}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadedModel::BuiltIn { net, .. } => write!(f, "BuiltIn({net:?})"),
            LoadedModel::Script(_) => f.write_str("Script"),
        }
    }
}

impl LoadedModel {
    /// Loads `spec` on the CPU.
    ///
    /// # Errors
    /// Unknown weights, a corrupt `TorchScript` file.
    pub fn load(spec: &ModelSpec) -> Result<Self, ModelError> {
        match &spec.source {
            ModelSource::Arch(arch) => {
                let mut vars = nn::VarStore::new(Device::Cpu);
                let net = arch.build(&vars.root(), NUM_CLASSES);
                if let Some(path) = &spec.weights {
                    load_weights(&mut vars, path).map_err(|reason| ModelError::Weights {
                        model: spec.name.clone(),
                        path: path.display().to_string(),
                        reason,
                    })?;
                }
                Ok(LoadedModel::BuiltIn { vars, net })
            }
            ModelSource::TorchScript(path) => {
                let mut module = CModule::load_on_device(path, Device::Cpu).map_err(|e| ModelError::TorchScript {
                    model: spec.name.clone(),
                    path: path.display().to_string(),
                    reason: one_line(&e.to_string()),
                })?;
                module.set_eval();
                Ok(LoadedModel::Script(module))
            }
        }
    }

    /// Trainable parameters (for `TorchScript`: every named parameter of the module).
    #[must_use]
    pub fn parameter_count(&self) -> u64 {
        match self {
            LoadedModel::BuiltIn { vars, .. } => parameter_count(vars),
            LoadedModel::Script(m) => {
                m.named_parameters().map_or(0, |ps| ps.iter().map(|(_, t)| t.numel() as u64).sum())
            }
        }
    }

    /// One forward pass; libtorch errors (a wrong input shape, say) come back as `Err`, never
    /// as a panic.
    ///
    /// # Errors
    /// libtorch's error, whole (its message may run over many lines).
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        match self {
            LoadedModel::Script(m) => m.forward_ts(&[xs]),
            LoadedModel::BuiltIn { net, .. } => net.forward(xs),
        }
    }
}

/// Loads a `VarStore` file (`.ot`) or safetensors into `vars`; every variable must be present
/// with the same shape, and the message names the first one that is not.
fn load_weights(vars: &mut nn::VarStore, path: &Path) -> Result<(), String> {
    if !path.is_file() {
        return Err("no such file".into());
    }
    let is_safetensors = path.extension().is_some_and(|e| e == "safetensors");
    let named: Vec<(String, Tensor)> = if is_safetensors {
        Tensor::read_safetensors(path).map_err(|e| one_line(&e.to_string()))?
    } else {
        Tensor::load_multi(path).map_err(|e| one_line(&e.to_string()))?
    };
    let file: std::collections::HashMap<String, Tensor> = named.into_iter().collect();
    let mut variables: Vec<_> = vars.variables().into_iter().collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, mut var) in variables {
        let Some(stored) = file.get(&name) else {
            return Err(format!("tensor '{name}' is missing"));
        };
        if stored.size() != var.size() {
            return Err(format!("tensor '{name}' has shape {:?}, the model expects {:?}", stored.size(), var.size()));
        }
        tch::no_grad(|| var.copy_(stored));
    }
    Ok(())
}
