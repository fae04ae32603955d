//! The sampler on recorded board layouts (`tests/fixtures/sysfs/*`, described in its README),
//! and a throttling episode played by rewriting a copy of one between samples.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "sysfs_fixture/trees.rs"]
mod trees;

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use infertop::core::machine::{Sampler, SamplerConfig, SystemSample, ThrottleBits, ThrottleSource, ThrottleState};
use trees::{copy_of, fixture, offline, sample_of, write};

fn temps(sample: &SystemSample) -> Vec<(&str, f64)> {
    sample.temps.iter().map(|t| (t.name.as_str(), t.celsius)).collect()
}

fn bits(nibble: u32) -> ThrottleBits {
    ThrottleBits::from_nibble(nibble)
}

const RPI4_TEMP: &str = "sys/class/thermal/thermal_zone0/temp";
const RPI4_CUR: &str = "sys/devices/system/cpu/cpufreq/policy0/scaling_cur_freq";
const RPI4_FLAGS: &str = "sys/devices/platform/soc/soc:firmware/get_throttled";

#[test]
fn rpi4() {
    let sample = sample_of("rpi4");
    // The `cpu_thermal` hwmon mirrors the zone and is not listed twice.
    assert_eq!(temps(&sample), [("cpu-thermal", 48.686)]);
    assert_eq!(sample.headline_temp().map(|t| t.name.as_str()), Some("cpu-thermal"));
    assert_eq!(sample.cpufreq.len(), 1);
    let policy = &sample.cpufreq[0];
    assert_eq!((policy.policy, policy.cpus.as_slice()), (0, &[0, 1, 2, 3][..]));
    assert_eq!((policy.min_khz, policy.max_khz), (Some(600_000), Some(1_800_000)));
    assert_eq!(policy.governor.as_deref(), Some("ondemand"));
    assert_eq!(sample.max_cur_mhz(), Some(1800.0));
    assert_eq!(sample.is_freq_capped(), Some(false));

    // 0x50000: under-voltage and throttling happened since boot, before this run.
    let report = sample.throttle.report().expect("firmware flags");
    assert_eq!(report.source, ThrottleSource::FirmwareSysfs);
    assert_eq!(report.raw, Some(0x5_0000));
    assert_eq!(report.now, bits(0));
    assert_eq!(report.since_boot, Some(bits(0b0101)));
    assert_eq!(report.during_run, bits(0));
    assert_eq!(sample.is_throttled(), Some(false));
}

#[test]
fn rpi5_firmware_node_is_found_elsewhere() {
    let sample = sample_of("rpi5");
    assert_eq!(temps(&sample), [("cpu-thermal", 57.25)]);
    assert_eq!(sample.max_policy_mhz(), Some(2400.0));
    assert_eq!(sample.cpufreq[0].min_khz, Some(1_500_000));
    let report = sample.throttle.report().expect("firmware flags");
    assert_eq!((report.source, report.raw), (ThrottleSource::FirmwareSysfs, Some(0)));
    assert_eq!(sample.is_throttled(), Some(false));
}

#[test]
fn rpi5_without_firmware_file_falls_back_to_the_under_voltage_alarm() {
    let root = copy_of("rpi5");
    fs::remove_dir_all(root.path().join("sys/devices/platform/soc@107c000000")).unwrap();
    let alarm = root.path().join("sys/class/hwmon/hwmon2/in0_lcrit_alarm");
    let mut sampler = offline(root.path());
    let t0 = Instant::now();

    let report = sampler.sample_at(t0).throttle.report().cloned().expect("alarm");
    assert_eq!(report.source, ThrottleSource::UnderVoltageAlarm);
    assert_eq!((report.raw, report.since_boot), (None, None));
    assert_eq!(report.now, bits(0));

    fs::write(&alarm, "1\n").unwrap();
    let sample = sampler.sample_at(t0 + Duration::from_secs(2));
    assert_eq!(sample.throttle.report().unwrap().now, bits(1));
    assert_eq!(sample.is_throttled(), Some(true));

    fs::write(&alarm, "0\n").unwrap();
    let sample = sampler.sample_at(t0 + Duration::from_secs(4));
    let report = sample.throttle.report().unwrap();
    assert_eq!((report.now, report.during_run), (bits(0), bits(1)));
    // A clear alarm says nothing about heat.
    assert_eq!(sample.throttle.is_throttled(), None);
}

