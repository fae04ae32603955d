//! The kernel's throttle sources on the recorded board trees: x86 `thermal_throttle` counters,
//! cooling devices, trip points and frequency limits, combined with the Raspberry Pi firmware
//! flags into one verdict; and episodes played by rewriting a copy of a tree between samples.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "sysfs_fixture/trees.rs"]
mod trees;

use std::time::{Duration, Instant};

use infertop::core::machine::FindingSource as Source;
use infertop::core::machine::MachineTag;
use infertop::core::machine::SystemSample;
use infertop::core::machine::{CoolingKind, TripKind};
use trees::{copy_of, offline, sample_of, write};

/// The combined verdict: (now, during this run, since boot).
fn verdict(sample: &SystemSample) -> (Option<bool>, Option<bool>, Option<bool>) {
    let v = sample.throttle_verdict();
    (v.now(), v.during_run(), v.since_boot())
}

/// The sources the sample has, in verdict order.
fn sources(sample: &SystemSample) -> Vec<Source> {
    sample.throttle_verdict().findings.iter().map(|f| f.source).collect()
}

/// What `source` says now.
fn now_by(sample: &SystemSample, source: Source) -> Option<bool> {
    sample.throttle_verdict().finding(source).and_then(|f| f.now)
}

const LAPTOP_POLICY2_LIMIT: &str = "sys/devices/system/cpu/cpufreq/policy2/scaling_max_freq";
const LAPTOP_CPU2_PACKAGE: &str = "sys/devices/system/cpu/cpu2/thermal_throttle/package_throttle_count";
const JETSON_CPU_ZONE_TEMP: &str = "sys/class/thermal/thermal_zone0/temp";
const JETSON_CPU0_COOLING: &str = "sys/class/thermal/cooling_device0/cur_state";

#[test]
fn jetson_throttling_is_known_from_its_kernel_and_not_happening() {
    let sample = sample_of("jetson-orin-nano");
    let cooling: Vec<(&str, CoolingKind, Option<i64>, Option<u64>)> =
        sample.kernel_throttle.cooling.iter().map(|d| (d.name.as_str(), d.kind, d.cur_state, d.max_state)).collect();
    assert_eq!(
        cooling,
        [
            ("cpufreq-cpu0", CoolingKind::CpuFreq, Some(0), Some(19)),
            ("cpufreq-cpu4", CoolingKind::CpuFreq, Some(0), Some(19)),
            // The fan runs at its first level (tj above 35 °C) and slows nothing.
            ("pwm-fan", CoolingKind::Fan, Some(1), Some(3)),
        ]
    );
    // The DLA zones read −256 °C and cannot be compared with their trips.
    let zones: Vec<&str> = sample.kernel_throttle.zones.iter().map(|z| z.zone.as_str()).collect();
    assert_eq!(zones, ["cpu-thermal", "gpu-thermal", "soc0-thermal", "soc1-thermal", "soc2-thermal", "tj-thermal"]);
    let cpu = &sample.kernel_throttle.zones[0];
    assert_eq!((cpu.celsius, cpu.passive_celsius(), cpu.throttling_trip_reached()), (51.468, Some(99.0), None));
    let tj = &sample.kernel_throttle.zones[5];
    assert!(tj.trips.iter().all(|t| t.kind == TripKind::Active), "tj-thermal only drives the fan");

    assert_eq!(sources(&sample), [Source::CoolingDevice, Source::TripPoint, Source::FreqCap]);
    assert_eq!(sample.is_freq_capped(), Some(false));
    // Known, and not throttled; a Jetson keeps no history since boot.
    assert_eq!(verdict(&sample), (Some(false), Some(false), None));
    assert_eq!(MachineTag::from_sample(&sample).throttled, Some(false));
}

