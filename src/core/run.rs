//! Running a plan: the session (engine, sampler, event channel, journal), the engine and its
//! schedule, the typed events it sends, the run's one time axis (`epoch`) and the trace capture.
//!
//! Its files are private to the core; what the front ends use is re-exported here.

pub(in crate::core) mod background;
pub(in crate::core) mod engine;
pub(in crate::core) mod epoch;
pub(in crate::core) mod event;
pub(in crate::core) mod journal;
pub(in crate::core) mod model_id;
pub(in crate::core) mod schedule;
pub(in crate::core) mod session;
pub(in crate::core) mod trace;

pub use engine::threads_running;
pub use event::{Control, Event, Inference, ModelId, ModelInfo, VariantInfo};
pub use journal::{InferenceEntry, JournalEntry, JournalSink, SampleEntry};
pub use schedule::Schedule;
pub use session::{Plan, PlanError, Session, TraceSink, DEFAULT_WARMUP, ITERATIONS_REACHED};
pub use trace::TRACE_RESERVE;