#[test]
fn jetson_orin_nano() {
    let sample = sample_of("jetson-orin-nano");
    // The DLA zones' −256 °C sentinels are dropped; the rest keep the board's own names.
    let names: Vec<&str> = sample.temps.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["cpu-thermal", "gpu-thermal", "soc0-thermal", "soc1-thermal", "soc2-thermal", "tj-thermal"]);
    let hottest = sample.hottest().unwrap();
    assert_eq!((hottest.name.as_str(), hottest.celsius), ("tj-thermal", 52.062));
    // The junction maximum covers GPU and SoC too; the headline is the CPU's own zone.
    let cpu = sample.headline_temp().unwrap();
    assert_eq!((cpu.name.as_str(), cpu.celsius), ("cpu-thermal", 51.468));

    let clusters: Vec<(u32, &[u32])> = sample.cpufreq.iter().map(|p| (p.policy, p.cpus.as_slice())).collect();
    assert_eq!(clusters, [(0, &[0, 1, 2, 3][..]), (4, &[4, 5][..])]);
    assert_eq!(sample.cpufreq[1].cur_mhz(), Some(729.6));
    assert_eq!(sample.max_cur_mhz(), Some(1510.4));
    assert_eq!(sample.max_policy_mhz(), Some(1510.4));
    // No firmware flags on a Jetson: what is known comes from the kernel (see below).
    assert_eq!(sample.throttle, ThrottleState::Unknown);
}

#[test]
fn x86_laptop() {
    let sample = sample_of("x86-laptop");
    assert_eq!(
        temps(&sample),
        [
            ("acpitz", 27.8),
            ("acpitz#2", 29.8),
            ("x86_pkg_temp", 53.0),
            ("nvme/Composite", 38.85),
            ("coretemp/Package id 0", 53.0),
            ("coretemp/Core 0", 51.0),
            ("coretemp/Core 1", 53.0),
            ("coretemp/Core 2", 49.0),
            ("coretemp/Core 3", 50.0),
        ]
    );
    let per_cpu: Vec<(u32, Vec<u32>)> = sample.cpufreq.iter().map(|p| (p.policy, p.cpus.clone())).collect();
    assert_eq!(per_cpu, [(0, vec![0]), (1, vec![1]), (2, vec![2]), (3, vec![3])]);
    assert!(sample.cpufreq.iter().all(|p| p.governor.as_deref() == Some("powersave")));
    assert_eq!(sample.max_cur_mhz(), Some(4193.0));
    assert_eq!(sample.max_policy_mhz(), Some(4700.0));
    assert_eq!(sample.throttle, ThrottleState::Unknown);
    assert_eq!(sample.headline_temp().map(|t| (t.is_cpu(), t.celsius)), Some((true, 53.0)));
}

/// An `intel_pstate` machine as such machines lay it out, its cpufreq folders holding only
/// `scaling_*` files, its hottest chip a Wi-Fi radio: the clock is `scaling_cur_freq`, the cap
/// unknown without `cpuinfo_max_freq`, the headline temperature the CPU package's, and every
/// sensor is still listed.
#[test]
fn x86_intel_pstate() {
    let sample = sample_of("x86-intel-pstate");
    let clocks: Vec<(u32, Option<u64>)> = sample.cpufreq.iter().map(|p| (p.policy, p.cur_khz)).collect();
    assert_eq!(clocks, [(0, Some(1_200_000)), (1, Some(3_400_000)), (2, Some(800_000)), (3, Some(2_100_000))]);
    assert_eq!((sample.max_cur_mhz(), sample.max_policy_mhz()), (Some(3400.0), None));
    assert!(sample.cpufreq.iter().all(|p| p.scaling_max_khz == Some(4_600_000) && p.is_limited().is_none()));
    // The `Processor` cooling devices at state 0 do not make a limit of unknown size no cap.
    assert_eq!(sample.is_freq_capped(), None);

    let headline = sample.headline_temp().unwrap();
    assert_eq!((headline.name.as_str(), headline.celsius), ("coretemp/Package id 0", 48.0));
    assert_eq!(sample.hottest().map(|t| (t.name.as_str(), t.celsius)), Some(("mt7996_phy0_2/temp1", 57.0)));
    assert_eq!(
        temps(&sample),
        [
            ("acpitz", 27.8),
            ("x86_pkg_temp", 48.0),
            ("coretemp/Package id 0", 48.0),
            ("coretemp/Core 0", 46.0),
            ("coretemp/Core 1", 47.0),
            ("coretemp/Core 2", 44.0),
            ("coretemp/Core 3", 45.0),
            ("nvme/Composite", 36.85),
            ("mt7996_phy0_2/temp1", 57.0),
        ]
    );
    // The counters and cooling devices can tell: not throttled.
    assert_eq!(sample.is_throttled(), Some(false));
}

