//! What runs: the manifest, the built-in nets, `TorchScript` models, what-if variants and which of
//! them apply to a model.
//!
//! Its files are private to the core; what the front ends use is re-exported here.

pub(in crate::core) mod applicable;
pub(in crate::core) mod manifest;
pub(in crate::core) mod model;
pub(in crate::core) mod nets;
pub(in crate::core) mod variant;

pub use manifest::{Manifest, ManifestError, ModelSource, ModelSpec, BUILTIN_SOURCE};
pub use model::{LoadedModel, ModelError};
pub use nets::fold::build_folded;
pub use nets::{parameter_count, Arch, Net};
pub use variant::ffi::{is_channels_last, mkldnn_available};
pub use variant::{variant_name, OutputCheck, Variant, VariantOf, VariantRequest, OUTPUT_TOLERANCE};
