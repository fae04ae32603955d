use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::core::run::{Event, Inference};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Sends `request` and returns the whole response.
fn http(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// What a `GET /metrics` got before the connection ended, however it ended (a refused one may
/// be reset after its answer).
fn answer(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\n\r\n");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = stream.read(&mut chunk) {
        got.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn get(addr: SocketAddr, path: &str) -> String {
    http(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text\r\n\r\n"))
}

/// A state in which model `tiny` has run `n` inferences.
fn state_with(n: u64) -> MonitorState {
    let mut state = MonitorState::new(&["tiny"]);
    for seq in 1..=n {
        let inference = Inference {
            model: 0,
            seq,
            wall_ns: 1_000_000,
            at_ns: seq,
            profiled: false,
            cold: false,
            usage: None,
            ops: vec![],
        };
        state.apply(Event::Inference(inference));
    }
    state
}

/// Stands in for a front end's loop: publishes `state` whenever a scrape asks, until dropped.
struct FrontEnd {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FrontEnd {
    fn start(server: Arc<MetricsServer>, state: MonitorState) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                if server.take_wanted() {
                    server.publish(&state);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        Self { stop, thread: Some(thread) }
    }
}

impl Drop for FrontEnd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_scrape_gets_a_fresh_snapshot_as_openmetrics() {
    let server = Arc::new(MetricsServer::bind(loopback()).unwrap());
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    let _front = FrontEnd::start(Arc::clone(&server), state_with(3));
    let response = get(addr, "/metrics?x=1");
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains(&format!("Content-Type: {CONTENT_TYPE}")), "{head}");
    assert!(head.contains(&format!("Content-Length: {}", body.len())), "{head}");
    assert!(body.contains("infertop_inferences_total{model=\"tiny\"} 3.0\n"), "{body}");
    assert!(body.ends_with("# EOF\n"));
}

#[test]
fn other_paths_and_methods_are_refused_and_head_has_no_body() {
    let server = Arc::new(MetricsServer::bind(loopback()).unwrap());
    let addr = server.local_addr();
    let _front = FrontEnd::start(Arc::clone(&server), state_with(1));
    assert!(get(addr, "/nope").starts_with("HTTP/1.1 404 Not Found\r\n"));
    assert!(get(addr, "/").contains("/metrics"));
    let post = http(addr, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert!(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{post}");
    let head = http(addr, "HEAD /metrics HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"), "{head}");
    assert!(http(addr, "garbage\n\n").starts_with("HTTP/1.1 405"), "a request line that is no GET");
}

/// A front end that no longer answers (it is stopping) does not hold a scrape longer than
/// `FRESH_WAIT`: the previous snapshot is served.
#[test]
fn without_an_answer_the_previous_snapshot_is_served_in_time() {
    let server = Arc::new(MetricsServer::bind(loopback()).unwrap());
    let addr = server.local_addr();
    server.publish(&state_with(7));
    let started = Instant::now();
    let body = get(addr, "/metrics");
    assert!(started.elapsed() < FRESH_WAIT + Duration::from_secs(1), "{:?}", started.elapsed());
    assert!(body.contains("infertop_inferences_total{model=\"tiny\"} 7.0"), "{body}");
}

/// Silent clients hold nothing: a scrape beside them is answered at once, and each is closed
/// when its request's deadline passes.
#[test]
fn silent_clients_neither_delay_a_scrape_nor_stay_open() {
    let server = Arc::new(MetricsServer::bind(loopback()).unwrap());
    let addr = server.local_addr();
    let _front = FrontEnd::start(Arc::clone(&server), state_with(2));
    let mut silent: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let started = Instant::now();
    let body = get(addr, "/metrics");
    assert!(body.contains("infertop_inferences_total{model=\"tiny\"} 2.0"), "{body}");
    assert!(started.elapsed() < FRESH_WAIT + Duration::from_secs(2), "{:?}", started.elapsed());
    for stream in &mut silent {
        stream.set_read_timeout(Some(REQUEST_DEADLINE + Duration::from_secs(10))).unwrap();
        let mut rest = Vec::new();
        // Closed by the server (an end of file, or a reset), not by this read's own timeout.
        let closed =
            stream.read_to_end(&mut rest).map_or_else(|e| e.kind() != std::io::ErrorKind::WouldBlock, |_| true);
        assert!(closed, "a silent client is closed after the deadline");
    }
    assert!(started.elapsed() + Duration::from_millis(100) >= REQUEST_DEADLINE, "{:?}", started.elapsed());
}

/// Beyond `MAX_CONNECTIONS` open at once, a connection is told 503 at once; once they close,
/// scrapes are answered again.
#[test]
fn connections_over_the_cap_are_refused_at_once() {
    let server = Arc::new(MetricsServer::bind(loopback()).unwrap());
    let addr = server.local_addr();
    let _front = FrontEnd::start(Arc::clone(&server), state_with(1));
    let held: Vec<TcpStream> = (0..MAX_CONNECTIONS).map(|_| TcpStream::connect(addr).unwrap()).collect();
    // The server counts a connection once it has accepted it: wait for the last to be counted.
    let started = Instant::now();
    let refused = loop {
        let response = answer(addr);
        if response.starts_with("HTTP/1.1 503") {
            break response;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never refused: {response}");
    };
    assert!(refused.contains("Retry-After: 1\r\n"), "{refused}");
    drop(held);
    let started = Instant::now();
    while !get(addr, "/metrics").starts_with("HTTP/1.1 200") {
        assert!(started.elapsed() < REQUEST_DEADLINE + Duration::from_secs(10), "still refused");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_port_in_use_is_an_error_naming_the_address() {
    let taken = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = taken.local_addr().unwrap();
    let Err(e) = MetricsServer::bind(addr) else { panic!("bound {addr} twice") };
    let message = e.to_string();
    assert!(message.starts_with(&format!("cannot listen on {addr}: ")), "{message}");
    assert_eq!(e.source.kind(), std::io::ErrorKind::AddrInUse);
}

#[tokio::test]
async fn the_front_end_future_resolves_when_a_scrape_waits() {
    let server = MetricsServer::bind(loopback()).unwrap();
    let addr = server.local_addr();
    let scraper = std::thread::spawn(move || get(addr, "/metrics"));
    let woken = tokio::time::timeout(Duration::from_secs(5), wanted(Some(&server))).await.expect("woken by the scrape");
    woken.publish(&state_with(4));
    let body = tokio::task::spawn_blocking(move || scraper.join().unwrap()).await.unwrap();
    assert!(body.contains("infertop_inferences_total{model=\"tiny\"} 4.0"), "{body}");
    // Without a server the future never resolves.
    assert!(tokio::time::timeout(Duration::from_millis(50), wanted(None)).await.is_err());
}

#[test]
fn an_unspecified_address_is_reached_through_loopback() {
    assert_eq!(reachable("0.0.0.0:9464".parse().unwrap()), "127.0.0.1:9464".parse().unwrap());
    assert_eq!(reachable("[::]:9464".parse().unwrap()), "[::1]:9464".parse().unwrap());
    assert_eq!(reachable("192.0.2.1:1".parse().unwrap()), "192.0.2.1:1".parse().unwrap());
}