/// The same machine recorded through the per-CPU view (`cpuN/cpufreq/`, as `node_exporter` reads
/// it), with no `cpufreq/policyN` folders: each CPU's clock is still read.
#[test]
fn per_cpu_cpufreq_folders_give_the_clock_without_policy_folders() {
    let root = copy_of("x86-intel-pstate");
    let cpu = root.path().join("sys/devices/system/cpu");
    for n in 0..4 {
        fs::rename(cpu.join(format!("cpufreq/policy{n}")), cpu.join(format!("cpu{n}/cpufreq"))).unwrap();
    }
    fs::remove_dir(cpu.join("cpufreq")).unwrap();
    let sample = offline(root.path()).sample();
    let clocks: Vec<(u32, Option<u64>)> = sample.cpufreq.iter().map(|p| (p.policy, p.cur_khz)).collect();
    assert_eq!(clocks, [(0, Some(1_200_000)), (1, Some(3_400_000)), (2, Some(800_000)), (3, Some(2_100_000))]);
    assert_eq!(sample.max_cur_mhz(), Some(3400.0));
}

#[test]
fn vm_has_no_sensors() {
    let sample = sample_of("vm");
    assert!(sample.temps.is_empty() && sample.cpufreq.is_empty());
    assert_eq!((sample.hottest(), sample.headline_temp()), (None, None));
    assert_eq!((sample.max_cur_mhz(), sample.max_policy_mhz()), (None, None));
    assert_eq!((sample.is_freq_capped(), sample.is_throttled()), (None, None));
    assert_eq!(sample.throttle, ThrottleState::Unknown);
    assert_eq!((sample.memory, sample.load, sample.process_rss_bytes), (None, None, None));

    // A root with no `sys` at all reads the same.
    let empty = tempfile::tempdir().unwrap();
    let sample = offline(empty.path()).sample();
    assert_eq!(sample, SystemSample { at_ms: sample.at_ms, ..SystemSample::default() });
}

#[test]
fn malformed_files_read_as_missing() {
    let root = copy_of("rpi4");
    let root = root.path();
    write(root, RPI4_TEMP, "garbage");
    write(root, RPI4_CUR, "");
    write(root, "sys/devices/system/cpu/cpufreq/policy0/related_cpus", "zero one");
    write(root, RPI4_FLAGS, "not hex");
    write(root, "sys/class/hwmon/hwmon1/in0_lcrit_alarm", "maybe");
    let sample = offline(root).sample();
    // The zone is gone, and its hwmon mirror is still recognised as one.
    assert!(sample.temps.is_empty());
    let policy = &sample.cpufreq[0];
    assert_eq!((policy.cur_khz, policy.cpus.is_empty()), (None, true));
    assert_eq!(policy.max_khz, Some(1_800_000));
    assert_eq!(sample.throttle, ThrottleState::Unknown);
}

#[test]
fn the_sampler_can_move_to_a_sampling_thread() {
    fn send<T: Send + 'static>() {}
    send::<Sampler>();
    send::<SystemSample>();
}

#[test]
fn host_statistics_come_from_this_machine() {
    let mut sampler =
        Sampler::new(SamplerConfig { root: fixture("vm"), throttle_command: None, ..SamplerConfig::default() });
    let sample = sampler.sample();
    assert!(!sample.usage_pct.is_empty());
    assert!(sample.usage_pct.iter().all(|u| (0.0..=100.0).contains(u)));
    let memory = sample.memory.expect("memory of this machine");
    assert!(memory.total_bytes > 0 && memory.used_bytes <= memory.total_bytes);
    assert!(sample.load.is_some());
    assert!(sample.process_rss_bytes.is_some_and(|rss| rss > 0));
    assert!(sample.process_cpu_pct.is_some() && sample.process_cpu_time_ms.is_some());
    // Sensors still come from the (empty) root, not from this machine.
    assert!(sample.temps.is_empty() && sample.cpufreq.is_empty());
}

