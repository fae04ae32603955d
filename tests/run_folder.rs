//! The run folder from the library's side, with fixed entries: periodic exports append to the
//! time series and rewrite the rest, so the folder grows by the same amount for the same
//! amount of measuring; rows rotate into parts without loss; a folder never published
//! disappears when the run is discarded; a final export that fails lands in the temporary
//! folder.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use infertop::core::machine::{CpuFreqPolicy, SystemSample, TempReading};
use infertop::core::machine::{PowerReading, PowerScope};
use infertop::core::run::{Event, Inference, ModelInfo};
use infertop::core::run::{InferenceEntry, JournalEntry, JournalSink, SampleEntry};
use infertop::core::state::MonitorState;
use infertop::export::{FinalSnapshot, Report, RunExport, RunMeta};

fn meta() -> RunMeta {
    RunMeta {
        threads: 1,
        op_profile: false,
        manifest_source: "built-in".into(),
        sample_every: Some(Duration::from_millis(500)),
        sysfs_root: PathBuf::from("/"),
        started_at: SystemTime::now(),
        front_end: "headless".into(),
        duration: None,
        args: vec![],
        schedule: infertop::core::run::Schedule::RoundRobin,
        profile_every: 4,
        warmup: 2,
        iterations: None,
    }
}

/// A run of two models, fed one round at a time to the state and to the journal alike, as the
/// session does.
struct Run {
    state: MonitorState,
    journal: JournalSink,
    seq: u64,
    samples: u64,
}

impl Run {
    fn new(journal: JournalSink) -> Self {
        let mut state = MonitorState::new(&["a", "b"]);
        for (model, name) in ["a", "b"].into_iter().enumerate() {
            let info = ModelInfo {
                name: name.into(),
                source: "arch:tiny".into(),
                params: 1,
                batch: 1,
                input: [3, 32, 32],
                top1_error: None,
                variant: None,
            };
            state.apply(Event::ModelReady { model, info });
        }
        Self { state, journal, seq: 0, samples: 0 }
    }

    /// One system sample, then `inferences` inferences alternating between the models.
    fn round(&mut self, inferences: u64) {
        self.round_with_power(inferences, None);
    }

    /// [`round`](Self::round) with the power reading `power` in the sample.
    fn round_with_power(&mut self, inferences: u64, power: Option<Box<PowerReading>>) {
        self.samples += 1;
        let sample = SystemSample {
            at_ms: self.samples * 500,
            cpufreq: vec![CpuFreqPolicy { cur_khz: Some(1_500_000), max_khz: Some(1_500_000), ..Default::default() }],
            temps: vec![TempReading { name: "cpu-thermal".into(), celsius: 50.0 }],
            measured_mhz: Some(1_490.0),
            power,
            ..SystemSample::default()
        };
        self.state.apply(Event::System(sample.clone()));
        (self.journal)(JournalEntry::Sample(Box::new(SampleEntry { sample, running_model: Some("a".into()) })));
        for _ in 0..inferences {
            self.seq += 1;
            let model = usize::from(self.seq % 2 == 0);
            let at_ns = self.samples * 500_000_000 + self.seq * 1000;
            let inference = Inference {
                model,
                seq: self.seq,
                wall_ns: 1_000_000,
                at_ns,
                profiled: self.seq % 4 == 0,
                cold: false,
                usage: None,
                ops: vec![],
            };
            self.state.apply(Event::Inference(inference));
            (self.journal)(JournalEntry::Inference(InferenceEntry {
                seq: self.seq,
                model: if model == 0 { "a".into() } else { "b".into() },
                at_ns,
                wall_ns: 1_000_000,
                profiled: self.seq % 4 == 0,
                cold: false,
                usage: None,
                machine: self.state.machine,
            }));
        }
    }
}

