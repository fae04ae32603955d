//! One inference traced op by op (`--trace DIR`, the live screen's `c`/`C`): the Chrome
//! trace-event file parses, every event has the fields the format needs, slices nest on their
//! thread the way the op tree does (ops under layers under the model), and the times add up:
//! per node to the shim's counters of that very inference, and to its latency in
//! `inferences.csv`. Real libtorch, real resnet50, the real binary, a real pty.
//!
//! Times are read the way Perfetto's JSON importer reads them (µs × 1000, truncated to whole
//! ns). infertop writes each value half a nanosecond above the exact one, so that reading gives
//! back the exact ns the shim measured, and the sums below hold with no tolerance at all.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;
#[path = "binary/pty.rs"]
mod pty;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::core::profiling::NodeTiming;
use infertop::core::run::{Control, Event};
use infertop::core::run::{Plan, Session};
use infertop::core::state::MonitorState;
use infertop::core::state::TraceDoc;
use infertop::export::trace::{trace_json, write_trace, TraceWriter};
use infertop::tui::app::UiState;
use infertop::tui::keymap::{action_for, Action};
use serde_json::Value;

/// How long a test waits for a trace: loading resnet50 and its calibration pass on a loaded
/// 2-core machine, with the emulator's allowance on top.
fn patience() -> Duration {
    Duration::from_secs(240) + 4 * binary::startup_allowance()
}

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs/rpi4")
}

/// An `X` event, its times as Perfetto reads them.
#[derive(Debug)]
struct Slice {
    name: String,
    cat: String,
    tid: i64,
    start: i64,
    dur: i64,
    node: u64,
    parent_node: Option<u64>,
    /// The shim's own time of the call (its duration less what it opened), in ns.
    self_ns: i64,
}

impl Slice {
    fn end(&self) -> i64 {
        self.start + self.dur
    }
}

/// µs × 1000, truncated: Perfetto's reading of a JSON time.
fn ns(v: &Value) -> i64 {
    (v.as_f64().unwrap_or_else(|| panic!("{v} is not a number")) * 1000.0) as i64
}

/// What [`check_trace`] found.
struct Checked {
    slices: Vec<Slice>,
    /// Index of the model's slice, the one root.
    model: usize,
    counters: Vec<Value>,
}

impl Checked {
    fn model(&self) -> &Slice {
        &self.slices[self.model]
    }

    /// The calls of ops no op called: the inference's op time is theirs.
    fn top_level_ops(&self) -> Vec<&Slice> {
        let ops: HashSet<u64> = self.slices.iter().filter(|s| s.cat.starts_with("op")).map(|s| s.node).collect();
        self.slices
            .iter()
            .filter(|s| s.cat.starts_with("op") && s.parent_node.is_none_or(|p| !ops.contains(&p)))
            .collect()
    }

    /// Summed durations of the ops no op called: the inference's op time.
    fn top_level_op_ns(&self) -> i64 {
        self.top_level_ops().iter().map(|s| s.dur).sum()
    }
}

