//! The real binary's command line: usage errors exit 2 with one line, help exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;

fn infertop(args: &[&str]) -> std::process::Output {
    binary::infertop().args(args).output().expect("binary runs")
}

fn assert_usage_error(args: &[&str], mentions: &str) {
    let out = infertop(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: stderr {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: not one line: {stderr}");
    assert!(stderr.contains(mentions), "{args:?}: '{stderr}' does not mention '{mentions}'");
    assert!(out.stdout.is_empty(), "{args:?}: printed on stdout");
}

#[test]
fn nonsense_flags_exit_2_with_one_line() {
    assert_usage_error(&["--threads", "0"], "--threads");
    assert_usage_error(&["--threads", "many"], "many");
    assert_usage_error(&["--duration", "soon"], "soon");
    assert_usage_error(&["--duration", "0s"], "0s");
    assert_usage_error(&["--fps", "0"], "--fps");
    assert_usage_error(&["--no-such-flag"], "--no-such-flag");
    assert_usage_error(&["--format", "xml"], "xml");
    assert_usage_error(&["--models", "/nonexistent/manifest.toml"], "/nonexistent/manifest.toml");
    assert_usage_error(&["--sysfs-root", "/nonexistent/root"], "/nonexistent/root");
    assert_usage_error(&["--iterations", "0"], "--iterations");
    assert_usage_error(&["--iterations", "some"], "some");
    assert_usage_error(&["--warmup", "many"], "many");
    assert_usage_error(&["--warmup", "1001"], "1001");
    assert_usage_error(&["--iterations", "5", "--soak"], "--soak");
    // Values that parse but no clock can hold: a usage error, not an overflow panic.
    assert_usage_error(&["--duration", "18446744073709551615s"], "18446744073709551615s");
    assert_usage_error(&["--replay-speed", "1e-20"], "1e-20");
    // Inference runs on the CPU; there is no flag for devices nobody can test here.
    assert_usage_error(&["--device", "cuda"], "--device");
}

#[test]
fn absurd_input_shapes_exit_2_before_any_model_runs() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests/input_huge.toml");
    assert_usage_error(&["--headless", "--models", manifest.to_str().unwrap()], "input = [3, 100000, 100000]");
    // The same limit holds when --batch makes a sound input too large.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(&big, "[[model]]\nname = \"big\"\narch = \"tiny\"\ninput = [3, 512, 512]\n").unwrap();
    assert_usage_error(
        &["--headless", "--batch", "4096", "--models", big.to_str().unwrap()],
        "--batch 4096: model 'big'",
    );
}

#[test]
fn unknown_model_names_exit_2_naming_them() {
    assert_usage_error(&["--headless", "--only", "resnet51"], "resnet51");
}

#[test]
fn a_bad_theme_exits_2_even_headless() {
    assert_usage_error(&["--headless", "--theme", "no-such-theme"], "no-such-theme");
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "this is = = not toml").unwrap();
    assert_usage_error(&["--headless", "--theme", broken.to_str().unwrap()], "broken.toml");
}

