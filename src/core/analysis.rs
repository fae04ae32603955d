//! What the state means: op and layer profiles, the roofline split, the per-model summary every
//! front end formats, latency models, the MAC study, the Beyond-MACs line, what-if comparisons and
//! predictions.
//!
//! Its files are private to the core; what the front ends use is re-exported here.

pub(in crate::core) mod beyond;
pub(in crate::core) mod beyond_prediction;
pub(in crate::core) mod explain;
pub(in crate::core) mod latency_model;
pub(in crate::core) mod layer_kind;
pub(in crate::core) mod layer_shape;
pub(in crate::core) mod model_profile;
pub(in crate::core) mod roofline;
pub(in crate::core) mod summary;
pub(in crate::core) mod what_if;

pub use beyond::{beyond_macs_with, BeyondMacs, ModelPoint, MIN_MODELS};
pub use beyond_prediction::{beyond_prediction, Against, LAYER_MIN_SHARE};
pub use explain::beyond_macs_line;
pub use latency_model::observe::observations;
pub use latency_model::{leave_one_out, LatencyModels, Prediction, GOOD_WITHIN};
pub use layer_kind::layer_kinds;
pub use layer_shape::layer_shapes;
pub use model_profile::{conv_breakdown, conv_kernels, layer_rows, model_profile, op_rows, rate, ModelProfile, OpRow};
pub use roofline::{model_roofline, roofline, Limits, Split, PARTS};
pub use summary::ModelSummary;
pub use what_if::{best_threads, comparisons, Comparison, Verdict};