/// Checks a trace-event document: fields, metadata, nesting, and that each slice's time less
/// its children's is the shim's own time of that call. Returns its slices and counters.
fn check_trace(doc: &Value) -> Checked {
    let events = doc["traceEvents"].as_array().expect("a traceEvents array");
    assert!(!events.is_empty());
    let (mut slices, mut counters, mut threads, mut process_named) = (Vec::new(), Vec::new(), HashSet::new(), false);
    for e in events {
        let name = e["name"].as_str().unwrap_or_else(|| panic!("no name: {e}"));
        let ph = e["ph"].as_str().unwrap_or_else(|| panic!("no ph: {e}"));
        assert!(e["pid"].as_u64().is_some(), "no pid: {e}");
        let tid = e["tid"].as_i64().unwrap_or_else(|| panic!("no tid: {e}"));
        match ph {
            "M" => {
                assert!(e["args"]["name"].as_str().is_some_and(|n| !n.is_empty()), "{e}");
                match name {
                    "process_name" => process_named = true,
                    "thread_name" => {
                        threads.insert(tid);
                    }
                    other => panic!("unexpected metadata {other}"),
                }
            }
            "C" => {
                assert!(ns(&e["ts"]) >= 0, "{e}");
                let args = e["args"].as_object().unwrap_or_else(|| panic!("counter without args: {e}"));
                assert!(!args.is_empty() && args.values().all(Value::is_f64), "counter values must be numbers: {e}");
                counters.push(e.clone());
            }
            "X" => {
                let cat = e["cat"].as_str().unwrap_or_else(|| panic!("no cat: {e}"));
                assert!(!cat.is_empty() && !name.is_empty(), "{e}");
                let args = &e["args"];
                let slice = Slice {
                    name: name.into(),
                    cat: cat.into(),
                    tid,
                    start: ns(&e["ts"]),
                    dur: ns(&e["dur"]),
                    node: args["node"].as_u64().unwrap_or_else(|| panic!("no node: {e}")),
                    parent_node: args["parent_node"].as_u64(),
                    self_ns: (args["self_us"].as_f64().unwrap_or_else(|| panic!("no self_us: {e}")) * 1000.0).round()
                        as i64,
                };
                assert!(slice.start >= 0 && slice.dur >= 0, "{slice:?}");
                slices.push(slice);
            }
            other => panic!("unexpected phase {other}: {e}"),
        }
    }
    assert!(process_named, "no process_name metadata");
    assert!(slices.iter().all(|s| threads.contains(&s.tid)), "a slice on a thread with no thread_name");
    let (parents, model) = nest(&slices);
    let mut children_ns = vec![0i64; slices.len()];
    for (i, parent) in parents.iter().enumerate() {
        if let Some(p) = parent {
            children_ns[*p] += slices[i].dur;
        }
    }
    for (i, s) in slices.iter().enumerate() {
        assert_eq!(
            s.dur - children_ns[i],
            s.self_ns,
            "{}: its time less its children's is not the shim's own time",
            s.name
        );
        assert!(s.self_ns >= 0, "{s:?}");
    }
    // Ops under layers under the model: every op has a layer above it, every layer the model.
    for (i, s) in slices.iter().enumerate() {
        let ancestors: Vec<&str> =
            std::iter::successors(parents[i], |p| parents[*p]).map(|p| slices[p].cat.as_str()).collect();
        if s.cat.starts_with("op") {
            assert!(ancestors.contains(&"layer"), "{} is under no layer", s.name);
        }
        if i != model {
            assert_eq!(ancestors.last(), Some(&"model"), "{} is outside the model", s.name);
        }
    }
    Checked { slices, model, counters }
}

/// Each slice's parent (the innermost slice around it on its thread), checked against the
/// node's parent in the op tree; and the one slice with none, which must be the model.
fn nest(slices: &[Slice]) -> (Vec<Option<usize>>, usize) {
    let mut order: Vec<usize> = (0..slices.len()).collect();
    order.sort_by_key(|&i| (slices[i].tid, slices[i].start, std::cmp::Reverse(slices[i].dur)));
    let (mut parents, mut roots, mut stack) = (vec![None; slices.len()], Vec::new(), Vec::<usize>::new());
    for &i in &order {
        let s = &slices[i];
        while stack.last().is_some_and(|&top| slices[top].tid != s.tid || slices[top].end() <= s.start) {
            stack.pop();
        }
        match stack.last() {
            Some(&p) => {
                assert!(s.end() <= slices[p].end(), "{} ends after {} around it", s.name, slices[p].name);
                assert_eq!(
                    s.parent_node,
                    Some(slices[p].node),
                    "{} lies in {}, not in its tree parent",
                    s.name,
                    slices[p].name
                );
                parents[i] = Some(p);
            }
            None => roots.push(i),
        }
        stack.push(i);
    }
    assert_eq!(
        roots.len(),
        1,
        "one slice around all: {:?}",
        roots.iter().map(|&r| &slices[r].name).collect::<Vec<_>>()
    );
    assert_eq!(slices[roots[0]].cat, "model");
    (parents, roots[0])
}

