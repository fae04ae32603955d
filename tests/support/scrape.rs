//! What the `--listen` tests drive: the infertop binary serving `/metrics`, a plain HTTP/1.0
//! client, and the external programs they check it with (Debian's `prometheus` and Python's
//! `prometheus_client` `OpenMetrics` parser, both installed by `scripts/ensure-prometheus.sh`).

#![allow(dead_code)] // each test crate uses a different part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use super::binary;

/// Set by `make test`: a missing external program fails the test instead of skipping it.
pub const REQUIRE: &str = "INFERTOP_REQUIRE_PROMETHEUS";

/// How to get the external programs.
pub const HOW: &str = "run `bash scripts/ensure-prometheus.sh` (as root, or with sudo), or \
    `apt-get install prometheus python3-prometheus-client` on Debian";

/// Says that `what` is missing, for a test that needs it: a failure under `make test` (which
/// sets [`REQUIRE`]), a skip said on stderr otherwise (a plain `cargo test` on a machine
/// without it).
pub fn missing(what: &str) {
    assert!(std::env::var_os(REQUIRE).is_none(), "{what} is needed for this test and is not installed: {HOW}");
    eprintln!("SKIPPED: {what} is not installed ({HOW})");
}

/// The Prometheus server: `INFERTOP_PROMETHEUS`, or `prometheus` on `PATH`.
pub fn prometheus_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("INFERTOP_PROMETHEUS") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("prometheus")).find(|p| p.is_file())
}

/// A Python that has the `prometheus_client` `OpenMetrics` parser (Debian's package installs it
/// for the system's `/usr/bin/python3`, which may not be the first `python3` on `PATH`).
pub fn python_with_parser() -> Option<String> {
    ["/usr/bin/python3", "python3"].into_iter().map(String::from).find(|python| {
        Command::new(python)
            .args(["-c", "import prometheus_client.openmetrics.parser"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// An HTTP response.
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// `GET path` over HTTP/1.0 (so the answer is neither chunked nor kept alive).
pub fn get(addr: SocketAddr, path: &str) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: application/openmetrics-text; version=1.0.0\r\n\r\n"
    )?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw.as_str(), ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(Response { status, head: head.to_string(), body: body.to_string() })
}

/// `text` percent-encoded for a query string.
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A manifest with the small `tiny` net only.
pub fn tiny_manifest(dir: &Path) -> PathBuf {
    let path = dir.join("manifest.toml");
    std::fs::write(&path, "[[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n").unwrap();
    path
}

/// The recorded Raspberry Pi 4 tree: clock, temperature, throttle flags and power are known.
pub fn rpi4_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs/rpi4")
}

/// infertop running headless with `--listen 127.0.0.1:0`, its run folder under `dir`.
pub struct Infertop {
    pub child: Child,
    pub addr: SocketAddr,
    stderr: BufReader<ChildStderr>,
}

impl Infertop {
    /// Starts it and reads the address it serves on from its first line on stderr.
    pub fn start(dir: &Path) -> Self {
        let mut child = binary::infertop()
            .args(["--headless", "--threads", "1", "--sample-every", "100ms", "--print-every", "1s"])
            .args(["--listen", "127.0.0.1:0", "--models"])
            .arg(tiny_manifest(dir))
            .arg("--sysfs-root")
            .arg(rpi4_root())
            .arg("--export-dir")
            .arg(dir.join("snapshots"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("infertop starts");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let addr = listen_addr(&line);
        Self { child, addr, stderr }
    }

    /// Scrapes `/metrics` until `ready` holds for the text (the first measurements are in).
    pub fn metrics_when(&self, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(90) + binary::startup_allowance();
        loop {
            let response = get(self.addr, "/metrics").expect("infertop answers /metrics");
            assert_eq!(response.status, 200, "{}", response.head);
            if ready(&response.body) {
                return response.body;
            }
            assert!(Instant::now() < deadline, "not ready in time; last scrape:\n{}", response.body);
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Scrapes until `model` has a timed inference in its latency (a run stopped before that
    /// exits 1 by design), and returns that scrape.
    pub fn metrics_once_timed(&self, model: &str) -> String {
        let count = format!("infertop_inference_latency_seconds_count{{model=\"{model}\"}} ");
        self.metrics_when(|text| {
            text.lines()
                .filter_map(|l| l.strip_prefix(count.as_str()))
                .any(|v| v.trim().parse::<f64>().is_ok_and(|n| n > 0.0))
        })
    }

    /// Stops it with SIGINT as a person would with Ctrl-C; returns what it said on stderr.
    pub fn stop(mut self) -> String {
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(i32::try_from(self.child.id()).unwrap(), libc::SIGINT) };
        let mut rest = String::new();
        let _ = self.stderr.read_to_string(&mut rest);
        let status = self.child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "infertop after SIGINT: {rest}");
        rest
    }
}

impl Drop for Infertop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address infertop says it serves `/metrics` on, from its first line on stderr.
pub fn listen_addr(line: &str) -> std::net::SocketAddr {
    line.trim()
        .strip_prefix("infertop: serving OpenMetrics on http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address in the first line on stderr: {line:?}"))
}
