//! The headless lines' wording: unknown figures, the clock, what-if comparisons, the legend.

use super::*;
use crate::core::machine::{PowerReading, PowerScope};

fn with_power(power: Option<PowerReading>) -> String {
    system_line(&SystemSample { power: power.map(Box::new), ..SystemSample::default() }, Duration::ZERO)
}

#[test]
fn power_reads_as_watts_needs_root_or_n_a_never_zero() {
    let mut jetson = PowerReading::new("ina3221/VDD_IN".into(), PowerScope::BoardInput);
    jetson.watts = Some(6.238_848);
    assert!(with_power(Some(jetson)).contains("  power 6.24 W ina3221/VDD_IN  "));
    let mut rapl = PowerReading::new("RAPL package-0".into(), PowerScope::CpuPackage);
    assert!(with_power(Some(rapl.clone())).contains("  power n/a (RAPL package-0)  "), "one reading so far");
    rapl.needs_root = true;
    assert!(with_power(Some(rapl)).contains("  power needs root (RAPL package-0)  "));
    assert!(with_power(None).contains("  power n/a  "));
}

#[test]
fn the_clock_reads_reported_then_measured_and_never_n_a_mhz() {
    let clock = |sample: SystemSample| {
        let line = system_line(&sample, Duration::ZERO);
        line.split("  clock ").nth(1).unwrap().split("  temp").next().unwrap().to_string()
    };
    assert_eq!(clock(SystemSample::default()), "n/a");
    let measured_only = SystemSample { measured_mhz: Some(2954.4), ..SystemSample::default() };
    assert_eq!(clock(measured_only), "2954 MHz measured (no cpufreq)");
    let policy = |cur_khz, max_khz| crate::core::machine::CpuFreqPolicy {
        policy: 0,
        cpus: Vec::new(),
        cur_khz,
        min_khz: None,
        max_khz,
        scaling_max_khz: None,
        governor: None,
    };
    let pi = |cur, max, measured| SystemSample {
        cpufreq: vec![policy(cur, max)],
        measured_mhz: measured,
        ..SystemSample::default()
    };
    assert_eq!(clock(pi(Some(1_500_000), Some(1_800_000), Some(1498.0))), "1500 MHz (max 1800, measured 1498)");
    assert_eq!(clock(pi(Some(1_500_000), None, Some(1498.0))), "1500 MHz (measured 1498)");
    assert_eq!(clock(pi(Some(1_500_000), None, None)), "1500 MHz");
}

fn comparison(verdict: Verdict, delta: f64) -> Comparison {
    Comparison {
        model: 1,
        base: 0,
        variant: crate::core::models::Variant::FoldBn,
        check: Ok(crate::core::models::OutputCheck { max_abs: 0.0, max_rel: 0.0 }),
        delta_p50: Some(delta),
        delta_ci: Some((delta - 0.01, delta + 0.01)),
        delta_shares: Vec::new(),
        delta_split: None,
        verdict,
    }
}

/// A pending comparison gives no percentage: one side may still be a first, cold inference.
#[test]
fn a_pending_what_if_shows_no_figure() {
    let state = MonitorState::new(&["resnet50", "resnet50+fold-bn"]);
    let pending = what_if_line(&comparison(Verdict::Pending, -0.988), &state);
    assert!(pending.contains("vs resnet50: p50 not compared yet") && !pending.contains('%'), "{pending}");
    let faster = what_if_line(&comparison(Verdict::Faster, -0.2), &state);
    assert!(faster.contains("vs resnet50: p50 -20.0% [-21.0%, -19.0%] faster;"), "{faster}");
}

#[test]
fn the_legend_explains_every_short_field_once_in_text_only() {
    for field in ["n=", "prof=", "[a-b]", "ops:", "flt/inf", "cold:"] {
        assert!(LEGEND.contains(field), "{field}");
    }
    for word in ["p50", "inf/s", "s] "] {
        assert!(!LEGEND.contains(word), "a model line's {word}");
    }
    let (mut text, mut jsonl) = (Vec::new(), Vec::new());
    legend(&mut text, LineFormat::Text).unwrap();
    legend(&mut jsonl, LineFormat::Jsonl).unwrap();
    assert_eq!((String::from_utf8(text).unwrap().lines().count(), jsonl.len()), (1, 0));
}

#[test]
fn figures_keep_three_digits() {
    assert_eq!([figure(0.042_13), figure(4.213), figure(42.13), figure(421.3)], ["0.042", "4.21", "42.1", "421"]);
}
