//! `--listen` against clients that misbehave, on the real binary and on 127.0.0.1 only: one
//! that trickles its request a byte at a time and sixty that connect and say nothing hold up no
//! scrape, and each is closed once its request's deadline passes; `:PORT` listens on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;
#[path = "support/scrape.rs"]
mod scrape;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use infertop::export::listen::REQUEST_DEADLINE;
use scrape::{get, Infertop};

/// Silent connections opened before the scrapes: on a server that took one connection at a
/// time with a 2 s timeout per read, they held every scrape for two minutes.
const SILENT: usize = 60;

/// Reads until the server closes `stream`; how long that took. A hang guard of its own, well
/// past the deadline, so that a server that never closes fails the test instead of hanging it.
fn closed_after(stream: &mut TcpStream, started: Instant) -> Duration {
    stream.set_read_timeout(Some(REQUEST_DEADLINE + Duration::from_secs(30))).unwrap();
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("not closed by the server: {e}"),
    }
    started.elapsed()
}

/// A client sending `GET /metrics ...` one byte every 1.5 s, until the server closes it.
fn trickle(addr: SocketAddr) -> std::thread::JoinHandle<Duration> {
    let mut stream = TcpStream::connect(addr).unwrap();
    std::thread::spawn(move || {
        let started = Instant::now();
        for byte in b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n" {
            if stream.write_all(&[*byte]).is_err() {
                break;
            }
            // Never told to stop otherwise: a closed connection refuses a write or answers a
            // read; a short read timeout checks without waiting out the 1.5 s twice.
            stream.set_read_timeout(Some(Duration::from_millis(1500))).unwrap();
            let still_open = stream.read(&mut [0; 256]).is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock);
            if !still_open {
                break;
            }
        }
        started.elapsed()
    })
}

#[test]
fn slow_and_silent_clients_hold_up_no_scrape_and_are_closed_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let infertop = Infertop::start(dir.path());
    // A timed inference first: the run is stopped with SIGINT at the end, and one that timed
    // nothing exits 1 (under emulation loading takes longer than the scrapes below).
    infertop.metrics_once_timed("tiny");
    let slow = trickle(infertop.addr);
    let connected = Instant::now();
    let mut silent: Vec<TcpStream> = (0..SILENT).map(|_| TcpStream::connect(infertop.addr).unwrap()).collect();
    // Three scrapes, each answered within its own deadline although every client above
    // connected before it.
    for _ in 0..3 {
        let started = Instant::now();
        let response = get(infertop.addr, "/metrics").expect("a scrape beside slow clients is answered");
        let took = started.elapsed();
        assert_eq!(response.status, 200, "{}", response.head);
        assert!(response.body.contains("infertop_inferences_total{model=\"tiny\"}"), "{}", response.body);
        assert!(took < REQUEST_DEADLINE, "a scrape took {took:?} beside {SILENT} silent clients");
    }
    for stream in &mut silent {
        let after = closed_after(stream, connected);
        assert!(after + Duration::from_millis(100) >= REQUEST_DEADLINE, "closed before its deadline: {after:?}");
    }
    let slow_for = slow.join().unwrap();
    assert!(slow_for < REQUEST_DEADLINE + Duration::from_secs(3), "the trickling client was served {slow_for:?}");
    infertop.stop();
}

#[test]
fn a_port_alone_listens_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = binary::infertop()
        .args(["--headless", "--threads", "1", "--listen", ":0", "--models"])
        .arg(scrape::tiny_manifest(dir.path()))
        .arg("--export-dir")
        .arg(dir.path().join("snapshots"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("infertop starts");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let addr = scrape::listen_addr(&line);
    assert!(addr.ip().is_loopback(), "`:0` listens on {addr}");
}
