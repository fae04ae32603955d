//! Recorded episodes played back (`tests/fixtures/episodes/`): the sampler sees each step when
//! its time comes, and the figures a throttling episode yields (time to first throttle, the
//! throttle penalty) equal what follows by hand from the recording; the binary plays one
//! faster than real time and its snapshot holds the recorded values in order.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;
#[path = "support/bounded_run.rs"]
mod bounded_run;
#[path = "episode/hostile.rs"]
mod hostile;
#[path = "sysfs_fixture/trees.rs"]
mod trees;

use std::path::{Path, PathBuf};
use std::time::Duration;

use infertop::core::machine::{Episode, Replay};
use infertop::core::run::{Event, Inference};
use infertop::core::state::MonitorState;

fn episode_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/episodes").join(name)
}

/// `rpi4-hot-throttle` as recorded: 62 °C and 4 W at 0 s, 74 °C at 10 s, 80.5 °C with the
/// firmware's "capped" and "throttled" flags, 1000 MHz and 6 W at 20 s, 71 °C with the flags
/// cleared (since boot kept), 1800 MHz and 5 W at 40 s.
#[test]
fn a_throttling_episode_gives_the_figures_computed_by_hand() {
    let episode = Episode::load(&episode_dir("rpi4-hot-throttle")).unwrap().expect("an episode");
    assert_eq!(episode.length(), Duration::from_secs(40));
    let scratch = tempfile::tempdir().unwrap();
    let mut replay = Replay::start(&episode, 1.0, scratch.path()).unwrap();
    let mut sampler = trees::offline(replay.root());
    let mut state = MonitorState::new(&["m"]);
    let mut seq = 0;
    let start = std::time::Instant::now();
    // A sample a second for 50 s of episode time, driven by a clock of the test's own; after
    // each, two inferences: 10 and 12 ms while cool, 15 and 17 ms while throttled.
    for second in 0..50u64 {
        replay.advance(Duration::from_secs(second));
        // The firmware's flags are read every 2 s of the sampler's clock, as on the board.
        let mut sample = sampler.sample_at(start + Duration::from_secs(second));
        sample.at_ms = second * 1000;
        let celsius = sample.hottest().map(|t| t.celsius);
        let expected = match second {
            0..=9 => 62.0,
            10..=19 => 74.0,
            20..=39 => 80.5,
            _ => 71.0,
        };
        assert_eq!(celsius, Some(expected), "temperature at {second} s");
        state.apply(Event::System(sample));
        let throttled = (20..40).contains(&second);
        assert_eq!(state.machine.throttled, Some(throttled), "throttled at {second} s");
        for ms in if throttled { [15, 17] } else { [10, 12] } {
            seq += 1;
            let inference = Inference {
                model: 0,
                seq,
                wall_ns: ms * 1_000_000,
                at_ns: second * 1_000_000_000,
                profiled: false,
                cold: false,
                usage: None,
                ops: Vec::new(),
            };
            state.apply(Event::Inference(inference));
        }
    }
    assert!(replay.finished());
    // By hand: the first throttled sample is the one at 20 s.
    assert_eq!(state.first_throttled_ms, Some(20_000));
    // By hand: 40 throttled inferences averaging 16 ms, 60 others averaging 11 ms: 16/11 - 1.
    let throttle = &state.models[0].throttle;
    assert_eq!(throttle.throttled_count(), Some(40));
    let penalty = throttle.penalty().unwrap();
    assert!((penalty - (16.0 / 11.0 - 1.0)).abs() < 1e-12, "penalty {penalty}");
    // The reported clock at the same samples: 1000 of 1800 MHz while throttled, so the
    // inferences normalised to the full clock take 15·1000/1800 and 17·1000/1800 ms then.
    let full = throttle.full_clock_ms().unwrap();
    let by_hand = (60.0 * 11.0 + 40.0 * 16.0 * 1000.0 / 1800.0) / 100.0;
    assert!((full - by_hand).abs() < 1e-9, "full-clock mean {full}, by hand {by_hand}");
    // Energy, by hand. The INA219 reads P = 4 W before 20 s, 6 W to 40 s, 5 W after. The sample
    // at second k+1 charges the two inferences of second k the mean of P(k) and P(k+1) times
    // their wall time (22 ms cool, 32 ms throttled); the last second's stay uncharged:
    //   k = 0..18: 19 × 4 W × 22 ms = 1672 mJ     k = 19: 5 W × 22 ms = 110 mJ
    //   k = 20..38: 19 × 6 W × 32 ms = 3648 mJ    k = 39: 5.5 W × 32 ms = 176 mJ
    //   k = 40..48: 9 × 5 W × 22 ms = 990 mJ      total 6596 mJ over 98 inferences.
    let energy = &state.models[0].energy;
    assert_eq!(energy.inferences, 98);
    assert!((energy.millijoules - 6596.0).abs() < 1e-6, "{} mJ", energy.millijoules);
    let per_inference = energy.per_inference_mj().unwrap();
    assert!((per_inference - 6596.0 / 98.0).abs() < 1e-9, "{per_inference} mJ per inference");
}

fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader.records().map(|r| headers.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

/// The binary plays the 40 s episode twenty times faster: `system.csv` holds the recorded
/// temperatures in their order and `run.json` the time of the first throttled sample.
#[test]
fn the_binary_plays_an_episode_faster_than_real_time() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("snaps");
    // The private copy goes to a temporary folder of this test's own, to see it removed.
    let tmp = tempfile::tempdir().unwrap();
    let out = binary::infertop()
        .env("TMPDIR", tmp.path())
        .args(["--headless", "--only", "tiny", "--threads", "1", "--no-op-profile", "--duration"])
        .arg(binary::duration(3))
        .args(["--sample-every", "100ms", "--replay-speed", "20", "--sysfs-root"])
        .arg(episode_dir("rpi4-hot-throttle"))
        .arg("--export-dir")
        .arg(&base)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}{stderr}", String::from_utf8_lossy(&out.stdout));
    let snapshot = std::fs::read_dir(&base).unwrap().next().unwrap().unwrap().path();
    let temps: Vec<f64> = read_csv(&snapshot.join("system.csv"))
        .iter()
        .filter(|r| r["metric"] == "temp_c" && r["source"] == "cpu-thermal")
        .map(|r| r["value"].parse().unwrap())
        .collect();
    let mut seen: Vec<f64> = temps.clone();
    seen.dedup();
    assert_eq!(seen, [62.0, 74.0, 80.5, 71.0], "the recorded temperatures, in order: {temps:?}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot.join("run.json")).unwrap()).unwrap();
    // 20 s of episode time is 1 s at twenty times; the sample that sees it comes up to one
    // sample interval (100 ms) later, more on a loaded machine.
    let first = run["first_throttled_ms"].as_u64().expect("a throttled sample");
    assert!((1000..2000).contains(&first), "first throttled at {first} ms");
    // The recording itself is untouched.
    let zone = episode_dir("rpi4-hot-throttle").join("../../sysfs/rpi4/sys/class/thermal/thermal_zone0/temp");
    assert_ne!(std::fs::read_to_string(zone).unwrap().trim(), "71000");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "the private copy is removed at the end: {left:?}");
}

#[test]
fn a_malformed_episode_is_one_line_naming_the_file_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("episode.toml"), "base = \".\"\n[[step]]\nat = \"soon\"\nfiles = {}\n").unwrap();
    let out = binary::infertop().args(["--headless", "--sysfs-root"]).arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("episode.toml") && stderr.contains("'soon' is not a duration"), "{stderr}");
    let plain = binary::infertop().args(["--headless", "--replay-speed", "5"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert_eq!(plain.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--replay-speed") && stderr.contains("no recorded episode"), "{stderr}");
}

/// `--soak` over an episode that settles at 80 °C, twenty times faster: the run measures cold,
/// heats until the temperature holds, measures hot, stops by itself and reports, and the
/// snapshot's `run.json` holds the same soak.
#[test]
fn a_soak_stops_at_the_plateau_and_reports_cold_against_hot() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("snaps");
    let started = std::time::Instant::now();
    let out = binary::infertop()
        .args(["--headless", "--only", "tiny", "--threads", "1", "--duration"])
        .arg(binary::duration(60))
        .args(["--soak", "--soak-phase", "1s", "--soak-window", "1s", "--print-every", "10s"])
        .args(["--sample-every", "100ms", "--replay-speed", "20", "--sysfs-root"])
        .arg(episode_dir("rpi4-soak"))
        .arg("--export-dir")
        .arg(&base)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("(soak done)"), "the soak ended the run: {stdout}");
    assert!(started.elapsed() < std::time::Duration::from_secs(50) + binary::startup_allowance(), "{stdout}");
    let report = stdout.lines().find(|l| l.starts_with("soak: ")).expect("a soak line");
    assert!(report.contains("(plateau)") && report.contains("plateau 80.0°C"), "{report}");
    let tiny = stdout.lines().find(|l| l.starts_with("soak tiny")).expect("a line for tiny");
    assert!(tiny.contains("cold ") && tiny.contains("hot ") && tiny.contains("hot/cold "), "{tiny}");
    let snapshot = std::fs::read_dir(&base).unwrap().next().unwrap().unwrap().path();
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot.join("run.json")).unwrap()).unwrap();
    let soak = &run["soak"];
    assert_eq!(soak["phase"], "done");
    assert_eq!(soak["heating_end"], "plateau");
    assert_eq!(soak["plateau_c"], 80.0);
    let (cold, hot, done) = (soak["cold_at_ms"].as_u64(), soak["hot_at_ms"].as_u64(), soak["done_at_ms"].as_u64());
    let (cold, hot, done) = (cold.unwrap(), hot.unwrap(), done.unwrap());
    // The hot phase began once 80 °C had held for the window (1 s; 80 °C comes at 2.5 s, and
    // 78.5 °C before it is outside the band), so the plateau is exactly 80 °C.
    assert!(hot >= 3000 && hot >= cold + 1000 + 1000, "cold {cold} hot {hot}");
    assert!(done >= hot + 1000, "hot {hot} done {done}");
    let model = &soak["models"][0];
    assert_eq!(model["model"], "tiny");
    assert!(model["cold"]["count"].as_u64().unwrap() > 0 && model["hot"]["count"].as_u64().unwrap() > 0, "{model}");
    // The firmware throttles from 50 s of the episode on, 2.5 s at twenty times.
    assert!(soak["first_throttled_ms"].as_u64().is_some_and(|t| t >= 2500), "{soak}");
}
