//! JSON lines (`--format jsonl`): one record per line, each with a `type`, and the same fields
//! as the CSV rows of its kind, so a log and a snapshot read alike. An unknown value is
//! `null`, never 0. `docs/jsonl.schema.json` is the schema (a JSON Schema), and the table of
//! record types in `docs/snapshots.md` is checked against it, as is every record the tests see.
//!
//! | `type` | when | fields |
//! |---|---|---|
//! | `model` | every `--print-every`, per model | `elapsed_s` and the columns of `models.csv` |
//! | `system` | every `--print-every`, before the models | `elapsed_s`, `t_ms`, `running_model`, `metrics` (`system.csv`'s rows of the latest sample as `{metric: {source: value}}`) |
//! | `snapshot` | after each export | `path`, `error`, `final` |
//! | `summary` | at the end, per model; `--summary` prints only these | `elapsed_s`, `reason` and the columns of `models.csv` |
//! | `soak` | at the end of a `--soak` run (written by `soak_lines`) | `run.json`'s `soak` object |
//! | `warning` | contention over the run, rows that could not be written | `message` |

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::core::state::MonitorState;
use crate::export::{model_rows, sample_records, ModelRecord};

/// One JSON line.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Record<'a> {
    /// A model's figures so far.
    Model {
        elapsed_s: f64,
        #[serde(flatten)]
        model: ModelRecord,
    },
    /// A model's figures at the end of the run (or of `--summary`).
    Summary {
        elapsed_s: f64,
        /// Why the run ended.
        reason: &'a str,
        #[serde(flatten)]
        model: ModelRecord,
    },
    /// The latest system sample.
    System {
        elapsed_s: f64,
        /// When the sample was taken, on `system.csv`'s clock.
        t_ms: u64,
        running_model: Option<&'a str>,
        /// Value by metric and source; a sensor the machine lacks is absent, as in the CSV.
        metrics: BTreeMap<String, BTreeMap<String, f64>>,
    },
    /// Where an export went (`path`), or why it failed (`error`); `final` for the run's last.
    Snapshot {
        path: Option<&'a Path>,
        error: Option<String>,
        #[serde(rename = "final")]
        last: bool,
    },
    Warning {
        message: String,
    },
}

impl Record<'_> {
    /// The record as one line of JSON, without the newline.
    pub(super) fn line(&self) -> String {
        // A record holds only strings, numbers and maps with string keys: it always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A `model` record per model.
pub(super) fn model_records(state: &MonitorState, elapsed: Duration) -> Vec<Record<'_>> {
    let elapsed_s = elapsed.as_secs_f64();
    model_rows(state).into_iter().map(|model| Record::Model { elapsed_s, model }).collect()
}

/// A `summary` record per model.
pub(super) fn summary_records<'a>(state: &'a MonitorState, elapsed: Duration, reason: &'a str) -> Vec<Record<'a>> {
    let elapsed_s = elapsed.as_secs_f64();
    model_rows(state).into_iter().map(|model| Record::Summary { elapsed_s, reason, model }).collect()
}

/// The `system` record of the latest sample, if there is one.
pub(super) fn system_record(state: &MonitorState, elapsed: Duration) -> Option<Record<'_>> {
    let sample = state.system.last()?;
    let running_model =
        state.running_at_sample.last().copied().flatten().and_then(|id| state.models.get(id)).map(|m| &*m.name);
    let mut metrics: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for row in sample_records(sample, running_model) {
        metrics.entry(row.metric.into_owned()).or_default().insert(row.source, row.value);
    }
    Some(Record::System { elapsed_s: elapsed.as_secs_f64(), t_ms: sample.at_ms, running_model, metrics })
}