/// A board's input monitor whose interval's mean power is `watts` (none at its first reading).
fn board_input(interval_watts: Option<f64>) -> PowerReading {
    let mut reading = PowerReading::new("ina3221/VDD_IN".into(), PowerScope::BoardInput);
    reading.interval_watts = interval_watts;
    reading
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Asks for an export and waits for the writer to say where it went.
fn export(rt: &tokio::runtime::Runtime, folder: &mut RunExport, state: &MonitorState) -> PathBuf {
    assert!(folder.request_export(state));
    match rt.block_on(folder.report()) {
        Report::Exported(result) => result.unwrap(),
        Report::RowsLost(why) => panic!("{why}"),
    }
}

/// Size of every file in `dir`, by name.
fn sizes(dir: &Path) -> HashMap<String, u64> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), e.metadata().unwrap().len())
        })
        .collect()
}

fn run_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

fn visible(base: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(base)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[test]
fn three_periodic_exports_grow_the_folder_linearly() {
    let rt = runtime();
    let base = tempfile::tempdir().unwrap();
    let mut folder = RunExport::start(base.path(), meta(), None).unwrap();
    let mut run = Run::new(folder.journal());
    assert!(visible(base.path()).is_empty(), "nothing is visible before the first export");
    let mut series_bytes = Vec::new();
    let mut dirs = Vec::new();
    let mut system_csv: Vec<String> = Vec::new();
    for k in 1..=3u64 {
        // The same measuring between exports: four samples and 200 inferences.
        for _ in 0..4 {
            run.round(50);
        }
        let dir = export(&rt, &mut folder, &run.state);
        let json = run_json(&dir);
        let series = &json["series"];
        assert_eq!(series["inferences"]["rows"], 200 * k, "{series}");
        assert_eq!(json["inferences"], 200 * k, "the export covers exactly the state's inferences");
        assert_eq!(series["system"]["samples"], 4 * k);
        assert_eq!((json["exports"].as_u64(), json["run_ended"].as_bool()), (Some(k), Some(false)));
        let files = sizes(&dir);
        assert_eq!(files["inferences.csv"], series["inferences"]["parts"][0]["bytes"]);
        series_bytes.push(files["inferences.csv"] + files["system.csv"]);
        dirs.push(dir.clone());
        // Appended, never rewritten: what the last export covered is still the file's start.
        let text = std::fs::read_to_string(dir.join("system.csv")).unwrap();
        if let Some(before) = system_csv.last() {
            assert!(text.starts_with(before.as_str()));
        }
        system_csv.push(text);
    }
    assert!(dirs.iter().all(|d| *d == dirs[0]), "one folder: {dirs:?}");
    assert_eq!(visible(base.path()).len(), 1);
    // The same measuring adds the same bytes each time (within the digits of growing numbers).
    let steps: Vec<u64> = series_bytes.windows(2).map(|w| w[1] - w[0]).collect();
    let first = series_bytes[0];
    assert!(steps.iter().all(|s| s.abs_diff(first) * 50 < first), "series bytes {series_bytes:?}");
    let last = folder.finish(&run.state);
    let FinalSnapshot::Written(path) = &last else { panic!("{last:?}") };
    assert_eq!(*path, dirs[0]);
    let json = run_json(path);
    assert_eq!((json["exports"].as_u64(), json["run_ended"].as_bool()), (Some(4), Some(true)));
    assert_eq!(visible(base.path()).len(), 1, "{:?}", visible(base.path()));
}

#[test]
fn rotated_parts_hold_every_row_once_in_order() {
    let rt = runtime();
    let base = tempfile::tempdir().unwrap();
    let mut folder = RunExport::start(base.path(), meta(), Some(10_000)).unwrap();
    let mut run = Run::new(folder.journal());
    for _ in 0..10 {
        run.round(100);
    }
    let dir = export(&rt, &mut folder, &run.state);
    let json = run_json(&dir);
    let parts = json["series"]["inferences"]["parts"].as_array().unwrap().clone();
    assert!(parts.len() >= 5, "{parts:?}");
    let mut seqs = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let file = part["file"].as_str().unwrap();
        let expected =
            if i + 1 == parts.len() { "inferences.csv".to_string() } else { format!("inferences.{}.csv", i + 1) };
        assert_eq!(file, expected);
        let mut reader = csv::Reader::from_path(dir.join(file)).unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len() as u64, part["rows"].as_u64().unwrap(), "{file}");
        if i + 1 < parts.len() {
            let bytes = part["bytes"].as_u64().unwrap();
            assert!((10_000..10_200).contains(&bytes), "{file}: {bytes} bytes");
        }
        seqs.extend(rows.iter().map(|r| r[1].parse::<u64>().unwrap()));
    }
    assert_eq!(seqs, (1..=1000).collect::<Vec<_>>());
    assert_eq!(json["series"]["inferences"]["rows_lost"], 0);
    drop(folder.finish(&run.state));
}

