//! The measuring core: engine, profiler, sampler, statistics and state. It knows nothing about
//! the terminal (tests/core_boundary.rs keeps the terminal crates out of it).

pub mod engine;
pub mod event;
pub mod manifest;
pub mod nets;
pub mod oneline;
pub mod profiler;
pub mod stats;
pub mod throttle;
pub mod timeline;
pub mod analysis;
pub mod beyond;
pub mod model;
pub mod ops;
pub mod optree;
pub mod peak;
pub mod session;
pub mod state;
pub mod summary;
pub mod sampler;
pub mod sysfs;
pub mod clock;
