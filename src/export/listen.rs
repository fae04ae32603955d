//! `--listen ADDR`: a small HTTP/1.1 server answering `GET /metrics` with the `OpenMetrics`
//! exposition of the state ([`crate::export::metrics`]).
//!
//! The server runs on a thread of its own and never touches the state. A scrape raises a flag
//! that the front end's loop waits on ([`wanted`]); the front end takes a [`MetricsSnapshot`]
//! between two events (a fraction of a millisecond) and hands it over, and the server encodes
//! and sends it. Neither the engine nor the state loop waits for a scraper: a slow or stuck
//! client only ever holds the server's thread. A front end that does not answer within
//! [`FRESH_WAIT`] (it is stopping) gets its previous snapshot served.
//!
//! One connection at a time, closed after each response: a Prometheus server scrapes once per
//! interval, and a connection that sends nothing is dropped after [`IO_TIMEOUT`].

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::core::state::MonitorState;
use crate::export::metrics::{encode, MetricsSnapshot, CONTENT_TYPE};

/// How long a scrape waits for the front end's fresh snapshot before taking the previous one.
pub const FRESH_WAIT: Duration = Duration::from_millis(500);

/// How long a client may take to send its request or read the response.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest request head read: a scraper's GET is a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;

/// Why `--listen` cannot serve.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source}")]
pub struct ListenError {
    pub addr: SocketAddr,
    pub source: io::Error,
}

/// The latest snapshot, numbered so that a scrape can wait for a newer one.
#[derive(Default)]
struct Published {
    generation: u64,
    snapshot: Option<Arc<MetricsSnapshot>>,
}

/// What the server's thread and the front end share.
#[derive(Default)]
struct Shared {
    latest: Mutex<Published>,
    published: Condvar,
    /// A scrape waits for a snapshot.
    wanted: AtomicBool,
    wake: Notify,
    stop: AtomicBool,
}

/// The `/metrics` server: listening from [`bind`](Self::bind) until dropped.
pub struct MetricsServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl MetricsServer {
    /// Listens on `addr` and starts serving.
    ///
    /// # Errors
    /// When the address cannot be bound (in use, not this machine's, a port needing root) or
    /// the thread cannot start.
    pub fn bind(addr: SocketAddr) -> Result<Self, ListenError> {
        let error = |source| ListenError { addr, source };
        let listener = TcpListener::bind(addr).map_err(error)?;
        let bound = listener.local_addr().map_err(error)?;
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("infertop-metrics".into())
            .spawn(move || serve(&listener, &thread_shared))
            .map_err(error)?;
        Ok(Self { shared, addr: bound })
    }

    /// The address it listens on (with the port the system chose for port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether a scrape waits for a snapshot (and forgets that it did); for loops that poll.
    #[must_use]
    pub fn take_wanted(&self) -> bool {
        self.shared.wanted.swap(false, Ordering::SeqCst)
    }

    /// Takes a snapshot of `state` and hands it to the server.
    pub fn publish(&self, state: &MonitorState) {
        let snapshot = Arc::new(MetricsSnapshot::of(state));
        let mut latest = self.shared.latest.lock().unwrap_or_else(PoisonError::into_inner);
        latest.generation += 1;
        latest.snapshot = Some(snapshot);
        drop(latest);
        self.shared.published.notify_all();
    }
}

impl Drop for MetricsServer {
    /// Stops accepting: wakes the thread out of `accept` with a connection of its own and
    /// leaves it to end (a response in progress finishes within [`IO_TIMEOUT`]).
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.published.notify_all();
        let _ = TcpStream::connect_timeout(&reachable(self.addr), Duration::from_millis(200));
    }
}

/// Resolves once a scrape waits for a snapshot, handing back the server to publish it; never,
/// without a server. For a front end's `select!`.
pub async fn wanted(server: Option<&MetricsServer>) -> &MetricsServer {
    let Some(server) = server else { return std::future::pending().await };
    loop {
        if server.take_wanted() {
            return server;
        }
        server.shared.wake.notified().await;
    }
}

/// The address to connect to for a server listening on `addr` (every interface: loopback).
fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// The server's thread: one connection after the other until stopped.
fn serve(listener: &TcpListener, shared: &Shared) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        match stream {
            // A client that goes away mid-response is its own problem.
            Ok(stream) => {
                let _ = respond(stream, shared);
            }
            // Out of file descriptors, say: let it pass rather than spin.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Reads one request and answers it.
fn respond(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let Some(head) = read_head(&mut stream)? else {
        return reply(&mut stream, "400 Bad Request", "text/plain", b"bad request\n", true);
    };
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    let path = target.split('?').next().unwrap_or_default();
    let with_body = method != "HEAD";
    match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let snapshot = fresh_snapshot(shared);
            match encode(snapshot) {
                Ok(text) => reply(&mut stream, "200 OK", CONTENT_TYPE, text.as_bytes(), with_body),
                Err(_) => {
                    reply(&mut stream, "500 Internal Server Error", "text/plain", b"encoding failed\n", with_body)
                }
            }
        }
        ("GET" | "HEAD", "/") => {
            let body = b"infertop: OpenMetrics at /metrics\n";
            reply(&mut stream, "200 OK", "text/plain; charset=utf-8", body, with_body)
        }
        ("GET" | "HEAD", _) => {
            reply(&mut stream, "404 Not Found", "text/plain", b"not found: try /metrics\n", with_body)
        }
        _ => reply(&mut stream, "405 Method Not Allowed", "text/plain", b"only GET and HEAD\n", true),
    }
}

/// The request line and headers, up to the blank line; `None` when the client sent no
/// complete head within the limits.
fn read_head(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        if head.len() > MAX_HEAD {
            return Ok(None);
        }
        let n = match stream.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => return Ok(None),
            Err(e) => return Err(e),
        };
        head.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8(head).ok())
}

fn reply(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8], with_body: bool) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// Asks the front end for a snapshot and waits for it at most [`FRESH_WAIT`]; the previous
/// one (or an empty one, before the first) otherwise.
fn fresh_snapshot(shared: &Shared) -> Arc<MetricsSnapshot> {
    let latest = shared.latest.lock().unwrap_or_else(PoisonError::into_inner);
    let seen = latest.generation;
    shared.wanted.store(true, Ordering::SeqCst);
    shared.wake.notify_one();
    let (latest, _) = shared
        .published
        .wait_timeout_while(latest, FRESH_WAIT, |p| p.generation == seen && !shared.stop.load(Ordering::SeqCst))
        .unwrap_or_else(PoisonError::into_inner);
    latest.snapshot.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests;
