//! Snapshots written from a state built from real events (two built-in nets profiled on this
//! thread the way the engine does it, plus system samples), then read back with the `csv` crate.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]
#![allow(clippy::float_cmp)] // MAC and byte counts are integers held in f64: exact comparison is the test.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use infertop::core::machine::{
    CpuFreqPolicy, LoadAverage, MemoryUsage, SystemSample, TempReading, ThrottleBits, ThrottleReport, ThrottleSource,
    ThrottleState,
};
use infertop::core::models::{parameter_count, Arch};
use infertop::core::profiling::{NodeKind, Recorder, Scope};
use infertop::core::run::{Event, Inference, ModelInfo};
use infertop::core::state::MonitorState;
use infertop::export::{
    check_writable, default_export_base, write_final_snapshot, write_snapshot, FinalSnapshot, RunMeta, FILES,
};
use tch::{nn, Device, Kind, Tensor};

const MODELS_HEADER: &str = "model,params,macs,iterations,latency_ms_mean,latency_ms_p50,latency_ms_p50_ci_low,\
latency_ms_p50_ci_high,latency_ms_p90,latency_ms_p99,latency_ms_min,latency_ms_max,inferences_per_s,ms_per_gmac,\
gmacs_per_s,peak_share,share_conv2d,share_batchnorm,share_relu,share_concat,share_add,share_pool,share_linear,\
share_bookkeeping,share_other,throttle_penalty,throttle_penalty_ci_low,throttle_penalty_ci_high,\
latency_ms_full_clock,throttled_inferences,status,error,top1_error_pct,source,batch,input_chw,macs_per_image,bytes,\
profiled_iterations,profiled_kept,profiled_stalled,profiled_contended,percentile_window,op_ms,latency_ms_profiled_mean,profiler_cost,peak_gmacs_per_s,cold_iterations,\
cold_latency_ms_p50,switch_cost_ms,minor_faults_per_inference,context_switches_per_inference,\
energy_mj_per_inference,energy_mj_per_gmac,energy_iterations,power_source,bandwidth_gb_per_s,compute_ms,memory_ms,\
below_peak_ms,outside_kernels_ms,latency_ms_left_out_mac_fit,latency_ms_left_out_op_fit,latency_ms_predicted,variant,base_model,\
output_max_abs_diff,\
output_max_rel_diff,output_agrees,delta_p50,delta_p50_ci_low,delta_p50_ci_high,what_if_verdict";
const OPS_HEADER: &str =
    "model,op,parent_op,category,calls_per_inference,self_ms,total_ms,macs,bytes,gmacs_per_s,compute_ms,memory_ms,\
below_peak_ms,outside_kernels_ms";
const LAYERS_HEADER: &str = "model,layer,kind,kernel,input_shape,output_shape,kernel_size,stride,padding,\
dilation,groups,leaf,ms,predicted_ms,time_share,macs,mac_share,bytes,gmacs_per_s,\
time_share_per_mac_share,compute_ms,memory_ms,below_peak_ms,outside_kernels_ms";
const SYSTEM_HEADER: &str = "t_ms,metric,source,value,running_model";
const SHARES: [&str; 9] = [
    "share_conv2d",
    "share_batchnorm",
    "share_relu",
    "share_concat",
    "share_add",
    "share_pool",
    "share_linear",
    "share_bookkeeping",
    "share_other",
];
const PEAK_GMACS: f64 = 50.0;

fn policy(cur_khz: u64) -> CpuFreqPolicy {
    CpuFreqPolicy {
        policy: 0,
        cpus: vec![0, 1, 2, 3],
        cur_khz: Some(cur_khz),
        min_khz: Some(600_000),
        max_khz: Some(1_500_000),
        scaling_max_khz: Some(1_500_000),
        governor: Some("ondemand".into()),
    }
}

fn firmware(word: u32, during_run: ThrottleBits) -> ThrottleState {
    ThrottleState::Known(ThrottleReport {
        source: ThrottleSource::FirmwareSysfs,
        raw: Some(word),
        now: ThrottleBits::now_of(word),
        since_boot: Some(ThrottleBits::since_boot_of(word)),
        during_run,
    })
}

