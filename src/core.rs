//! The measuring core: engine, profiler, sampler, statistics and state. It knows nothing about
//! the terminal (`tests/core_boundary.rs` keeps the terminal crates out of it).

pub mod analysis;
pub mod bandwidth;
pub mod beyond;
pub mod clock;
pub mod contention;
pub mod energy;
pub mod engine;
pub mod episode;
pub mod event;
pub mod explain;
pub mod journal;
pub mod latency_model;
pub mod limits_cache;
pub mod manifest;
pub mod model;
pub mod nets;
pub mod oneline;
pub mod ops;
pub mod optree;
pub mod peak;
pub mod power;
pub mod profiler;
pub mod roofline;
pub mod rusage;
pub mod sampler;
pub mod schedule;
pub mod session;
pub mod soak;
pub mod state;
pub mod stats;
pub mod summary;
pub mod sysfs;
pub mod throttle;
pub mod timeline;
pub mod trace;