#[test]
fn x86_laptop_counts_throttling_since_boot_and_powersave_is_no_cap() {
    let mut sample = sample_of("x86-laptop");
    let counters = sample.kernel_throttle.counters.expect("thermal_throttle counters");
    assert_eq!(counters.cpus, 4);
    assert_eq!((counters.core_events, counters.package_events), (Some(2), Some(14)));
    assert_eq!((counters.core_ms, counters.package_ms), (Some(40), Some(3120)));
    // A first reading has no interval before it.
    assert_eq!((counters.interval_events, counters.run_events), (None, 0));

    let cooling: Vec<(&str, CoolingKind, bool)> =
        sample.kernel_throttle.cooling.iter().map(|d| (d.name.as_str(), d.kind, d.slows_cpu_now())).collect();
    assert_eq!(
        cooling,
        [
            ("Processor", CoolingKind::CpuFreq, false),
            ("Processor#2", CoolingKind::CpuFreq, false),
            ("Processor#3", CoolingKind::CpuFreq, false),
            ("Processor#4", CoolingKind::CpuFreq, false),
            // −1: not clamping.
            ("intel_powerclamp", CoolingKind::IdleInjection, false),
            ("TCC Offset", CoolingKind::Other, false),
        ]
    );
    // x86_pkg_temp's two passive thresholds are unset (−274000) and are no trips.
    let zones: Vec<(&str, Option<f64>)> =
        sample.kernel_throttle.zones.iter().map(|z| (z.zone.as_str(), z.passive_celsius())).collect();
    assert_eq!(zones, [("acpitz", None), ("acpitz#2", Some(95.0))]);

    assert_eq!(sources(&sample), [Source::ThermalThrottle, Source::CoolingDevice, Source::TripPoint, Source::FreqCap]);
    assert_eq!(now_by(&sample, Source::ThermalThrottle), None);
    assert_eq!(verdict(&sample), (Some(false), Some(false), Some(true)));

    // `powersave` runs the cores far below their 4.7 GHz maximum, busy or not; the limit is
    // the maximum, so nothing is capped and inferences are not tagged as throttled.
    sample.usage_pct = vec![100.0; 4];
    assert_eq!(sample.max_cur_mhz(), Some(4193.0));
    assert_eq!(sample.is_freq_capped(), Some(false));
    assert_eq!(MachineTag::from_sample(&sample).throttled, Some(false));
}

#[test]
fn lowering_scaling_max_freq_caps_the_laptop() {
    let root = copy_of("x86-laptop");
    write(root.path(), LAPTOP_POLICY2_LIMIT, "3000000");
    let sample = offline(root.path()).sample();
    assert_eq!(sample.cpufreq[2].is_limited(), Some(true));
    assert_eq!(sample.is_freq_capped(), Some(true));
    assert_eq!(now_by(&sample, Source::FreqCap), Some(true));
    assert_eq!(verdict(&sample).0, Some(true));
    assert_eq!(MachineTag::from_sample(&sample).throttled, Some(true));
}

/// The package goes over its throttle temperature once between two samples, then not again.
#[test]
fn a_thermal_throttle_count_that_rises_is_throttling_in_that_interval() {
    let root = copy_of("x86-laptop");
    let mut sampler = offline(root.path());
    let t0 = Instant::now();
    assert_eq!(now_by(&sampler.sample_at(t0), Source::ThermalThrottle), None);

    let sample = sampler.sample_at(t0 + Duration::from_secs(1));
    assert_eq!(now_by(&sample, Source::ThermalThrottle), Some(false), "nothing new yet");

    write(root.path(), LAPTOP_CPU2_PACKAGE, "15");
    let sample = sampler.sample_at(t0 + Duration::from_secs(2));
    let counters = sample.kernel_throttle.counters.unwrap();
    assert_eq!((counters.package_events, counters.interval_events, counters.run_events), (Some(15), Some(1), 1));
    assert_eq!(verdict(&sample), (Some(true), Some(true), Some(true)));
    assert_eq!(MachineTag::from_sample(&sample).throttled, Some(true));

    let sample = sampler.sample_at(t0 + Duration::from_secs(3));
    let counters = sample.kernel_throttle.counters.unwrap();
    assert_eq!((counters.interval_events, counters.run_events), (Some(0), 1));
    assert_eq!(verdict(&sample), (Some(false), Some(true), Some(true)));
}

/// Thermal management turns the big cluster's clock down, then lets go.
#[test]
fn a_cpufreq_cooling_device_above_zero_caps_and_throttles() {
    let root = copy_of("jetson-orin-nano");
    let mut sampler = offline(root.path());
    write(root.path(), JETSON_CPU0_COOLING, "6");
    let sample = sampler.sample();
    assert_eq!(now_by(&sample, Source::CoolingDevice), Some(true));
    assert_eq!(now_by(&sample, Source::FreqCap), Some(true), "the cooling device caps the clock");
    assert_eq!(verdict(&sample), (Some(true), Some(true), None));

    write(root.path(), JETSON_CPU0_COOLING, "0");
    let sample = sampler.sample();
    assert_eq!(verdict(&sample), (Some(false), Some(true), None), "it happened during the run");

    // A fan at full speed is no throttling.
    write(root.path(), "sys/class/thermal/cooling_device2/cur_state", "3");
    assert_eq!(now_by(&offline(root.path()).sample(), Source::CoolingDevice), Some(false));
}