/// A Pi at full clock whose flags say under-voltage and throttling happened before the run.
fn cool_sample() -> SystemSample {
    SystemSample {
        at_ms: 0,
        usage_pct: vec![50.0; 4],
        cpufreq: vec![policy(1_500_000)],
        temps: vec![TempReading { name: "cpu-thermal".into(), celsius: 55.5 }],
        throttle: firmware(0x50000, ThrottleBits::default()),
        kernel_throttle: Box::default(),
        memory: Some(MemoryUsage {
            total_bytes: 4 << 30,
            used_bytes: 1 << 30,
            available_bytes: 3 << 30,
            swap_total_bytes: 0,
            swap_used_bytes: 0,
        }),
        load: Some(LoadAverage { one: 1.0, five: 0.5, fifteen: 0.25 }),
        process_rss_bytes: Some(200 << 20),
        process_cpu_pct: Some(99.5),
        process_cpu_time_ms: Some(1234),
        measured_mhz: Some(1498.0),
        contention: None,
        power: None,
    }
}

/// The same Pi, hot and throttled to 1 GHz.
fn hot_sample() -> SystemSample {
    let throttled = ThrottleBits { throttled: true, ..ThrottleBits::default() };
    SystemSample {
        at_ms: 500,
        cpufreq: vec![policy(1_000_000)],
        temps: vec![TempReading { name: "cpu-thermal".into(), celsius: 82.0 }],
        throttle: firmware(0x50004, throttled),
        measured_mhz: Some(990.0),
        ..cool_sample()
    }
}

/// A VM: no sensors at all.
fn bare_sample() -> SystemSample {
    SystemSample { at_ms: 1000, ..SystemSample::default() }
}

/// A state from the events the engine would send: `tiny` and `shufflenetv2` loaded,
/// calibrated and profiled on this thread, a third model that failed, the peak, and three
/// system samples (cool, hot, bare) with inferences of both nets after each.
fn recorded_state() -> MonitorState {
    let _no_grad = tch::no_grad_guard();
    tch::set_num_threads(1);
    let mut state = MonitorState::new(&["tiny", "shufflenetv2", "broken"]);
    let mut rec = Recorder::start().expect("recorder");
    let mut nets = Vec::new();
    for (id, arch) in [Arch::Tiny, Arch::ShuffleNetV2].into_iter().enumerate() {
        rec.set_enabled(false);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = arch.build(&vs.root(), 100);
        let input = Tensor::randn([1, 3, 32, 32], (Kind::Float, Device::Cpu));
        rec.set_enabled(true);
        let scope = Scope::new(&format!("model:{}", arch.name()));
        let _ = scope.run(|| net.forward(&input)).expect("forward pass");
        let _ = rec.take();
        let (logits, nodes) = rec.calibrate(|| scope.run(|| net.forward(&input)));
        let _ = logits.expect("forward pass");
        let root =
            nodes.iter().find(|n| n.kind == NodeKind::Scope && *n.name == *scope.name()).expect("model scope").id;
        state.apply(Event::Nodes(nodes));
        state.apply(Event::ModelScope { model: id, scope: root });
        let info = ModelInfo {
            name: arch.name().into(),
            source: format!("arch:{arch}"),
            params: parameter_count(&vs),
            batch: 1,
            input: [3, 32, 32],
            top1_error: (arch == Arch::ShuffleNetV2).then_some(29.2),
            variant: None,
        };
        state.apply(Event::ModelReady { model: id, info });
        nets.push((vs, net, input, scope));
    }
    state.apply(Event::ModelFailed { model: 2, name: "broken".into(), error: "no such file".into() });
    state.apply(Event::Peak { gmacs_per_s: PEAK_GMACS });
    let started = Instant::now();
    let mut seq = 0;
    for sample in [cool_sample(), hot_sample(), bare_sample()] {
        state.apply(Event::System(sample));
        for _ in 0..3 {
            for (id, (_, net, input, scope)) in nets.iter().enumerate() {
                let t = Instant::now();
                let _ = scope.run(|| net.forward(input)).expect("forward pass");
                let wall_ns = t.elapsed().as_nanos() as u64;
                let ops = rec.take().expect("complete recording");
                state.apply(Event::Nodes(rec.new_nodes()));
                seq += 1;
                let at_ns = started.elapsed().as_nanos() as u64;
                state.apply(Event::Inference(Inference {
                    model: id,
                    seq,
                    wall_ns,
                    at_ns,
                    profiled: !ops.is_empty(),
                    cold: false,
                    usage: None,
                    ops,
                }));
            }
        }
    }
    state
}

