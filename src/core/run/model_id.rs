//! The key of every per-model event and table. Its own file because the engine's trace capture
//! and the events that carry it both name models, and neither may depend on the other.

/// Index of a model in the run's model list (manifest order after `--only`).
pub type ModelId = usize;