/// A Pi 4 heats up under load, the firmware throttles it and lets go again. The tree starts at
/// `50000`: under-voltage and throttling happened since boot, before this run.
#[test]
fn throttling_episode() {
    let root = copy_of("rpi4");
    let root = root.path();
    let mut sampler = offline(root);
    let t0 = Instant::now();
    let at = |secs: f64| t0 + Duration::from_secs_f64(secs);

    let sample = sampler.sample_at(t0);
    assert_eq!(temps(&sample), [("cpu-thermal", 48.686)]);
    let report = sample.throttle.report().unwrap();
    assert_eq!((report.since_boot, report.during_run), (Some(bits(0b0101)), bits(0)));
    assert_eq!(sample.is_throttled(), Some(false));

    // Hot: the firmware caps and throttles (now: capped, throttled, soft limit; since boot:
    // all four). cpufreq on a Pi keeps showing the requested clock; here the kernel shows a
    // lower one. The flags are not read again within 2 s.
    write(root, RPI4_TEMP, "81234");
    write(root, RPI4_CUR, "1500000");
    write(root, RPI4_FLAGS, "f000e");
    let mut sample = sampler.sample_at(at(1.0));
    assert_eq!(temps(&sample), [("cpu-thermal", 81.234)]);
    assert_eq!(sample.max_cur_mhz(), Some(1500.0));
    assert_eq!(sample.throttle.report().unwrap().raw, Some(0x5_0000), "re-read within 2 s");
    assert_eq!(sample.is_throttled(), Some(false));
    // A clock below the maximum is no cap, busy core or not: nothing lowered the limit.
    assert_eq!(sample.is_freq_capped(), Some(false));
    sample.usage_pct = vec![100.0, 3.0, 2.0, 1.0];
    assert_eq!(sample.is_freq_capped(), Some(false));

    let sample = sampler.sample_at(at(2.0));
    let report = sample.throttle.report().unwrap();
    assert_eq!(report.raw, Some(0xF_000E));
    assert_eq!(report.now, bits(0b1110));
    assert_eq!(report.since_boot, Some(bits(0b1111)));
    // Under-voltage happened before the run only; the rest during it.
    assert_eq!(report.during_run, bits(0b1110));
    assert_eq!(sample.is_throttled(), Some(true));

    // Cooled down: "now" clears, "since boot" and "during this run" stay.
    write(root, RPI4_TEMP, "62500");
    write(root, RPI4_CUR, "1800000");
    write(root, RPI4_FLAGS, "f0000");
    let sample = sampler.sample_at(at(4.5));
    let report = sample.throttle.report().unwrap();
    assert_eq!((report.now, report.since_boot), (bits(0), Some(bits(0b1111))));
    assert_eq!(report.during_run, bits(0b1110));
    assert_eq!(sample.is_throttled(), Some(false));
    assert_eq!(sample.max_cur_mhz(), Some(1800.0));
    // Milliseconds since the sampler was made, a moment before `t0`.
    assert!((4500..4600).contains(&sample.at_ms), "{}", sample.at_ms);
}

/// Under-voltage now at the first sample (0x50005), then gone (0x50000): it happened during
/// the run, though the "since boot" bits were already set at the first sample.
#[test]
fn now_bits_at_the_first_sample_belong_to_the_run() {
    let root = copy_of("rpi4");
    write(root.path(), RPI4_FLAGS, "50005");
    let mut sampler = offline(root.path());
    let t0 = Instant::now();
    let report = sampler.sample_at(t0).throttle.report().cloned().unwrap();
    assert_eq!((report.now, report.during_run), (bits(0b0101), bits(0b0101)));

    write(root.path(), RPI4_FLAGS, "50000");
    let report = sampler.sample_at(t0 + Duration::from_secs(2)).throttle.report().cloned().unwrap();
    assert_eq!(report.now, bits(0));
    assert_eq!(report.since_boot, Some(bits(0b0101)));
    assert_eq!(report.during_run, bits(0b0101));
}

/// A run whose reading interval is shorter than the firmware's, and measured clocks.
#[test]
fn interval_is_configurable_and_a_low_measured_clock_is_no_cap() {
    let root = copy_of("rpi4");
    let mut sampler = Sampler::new(SamplerConfig {
        root: root.path().to_owned(),
        throttle_command: None,
        throttle_interval: Duration::ZERO,
        power_command: None,
        system_stats: false,
    });
    assert_eq!(sampler.sample().throttle.report().unwrap().raw, Some(0x5_0000));
    write(root.path(), RPI4_FLAGS, "80008");
    let mut sample = sampler.sample();
    assert_eq!(sample.throttle.report().unwrap().raw, Some(0x8_0008));
    // cpufreq says 1800 MHz, the loop measured 1200: the firmware holds the clock down, and
    // its flags say so (soft temperature limit now); the kernel's limit is untouched.
    sample.measured_mhz = Some(1200.0);
    assert_eq!(sample.is_freq_capped(), Some(false));
    assert_eq!(sample.is_throttled(), Some(true));
}

