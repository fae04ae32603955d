//! What this machine can do, measured once and cached per CPU model, thread count and libtorch
//! version: the peak MAC rate, the memory bandwidth, and per-kernel times (the calibration that
//! `infertop predict` fits its per-kernel predictors on).
//!
//! Its files are private to the core; what the front ends use is re-exported here.

pub(in crate::core) mod bandwidth;
pub(in crate::core) mod cache;
pub(in crate::core) mod kernels;
pub(in crate::core) mod peak;

pub use bandwidth::measure_gbs;
pub use cache::best_of_runs_in;
pub use kernels::calibration::{calibrate, Calibration, Sample};
pub use kernels::forest::{Predictor, Timed};
pub use kernels::space::sample_space;
pub use kernels::{
    calibration, predict_scope, Basis, Calibrated, CalibrationHandle, ModelPrediction, OpPrediction, Options,
};
pub use peak::{cpu_model, machine_key, torch_version};
