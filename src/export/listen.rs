//! `--listen ADDR`: a small HTTP/1.1 server answering `GET /metrics` with the `OpenMetrics`
//! exposition of the state ([`crate::export::metrics`]).
//!
//! The server runs on a thread of its own and never touches the state. A scrape raises a flag
//! that the front end's loop waits on ([`wanted`]); the front end takes a [`MetricsSnapshot`]
//! between two events (a fraction of a millisecond) and hands it over, and the server encodes
//! and sends it. Neither the engine nor the state loop waits for a scraper: a slow or stuck
//! client only ever holds its own connection's thread. A front end that does not answer within
//! [`FRESH_WAIT`] (it is stopping) gets its previous snapshot served.
//!
//! Each connection is served on a short-lived thread of its own and closed after one response,
//! so a slow or silent client holds only its own thread: every request has [`REQUEST_DEADLINE`]
//! from its acceptance to read its head and take the whole response, however it trickles its
//! bytes. At most [`MAX_CONNECTIONS`] are served at once; one more is answered `503` at once
//! and closed, so a flood of connections costs a bounded number of threads and descriptors.
//! Threads rather than an async server: a scrape is one small request every few seconds, and
//! the standard library serves it without another crate on a Pi's build.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::core::state::MonitorState;
use crate::export::metrics::{encode, MetricsSnapshot, CONTENT_TYPE};

/// How long a scrape waits for the front end's fresh snapshot before taking the previous one.
pub const FRESH_WAIT: Duration = Duration::from_millis(500);

/// How long a client has, from its connection, to send its request and read the whole
/// response. Prometheus' default scrape timeout is 10 s; an answer takes milliseconds.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// Connections served at once. A fleet's Prometheus pair and a person with `curl` need a few;
/// each one costs a thread (with a small stack) and a descriptor for at most
/// [`REQUEST_DEADLINE`].
pub const MAX_CONNECTIONS: usize = 128;

/// The stack of a connection's thread: it parses a head and encodes the exposition, no deep
/// recursion.
const STACK_BYTES: usize = 256 * 1024;

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
    /// leaves it to end (a response in progress finishes within [`REQUEST_DEADLINE`]).
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

/// The server's thread: accepts connections and hands each to a thread of its own, until
/// stopped.
fn serve(listener: &TcpListener, shared: &Arc<Shared>) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        match stream {
            Ok(stream) => admit(stream, shared, &open),
            // Out of file descriptors, say: let it pass rather than spin.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Serves `stream` on a thread of its own, or refuses it when [`MAX_CONNECTIONS`] are open.
fn admit(stream: TcpStream, shared: &Arc<Shared>, open: &Arc<AtomicUsize>) {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    let Some(slot) = Slot::take(open) else {
        refuse(&stream);
        return;
    };
    let shared = Arc::clone(shared);
    // A thread that cannot start drops its closure, and with it the stream and the slot.
    let _ = std::thread::Builder::new().name("infertop-scrape".into()).stack_size(STACK_BYTES).spawn(move || {
        let _slot = slot;
        // A client that goes away mid-response is its own problem.
        let _ = respond(&stream, &shared, deadline);
    });
}

/// One of the [`MAX_CONNECTIONS`] connections being served, given back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(open: &Arc<AtomicUsize>) -> Option<Self> {
        let taken = open.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < MAX_CONNECTIONS).then_some(n + 1));
        taken.is_ok().then(|| Self(Arc::clone(open)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Tells a connection over the limit to come back later, without waiting on it: the few bytes
/// fit an empty socket buffer, and a client that cannot take them gets the close alone.
fn refuse(stream: &TcpStream) {
    let body = "too many connections, try again\n";
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.set_nonblocking(true).is_ok() {
        let _ = (&mut &*stream).write(response.as_bytes());
        // The end of the answer, then whatever the request sent so far: closing with unread
        // bytes would reset the connection and could cost the client the answer.
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut sink = [0u8; 4096];
        // Bounded: a client that keeps sending must not hold the accepting thread.
        for _ in 0..4 {
            if !(&mut &*stream).read(&mut sink).is_ok_and(|n| n > 0) {
                break;
            }
        }
    }
}

/// A connection whose reads and writes share one deadline: each waits at most for what is left
/// of it, so a client that trickles a byte at a time cannot stretch the request.
struct Timed<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

impl Timed<'_> {
    /// What is left of the deadline; an error once it has passed.
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "the request's deadline passed"));
        }
        Ok(left)
    }
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        (&mut &*self.stream).read(buf)
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        (&mut &*self.stream).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&mut &*self.stream).flush()
    }
}

/// Reads one request and answers it, all before `deadline`.
fn respond(stream: &TcpStream, shared: &Shared, deadline: Instant) -> io::Result<()> {
    let mut stream = Timed { stream, deadline };
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
fn read_head(stream: &mut impl Read) -> io::Result<Option<String>> {
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

fn reply(stream: &mut impl Write, status: &str, content_type: &str, body: &[u8], with_body: bool) -> io::Result<()> {
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
