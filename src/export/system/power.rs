//! The power rows of `system.csv`: the chosen source's watts, every rail's, every RAPL counter.

use super::{flag, Cell};
use crate::core::machine::PowerReading;

/// The rows of a sample's power reading, as (metric, source, value).
pub(super) fn power_rows(p: &PowerReading, rows: &mut Vec<Cell>) {
    let mut put = |metric, source: &str, value: Option<f64>| {
        if let Some(v) = value {
            rows.push((metric, source.to_owned(), v));
        }
    };
    put("power_w", &p.source, p.watts);
    put("power_interval_w", &p.source, p.interval_watts);
    put("power_needs_root", &p.source, Some(flag(p.needs_root)));
    for rail in &p.rails {
        put("rail_power_w", &rail.name, rail.watts);
    }
    for counter in &p.counters {
        #[allow(clippy::cast_precision_loss)] // µJ counters wrap far below 2^52
        put("energy_uj", &counter.name, counter.energy_uj.map(|uj| uj as f64));
    }
}
