//! The measuring core: running models, profiling them, watching the machine, folding it all
//! into a state and analysing it. It knows nothing about the terminal, CSV or HTTP.
//!
//! Eight groups, each a folder whose files are private to the core: the front ends see only what
//! each group re-exports (its facade), and the compiler holds them to it. From the bottom up,
//! each group uses only groups below it: `common`, `profiling`, `machine`, `limits`, `models`,
//! `run`, `state`, `analysis`. The one exception is at the top of `run`: the session (and its
//! journal) builds and feeds the `state`. `tests/core_boundary.rs` checks that order, that no
//! two files import each other in a circle, and that the terminal, CSV and HTTP crates stay out.

pub mod analysis;
pub mod common;
pub mod limits;
pub mod machine;
pub mod models;
pub mod profiling;
pub mod run;
pub mod state;
