//! Power and energy on the recorded board trees (`tests/fixtures/sysfs/*`): each board's source,
//! watts from V × I, from a chip's own power register and from energy counters (across a
//! wrap), "needs root" apart from 0, the PMIC command, and energy per inference charged over
//! intervals played by rewriting a copy of a tree between samples.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "sysfs_fixture/trees.rs"]
mod trees;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use infertop::core::machine::{PowerReading, PowerScope};
use infertop::core::machine::{Sampler, SamplerConfig};
use infertop::core::profiling::{NodeInfo, NodeKind};
use infertop::core::run::{Event, Inference};
use infertop::core::state::MonitorState;
use infertop::export::model_rows;
use trees::{copy_of, fixture, offline, sample_of, write};

const JETSON_VOLTS: &str = "sys/class/hwmon/hwmon1/in1_input";
const JETSON_AMPS: &str = "sys/class/hwmon/hwmon1/curr1_input";
const LAPTOP_PACKAGE: &str = "sys/class/powercap/intel-rapl:0/energy_uj";
const LAPTOP_ZONES: [&str; 3] = ["intel-rapl:0", "intel-rapl:0:0", "intel-rapl:0:1"];

fn power(sample: &infertop::core::machine::SystemSample) -> &PowerReading {
    sample.power.as_deref().expect("a power source")
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9 * b.abs().max(1.0))
}

#[test]
fn jetson_orin_nano_reads_its_input_rail_as_volts_times_amps() {
    let sample = sample_of("jetson-orin-nano");
    let p = power(&sample);
    assert_eq!((p.source.as_str(), p.scope, p.needs_root), ("ina3221/VDD_IN", PowerScope::BoardInput, false));
    // 5.064 V × 1.232 A; in4..in7 and curr4 (shunt voltages and sums) are no rails.
    assert!(close(p.watts, 6.238_848), "{:?}", p.watts);
    let rails: Vec<(&str, Option<f64>)> = p.rails.iter().map(|r| (r.name.as_str(), r.watts)).collect();
    assert_eq!(rails.len(), 3, "{rails:?}");
    assert_eq!(rails[1].0, "ina3221/VDD_CPU_GPU_CV");
    assert!(close(rails[1].1, 5.056 * 0.304) && close(rails[2].1, 5.056 * 0.272));
    assert_eq!(p.interval_watts, None, "a first reading has no interval");
    assert!(p.counters.is_empty());
}

#[test]
fn rpi4_reads_its_ina219_hat_from_the_chip_power_register() {
    let p = sample_of("rpi4").power.expect("the HAT");
    assert_eq!((p.source.as_str(), p.scope), ("ina219", PowerScope::BoardInput));
    // The chip's 6.17 W, not 5.104 V × 1.21 A = 6.17584 W: one bus transfer, not three.
    assert_eq!(p.watts, Some(6.17));
    assert_eq!((p.rails[0].volts, p.rails[0].amps), (None, None));
    let root = copy_of("rpi4");
    write(root.path(), "sys/class/hwmon/hwmon2/power1_input", "");
    let p = offline(root.path()).sample().power.unwrap();
    assert!(close(p.watts, 5.104 * 1.21), "without the register, V × I: {:?}", p.watts);
}

#[test]
fn machines_without_a_source_have_no_power_not_zero() {
    assert_eq!(sample_of("vm").power, None);
    // A Pi 5 has no power monitor of its own; without the PMIC command there is nothing.
    assert_eq!(sample_of("rpi5").power, None);
}

/// The package counter rises by 12.5 J in one second: 12.5 W. Parts are read and reported.
#[test]
fn x86_watts_come_from_the_package_counter_over_the_interval() {
    let root = copy_of("x86-laptop");
    let mut sampler = offline(root.path());
    let t0 = Instant::now();
    let first = sampler.sample_at(t0);
    let p = power(&first);
    assert_eq!((p.source.as_str(), p.scope, p.needs_root), ("RAPL package-0", PowerScope::CpuPackage, false));
    assert_eq!((p.watts, p.interval_watts), (None, None), "a counter needs two readings");
    let counters: Vec<(&str, Option<u64>)> = p.counters.iter().map(|c| (c.name.as_str(), c.energy_uj)).collect();
    assert_eq!(
        counters,
        [
            ("package-0", Some(73_410_563_210)),
            ("package-0/core", Some(31_865_220_374)),
            ("package-0/uncore", Some(1_187_342_961))
        ]
    );

    write(root.path(), LAPTOP_PACKAGE, "73423063210");
    let second = sampler.sample_at(t0 + Duration::from_secs(1));
    let p = power(&second);
    assert!(close(p.interval_watts, 12.5) && close(p.watts, 12.5), "{p:?}");
}

