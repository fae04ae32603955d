//! The measuring core: engine, profiler, sampler, statistics and state. It knows nothing about
//! the terminal (`tests/core_boundary.rs` keeps the terminal crates out of it).

pub mod analysis;
pub mod beyond;
pub mod clock;
pub mod contention;
pub mod counters;
pub mod energy;
pub mod engine;
pub mod episode;
pub mod event;
pub mod journal;
pub mod manifest;
pub mod model;
pub mod nets;
pub mod oneline;
pub mod ops;
pub mod optree;
pub mod peak;
pub mod power;
pub mod profiler;
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
