//! The rows the report reads from a snapshot's CSV files. Columns it does not use are ignored,
//! so a snapshot with more columns still reads; a missing one is an error.

use serde::Deserialize;

use crate::core::profiling::Category;

/// The time categories of `models.csv`'s `share_*` columns and `ops.csv`'s `category`, in the
/// order the figures stack them: the core's one table of category names.
pub const CATEGORIES: [&str; 9] = {
    let mut keys = [""; 9];
    let mut i = 0;
    while i < keys.len() {
        keys[i] = Category::ALL[i].key();
        i += 1;
    }
    keys
};

/// One row of `models.csv`.
#[derive(Clone, Debug, Deserialize)]
pub struct ModelRow {
    pub model: String,
    pub params: Option<f64>,
    pub macs: Option<f64>,
    pub macs_per_image: Option<f64>,
    pub iterations: u64,
    pub latency_ms_p50: Option<f64>,
    pub latency_ms_p50_ci_low: Option<f64>,
    pub latency_ms_p50_ci_high: Option<f64>,
    pub share_conv2d: Option<f64>,
    pub share_batchnorm: Option<f64>,
    pub share_relu: Option<f64>,
    pub share_concat: Option<f64>,
    pub share_add: Option<f64>,
    pub share_pool: Option<f64>,
    pub share_linear: Option<f64>,
    pub share_bookkeeping: Option<f64>,
    pub share_other: Option<f64>,
    pub throttle_penalty: Option<f64>,
    pub throttled_inferences: Option<u64>,
    pub status: String,
    pub error: Option<String>,
    pub top1_error_pct: Option<f64>,
    pub op_ms: Option<f64>,
    /// The roofline split of `op_ms` and the latency models' left-out predictions: columns of
    /// snapshots written since the bandwidth was measured (absent in older ones).
    #[serde(default)]
    pub compute_ms: Option<f64>,
    #[serde(default)]
    pub memory_ms: Option<f64>,
    /// The time beyond the floors in its two parts: columns of snapshots written since the
    /// split was four-way (absent in older ones).
    #[serde(default)]
    pub below_peak_ms: Option<f64>,
    #[serde(default)]
    pub outside_kernels_ms: Option<f64>,
    /// Snapshots written before the four-way split have the two parts above as one column.
    #[serde(default)]
    pub overhead_ms: Option<f64>,
    #[serde(default)]
    pub latency_ms_left_out_mac_fit: Option<f64>,
    #[serde(default)]
    pub latency_ms_left_out_op_fit: Option<f64>,
    /// Set on a what-if variant's row (`fold-bn`); absent in snapshots from before variants.
    #[serde(default)]
    pub variant: Option<String>,
    /// The rest of a variant's what-if columns (see `export::rows`).
    #[serde(default)]
    pub base_model: Option<String>,
    #[serde(default)]
    pub output_max_rel_diff: Option<f64>,
    #[serde(default)]
    pub output_agrees: Option<bool>,
    #[serde(default)]
    pub delta_p50: Option<f64>,
    #[serde(default)]
    pub delta_p50_ci_low: Option<f64>,
    #[serde(default)]
    pub delta_p50_ci_high: Option<f64>,
    #[serde(default)]
    pub what_if_verdict: Option<String>,
}

impl ModelRow {
    /// The time shares in [`CATEGORIES`] order; `None` when the model was never profiled.
    #[must_use]
    pub fn shares(&self) -> Option<[f64; 9]> {
        let s = [
            self.share_conv2d,
            self.share_batchnorm,
            self.share_relu,
            self.share_concat,
            self.share_add,
            self.share_pool,
            self.share_linear,
            self.share_bookkeeping,
            self.share_other,
        ];
        s.iter().all(Option::is_some).then(|| s.map(|v| v.unwrap_or(0.0)))
    }

    /// Top-1 accuracy in %: 100 minus the manifest's top-1 error.
    #[must_use]
    pub fn accuracy_pct(&self) -> Option<f64> {
        self.top1_error_pct.map(|e| 100.0 - e)
    }
}

/// One row of `ops.csv`.
#[derive(Clone, Debug, Deserialize)]
pub struct OpRow {
    pub model: String,
    pub op: String,
    pub parent_op: Option<String>,
    pub category: String,
    pub calls_per_inference: Option<f64>,
    pub self_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub macs: f64,
}

/// One row of `system.csv` (long form).
#[derive(Clone, Debug, Deserialize)]
pub struct SystemRow {
    pub t_ms: f64,
    pub metric: String,
    pub source: String,
    pub value: Option<f64>,
}

/// The system metrics the report draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// The clock the engine measured (`freq_measured_mhz`).
    MeasuredClock,
    /// The clock cpufreq reports (`freq_cur_mhz`), per policy.
    ReportedClock,
    TempC,
    PowerW,
    /// 0/1: any source says the machine is throttled now.
    Throttled,
}

impl Metric {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "freq_measured_mhz" => Self::MeasuredClock,
            "freq_cur_mhz" => Self::ReportedClock,
            "temp_c" => Self::TempC,
            "power_w" => Self::PowerW,
            "machine_throttled" => Self::Throttled,
            _ => return None,
        })
    }
}

/// A value of one of the drawn metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct SystemPoint {
    pub t_ms: f64,
    pub metric: Metric,
    pub source: String,
    pub value: f64,
}

impl SystemPoint {
    /// The row as a point, if it is a drawn metric with a value.
    #[must_use]
    pub fn from_row(row: SystemRow) -> Option<Self> {
        let metric = Metric::from_name(&row.metric)?;
        Some(Self { t_ms: row.t_ms, metric, source: row.source, value: row.value? })
    }
}

/// One row of `inferences.csv`.
#[derive(Clone, Debug, Deserialize)]
pub struct InferenceRow {
    pub t_ms: f64,
    pub model: String,
    pub latency_ms: f64,
    /// Timed with the op profiler on: slower, and left out of latency statistics.
    pub profiled: bool,
    pub cold: bool,
}