/// `-h` and `--help` show the everyday flags under headings, one line each, and say first how a
/// run ends (q writes no snapshot); the flags for tests and replays wait for `--help-all`.
#[test]
fn short_help_groups_everyday_flags_one_line_each() {
    let out = infertop(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(String::from_utf8_lossy(&infertop(&["-h"]).stdout), help, "-h and --help differ");
    let lines: Vec<&str> = help.lines().collect();
    assert!(lines.len() <= 60, "{} lines:\n{help}", lines.len());
    for line in &lines {
        assert!(line.chars().count() <= 100, "longer than 100 columns: {line}");
    }
    assert!(lines[..3].iter().any(|l| l.contains(" q ") && l.contains("writes none")), "{help}");
    for heading in ["Models:", "Running:", "Measuring:", "Snapshots and exports:", "Headless lines:", "Live screen:"] {
        assert!(lines.contains(&heading), "no heading {heading}:\n{help}");
    }
    for flag in [
        "--headless",
        "--duration",
        "--iterations",
        "--threads",
        "--only",
        "--models",
        "--list-models",
        "--no-op-profile",
        "--export-dir",
        "--export-every",
        "--theme",
        "--trace",
        "--listen",
        "--help-all",
    ] {
        let line = lines.iter().find(|l| l.trim_start().starts_with(flag)).unwrap_or_else(|| panic!("no {flag}"));
        assert!(line.split(flag).nth(1).is_some_and(|rest| rest.trim().len() > 10), "{flag} undescribed: {line}");
    }
    for hidden in ["--sysfs-root", "--replay-speed", "Testing and replay"] {
        assert!(!help.contains(hidden), "--help shows {hidden}");
    }
}

/// Every subcommand answers `--help` and `-h` with its usage, exit 0 (`calibrate` and `predict`
/// answered "unexpected argument '--help'").
#[test]
fn every_subcommand_has_help() {
    for command in ["report", "compare", "calibrate", "predict"] {
        for flag in ["--help", "-h"] {
            let out = infertop(&[command, flag]);
            let help = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{command} {flag}: {}", String::from_utf8_lossy(&out.stderr));
            assert!(help.contains(&format!("Usage: infertop {command}")), "{command} {flag}:\n{help}");
        }
    }
}

/// `--help-all` lists every flag clap knows, the test-only ones under their own heading.
#[test]
fn help_all_lists_every_flag() {
    use clap::CommandFactory as _;
    let out = infertop(&["--help-all"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    let longs: Vec<String> =
        infertop::Cli::command().get_arguments().filter_map(|a| a.get_long()).map(|l| format!("--{l}")).collect();
    assert!(longs.len() > 25, "{longs:?}");
    for flag in &longs {
        assert!(help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")), "--help-all lacks {flag}");
    }
    let heading = help.find("\nTesting and replay:\n").expect("a testing heading");
    assert!(help.find("--sysfs-root").is_some_and(|at| at > heading), "--sysfs-root is not under it");
    assert!(help.contains("Stopping:"), "how a run ends");
}

/// `--list-models` prints the manifest's models, one line each, without running any, and
/// exits 0; names it does not know are the usual one-line usage error.
#[test]
fn list_models_prints_each_model_and_exits_0() {
    let out = infertop(&["--list-models"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let manifest = infertop::core::models::Manifest::builtin();
    for m in &manifest.models {
        let line = text.lines().find(|l| l.starts_with(&format!("{} ", m.name))).unwrap_or_else(|| panic!("{text}"));
        let arch = match &m.source {
            infertop::core::models::ModelSource::Arch(arch) => *arch,
            infertop::core::models::ModelSource::TorchScript(_) => panic!("the built-in set is all arch"),
        };
        assert!(line.contains(&format!("{:.1} ", arch.parameters() as f64 / 1e6)) || m.name == "tiny", "{line}");
    }
    let two = infertop(&["--list-models", "--only", "tiny,resnet50"]);
    let two = String::from_utf8_lossy(&two.stdout);
    assert!(two.starts_with("2 models of the built-in set"), "{two}");
    assert_usage_error(&["--list-models", "--only", "resnet51"], "resnet51");
    assert_usage_error(&["--list-models", "--summary"], "--summary");
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/manifests/duplicate_name.toml");
    assert_usage_error(&["--list-models", "--models", manifest], "duplicate_name.toml");
}

/// Each interval flag refuses values below its minimum with one line naming the flag, the value
/// and the minimum, and takes the minimum itself (the run then fails for want of a manifest,
/// which shows the value passed parsing).
#[test]
fn intervals_below_their_minimum_exit_2_naming_it() {
    for (flag, below, minimum) in
        [("--print-every", "1ns", "100ms"), ("--export-every", "999ms", "1s"), ("--sample-every", "49ms", "50ms")]
    {
        let out = infertop(&[flag, below]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {below}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{flag}: not one line: {stderr}");
        for part in [flag, below, minimum] {
            assert!(stderr.contains(part), "{flag} {below}: '{stderr}' does not mention '{part}'");
        }
        assert_usage_error(&[flag, minimum, "--models", "/nonexistent/manifest.toml"], "/nonexistent/manifest.toml");
    }
}

/// `--trace` needs the op profiler and a run: with `--no-op-profile` or `--summary` it is a
/// usage error, in one line.
#[test]
fn trace_without_an_op_profiler_or_a_run_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("traces");
    let traces = traces.to_str().unwrap();
    assert_usage_error(&["--headless", "--trace", traces, "--no-op-profile"], "--no-op-profile");
    assert_usage_error(&["--trace", traces, "--summary"], "--summary");
    assert!(!dir.path().join("traces").exists(), "a refused run made its trace folder");
}

/// `--listen` values that are no address to listen on: clap's one line names the value.
#[test]
fn a_bad_listen_address_exits_2_naming_it() {
    for bad in ["nonsense", "127.0.0.1", "127.0.0.1:99999", "localhost:http", ":", "example.org:9464"] {
        assert_usage_error(&["--headless", "--listen", bad], bad);
    }
    // An address of no interface of this machine (TEST-NET-1, reserved for documentation) parses
    // but cannot be bound: the same one line, naming it, before any model loads.
    assert_usage_error(
        &["--headless", "--only", "tiny", "--listen", "192.0.2.1:9464"],
        "cannot listen on 192.0.2.1:9464",
    );
}

/// A port another program listens on: one line naming the address, exit 2, before measuring.
#[test]
fn a_listen_port_in_use_exits_2_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().to_str().unwrap();
    assert_usage_error(
        &["--headless", "--only", "tiny", "--export-dir", export, "--listen", &addr],
        &format!("--listen: cannot listen on {addr}: "),
    );
    // Nothing was measured, so no run folder was started.
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "the export folder is not empty");
}

#[test]
fn report_and_compare_are_commands_beside_the_flags() {
    let help = infertop(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("report") && text.contains("compare") && text.contains("--headless"), "{text}");
    for command in ["report", "compare"] {
        let out = infertop(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("--output"), "{command}");
    }
    // A command takes no measuring flags, and needs its folders.
    assert_usage_error(&["--headless", "report", "x"], "report");
    assert_usage_error(&["report"], "SNAPSHOT");
    assert_usage_error(&["compare", "a"], "<B>");
    assert_usage_error(&["report", "/nonexistent-snapshot"], "/nonexistent-snapshot: not a folder");
}
