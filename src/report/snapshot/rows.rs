//! The rows the report reads from a snapshot's CSV files besides `models.csv` and `ops.csv`
//! (whose rows are the export's own types, [`crate::schema`]). Columns it does not use are
//! ignored, so a snapshot with more columns still reads; a missing column reads as empty where
//! the field may be empty, and is an error where it may not.

use serde::Deserialize;

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