#[test]
fn a_zone_above_its_passive_trip_is_reported() {
    let root = copy_of("jetson-orin-nano");
    write(root.path(), JETSON_CPU_ZONE_TEMP, "99500");
    let sample = offline(root.path()).sample();
    let cpu = &sample.kernel_throttle.zones[0];
    assert_eq!(cpu.zone, "cpu-thermal");
    let reached = cpu.throttling_trip_reached().expect("the passive trip");
    assert_eq!((reached.kind, reached.celsius), (TripKind::Passive, 99.0));
    assert_eq!(now_by(&sample, Source::TripPoint), Some(true));
    assert_eq!(verdict(&sample).0, Some(true));
}

/// A Pi 5's fan trips and its fan say nothing about throttling; its firmware does.
#[test]
fn rpi5_reports_its_fan_without_flagging_it() {
    let sample = sample_of("rpi5");
    let fan = &sample.kernel_throttle.cooling[0];
    assert_eq!(
        (fan.name.as_str(), fan.kind, fan.cur_state, fan.max_state),
        ("pwm-fan", CoolingKind::Fan, Some(1), Some(4))
    );
    let kinds: Vec<TripKind> = sample.kernel_throttle.zones[0].trips.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, [TripKind::Critical, TripKind::Active, TripKind::Active, TripKind::Active, TripKind::Active]);
    // No passive trip to be below, no CPU cooling device: only the firmware and the limit speak.
    assert_eq!(sources(&sample), [Source::Firmware, Source::FreqCap]);
    assert_eq!(verdict(&sample), (Some(false), Some(false), Some(false)));
}

#[test]
fn rpi4_knows_its_critical_trip_and_no_cooling_device() {
    let sample = sample_of("rpi4");
    assert!(sample.kernel_throttle.cooling.is_empty() && sample.kernel_throttle.counters.is_none());
    let trips: Vec<(TripKind, f64)> =
        sample.kernel_throttle.zones[0].trips.iter().map(|t| (t.kind, t.celsius)).collect();
    assert_eq!(trips, [(TripKind::Critical, 90.0)]);
    assert_eq!(sources(&sample), [Source::Firmware, Source::FreqCap]);
    // The firmware's 0x50000: throttled before the run.
    assert_eq!(verdict(&sample), (Some(false), Some(false), Some(true)));
}

#[test]
fn a_vm_stays_unknown() {
    let sample = sample_of("vm");
    assert!(sample.throttle_verdict().findings.is_empty());
    assert_eq!(verdict(&sample), (None, None, None));
    assert_eq!(MachineTag::from_sample(&sample).throttled, None);
}

/// Garbage, empty and negative values make a source absent, never a panic or a wrong "yes".
#[test]
fn bad_throttle_files_read_as_absent() {
    let root = copy_of("x86-laptop");
    let root = root.path();
    for cpu in 0..4 {
        let dir = format!("sys/devices/system/cpu/cpu{cpu}/thermal_throttle");
        write(root, &format!("{dir}/core_throttle_count"), "garbage");
        write(root, &format!("{dir}/package_throttle_count"), "");
    }
    for device in 0..4 {
        write(root, &format!("sys/class/thermal/cooling_device{device}/cur_state"), "lots");
    }
    write(root, "sys/class/thermal/cooling_device5/type", "");
    write(root, "sys/class/thermal/thermal_zone1/trip_point_1_temp", "-5");
    write(root, "sys/class/thermal/thermal_zone1/trip_point_0_type", "sideways");
    for policy in 0..4 {
        write(root, &format!("sys/devices/system/cpu/cpufreq/policy{policy}/scaling_max_freq"), "18446744073709551615");
    }
    let sample = offline(root).sample();
    assert_eq!(sample.kernel_throttle.counters, None);
    let cooling: Vec<(&str, Option<i64>)> =
        sample.kernel_throttle.cooling.iter().map(|d| (d.name.as_str(), d.cur_state)).collect();
    assert_eq!(
        cooling,
        [
            ("Processor", None),
            ("Processor#2", None),
            ("Processor#3", None),
            ("Processor#4", None),
            ("intel_powerclamp", Some(-1))
        ]
    );
    // The second zone has no trip left; the first keeps its critical one.
    let zones: Vec<&str> = sample.kernel_throttle.zones.iter().map(|z| z.zone.as_str()).collect();
    assert_eq!(zones, ["acpitz"]);
    // The idle-injection device alone still speaks, and says no.
    assert_eq!(sources(&sample), [Source::CoolingDevice]);
    assert_eq!(sample.is_freq_capped(), None);
    assert_eq!(verdict(&sample), (Some(false), Some(false), None));
}