fn meta() -> RunMeta {
    RunMeta {
        threads: 1,
        op_profile: true,
        manifest_source: "built-in".into(),
        sample_every: Some(Duration::from_millis(500)),
        sysfs_root: PathBuf::from("/"),
        started_at: SystemTime::now() - Duration::from_secs(2),
        front_end: "headless".into(),
        duration: Some(Duration::from_secs(60)),
        args: vec!["infertop".into(), "--headless".into()],
        schedule: infertop::core::run::Schedule::Dwell(Duration::from_millis(500)),
        profile_every: 4,
        warmup: 2,
        iterations: None,
    }
}

/// A CSV file as its header line and its rows keyed by column.
fn read_table(path: &Path) -> (String, Vec<HashMap<String, String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let header = text.lines().next().unwrap_or_default().to_string();
    let mut reader = csv::Reader::from_path(path).unwrap();
    let rows = reader.deserialize().map(|r| r.unwrap_or_else(|e| panic!("{}: {e}", path.display()))).collect();
    (header, rows)
}

fn num(row: &HashMap<String, String>, column: &str) -> f64 {
    let text = row.get(column).unwrap_or_else(|| panic!("no column {column}"));
    text.parse().unwrap_or_else(|_| panic!("{column} = {text:?} is not a number"))
}