/// The counter wraps at `max_energy_range_uj`: 2 J before the top, 4 J after it, in half a second.
#[test]
fn a_counter_wrap_is_no_negative_or_huge_power() {
    let root = copy_of("x86-laptop");
    write(root.path(), LAPTOP_PACKAGE, &(262_143_328_850_u64 - 2_000_000).to_string());
    let mut sampler = offline(root.path());
    let t0 = Instant::now();
    sampler.sample_at(t0);
    write(root.path(), LAPTOP_PACKAGE, "4000000");
    let p = sampler.sample_at(t0 + Duration::from_millis(500)).power.unwrap();
    // (2 000 000 + 4 000 000) µJ / 0.5 s = 12 W.
    assert!(close(p.interval_watts, 12.0), "{p:?}");

    // A counter that went back without a known range is a reset: no figure, not a wrong one.
    for zone in LAPTOP_ZONES {
        fs::remove_file(root.path().join(format!("sys/class/powercap/{zone}/max_energy_range_uj"))).unwrap();
    }
    let mut sampler = offline(root.path());
    sampler.sample_at(t0);
    write(root.path(), LAPTOP_PACKAGE, "1000");
    assert_eq!(sampler.sample_at(t0 + Duration::from_secs(1)).power.unwrap().interval_watts, None);
}

/// Drops `CAP_DAC_OVERRIDE` and `CAP_DAC_READ_SEARCH` from the calling thread's effective set,
/// so that file modes hold for it, and for the threads it starts, even when it runs as root.
/// Capabilities are per thread in Linux: other tests' threads keep theirs.
fn drop_file_permission_override() -> bool {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    const DAC_OVERRIDE_AND_READ_SEARCH: u32 = (1 << 1) | (1 << 2);
    let mut header = Header { version: VERSION_3, pid: 0 };
    let mut data = [Data::default(); 2];
    // SAFETY: capget(2) and capset(2) with a version-3 header and the two data structs that
    // version uses, all owned here; pid 0 is the calling thread.
    unsafe {
        if libc::syscall(libc::SYS_capget, &raw mut header, data.as_mut_ptr()) != 0 {
            return false;
        }
        data[0].effective &= !DAC_OVERRIDE_AND_READ_SEARCH;
        libc::syscall(libc::SYS_capset, &raw const header, data.as_ptr()) == 0
    }
}

/// `energy_uj` made mode 000, as the kernel makes it 0400 for everyone but root: the source is
/// "needs root", with no watts and no counter value, never 0. Tests may run as root, whom a
/// mode does not stop; the sampler then runs on a thread that gave up root's override, so the
/// kernel really refuses the open (the error mapping alone is also checked in
/// `core::machine::sysfs`'s unit tests).
#[test]
fn a_counter_only_root_may_read_is_needs_root_not_zero() {
    use std::os::unix::fs::PermissionsExt as _;
    let root = copy_of("x86-laptop");
    let files: Vec<PathBuf> =
        LAPTOP_ZONES.iter().map(|zone| root.path().join(format!("sys/class/powercap/{zone}/energy_uj"))).collect();
    for file in &files {
        fs::set_permissions(file, fs::Permissions::from_mode(0o000)).unwrap();
    }
    let tree = root.path().to_owned();
    let probe = files[0].clone();
    let sample = std::thread::spawn(move || {
        if fs::read(&probe).is_ok() && !(drop_file_permission_override() && fs::read(&probe).is_err()) {
            return None;
        }
        let mut sampler = offline(&tree);
        let t0 = Instant::now();
        sampler.sample_at(t0);
        Some(sampler.sample_at(t0 + Duration::from_secs(1)))
    })
    .join()
    .unwrap();
    let Some(sample) = sample else {
        // Only when this thread cannot give up root's override (capset refused by a sandbox).
        eprintln!("skipped: a mode-000 file stays readable here, so no refusal can be played");
        return;
    };
    let p = power(&sample);
    assert!(p.needs_root, "{p:?}");
    assert_eq!((p.source.as_str(), p.watts, p.interval_watts), ("RAPL package-0", None, None));
    assert!(p.counters.iter().all(|c| c.needs_root && c.energy_uj.is_none()), "{:?}", p.counters);

    // Energy per inference stays unknown: the models.csv fields are empty, not 0.
    let mut state = MonitorState::new(&["tiny"]);
    state.apply(inference(0, 20, false));
    state.apply(Event::System(sample));
    let rows = model_rows(&state);
    assert_eq!(
        (rows[0].energy_mj_per_inference, rows[0].power_source.as_deref(), rows[0].energy_iterations),
        (None, None, 0)
    );
}