fn resnet50_plan() -> Plan {
    let plan = Plan::new(None, &["resnet50".into()], None, 2, true).expect("built-in manifest");
    Plan { sample_every: Some(Duration::from_millis(100)), sysfs_root: fixture_root(), ..plan }
}

/// The engine traces resnet50's next inference; the trace agrees with the counters the shim
/// kept for that same inference, node by node, to the nanosecond, and its file passes the
/// checks above.
#[test]
fn a_traced_resnet50_inference_agrees_with_its_counters_and_nests() {
    let mut session = Session::start(&resnet50_plan(), false).expect("session");
    let docs: Rc<RefCell<Vec<TraceDoc>>> = Rc::default();
    let sink = Rc::clone(&docs);
    session.set_trace_sink(Box::new(move |doc| sink.borrow_mut().push(doc)));
    session.control(Control::Trace(None));
    let mut counters: HashMap<u64, Vec<NodeTiming>> = HashMap::new();
    let deadline = Instant::now() + patience();
    while docs.borrow().is_empty() {
        assert!(Instant::now() < deadline, "no trace came");
        let event = session.events.blocking_recv().expect("engine running");
        if let Event::Inference(i) = &event {
            counters.insert(i.seq, i.ops.clone());
        }
        session.apply(event);
    }
    session.stop();
    let doc = docs.borrow_mut().remove(0);
    assert_eq!(&*doc.model, "resnet50");
    let ops = &counters[&doc.seq];
    assert!(!ops.is_empty(), "the traced inference was profiled");
    let mut from_trace: HashMap<u32, (u32, u64, u64)> = HashMap::new();
    for s in &doc.slices {
        let e = from_trace.entry(s.node).or_default();
        *e = (e.0 + 1, e.1 + s.dur_ns, e.2 + s.self_ns);
    }
    assert_eq!(from_trace.len(), ops.len());
    for t in ops {
        assert_eq!(from_trace.get(&t.node), Some(&(t.calls, t.total_ns, t.self_ns)), "node {}", t.node);
    }
    // The op time the op tables count for this inference: top-level ops' total time.
    let state: &MonitorState = &session.state;
    let op_ns: u64 = ops
        .iter()
        .filter(|t| state.tree.get(t.node).is_some_and(infertop::core::profiling::Node::is_top_level_op))
        .map(|t| t.total_ns)
        .sum();
    assert_eq!(doc.top_level_op_ns(), op_ns);

    let dir = tempfile::tempdir().unwrap();
    let path = write_trace(dir.path(), &doc).expect("trace written");
    assert_eq!(path.file_name().unwrap().to_string_lossy(), format!("trace-resnet50-{}.json", doc.seq));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).expect("the file is JSON");
    assert_eq!(
        json["traceEvents"].as_array().unwrap().len(),
        trace_json(&doc)["traceEvents"].as_array().unwrap().len()
    );
    let checked = check_trace(&json);
    assert_eq!(checked.slices.len(), doc.slices.len());
    assert_eq!(checked.top_level_op_ns(), i64::try_from(op_ns).unwrap(), "op durations add up to the op time");
    let model = checked.model();
    let self_sum: i64 = checked.slices.iter().map(|s| s.self_ns).sum();
    assert_eq!(self_sum, model.dur, "self times add up to the model's scope");
    // The top-level ops run one after another inside the model's scope: none overlaps the next
    // and all lie within the scope, so the op time is part of the scope's. How much of the scope
    // lies between ops depends on how busy the machine is (a descheduled engine thread waits
    // there), so it is not a test's business.
    let mut top = checked.top_level_ops();
    top.sort_by_key(|s| s.start);
    assert!(top.len() > 100, "resnet50 runs hundreds of top-level ops, the trace shows {}", top.len());
    // 2 ns: each time is read back from µs with three decimals, truncated.
    for pair in top.windows(2) {
        assert!(pair[0].end() <= pair[1].start + 2, "{} overlaps {}", pair[0].name, pair[1].name);
    }
    assert!(
        top.iter().all(|s| s.start + 2 >= model.start && s.end() <= model.end() + 2),
        "an op outside the model's scope"
    );
    assert!(checked.top_level_op_ns() <= model.dur + 2 * i64::try_from(top.len()).unwrap());
    assert!(u64::try_from(model.dur).unwrap() <= doc.wall_ns, "the scope lies inside the timed inference");
}

