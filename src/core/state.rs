//! The state every event is folded into: per-model latency and status, the op tree with its window
//! of profiled inferences, the thermal soak, the timeline, energy, run counters, and trace
//! documents resolved against it.
//!
//! Its files are private to the core; what the front ends use is re-exported here.

pub(in crate::core) mod counters;
pub(in crate::core) mod energy;
pub(in crate::core) mod monitor;
pub(in crate::core) mod profiled_window;
pub(in crate::core) mod soak;
pub(in crate::core) mod timeline;
pub(in crate::core) mod trace_doc;

pub use counters::{LatencyHistogram, LATENCY_BOUNDS_S};
pub use energy::millijoules;
pub use monitor::{ModelState, ModelStatus, MonitorState, LATENCY_WINDOW};
pub use profiled_window::LeftOut;
pub use soak::{HeatingEnd, Phase, Soak, SoakConfig, DEADLINE_GRACE};
pub use trace_doc::{CounterPoint, SliceKind, TraceDoc, TraceSlice};