#[cfg(test)]
#[path = "../../tests/support/jsonl_schema.rs"]
mod jsonl_schema;

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::cli::LineFormat;
    use crate::core::machine::{Contention, Reasons};
    use crate::core::machine::{CpuFreqPolicy, SystemSample, TempReading};
    use crate::core::run::{Event, Inference, ModelInfo};
    use crate::core::state::{Soak, SoakConfig};
    use crate::export::{ExportError, FinalSnapshot, Report};
    use crate::headless::{lines, soak_lines};

    /// Model `a` timed, `b` failed, `c` still loading; a sample with sensors while `a` ran, and
    /// one taken while other work competed for the cores.
    fn state() -> MonitorState {
        let mut state = MonitorState::new(&["a", "b", "c"]);
        state.soak = Some(Soak::new(SoakConfig::default()));
        let info = ModelInfo {
            name: "a".into(),
            source: "arch:tiny".into(),
            params: 10,
            batch: 1,
            input: [3, 32, 32],
            top1_error: None,
            variant: None,
        };
        state.apply(Event::ModelReady { model: 0, info });
        state.apply(Event::ModelFailed { model: 1, name: "b".into(), error: "no such file".into() });
        for seq in 1..=3 {
            let inference = Inference {
                model: 0,
                seq,
                wall_ns: 1_000_000 + seq,
                at_ns: seq * 2_000_000,
                profiled: false,
                cold: false,
                usage: None,
                ops: vec![],
            };
            state.apply(Event::Inference(inference));
        }
        let busy = Contention {
            cores: 2,
            busy_pct: 100.0,
            steal_pct: 0.0,
            own_cores: Some(1.0),
            own_threads: Some(5),
            other_cores: Some(1.0),
            load_1m: Some(2.0),
            reasons: Reasons { others: true, ..Reasons::default() },
        };
        state.apply(Event::System(SystemSample {
            at_ms: 500,
            cpufreq: vec![CpuFreqPolicy {
                cur_khz: Some(1_500_000),
                max_khz: Some(1_800_000),
                ..CpuFreqPolicy::default()
            }],
            temps: vec![TempReading { name: "cpu-thermal".into(), celsius: 61.5 }],
            contention: Some(Box::new(busy)),
            ..SystemSample::default()
        }));
        state
    }

    /// Every line each function writes, for every kind of record.
    fn every_line(state: &MonitorState) -> Vec<String> {
        let elapsed = Duration::from_secs(2);
        let mut out = Vec::new();
        lines::print_lines(&mut out, state, elapsed, LineFormat::Jsonl).unwrap();
        lines::summary_lines(&mut out, state, (elapsed, 1), "duration reached", LineFormat::Jsonl).unwrap();
        soak_lines::write(&mut out, state, LineFormat::Jsonl).unwrap();
        let mut lines: Vec<String> = String::from_utf8(out).unwrap().lines().map(String::from).collect();
        let error = || ExportError::new("cannot write", Path::new("/full"), &std::io::Error::other("disk full"));
        let path = PathBuf::from("snaps/20261126-010000");
        for last in [
            FinalSnapshot::Written(path.clone()),
            FinalSnapshot::Elsewhere { path: path.clone(), error: error() },
            FinalSnapshot::Lost { error: error(), fallback: error() },
        ] {
            lines.push(lines::final_snapshot_line(&last, LineFormat::Jsonl));
        }
        for report in [
            Report::Exported(Ok(path)),
            Report::Exported(Err(error())),
            Report::RowsLost("cannot write /full: disk full; those rows are counted as lost in run.json".into()),
        ] {
            lines.push(lines::report_line(report, LineFormat::Jsonl));
        }
        lines
    }

    #[test]
    fn every_record_type_validates_against_the_documented_schema() {
        let schema = jsonl_schema::schema();
        let lines = every_line(&state());
        for line in &lines {
            jsonl_schema::validate_line(&schema, line).unwrap_or_else(|e| panic!("{e}"));
        }
        let mut seen: Vec<String> = lines
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["type"].as_str().unwrap().to_string())
            .collect();
        seen.sort();
        seen.dedup();
        let mut defined = jsonl_schema::record_types(&schema);
        defined.sort();
        assert_eq!(seen, defined, "each type the schema defines is written, and no other");
        // Without samples there is no system record, without a soak no soak record.
        for line in every_line(&MonitorState::new(&["a"])) {
            jsonl_schema::validate_line(&schema, &line).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn unknown_figures_are_null_and_records_say_what_they_are() {
        let state = state();
        let records: Vec<serde_json::Value> =
            every_line(&state).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        let model = |kind: &str, name: &str| {
            records.iter().find(|r| r["type"] == kind && r["model"] == name).unwrap_or_else(|| panic!("{kind} {name}"))
        };
        // Not calibrated: no MAC count, never 0; nothing timed: no latency.
        let loading = model("model", "c");
        assert!(loading["macs"].is_null() && loading["latency_ms_p50"].is_null(), "{loading}");
        assert_eq!(loading["status"], "loading");
        assert_eq!(model("summary", "b")["error"], "no such file");
        let timed = model("summary", "a");
        assert_eq!((timed["iterations"].as_u64(), timed["reason"].as_str()), (Some(3), Some("duration reached")));
        let system = records.iter().find(|r| r["type"] == "system").unwrap();
        assert_eq!(system["t_ms"], 500);
        assert_eq!(system["running_model"], "a");
        assert_eq!(system["metrics"]["freq_cur_mhz"]["policy0"], 1500.0);
        assert_eq!(system["metrics"]["temp_c"]["cpu-thermal"], 61.5);
        assert_eq!(system["metrics"]["contended"]["proc_stat"], 1.0);
        let finals: Vec<_> = records.iter().filter(|r| r["type"] == "snapshot" && r["final"] == true).collect();
        assert_eq!(finals.len(), 3);
        assert!(finals[2]["path"].is_null() && finals[2]["error"].is_string(), "{}", finals[2]);
        assert!(records.iter().any(|r| r["type"] == "warning"
            && r["message"].as_str().is_some_and(|m| m.contains("counted as lost in run.json"))));
    }
}
