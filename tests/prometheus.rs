//! `--listen` checked by the programs a fleet would point at it: Python's `prometheus_client`
//! `OpenMetrics` parser reads `/metrics` (names, types, units), and a real Prometheus server
//! scrapes a headless run; what its HTTP API answers must agree with the run folder infertop
//! wrote. Both programs come from Debian (`scripts/ensure-prometheus.sh`, which `make test`
//! runs); without them the tests fail under `make test` and say how to install them elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;
#[path = "support/scrape.rs"]
mod scrape;

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use scrape::{get, url_encode, Infertop};

/// (family, `OpenMetrics` type, unit) of every family a run on the recorded Pi 4 has.
const FAMILIES: [(&str, &str, &str); 27] = [
    ("infertop_inferences", "counter", ""),
    ("infertop_inference_latency_seconds", "histogram", "seconds"),
    ("infertop_latency_p50_seconds", "gauge", "seconds"),
    ("infertop_model_macs", "gauge", ""),
    ("infertop_latency_per_gmac_seconds", "gauge", "seconds"),
    ("infertop_op_time_share_ratio", "gauge", "ratio"),
    ("infertop_page_faults_per_inference", "gauge", ""),
    ("infertop_context_switches_per_inference", "gauge", ""),
    ("infertop_energy_per_inference_joules", "gauge", "joules"),
    ("infertop_model_running", "gauge", ""),
    ("infertop_cpu_clock_measured_hertz", "gauge", "hertz"),
    ("infertop_cpu_clock_reported_hertz", "gauge", "hertz"),
    ("infertop_cpu_clock_max_hertz", "gauge", "hertz"),
    ("infertop_temperature_celsius", "gauge", "celsius"),
    ("infertop_throttled", "gauge", ""),
    ("infertop_throttle_source_throttled", "gauge", ""),
    ("infertop_memory_total_bytes", "gauge", "bytes"),
    ("infertop_memory_used_bytes", "gauge", "bytes"),
    ("infertop_memory_available_bytes", "gauge", "bytes"),
    ("infertop_swap_total_bytes", "gauge", "bytes"),
    ("infertop_swap_used_bytes", "gauge", "bytes"),
    ("infertop_process_resident_memory_bytes", "gauge", "bytes"),
    ("infertop_process_cpu_seconds", "counter", "seconds"),
    ("infertop_power_watts", "gauge", "watts"),
    ("infertop_peak_macs_per_second", "gauge", ""),
    ("infertop_memory_bandwidth_bytes_per_second", "gauge", ""),
    ("infertop_op_time_roofline_ratio", "gauge", "ratio"),
];

/// Reads an exposition with the `OpenMetrics` parser and prints, per family, its name, type,
/// unit and samples as JSON. The parser raises on anything the format does not allow.
const PARSE: &str = r"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
families = [{'name': f.name, 'type': f.type, 'unit': f.unit,
             'samples': [[s.name, s.labels, s.value] for s in f.samples]}
            for f in text_string_to_metric_families(sys.stdin.read())]
print(json.dumps(families))
";

/// Whether a scrape holds the model's first measurements and a charged energy figure.
fn measured(text: &str) -> bool {
    text.contains("infertop_latency_p50_seconds{model=\"tiny\"}")
        && text.contains("infertop_energy_per_inference_joules")
}

#[test]
fn an_openmetrics_parser_reads_the_names_types_and_units() {
    let Some(python) = scrape::python_with_parser() else {
        return scrape::missing("python3-prometheus-client (the OpenMetrics parser)");
    };
    let dir = tempfile::tempdir().unwrap();
    let infertop = Infertop::start(dir.path());
    let text = infertop.metrics_when(measured);
    let mut parser = Command::new(&python)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    parser.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = parser.wait_with_output().unwrap();
    assert!(out.status.success(), "the parser refused it: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    let families: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    for (name, kind, unit) in FAMILIES {
        let family = families.iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("no {name} in\n{text}"));
        assert_eq!((family["type"].as_str(), family["unit"].as_str()), (Some(kind), Some(unit)), "{name}");
    }
    // Only the percentiles that need more inferences may come on top, and the predictions when
    // this machine's cache holds a kernel calibration at the run's threads.
    let extra = [
        "infertop_latency_p90_seconds",
        "infertop_latency_p99_seconds",
        "infertop_latency_predicted_seconds",
        "infertop_latency_over_predicted_ratio",
    ];
    for family in &families {
        let name = family["name"].as_str().unwrap();
        assert!(FAMILIES.iter().any(|(n, ..)| *n == name) || extra.contains(&name), "unexpected {name}");
    }
    let sample = |family: &str, sample: &str| -> Vec<Value> {
        let f = families.iter().find(|f| f["name"] == family).unwrap();
        f["samples"].as_array().unwrap().iter().filter(|s| s[0] == sample).cloned().collect()
    };
    let total = sample("infertop_inferences", "infertop_inferences_total");
    assert_eq!(total[0][1]["model"], "tiny");
    assert!(total[0][2].as_f64().unwrap() >= 1.0);
    let temperature = sample("infertop_temperature_celsius", "infertop_temperature_celsius");
    assert_eq!((&temperature[0][1]["zone"], temperature[0][2].as_f64()), (&Value::from("cpu-thermal"), Some(48.686)));
    infertop.stop();
}