/// `--trace DIR` in headless mode traces each model once; the files name the engine thread,
/// carry clock and temperature tracks from the samples around the inference (here the Pi 4
/// tree's 1800 MHz and 48.686 °C), and the traced inference's latency in `inferences.csv`.
#[test]
fn headless_trace_writes_one_file_per_model_that_lines_up_with_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (traces, snaps) = (dir.path().join("traces"), dir.path().join("snaps"));
    let mut child = Killed(
        binary::infertop()
            .args(["--headless", "--only", "resnet50,tiny", "--threads", "2", "--sample-every", "100ms"])
            .args(["--print-every", "1h", "--trace", traces.to_str().unwrap(), "--export-dir", snaps.to_str().unwrap()])
            .args(["--sysfs-root", fixture_root().to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start infertop"),
    );
    let deadline = Instant::now() + patience();
    let files = loop {
        let files: Vec<PathBuf> = std::fs::read_dir(&traces)
            .map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect())
            .unwrap_or_default();
        if files.len() == 2 {
            break files;
        }
        assert!(Instant::now() < deadline, "traces so far: {files:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(i32::try_from(child.0.id()).unwrap(), libc::SIGTERM) };
    let status = child.0.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    for file in &files {
        assert!(stderr.contains(&format!("infertop: trace: {}", file.display())), "{stderr}");
    }
    let run = std::fs::read_dir(&snaps).unwrap().map(|e| e.unwrap().path()).find(|p| p.join("run.json").exists());
    let inferences = csv_rows(&run.expect("a run folder").join("inferences.csv"));
    for file in &files {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).expect("JSON");
        let checked = check_trace(&json);
        let model = checked.model();
        let seq = json["otherData"]["seq"].as_u64().unwrap();
        let row = inferences.iter().find(|r| r["seq"] == seq.to_string()).expect("the traced inference's row");
        assert_eq!(row["model"], json["otherData"]["model"].as_str().unwrap());
        assert_eq!(row["profiled"], "true");
        let latency_ns = (row["latency_ms"].parse::<f64>().unwrap() * 1e6).round() as i64;
        assert!(model.dur <= latency_ns, "{file:?}: scope {} ns in a {latency_ns} ns inference", model.dur);
        assert!(json["traceEvents"].as_array().unwrap().iter().any(|e| e["name"] == "thread_name"
            && e["args"]["name"] == "infertop-engine"
            && e["tid"].as_i64() == Some(model.tid)));
        for (track, series, value) in [("clock_mhz", "policy0", 1800.0), ("temperature_c", "cpu-thermal", 48.686)] {
            let points: Vec<&Value> = checked.counters.iter().filter(|c| c["name"] == track).collect();
            assert!(points.iter().all(|c| c["args"][series].as_f64() == Some(value)), "{track}: {points:?}");
            assert!(
                points.iter().any(|c| ns(&c["ts"]) <= model.start),
                "{track} has no value when the inference starts"
            );
        }
    }
}

/// A child process killed should the test fail before it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `inferences.csv` as maps of column to value.
fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| headers.iter().zip(r.unwrap().iter()).map(|(h, v)| (h.into(), v.into())).collect())
        .collect()
}