fn empty(row: &HashMap<String, String>, column: &str) -> bool {
    row.get(column).unwrap_or_else(|| panic!("no column {column}")).is_empty()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_snapshot_of_a_profiled_run_reads_back_consistently() {
    let state = recorded_state();
    let base = tempfile::tempdir().unwrap();
    let dir = write_snapshot(base.path(), &state, &meta()).unwrap();
    // Only the finished folder, holding only the finished files.
    assert_eq!(entries(base.path()), [dir.file_name().unwrap().to_string_lossy().into_owned()]);
    let mut files = FILES.map(String::from).to_vec();
    files.sort();
    assert_eq!(entries(&dir), files);

    let (header, models) = read_table(&dir.join("models.csv"));
    assert_eq!(header, MODELS_HEADER);
    assert_eq!(models.iter().map(|m| m["model"].as_str()).collect::<Vec<_>>(), ["tiny", "shufflenetv2", "broken"]);
    let mut op_ms = HashMap::new();
    for m in &models[..2] {
        let name = &m["model"];
        assert_eq!(m["status"], "running");
        assert_eq!(num(m, "iterations"), 9.0, "{name}");
        assert_eq!(num(m, "profiled_iterations"), 9.0, "{name}");
        // A profiled inference stalled by the rest of the suite is left out of the op figures,
        // and counted.
        let left_out = num(m, "profiled_stalled") + num(m, "profiled_contended");
        assert_eq!(num(m, "profiled_kept") + left_out, 9.0, "{name}");
        assert!(num(m, "profiled_kept") >= 3.0, "{name}: {left_out} of 9 left out");
        let shares: f64 = SHARES.iter().map(|s| num(m, s)).sum();
        assert!((shares - 1.0).abs() < 1e-9, "{name}: shares add up to {shares}");
        // Nine inferences: a median with its interval, but too few for p90 (10) and p99 (100).
        let (p50, lo, hi) =
            (num(m, "latency_ms_p50"), num(m, "latency_ms_p50_ci_low"), num(m, "latency_ms_p50_ci_high"));
        assert!(num(m, "latency_ms_min") <= lo && lo <= p50 && p50 <= hi && hi <= num(m, "latency_ms_max"), "{m:?}");
        assert!(empty(m, "latency_ms_p90") && empty(m, "latency_ms_p99"), "{m:?}");
        let mean = num(m, "latency_ms_mean");
        assert!((num(m, "inferences_per_s") - 1000.0 / mean).abs() < 1e-6);
        let macs = num(m, "macs");
        assert!(macs > 0.0 && num(m, "macs_per_image") == macs);
        assert!((num(m, "gmacs_per_s") - macs / (p50 * 1e6)).abs() < 1e-9);
        assert!((num(m, "ms_per_gmac") * num(m, "gmacs_per_s") - 1000.0).abs() < 1e-6);
        assert!((num(m, "peak_share") * PEAK_GMACS - num(m, "gmacs_per_s")).abs() < 1e-9);
        assert!(num(m, "op_ms") <= mean, "{name}: op time {} > mean latency {mean}", num(m, "op_ms"));
        // Three inferences each ran after the hot sample; the bare one tags nothing.
        assert_eq!(num(m, "throttled_inferences"), 3.0, "{name}");
        assert!(!empty(m, "throttle_penalty") && !empty(m, "latency_ms_full_clock"), "{name}");
        assert_eq!(m["input_chw"], "3x32x32");
        op_ms.insert(name.clone(), (num(m, "op_ms"), mean, macs));
    }
    assert!(num(&models[0], "params") > 0.0);
    assert_eq!(num(&models[1], "top1_error_pct"), 29.2);
    assert!(empty(&models[0], "top1_error_pct"));
    let broken = &models[2];
    assert_eq!((broken["status"].as_str(), broken["error"].as_str()), ("failed", "no such file"));
    for column in SHARES.iter().chain(&["latency_ms_p50", "macs", "params", "gmacs_per_s", "op_ms", "throttle_penalty"])
    {
        assert!(empty(broken, column), "broken model: {column} = {:?}", broken[*column]);
    }
    assert_eq!(num(broken, "iterations"), 0.0);

    let (header, ops) = read_table(&dir.join("ops.csv"));
    assert_eq!(header, OPS_HEADER);
    for (name, (model_op_ms, mean, _)) in &op_ms {
        let top: Vec<_> = ops.iter().filter(|r| &r["model"] == name && r["parent_op"].is_empty()).collect();
        assert!(top.len() > 3, "{name} has top-level ops");
        let sum: f64 = top.iter().map(|r| num(r, "total_ms")).sum();
        assert!(sum <= *mean, "{name}: top-level ops {sum} ms > mean latency {mean} ms");
        assert!((sum - model_op_ms).abs() < 1e-9 * model_op_ms.max(1.0), "{name}: {sum} vs op_ms {model_op_ms}");
    }
    let categories = ["conv2d", "batchnorm", "relu", "concat", "add", "pool", "linear", "bookkeeping", "other"];
    // Total time counts an op only where no op of the same name is above it, so self time
    // stays within total time per op (summed over its parents), not per row.
    let mut per_op: HashMap<(&str, &str), (f64, f64)> = HashMap::new();
    for r in &ops {
        assert!(categories.contains(&r["category"].as_str()), "{r:?}");
        assert!(num(r, "calls_per_inference") >= 0.0, "{r:?}");
        let sums = per_op.entry((&r["model"], &r["op"])).or_default();
        sums.0 += num(r, "self_ms");
        sums.1 += num(r, "total_ms");
    }
    for (op, (self_ms, total_ms)) in per_op {
        assert!(self_ms <= total_ms + 1e-9, "{op:?}: self {self_ms} > total {total_ms}");
    }
    assert!(ops.iter().any(|r| r["model"] == "shufflenetv2" && r["category"] == "concat"));
    assert!(ops.iter().any(|r| r["op"] == "aten::_convolution" && r["parent_op"] == "aten::convolution"));
    assert!(!ops.iter().any(|r| r["model"] == "broken"));

    let (header, layers) = read_table(&dir.join("layers.csv"));
    assert_eq!(header, LAYERS_HEADER);
    for (name, (_, _, macs)) in &op_ms {
        let rows: Vec<_> = layers.iter().filter(|r| &r["model"] == name).collect();
        assert!(rows.len() > 3, "{name} has layers");
        for r in &rows {
            for share in ["time_share", "mac_share"] {
                assert!((0.0..=1.0 + 1e-9).contains(&num(r, share)), "{r:?}");
            }
        }
        let leaf_macs: f64 = rows.iter().filter(|r| r["leaf"] == "true").map(|r| num(r, "macs")).sum();
        assert!(leaf_macs <= macs * (1.0 + 1e-9), "{name}: leaf layers {leaf_macs} MACs > model {macs}");
    }

    check_system(&dir.join("system.csv"));
    check_run_json(&dir.join("run.json"));
}

fn check_system(path: &Path) {
    let (header, rows) = read_table(path);
    assert_eq!(header, SYSTEM_HEADER);
    let at = |t: &str| rows.iter().filter(|r| r["t_ms"] == t).collect::<Vec<_>>();
    let value = |t: &str, metric: &str, source: &str| {
        let found: Vec<_> = at(t).into_iter().filter(|r| r["metric"] == metric && r["source"] == source).collect();
        assert!(found.len() <= 1, "one {metric}/{source} per sample");
        found.first().map(|r| num(r, "value"))
    };
    assert_eq!(value("0", "temp_c", "cpu-thermal"), Some(55.5));
    assert_eq!(value("500", "temp_c", "cpu-thermal"), Some(82.0));
    assert_eq!(value("0", "freq_cur_mhz", "policy0"), Some(1500.0));
    assert_eq!(value("500", "freq_cur_mhz", "policy0"), Some(1000.0));
    assert_eq!(value("0", "freq_max_mhz", "policy0"), Some(1500.0));
    assert_eq!(value("500", "freq_measured_mhz", "engine"), Some(990.0));
    assert_eq!(value("0", "cpu_usage_pct", "cpu3"), Some(50.0));
    // The fixture's flags: under-voltage and throttling since boot, nothing now, at first.
    assert_eq!(value("0", "throttle_since_boot", "under_voltage"), Some(1.0));
    assert_eq!(value("0", "throttle_now", "throttled"), Some(0.0));
    assert_eq!(value("500", "throttle_now", "throttled"), Some(1.0));
    assert_eq!(value("500", "throttle_during_run", "throttled"), Some(1.0));
    assert_eq!(value("0", "machine_throttled", "machine"), Some(0.0));
    assert_eq!(value("500", "machine_throttled", "machine"), Some(1.0));
    assert_eq!(value("0", "mem_available_bytes", "system"), Some(f64::from(3u32 << 30)));
    assert_eq!(value("0", "process_rss_bytes", "process"), Some(f64::from(200u32 << 20)));
    assert_eq!(value("0", "process_cpu_pct", "process"), Some(99.5));
    assert_eq!(value("0", "load_avg", "5m"), Some(0.5));
    assert!(rows.iter().all(|r| !r["source"].is_empty()), "every row names its source");
    // The bare sample knows nothing, so it has no rows at all: no zeros standing in for "n/a".
    assert!(at("1000").is_empty(), "{:?}", at("1000"));
    // Nothing had run at the first sample; `shufflenetv2` ran last before the others.
    assert!(at("0").iter().all(|r| r["running_model"].is_empty()));
    assert!(at("500").iter().all(|r| r["running_model"] == "shufflenetv2"));
}

fn check_run_json(path: &Path) {
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(run["infertop_version"], env!("CARGO_PKG_VERSION"));
    assert!(run["libtorch_version"].as_str().is_some_and(|v| !v.is_empty()));
    assert_eq!(run["settings"]["threads"], 1);
    assert_eq!(run["settings"]["sample_every_ms"], 500);
    assert_eq!(run["settings"]["front_end"], "headless");
    assert_eq!(run["models"][1]["batch"], 1);
    assert_eq!(run["models"][2]["status"], "failed");
    assert_eq!(run["peak_gmacs_per_s"], PEAK_GMACS);
    assert_eq!(run["cpufreq_governors"]["policy0"], "ondemand", "from the latest sample with cpufreq");
    assert!(run["elapsed_s"].as_f64().unwrap() >= 2.0);
    for key in ["started_at", "snapshot_at"] {
        assert!(run[key].as_str().is_some_and(|t| t.len() == 20 && t.ends_with('Z')), "{key}: {}", run[key]);
    }
    assert!(run["machine"]["cpu_model"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(run["machine"]["cores"].as_u64().is_some_and(|n| n > 0));
    if cfg!(target_os = "linux") {
        assert!(run["machine"]["kernel"].as_str().is_some_and(|v| !v.is_empty()));
    }
}

#[test]
fn an_empty_state_gives_headers_only_and_snapshots_never_collide() {
    let state = MonitorState::new::<&str>(&[]);
    let base = tempfile::tempdir().unwrap();
    let first = write_snapshot(base.path(), &state, &meta()).unwrap();
    let second = write_snapshot(base.path(), &state, &meta()).unwrap();
    assert_ne!(first, second);
    let (a, b) = (first.file_name().unwrap().to_string_lossy(), second.file_name().unwrap().to_string_lossy());
    // `20261124-163000`, and `-2` when the second one falls in the same second.
    assert!(a.len() == 15 && a.as_bytes()[8] == b'-', "{a}");
    assert!(b.len() == 15 || *b == format!("{a}-2"), "{b}");
    for (file, header) in [
        ("models.csv", MODELS_HEADER),
        ("ops.csv", OPS_HEADER),
        ("layers.csv", LAYERS_HEADER),
        ("system.csv", SYSTEM_HEADER),
    ] {
        assert_eq!(std::fs::read_to_string(first.join(file)).unwrap(), format!("{header}\n"), "{file}");
    }
    assert_eq!(entries(base.path()).len(), 2, "no staging folders left: {:?}", entries(base.path()));
}

#[test]
fn an_unwritable_folder_is_a_one_line_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    for base in [file.join("snapshots"), file.clone()] {
        let err = check_writable(&base).unwrap_err().to_string();
        assert!(err.contains(&base.display().to_string()) && !err.contains('\n'), "{err}");
        let err = write_snapshot(&base, &MonitorState::new(&["m"]), &meta()).unwrap_err().to_string();
        assert!(err.contains(&base.display().to_string()) && !err.contains('\n'), "{err}");
    }
    assert_eq!(entries(dir.path()), ["a-file"]);
}

#[test]
fn check_writable_creates_the_folder_and_leaves_it_empty() {
    assert_eq!(default_export_base(), Path::new("infertop-snapshots"));
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("deep").join("snapshots");
    check_writable(&base).unwrap();
    assert!(base.is_dir());
    assert!(entries(&base).is_empty());
}

/// The snapshot that ends a run goes to the temporary folder when its own folder fails, and
/// says so: an hour of measurement is not lost to a full or missing disk.
#[test]
fn a_final_snapshot_whose_folder_fails_goes_to_the_temporary_folder() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the snapshot folder should be: every write under it fails.
    let blocked = dir.path().join("not-a-folder");
    std::fs::write(&blocked, "").unwrap();
    let saved = write_final_snapshot(&blocked, &recorded_state(), &meta());
    let FinalSnapshot::Elsewhere { path, error } = &saved else { panic!("expected the fallback, got {saved:?}") };
    assert!(path.starts_with(std::env::temp_dir().join("infertop-snapshots")), "{}", path.display());
    for file in FILES {
        assert!(path.join(file).is_file(), "{file} missing in {}", path.display());
    }
    assert!(error.to_string().contains("not-a-folder"), "{error}");
    let line = saved.describe();
    assert!(line.starts_with(&format!("snapshot: {}", path.display())) && line.contains("not-a-folder"), "{line}");
    std::fs::remove_dir_all(path).unwrap();
}
