use super::*;
use crate::export::staging::{dead_pid, folder_name};

#[test]
fn a_killed_runs_folder_is_published_with_its_rows_counted() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join(folder_name("20261124-163000", dead_pid()));
    fs::create_dir(&dir).unwrap();
    let run_json = r#"{"snapshot_format": 2, "exports": 0, "run_ended": false, "series": {}}"#;
    fs::write(dir.join("run.json"), run_json).unwrap();
    fs::write(dir.join("inferences.1.csv"), "t_ms,seq\n1,1\n2,2\n").unwrap();
    // Killed mid-row.
    fs::write(dir.join("inferences.csv"), "t_ms,seq\n3,3\n4,").unwrap();
    fs::write(dir.join("system.csv"), "t_ms,metric\n").unwrap();
    fs::write(dir.join(".models.csv.tmp"), "model,lat").unwrap();
    // One without run.json stays, said so.
    let partial = base.path().join(folder_name("20261124-163001", dead_pid()));
    fs::create_dir(&partial).unwrap();
    fs::write(partial.join("inferences.csv"), "t_ms,seq\n1,1\n").unwrap();

    let left = recover_staging(base.path());
    assert_eq!(left.len(), 2, "{left:?}");
    let Leftover::Published(path) = &left[0] else { panic!("{left:?}") };
    assert_eq!(*path, base.path().join("20261124-163000"));
    assert!(left[0].describe().starts_with(&format!("published {}", path.display())), "{}", left[0].describe());
    assert_eq!(fs::read_to_string(path.join("inferences.csv")).unwrap(), "t_ms,seq\n3,3\n");
    assert!(!path.join(".models.csv.tmp").exists());
    let json: Value = serde_json::from_str(&fs::read_to_string(path.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["run_ended"], false);
    assert!(json["recovered_at"].is_string());
    let inferences = &json["series"]["inferences"];
    assert_eq!(inferences["rows"], 3, "{json}");
    assert_eq!(inferences["parts"][0]["file"], "inferences.1.csv");
    assert_eq!(inferences["parts"][1]["bytes"], 13);
    assert_eq!(json["series"]["system"]["rows"], 0);

    let Leftover::Kept { path, reason } = &left[1] else { panic!("{left:?}") };
    assert_eq!(*path, partial);
    assert!(reason.starts_with(&format!("no complete run.json in {}", partial.display())), "{reason}");
    assert!(partial.join("inferences.csv").is_file(), "never removed");
    assert_eq!(recover_staging(base.path()).len(), 1, "the kept one is said again, the published one not");
}