/// A trace folder that cannot be made is refused in one line before anything is measured.
#[test]
fn an_unwritable_trace_folder_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let bad = file.join("traces");
    let out = binary::infertop()
        .args(["--headless", "--only", "tiny", "--duration", "30s", "--trace", bad.to_str().unwrap()])
        .args(["--export-dir", dir.path().join("snaps").to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--trace") && stderr.contains(&bad.display().to_string()), "{stderr}");
}

/// A trace that cannot be written during a run (its folder replaced by a file) is reported,
/// naming the folder, and the writer goes on with the next one.
#[test]
fn a_trace_that_cannot_be_written_is_reported_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, "a file where the folder should be").unwrap();
    let doc = TraceDoc {
        model: "m".into(),
        seq: 7,
        wall_ns: 1000,
        pid: 1,
        tid: 1,
        thread: "t".into(),
        intra_op_threads: 1,
        foreign_ops: 0,
        slices: Vec::new(),
        clock_mhz: Vec::new(),
        temperature_c: Vec::new(),
    };
    let writer = TraceWriter::start(blocked.clone()).unwrap();
    let mut sink = writer.sink();
    sink(doc.clone());
    let reports = writer.finish();
    let err = reports[0].as_ref().expect_err("the folder is a file").to_string();
    assert!(err.contains(&blocked.display().to_string()) && err.lines().count() == 1, "{err}");
    let good = TraceWriter::start(dir.path().join("ok")).unwrap();
    let mut sink = good.sink();
    sink(doc.clone());
    sink(TraceDoc { seq: 8, ..doc });
    let written: Vec<PathBuf> = good.finish().into_iter().map(|r| r.expect("written")).collect();
    assert_eq!(written, [dir.path().join("ok/trace-m-7.json"), dir.path().join("ok/trace-m-8.json")]);
}

/// `c` asks the engine for the selected model's next inference, `C` for each model's; with no
/// op profiler (`--no-op-profile`) neither asks for anything.
#[test]
fn the_trace_keys_ask_the_engine_for_a_trace() {
    let state = MonitorState::new(&["a", "b", "c"]);
    let mut ui = UiState { selected: 1, ..UiState::default() };
    let c = action_for(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE)).expect("c is bound");
    let shift_c = action_for(KeyEvent::new(KeyCode::Char('C'), KeyModifiers::SHIFT)).expect("C is bound");
    assert_eq!((c, shift_c), (Action::Trace, Action::TraceAll));
    ui.apply(c, &state, 3);
    assert_eq!(ui.selected, 1, "tracing moves nothing on screen");
    assert_eq!(ui.trace_control(c, &state, true), Some(Control::Trace(Some(1))));
    assert_eq!(ui.trace_control(shift_c, &state, true), Some(Control::Trace(None)));
    assert_eq!(ui.trace_control(c, &state, false), None);
    assert_eq!(ui.trace_control(Action::Export, &state, true), None);
}

/// In the live screen on a real pty, `c` traces the selected model's next inference into the
/// snapshot folder and the status bar says where; before it, nothing was traced.
#[test]
fn c_in_the_live_screen_writes_a_trace_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.toml");
    std::fs::write(&manifest, "[[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n").unwrap();
    let snaps = dir.path().join("snapshots");
    let args = ["--threads", "1", "--fps", "20", "--sample-every", "100ms", "--models", manifest.to_str().unwrap()];
    let args: Vec<&str> = args.into_iter().chain(["--export-dir", snaps.to_str().unwrap()]).collect();
    let pty = pty::Pty::open(160, 40);
    let out = pty::Output::collect(pty.master.as_raw_fd());
    let mut running = pty::start(&pty, &args);
    out.wait_for("p50");
    // The model is timed (its row has a count) before the key is pressed.
    let traces = || -> Vec<PathBuf> {
        std::fs::read_dir(&snaps)
            .map(|d| {
                d.map(|e| e.unwrap().path())
                    .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("trace-"))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(traces().is_empty(), "traced before any key");
    pty.send(b"c");
    // On the screen, not in the byte stream: the status line that says where is drawn over
    // the one that said "trace: next inference of tiny", and the renderer skips the cells
    // that did not change (one failed run in about fifteen when searched in the bytes).
    out.wait_for_on_screen("trace: wrote ", 160, 40);
    out.wait_for_on_screen("trace-tiny-", 160, 40);
    let deadline = Instant::now() + patience();
    while traces().is_empty() {
        assert!(Instant::now() < deadline, "no trace file");
        std::thread::sleep(Duration::from_millis(50));
    }
    let file = &traces()[0];
    let json: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).expect("JSON");
    assert_eq!(check_trace(&json).model().name, "model:tiny");
    pty.send(b"q");
    assert_eq!(running.wait().code(), Some(0));
}