#[test]
fn a_discarded_run_leaves_nothing_and_a_failed_final_export_goes_to_the_temporary_folder() {
    let base = tempfile::tempdir().unwrap();
    let folder = RunExport::start(base.path(), meta(), None).unwrap();
    let mut run = Run::new(folder.journal());
    run.round(10);
    folder.discard();
    assert!(std::fs::read_dir(base.path()).unwrap().next().is_none(), "the staging folder is gone");

    let folder = RunExport::start(base.path(), meta(), None).unwrap();
    let mut run = Run::new(folder.journal());
    run.round(10);
    // The disk goes away under the run: its staging folder with it.
    for entry in std::fs::read_dir(base.path()).unwrap() {
        std::fs::remove_dir_all(entry.unwrap().path()).unwrap();
    }
    let last = folder.finish(&run.state);
    let FinalSnapshot::Elsewhere { path, error } = &last else { panic!("{last:?}") };
    assert!(path.starts_with(std::env::temp_dir().join("infertop-snapshots")), "{}", path.display());
    assert!(error.to_string().contains(&base.path().display().to_string()), "{error}");
    assert_eq!(run_json(path)["run_ended"], true);
    std::fs::remove_dir_all(path).unwrap();
}

#[test]
fn rows_reach_the_disk_within_about_a_second_without_an_export() {
    let base = tempfile::tempdir().unwrap();
    let folder = RunExport::start(base.path(), meta(), None).unwrap();
    let mut run = Run::new(folder.journal());
    run.round(3);
    let staging = std::fs::read_dir(base.path()).unwrap().next().unwrap().unwrap().path();
    let rows = || std::fs::read_to_string(staging.join("inferences.csv")).unwrap().lines().count() - 1;
    let started = std::time::Instant::now();
    while rows() < 3 {
        assert!(started.elapsed() < Duration::from_secs(5), "rows still in memory after 5 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("rows on disk after {:?}", started.elapsed());
    folder.discard();
}

/// With a power source, each inference's energy is its interval's mean power times its wall
/// time: rows wait for the sample that closes their interval, and the run's last interval,
/// which none closes, has none.
#[test]
fn inferences_get_the_energy_of_the_interval_they_ran_in() {
    let rt = runtime();
    let base = tempfile::tempdir().unwrap();
    let mut folder = RunExport::start(base.path(), meta(), None).unwrap();
    let mut run = Run::new(folder.journal());
    run.round(4); // No power source yet: written at once, without energy.
    run.round_with_power(10, Some(Box::new(board_input(None)))); // The source's first reading: no mean power yet.
    run.round_with_power(10, Some(Box::new(board_input(Some(5.0))))); // Closes the interval of the 10 before it at 5 W.
    let dir = export(&rt, &mut folder, &run.state);
    let inferences = &run_json(&dir)["series"]["inferences"];
    assert_eq!(
        (inferences["rows"].as_u64(), inferences["rows_waiting"].as_u64()),
        (Some(14), Some(10)),
        "{inferences}"
    );
    drop(folder.finish(&run.state));
    let mut reader = csv::Reader::from_path(dir.join("inferences.csv")).unwrap();
    let energy: Vec<String> =
        reader.deserialize::<HashMap<String, String>>().map(|r| r.unwrap()["energy_mj"].clone()).collect();
    assert_eq!(energy.len(), 24);
    // 5 W for the 1 ms each ran: 5 mJ; the first four and the last ten have no figure, not 0.
    assert!(energy[..4].iter().chain(&energy[14..]).all(String::is_empty), "{energy:?}");
    assert!(energy[4..14].iter().all(|e| e.parse::<f64>().is_ok_and(|mj| (mj - 5.0).abs() < 1e-9)), "{energy:?}");
}