fn pmic_sampler(root: &Path, script: String) -> Sampler {
    Sampler::new(SamplerConfig {
        root: root.to_owned(),
        throttle_command: None,
        power_command: Some(vec!["sh".into(), "-c".into(), script]),
        system_stats: false,
        ..SamplerConfig::default()
    })
}

/// A Pi 5 without a power monitor asks the PMIC, at most once a second.
#[test]
fn a_pi5_reads_its_pmic_rails_through_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let recorded = fixture("../commands/rpi5-pmic_read_adc.txt");
    let mut sampler =
        pmic_sampler(&fixture("rpi5"), format!("echo run >> '{}'; cat '{}'", runs.display(), recorded.display()));
    let t0 = Instant::now();
    let p = sampler.sample_at(t0).power.expect("the PMIC");
    assert_eq!((p.source.as_str(), p.scope), ("PMIC rails", PowerScope::PmicRails));
    // The rails' V × I added up, as worked out by hand in `core::machine::power::pmic`.
    assert!((p.watts.unwrap() - 4.501_49).abs() < 1e-5, "{:?}", p.watts);
    assert_eq!(p.rails.len(), 12);
    let held = sampler.sample_at(t0 + Duration::from_millis(500)).power.unwrap();
    assert_eq!((held.watts, held.interval_watts), (p.watts, p.watts), "kept between runs");
    sampler.sample_at(t0 + Duration::from_secs(1));
    assert_eq!(fs::read_to_string(&runs).unwrap(), "run\nrun\n");
}

#[test]
fn a_failing_pmic_command_is_run_once_and_power_stays_n_a() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let script = format!("echo run >> '{}'; echo 'error=1 error_msg=\"Command not registered\"'", runs.display());
    let mut sampler = pmic_sampler(&fixture("vm"), script);
    let t0 = Instant::now();
    assert_eq!(sampler.sample_at(t0).power, None);
    assert_eq!(sampler.sample_at(t0 + Duration::from_secs(5)).power, None);
    assert_eq!(fs::read_to_string(&runs).unwrap(), "run\n");
}

fn inference(model: usize, ms: u64, cold: bool) -> Event {
    Event::Inference(Inference {
        model,
        seq: 0,
        wall_ns: ms * 1_000_000,
        at_ns: 0,
        profiled: false,
        cold,
        usage: None,
        ops: Vec::new(),
    })
}

/// Model 0 does 2 GMAC per inference: a scope with one convolution under it.
fn two_gmac_model() -> [Event; 2] {
    let node = |id, parent, kind, name: &str, macs| NodeInfo {
        id,
        parent,
        kind,
        name: Arc::from(name),
        calib_calls: 1,
        macs,
        bytes: 0.0,
        call_shapes: Arc::default(),
    };
    [
        Event::Nodes(vec![
            node(0, None, NodeKind::Scope, "resnet", 0.0),
            node(1, Some(0), NodeKind::Op, "aten::conv2d", 2e9),
        ]),
        Event::ModelScope { model: 0, scope: 0 },
    ]
}

