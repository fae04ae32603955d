//! What the report draws of `system.csv`: the metrics it plots, as points. The rows themselves
//! are the export's own type ([`crate::schema::SystemRecord`]).

use crate::schema::SystemRecord;

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
    pub fn from_row(row: SystemRecord<'static>) -> Option<Self> {
        let metric = Metric::from_name(&row.metric)?;
        Some(Self { t_ms: row.t_ms as f64, metric, source: row.source, value: row.value })
    }
}