fn tiny_plan(names: &[&str], op_profile: bool) -> Plan {
    let spec = |name: &str| {
        use infertop::core::models::{ModelSource, ModelSpec};
        ModelSpec::new(name, ModelSource::Arch(infertop::core::models::Arch::Tiny), [3, 32, 32])
    };
    Plan {
        models: names.iter().map(|n| spec(n)).collect(),
        threads: 1,
        op_profile,
        profile_every: 4,
        warmup: 2,
        iterations: None,
        calibration_cache: None,
        background_calibration: None,
        manifest_source: "test".into(),
        sample_every: None,
        sysfs_root: "/".into(),
        replay_speed: 1.0,
        schedule: infertop::core::run::Schedule::RoundRobin,
    }
}

/// The next `n` inference and trace events, with `control` sent once the models are ready.
fn events_after(plan: &Plan, control: Control, n: usize) -> Vec<Event> {
    let mut session = Session::start(plan, false).expect("session");
    let deadline = Instant::now() + patience();
    while session.state.models.iter().any(|m| m.info.is_none()) {
        assert!(Instant::now() < deadline, "models never loaded");
        let event = session.events.blocking_recv().expect("engine running");
        session.apply(event);
    }
    session.control(control);
    let mut seen = Vec::new();
    while seen.len() < n {
        let event = session.events.blocking_recv().expect("engine running");
        if matches!(event, Event::Inference(_) | Event::Trace(_)) {
            seen.push(event.clone());
        }
        session.apply(event);
    }
    session.stop();
    seen
}

/// One request, one trace: of the model asked for, right after that model's inference (same
/// `seq`, profiled), and never again until asked.
#[test]
fn the_engine_traces_one_inference_per_request_right_after_it() {
    let seen = events_after(&tiny_plan(&["a", "b"], true), Control::Trace(Some(1)), 60);
    let traces: Vec<usize> =
        seen.iter().enumerate().filter(|(_, e)| matches!(e, Event::Trace(_))).map(|(i, _)| i).collect();
    assert_eq!(traces.len(), 1, "{} traces", traces.len());
    let (Event::Inference(inference), Event::Trace(trace)) = (&seen[traces[0] - 1], &seen[traces[0]]) else {
        panic!("a trace without its inference before it");
    };
    assert_eq!((trace.model, trace.seq), (1, inference.seq));
    assert_eq!(inference.model, 1);
    assert!(inference.profiled && !inference.cold);
    assert!(!trace.spans.is_empty() && trace.tid > 0 && trace.thread == "infertop-engine");
    assert_eq!(trace.wall_ns, inference.wall_ns);
}

/// Without an op profiler (`--no-op-profile`) there is nothing to trace with: a request is
/// ignored and inference goes on.
#[test]
fn without_an_op_profiler_a_trace_request_is_ignored() {
    let seen = events_after(&tiny_plan(&["a"], false), Control::Trace(None), 20);
    assert!(seen.iter().all(|e| matches!(e, Event::Inference(i) if !i.profiled)), "{seen:?}");
}
