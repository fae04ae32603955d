//! Trip points of thermal zones: `/sys/class/thermal/thermal_zoneN/trip_point_M_{type,temp}`
//! (temperatures in millidegrees C), the temperatures at which the kernel acts on a zone.
//!
//! A `passive` trip is where the kernel starts limiting the CPU through the zone's cooling
//! devices, `hot` and `critical` are where it warns and shuts down, and `active` trips start
//! fans. Boards differ: a Raspberry Pi 4 has one `critical` trip, a Pi 5 adds `active` ones for
//! its fan, Tegra234 zones have `passive` "sw-throttle" trips, ACPI zones list critical, hot,
//! passive and active trips in that order, and `x86_pkg_temp` lists two `passive` thresholds
//! that read 0 or −274000 until something sets them.
//!
//! Hysteresis (`trip_point_M_hyst`) is not read: a zone a degree below its passive trip may
//! still be limited; its cooling device tells.

use std::path::Path;

use serde::Serialize;

use super::read::{dir_entries, read_parsed, read_trimmed};
use super::thermal::{millis_to_celsius, read_celsius, zones};

/// What the kernel does when a zone reaches a trip point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TripKind {
    /// Runs a fan (or another active cooling device) harder.
    Active,
    /// Limits the CPU through the zone's cooling devices: throttling.
    Passive,
    /// Warns that the zone is close to critical.
    Hot,
    /// Shuts the machine down.
    Critical,
}

impl TripKind {
    /// The kind as `trip_point_M_type` spells it; `None` for anything else.
    fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "passive" => Some(Self::Passive),
            "hot" => Some(Self::Hot),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }

    /// The kernel's name for the kind.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::Hot => "hot",
            Self::Critical => "critical",
        }
    }

    /// Whether a zone at this trip is throttled (or past it): every kind but `active`, which
    /// only starts fans.
    #[must_use]
    pub fn throttles(self) -> bool {
        self != Self::Active
    }
}

/// One trip point that is set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TripPoint {
    pub kind: TripKind,
    pub celsius: f64,
}

/// A zone with a readable temperature and the trip points set on it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZoneTrips {
    /// The zone's name as temperatures show it (`cpu-thermal`, `acpitz#2`).
    pub zone: String,
    pub celsius: f64,
    /// In the kernel's order (`trip_point_0` first).
    pub trips: Vec<TripPoint>,
}

impl ZoneTrips {
    /// The lowest throttling trip (passive, hot or critical) the zone has reached: the kernel
    /// acts from the trip temperature on.
    #[must_use]
    pub fn throttling_trip_reached(&self) -> Option<TripPoint> {
        self.trips
            .iter()
            .filter(|trip| trip.kind.throttles() && self.celsius >= trip.celsius)
            .min_by(|a, b| a.celsius.total_cmp(&b.celsius))
            .copied()
    }

    /// The lowest passive trip temperature: where throttling starts.
    #[must_use]
    pub fn passive_celsius(&self) -> Option<f64> {
        self.trips.iter().filter(|trip| trip.kind == TripKind::Passive).map(|trip| trip.celsius).min_by(f64::total_cmp)
    }
}

/// Every zone that has a readable temperature and at least one trip point set, in zone order.
#[must_use]
pub fn read_zone_trips(root: &Path) -> Vec<ZoneTrips> {
    zones(root)
        .into_iter()
        .filter_map(|zone| {
            let trips = read_trips(&zone.dir);
            if trips.is_empty() {
                return None;
            }
            Some(ZoneTrips { celsius: read_celsius(&zone.dir.join("temp"))?, zone: zone.name, trips })
        })
        .collect()
}

/// The zone's trip points that are set, in trip order; a trip with a missing or unknown type
/// or an unset temperature is left out.
fn read_trips(dir: &Path) -> Vec<TripPoint> {
    let mut indices: Vec<u32> = dir_entries(dir)
        .filter_map(|entry| {
            let name = entry.file_name();
            name.to_str()?.strip_prefix("trip_point_")?.strip_suffix("_type")?.parse().ok()
        })
        .collect();
    indices.sort_unstable();
    indices
        .into_iter()
        .filter_map(|index| {
            let kind = TripKind::parse(&read_trimmed(&dir.join(format!("trip_point_{index}_type")))?)?;
            let celsius = trip_celsius(read_parsed(&dir.join(format!("trip_point_{index}_temp")))?)?;
            Some(TripPoint { kind, celsius })
        })
        .collect()
}

/// A trip temperature in °C; `None` for one that is not set. Unset trips read 0 (older
/// kernels' `x86_pkg_temp`) or −274000 (`THERMAL_TEMP_INVALID`), and a firmware may claim a
/// critical trip at 256 °C; no real trip is at or below 0 °C or above 200 °C.
fn trip_celsius(millis: i64) -> Option<f64> {
    (millis > 0).then(|| millis_to_celsius(millis)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_and_implausible_trips_are_not_trips() {
        assert_eq!(trip_celsius(0), None);
        assert_eq!(trip_celsius(-274_000), None);
        assert_eq!(trip_celsius(256_000), None);
        assert_eq!(trip_celsius(99_000), Some(99.0));
    }

    #[test]
    fn the_lowest_throttling_trip_reached_counts_and_active_trips_do_not() {
        let trip = |kind, celsius| TripPoint { kind, celsius };
        let mut zone = ZoneTrips {
            zone: "cpu-thermal".into(),
            celsius: 60.0,
            trips: vec![
                trip(TripKind::Critical, 104.5),
                trip(TripKind::Passive, 99.0),
                trip(TripKind::Passive, 95.0),
                trip(TripKind::Active, 50.0),
            ],
        };
        assert_eq!(zone.throttling_trip_reached(), None, "an active trip only runs a fan");
        assert_eq!(zone.passive_celsius(), Some(95.0));
        zone.celsius = 95.0;
        assert_eq!(zone.throttling_trip_reached(), Some(trip(TripKind::Passive, 95.0)), "reached at the trip");
        zone.celsius = 105.0;
        assert_eq!(zone.throttling_trip_reached(), Some(trip(TripKind::Passive, 95.0)));
    }

    #[test]
    fn trips_are_read_in_order_and_bad_ones_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let zone = dir.path().join("sys/class/thermal/thermal_zone0");
        std::fs::create_dir_all(&zone).unwrap();
        for (file, text) in [
            ("type", "acpitz"),
            ("temp", "45000"),
            ("trip_point_0_type", "critical"),
            ("trip_point_0_temp", "128000"),
            ("trip_point_1_type", "passive"),
            ("trip_point_1_temp", "garbage"),
            ("trip_point_2_type", "sideways"),
            ("trip_point_2_temp", "50000"),
            ("trip_point_10_type", "active"),
            ("trip_point_10_temp", "40000"),
            ("trip_point_3_temp", "30000"),
        ] {
            std::fs::write(zone.join(file), format!("{text}\n")).unwrap();
        }
        let zones = read_zone_trips(dir.path());
        assert_eq!(zones.len(), 1);
        let kinds: Vec<(TripKind, f64)> = zones[0].trips.iter().map(|t| (t.kind, t.celsius)).collect();
        assert_eq!(kinds, [(TripKind::Critical, 128.0), (TripKind::Active, 40.0)]);

        // Without a readable temperature nothing can be compared: the zone is left out.
        std::fs::write(zone.join("temp"), "\n").unwrap();
        assert!(read_zone_trips(dir.path()).is_empty());
    }
}
