//! Turns a manifest entry into a model that runs: a built-in net with seeded random (or loaded)
//! weights, or a `TorchScript` module in eval mode.

use std::path::Path;

use tch::{nn, CModule, Device, TchError, Tensor};

use crate::core::common::oneline::one_line;
use crate::core::models::manifest::{ModelSource, ModelSpec};
use crate::core::models::nets::fold::{build_folded, FoldPlan};
use crate::core::models::nets::{parameter_count, Net};
use crate::core::models::variant::ffi::{channels_last, FrozenScript};
use crate::core::models::variant::Variant;

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
    #[error("model '{model}': {reason}")]
    Variant { model: String, reason: String },
    #[error("model '{model}': forward pass failed")]
    Forward {
        model: String,
        #[source]
        source: TchError,
    },
}

/// A model ready to run.
pub enum LoadedModel {
    BuiltIn {
        vars: nn::VarStore,
        net: Box<dyn Net>,
    },
    Script(CModule),
    /// A `TorchScript` model after libtorch's freeze and optimize-for-inference (`fold-bn`);
    /// `params` counts the original's parameters, which freezing turns into constants.
    Frozen {
        module: FrozenScript,
        params: u64,
    },
}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadedModel::BuiltIn { net, .. } => write!(f, "BuiltIn({net:?})"),
            LoadedModel::Script(_) => f.write_str("Script"),
            LoadedModel::Frozen { .. } => f.write_str("Frozen"),
        }
    }
}

impl LoadedModel {
    /// Loads `spec` on the CPU, with its what-if variant's change to the model applied. A
    /// built-in without a weights file gets random weights seeded by the original's name, so a
    /// variant and its original (and the original loaded again to check the variant) hold the
    /// same weights.
    ///
    /// # Errors
    /// Unknown weights, a corrupt `TorchScript` file, a variant libtorch cannot apply.
    pub fn load(spec: &ModelSpec) -> Result<Self, ModelError> {
        let variant = spec.variant_of.as_ref().map(|v| v.variant);
        let base = spec.variant_of.as_ref().map_or(spec.name.as_str(), |v| v.base.as_str());
        let variant_error = |reason: String| ModelError::Variant { model: spec.name.clone(), reason };
        let script_error = |path: &Path, reason: String| ModelError::TorchScript {
            model: spec.name.clone(),
            path: path.display().to_string(),
            reason,
        };
        match &spec.source {
            ModelSource::Arch(arch) => {
                tch::manual_seed(seed_of(base));
                let mut vars = nn::VarStore::new(Device::Cpu);
                let (net, fold) = if variant == Some(Variant::FoldBn) {
                    build_folded(|| arch.build(&vars.root(), NUM_CLASSES))
                } else {
                    (arch.build(&vars.root(), NUM_CLASSES), FoldPlan::default())
                };
                if let Some(path) = &spec.weights {
                    load_weights(&mut vars, path).map_err(|reason| ModelError::Weights {
                        model: spec.name.clone(),
                        path: path.display().to_string(),
                        reason,
                    })?;
                }
                fold.apply()
                    .map_err(|e| variant_error(format!("cannot fold BatchNorm: {}", one_line(&e.to_string()))))?;
                if variant == Some(Variant::ChannelsLast) {
                    let mut tensors: Vec<Tensor> = vars.variables().into_values().collect();
                    to_channels_last(&mut tensors).map_err(variant_error)?;
                }
                Ok(LoadedModel::BuiltIn { vars, net })
            }
            ModelSource::TorchScript(path) => {
                let mut module = CModule::load_on_device(path, Device::Cpu)
                    .map_err(|e| script_error(path, one_line(&e.to_string())))?;
                module.set_eval();
                let loaded = LoadedModel::Script(module);
                match variant {
                    Some(Variant::FoldBn) => {
                        let params = loaded.parameter_count();
                        let module = FrozenScript::load(path).map_err(|reason| script_error(path, reason))?;
                        Ok(LoadedModel::Frozen { module, params })
                    }
                    Some(Variant::ChannelsLast) => {
                        if let LoadedModel::Script(m) = &loaded {
                            let mut tensors: Vec<Tensor> = m
                                .named_parameters()
                                .map_err(|e| variant_error(one_line(&e.to_string())))?
                                .into_iter()
                                .map(|(_, t)| t)
                                .collect();
                            to_channels_last(&mut tensors).map_err(variant_error)?;
                        }
                        Ok(loaded)
                    }
                    _ => Ok(loaded),
                }
            }
        }
    }

    /// The input `spec`'s variant runs on: `input` itself, or in channels-last for that variant.
    ///
    /// # Errors
    /// libtorch's reason.
    pub fn variant_input(spec: &ModelSpec, input: &Tensor) -> Result<Tensor, TchError> {
        match spec.variant_of.as_ref().map(|v| v.variant) {
            Some(Variant::ChannelsLast) => channels_last(input),
            _ => Ok(input.shallow_clone()),
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
            LoadedModel::Frozen { params, .. } => *params,
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
            LoadedModel::Frozen { module, .. } => module.forward(xs),
        }
    }
}

/// The random-weight seed of a model: a hash of its name (FNV-1a), the same on every run.
fn seed_of(name: &str) -> i64 {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Lays every 4-D tensor (convolution weights) out channels-last, in place.
fn to_channels_last(tensors: &mut [Tensor]) -> Result<(), String> {
    tch::no_grad(|| {
        for t in tensors.iter_mut().filter(|t| t.dim() == 4) {
            let nhwc = channels_last(t).map_err(|e| one_line(&e.to_string()))?;
            t.f_set_data(&nhwc).map_err(|e| one_line(&e.to_string()))?;
        }
        Ok(())
    })
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