#[cfg(unix)]
#[test]
fn the_throttle_command_is_a_fallback_and_given_up_after_a_failure() {
    let vm = fixture("vm");
    let fake = |script: &str| Some(vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()]);
    let mut sampler = Sampler::new(SamplerConfig {
        root: vm.clone(),
        throttle_command: fake("echo throttled=0x50005"),
        system_stats: false,
        ..SamplerConfig::default()
    });
    let report = sampler.sample().throttle.report().cloned().expect("from the command");
    assert_eq!((report.source, report.raw), (ThrottleSource::Vcgencmd, Some(0x5_0005)));

    // A failing command is run once, then never again.
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let script = format!("echo run >> '{}'; echo 'VCHI initialization failed'; exit 255", runs.display());
    let mut sampler = Sampler::new(SamplerConfig {
        root: vm,
        throttle_command: fake(&script),
        throttle_interval: Duration::ZERO,
        power_command: None,
        system_stats: false,
    });
    assert_eq!(sampler.sample().throttle, ThrottleState::Unknown);
    assert_eq!(sampler.sample().throttle, ThrottleState::Unknown);
    assert_eq!(fs::read_to_string(&runs).unwrap(), "run\n");
}

/// The firmware file wins over the command, which is then never run.
#[cfg(unix)]
#[test]
fn the_firmware_file_wins_over_the_command() {
    let mut sampler = Sampler::new(SamplerConfig {
        root: fixture("rpi4"),
        throttle_command: Some(vec!["sh".into(), "-c".into(), "echo throttled=0xf".into()]),
        system_stats: false,
        ..SamplerConfig::default()
    });
    let report = sampler.sample().throttle.report().cloned().unwrap();
    assert_eq!((report.source, report.raw), (ThrottleSource::FirmwareSysfs, Some(0x5_0000)));
}

#[test]
fn an_implausible_clock_reads_as_missing() {
    let root = copy_of("rpi4");
    write(root.path(), "sys/devices/system/cpu/cpufreq/policy0/cpuinfo_max_freq", "18446744073709551615");
    let sample = offline(root.path()).sample();
    assert_eq!(sample.cpufreq[0].max_khz, None);
    assert_eq!(sample.max_policy_mhz(), None, "not 18446744073709552 MHz");
    assert_eq!(sample.max_cur_mhz(), Some(1800.0), "the other clocks still read");
}

/// A sampler over the sensorless fixture whose throttle command is `sh -c script`.
#[cfg(unix)]
fn with_command(script: &str) -> Sampler {
    Sampler::new(SamplerConfig {
        root: fixture("vm"),
        throttle_command: Some(vec!["sh".into(), "-c".into(), script.into()]),
        system_stats: false,
        ..SamplerConfig::default()
    })
}

/// A process the command starts in the background keeps the output pipe open after the command
/// has exited; its output is read without waiting for that process (which would take longer
/// than the sampler waits for sensors).
#[cfg(unix)]
#[test]
fn a_command_leaving_a_process_behind_is_read_without_waiting_for_it() {
    let mut sampler = with_command("echo throttled=0x50005; sleep 5 &");
    let report = sampler.sample().throttle.report().cloned().expect("read from the command");
    assert_eq!((report.source, report.raw), (ThrottleSource::Vcgencmd, Some(0x5_0005)));
}

/// A command that never finishes is killed and reaped when its time is up: no process is left,
/// not even a zombie.
#[cfg(unix)]
#[test]
fn a_hanging_command_is_killed_and_reaped() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let mut sampler = with_command(&format!("echo $$ > '{}'; exec sleep 30", pid_file.display()));
    assert_eq!(sampler.sample().throttle, ThrottleState::Unknown);
    let pid = fs::read_to_string(&pid_file).unwrap();
    let proc_entry = PathBuf::from(format!("/proc/{}", pid.trim()));
    assert!(!proc_entry.exists(), "process {} is still there", pid.trim());
}