/// A Prometheus server on a free loopback port, scraping `target` every second.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    log: std::path::PathBuf,
}

impl Prometheus {
    fn start(binary: &std::path::Path, dir: &std::path::Path, target: SocketAddr) -> Self {
        let config = dir.join("prometheus.yml");
        let scrape = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: infertop\n    \
             static_configs:\n      - targets: ['{target}']\n"
        );
        std::fs::write(&config, scrape).unwrap();
        // A port the system has just handed out and taken back; another program could take it
        // in between, and then the readiness wait below says so.
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let log = dir.join("prometheus.log");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("prometheus starts");
        let prometheus = Self { child, addr, log };
        prometheus.wait(Duration::from_secs(60), "ready", || get(addr, "/-/ready").is_ok_and(|r| r.status == 200));
        prometheus
    }

    fn wait(&self, limit: Duration, what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + limit + binary::startup_allowance();
        while !done() {
            assert!(Instant::now() < deadline, "prometheus: not {what} in time; its log:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The `data` of an API call that succeeded.
    fn api(&self, path: &str) -> Value {
        let response = get(self.addr, path).unwrap();
        let value: Value =
            serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", response.body));
        assert_eq!(value["status"], "success", "{path}: {value}");
        value["data"].clone()
    }

    /// An instant query's result vector, at `time` (Unix seconds) when given.
    fn query(&self, promql: &str, time: Option<f64>) -> Vec<Value> {
        let at = time.map_or_else(String::new, |t| format!("&time={t}"));
        let data = self.api(&format!("/api/v1/query?query={}{at}", url_encode(promql)));
        data["result"].as_array().cloned().unwrap_or_default()
    }

    /// The one value `promql` has at `time`, with its timestamp.
    fn value(&self, promql: &str, time: Option<f64>) -> (f64, f64) {
        let result = self.query(promql, time);
        assert_eq!(result.len(), 1, "{promql}: {result:?}");
        let pair = &result[0]["value"];
        (pair[0].as_f64().unwrap(), pair[1].as_str().unwrap().parse().unwrap())
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn prometheus_scrapes_a_run_and_agrees_with_its_run_folder() {
    let Some(binary_path) = scrape::prometheus_binary() else {
        return scrape::missing("prometheus (the server)");
    };
    let dir = tempfile::tempdir().unwrap();
    let infertop = Infertop::start(dir.path());
    infertop.metrics_when(measured);
    let prometheus = Prometheus::start(&binary_path, dir.path(), infertop.addr);
    // Two scrapes that found inferences, the counter never falling between them.
    let series = "infertop_inferences_total{model=\"tiny\"}[5m]";
    prometheus.wait(Duration::from_secs(60), "two scrapes", || {
        let values = prometheus.query(series, None);
        let samples = values.first().and_then(|s| s["values"].as_array().cloned()).unwrap_or_default();
        samples.len() >= 2 && samples.iter().filter_map(|v| v[1].as_str()?.parse::<f64>().ok()).all(|v| v > 0.0)
    });
    let counts: Vec<f64> = prometheus.query(series, None)[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[1].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "the counter fell: {counts:?}");
    check_target_and_metadata(&prometheus, infertop.addr);
    // Every value below from the one scrape at `at`: the state as of one moment.
    let (at, total) = prometheus.value("infertop_inferences_total{model=\"tiny\"}", None);
    let scraped = |promql: &str| prometheus.value(promql, Some(at)).1;
    let hist_count = scraped("infertop_inference_latency_seconds_count{model=\"tiny\"}");
    let hist_sum = scraped("infertop_inference_latency_seconds_sum{model=\"tiny\"}");
    let p50 = scraped("infertop_latency_p50_seconds{model=\"tiny\"}");
    let celsius = scraped("infertop_temperature_celsius{zone=\"cpu-thermal\"}");
    let memory = scraped("infertop_memory_total_bytes");
    let buckets: Vec<(f64, f64)> = prometheus
        .query("infertop_inference_latency_seconds_bucket{model=\"tiny\"}", Some(at))
        .iter()
        .map(|s| {
            (s["metric"]["le"].as_str().unwrap().parse().unwrap(), s["value"][1].as_str().unwrap().parse().unwrap())
        })
        .collect();
    check_dashboard(&prometheus);
    drop(prometheus);
    infertop.stop();

    let folder = run_folder(&dir.path().join("snapshots"));
    let rows = inference_rows(&folder.join("inferences.csv"));
    // The state had applied `total` inferences of the only model: the first `total` rows.
    assert!(total >= 1.0 && rows.len() as f64 >= total, "{total} scraped, {} rows", rows.len());
    let seen = &rows[..total as usize];
    let warm: Vec<f64> = seen.iter().filter(|r| !r.profiled && !r.cold).map(|r| r.latency_ms / 1e3).collect();
    assert_eq!(hist_count as usize, warm.len(), "histogram count against the warm timed rows");
    let sum: f64 = warm.iter().sum();
    assert!((hist_sum - sum).abs() <= 1e-9 * sum.max(1.0), "sum {hist_sum} against {sum}");
    assert_eq!(buckets.len(), infertop::core::state::LATENCY_BOUNDS_S.len() + 1);
    for (le, count) in &buckets {
        let expected = warm.iter().filter(|s| *s <= le).count();
        assert_eq!(*count as usize, expected, "bucket le={le}");
    }
    // The screen's p50: over the latest warm latencies the state keeps.
    let mut window: Vec<f64> = warm[warm.len().saturating_sub(infertop::core::state::LATENCY_WINDOW)..].to_vec();
    window.sort_by(f64::total_cmp);
    let expected_p50 = infertop::core::common::quantile_sorted(&window, 0.5).unwrap();
    assert!((p50 - expected_p50).abs() <= 1e-12, "p50 {p50} against {expected_p50}");
    let system = std::fs::read_to_string(folder.join("system.csv")).unwrap();
    assert!(system_values(&system, "temp_c", "cpu-thermal").contains(&celsius), "{celsius} °C");
    assert!(system_values(&system, "mem_total_bytes", "system").contains(&memory), "{memory} bytes");
}

/// The target is up with no scrape error (Prometheus parsed the `OpenMetrics` text), and the
/// types and units Prometheus read are those infertop declares.
fn check_target_and_metadata(prometheus: &Prometheus, target: SocketAddr) {
    let targets = prometheus.api("/api/v1/targets");
    let active = &targets["activeTargets"][0];
    assert_eq!(active["scrapeUrl"], format!("http://{target}/metrics"));
    assert_eq!((active["health"].as_str(), active["lastError"].as_str()), (Some("up"), Some("")), "{active}");
    assert_eq!(prometheus.value("up{job=\"infertop\"}", None).1 as u8, 1, "up");
    let metadata =
        prometheus.api(&format!("/api/v1/targets/metadata?match_target={}", url_encode("{job=\"infertop\"}")));
    let metadata = metadata.as_array().unwrap();
    for (name, kind, unit) in FAMILIES {
        let entry = metadata.iter().find(|m| m["metric"] == name).unwrap_or_else(|| panic!("no metadata for {name}"));
        assert_eq!((entry["type"].as_str(), entry["unit"].as_str()), (Some(kind), Some(unit)), "{name}: {entry}");
    }
}

/// Every query of the shipped Grafana dashboard, with its variables set to "all", gives
/// Prometheus something to draw.
fn check_dashboard(prometheus: &Prometheus) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 10, "{} panels", panels.len());
    for panel in panels {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let promql = expr.replace("$instance", ".*").replace("$model", ".*").replace("$__rate_interval", "1m");
            let result = prometheus.query(&promql, None);
            assert!(!result.is_empty(), "panel {}: {expr} gives nothing", panel["title"]);
        }
    }
}

/// The one run folder under `base`.
fn run_folder(base: &std::path::Path) -> std::path::PathBuf {
    let folders: Vec<_> = std::fs::read_dir(base).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    folders[0].clone()
}

struct Row {
    latency_ms: f64,
    profiled: bool,
    cold: bool,
}

fn inference_rows(path: &std::path::Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} column"));
    let (latency, profiled, cold) = (column("latency_ms"), column("profiled"), column("cold"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Row { latency_ms: r[latency].parse().unwrap(), profiled: &r[profiled] == "true", cold: &r[cold] == "true" }
        })
        .collect()
}

/// Every value of `metric` from `source` in `system.csv` (`t_ms,metric,source,value,model`).
fn system_values(text: &str, metric: &str, source: &str) -> Vec<f64> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields.get(1) == Some(&metric) && fields.get(2) == Some(&source)).then(|| fields[3].parse().ok()).flatten()
        })
        .collect()
}