/// Two intervals of a Jetson whose input rail is rewritten between samples, with inferences of
/// two models in between; the energy per inference is worked out by hand:
///
/// ```text
/// sample 0  5.064 V × 1.232 A = 6.238848 W   (no interval before it: model 1's 100 ms
///                                              inference is charged nothing)
/// sample 1  5.048 V × 1.480 A = 7.47104 W    interval mean (6.238848 + 7.47104) / 2 = 6.854944 W
///           model 0 ran 40 + 50 + 30 = 120 ms → 6.854944 × 120 = 822.59328 mJ
/// sample 2  5.056 V × 1.320 A = 6.67392 W    interval mean (7.47104 + 6.67392) / 2 = 7.07248 W
///           model 0 ran 60 ms → 7.07248 × 60 = 424.3488 mJ
///           model 1 ran 20 + 25 ms (its cold 80 ms inference is kept out) → 318.2616 mJ
/// model 0: (822.59328 + 424.3488) / 4 = 311.73552 mJ/inf, / 2 GMAC = 155.86776 mJ/GMAC
/// model 1: 318.2616 / 2 = 159.1308 mJ/inf, no MAC count so no mJ/GMAC
/// ```
#[test]
fn energy_per_inference_is_the_interval_power_times_the_inference_time() {
    let root = copy_of("jetson-orin-nano");
    let mut sampler = offline(root.path());
    let mut state = MonitorState::new(&["resnet", "mobilenet"]);
    for event in two_gmac_model() {
        state.apply(event);
    }
    let t0 = Instant::now();

    state.apply(inference(1, 100, false));
    state.apply(Event::System(sampler.sample_at(t0)));
    for ms in [40, 50, 30] {
        state.apply(inference(0, ms, false));
    }
    write(root.path(), JETSON_VOLTS, "5048");
    write(root.path(), JETSON_AMPS, "1480");
    state.apply(Event::System(sampler.sample_at(t0 + Duration::from_secs(1))));
    for (model, ms, cold) in [(0, 60, false), (1, 20, false), (1, 80, true), (1, 25, false)] {
        state.apply(inference(model, ms, cold));
    }
    write(root.path(), JETSON_VOLTS, "5056");
    write(root.path(), JETSON_AMPS, "1320");
    let last = sampler.sample_at(t0 + Duration::from_secs(2));
    assert!(close(power(&last).interval_watts, 7.072_48));
    state.apply(Event::System(last));

    let rows = model_rows(&state);
    assert!(close(rows[0].energy_mj_per_inference, 311.735_52), "{:?}", rows[0].energy_mj_per_inference);
    assert!(close(rows[0].energy_mj_per_gmac, 155.867_76), "{:?}", rows[0].energy_mj_per_gmac);
    assert_eq!((rows[0].energy_iterations, rows[0].power_source.as_deref()), (4, Some("ina3221/VDD_IN")));
    assert!(close(rows[1].energy_mj_per_inference, 159.1308), "{:?}", rows[1].energy_mj_per_inference);
    assert_eq!((rows[1].energy_mj_per_gmac, rows[1].energy_iterations), (None, 2));

    // A reset forgets energy as it forgets latency.
    state.reset();
    assert_eq!(model_rows(&state)[0].energy_mj_per_inference, None);
}

/// On a machine without a source the energy columns of `models.csv` are empty, never 0.
#[test]
fn without_a_source_models_csv_has_empty_energy_fields() {
    let mut sampler = offline(&fixture("vm"));
    let mut state = MonitorState::new(&["tiny"]);
    let t0 = Instant::now();
    state.apply(Event::System(sampler.sample_at(t0)));
    state.apply(inference(0, 20, false));
    state.apply(Event::System(sampler.sample_at(t0 + Duration::from_secs(1))));
    let mut csv = csv::Writer::from_writer(Vec::new());
    for row in model_rows(&state) {
        csv.serialize(row).unwrap();
    }
    let text = String::from_utf8(csv.into_inner().unwrap()).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    for column in ["energy_mj_per_inference", "energy_mj_per_gmac", "power_source"] {
        let i = header.iter().position(|h| *h == column).unwrap_or_else(|| panic!("no {column} column"));
        assert_eq!(row[i], "", "{column}");
    }
    let i = header.iter().position(|h| *h == "energy_iterations").unwrap();
    assert_eq!(row[i], "0");
}
