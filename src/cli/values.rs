//! Parsers of flag values: each checks a range and says, in one line, what is valid.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The longest duration any flag takes: far beyond any run, and far below what a clock
/// reading plus a duration can hold.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Parses `500ms`, `30s`, `10m`, `1h`; a duration must be positive and at most ten years.
pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration ({e}); use units such as 500ms, 30s, 10m"))?;
    if d.is_zero() {
        return Err(format!("'{s}' must be longer than zero"));
    }
    if d > MAX_DURATION {
        return Err(format!("'{s}' is longer than the maximum, {}", humantime::format_duration(MAX_DURATION)));
    }
    Ok(d)
}

/// The most untimed warm-up passes: a warm-up is for caches and lazily made kernels, which a
/// few passes settle.
const MAX_WARMUP: usize = 1000;

pub(super) fn parse_warmup(s: &str) -> Result<usize, String> {
    let n: usize = s.trim().parse().map_err(|_| format!("'{s}' is not a count of inferences"))?;
    if n > MAX_WARMUP {
        return Err(format!("'{s}' is more than the maximum, {MAX_WARMUP}"));
    }
    Ok(n)
}

/// The shortest `--print-every`. Lines are for a person (or a log), and ten a second per model
/// are more than anyone reads; printing faster takes time from the engine being measured and
/// floods the log (`1ns` printed 283k lines in 8 s).
pub const MIN_PRINT_EVERY: Duration = Duration::from_millis(100);

/// The shortest `--export-every`. A snapshot is a folder of five synced files holding the whole
/// run so far; more than one a second fills the disk with near-copies (`1ns` made 262 folders in
/// 4 s) and each one takes time from the engine.
pub const MIN_EXPORT_EVERY: Duration = Duration::from_secs(1);

/// The shortest `--sample-every`. A sample reads dozens of files and refreshes the process
/// table, load on the machine being measured; and the system history keeps a fixed number of
/// samples (7200: an hour at the default 500ms, six minutes at this minimum).
pub const MIN_SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// The shortest dwell: below it a dwell is only the two inferences it always holds.
pub const MIN_DWELL: Duration = Duration::from_millis(10);

pub(super) fn parse_dwell(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_DWELL)
}

pub(super) fn parse_print_every(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_PRINT_EVERY)
}

/// The fastest replay: a sample every 500 ms then covers 50 s of a recording.
const MAX_REPLAY_SPEED: f64 = 100.0;

/// The slowest replay: a recording's second then lasts 100 s. Slower is no use, and the
/// replay's clock (and the throttle reader's interval, divided by the speed) must stay
/// representable.
const MIN_REPLAY_SPEED: f64 = 0.01;

/// The shortest soak phase or window: a few samples at the fastest sampling.
const MIN_SOAK_TIME: Duration = Duration::from_secs(1);

pub(super) fn parse_soak_time(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_SOAK_TIME)
}

pub(super) fn parse_replay_speed(s: &str) -> Result<f64, String> {
    let speed: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if !(MIN_REPLAY_SPEED..=MAX_REPLAY_SPEED).contains(&speed) {
        return Err(format!("'{s}' must be between {MIN_REPLAY_SPEED} and {MAX_REPLAY_SPEED}"));
    }
    Ok(speed)
}

pub(super) fn parse_export_every(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_EXPORT_EVERY)
}

/// The smallest `--inferences-max-mb`: 10 kB, about a hundred rows per part. Smaller parts
/// would only multiply files (a part per batch of rows).
pub const MIN_INFERENCES_MAX_MB: f64 = 0.01;

pub(super) fn parse_inferences_max_mb(s: &str) -> Result<f64, String> {
    let mb: f64 = s.trim().parse().map_err(|_| format!("'{s}' is not a number of megabytes"))?;
    if !(MIN_INFERENCES_MAX_MB..=1e6).contains(&mb) {
        return Err(format!("'{s}' must be between {MIN_INFERENCES_MAX_MB} and 1000000"));
    }
    Ok(mb)
}

/// Parses `IP:PORT` (`[v6]:PORT` for IPv6), `localhost:PORT` or `:PORT` (both IPv4 loopback:
/// infertop often runs as root, so the network sees it only when an address says so). Names
/// other than `localhost` are not looked up: the address to listen on is this machine's own.
pub(super) fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad =
        || format!("'{s}' is not an address to listen on; use IP:PORT such as 127.0.0.1:9464, localhost:PORT or :PORT");
    let (ip, port) = match (s.strip_prefix("localhost:"), s.strip_prefix(':')) {
        (Some(port), _) | (None, Some(port)) => (Ipv4Addr::LOCALHOST, port),
        (None, None) => return Err(bad()),
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    Ok(SocketAddr::from((ip, port)))
}

pub(super) fn parse_sample_every(s: &str) -> Result<Duration, String> {
    parse_duration_at_least(s, MIN_SAMPLE_EVERY)
}

/// A duration of at least `min`; clap's message around the error names the flag and value.
pub(super) fn parse_duration_at_least(s: &str, min: Duration) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < min {
        return Err(format!("the minimum is {}", humantime::format_duration(min)));
    }
    Ok(d)
}
