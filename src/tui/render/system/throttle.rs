//! The system view's throttle lines: the verdict, then one line for each source the machine
//! has (firmware flags, x86 counters, cooling devices, trip points). The frequency cap goes on
//! the clock line ([`cap`]).

use ratatui::text::{Line, Span};

use super::{label, policy_label, Ctx};
use crate::core::machine::ThrottleCounters;
use crate::core::machine::{CoolingDevice, CoolingKind, ZoneTrips};
use crate::core::machine::{FindingSource as Source, ThrottleVerdict};
use crate::core::machine::{SystemSample, ThrottleBits, ThrottleReport, ThrottleSource};

/// `yes` (in the theme's bad colour), `no` (good) or `unknown`.
fn flag(ctx: &Ctx, value: Option<bool>) -> Span<'static> {
    match value {
        Some(true) => Span::styled("yes", ctx.theme.bad),
        Some(false) => Span::styled("no", ctx.theme.good),
        None => Span::raw("unknown"),
    }
}

/// What the source is called on screen.
fn source_name(source: Source) -> &'static str {
    match source {
        Source::Firmware => "firmware",
        Source::ThermalThrottle => "counters",
        Source::CoolingDevice => "cooling",
        Source::TripPoint => "trips",
        Source::FreqCap => "clock limit",
    }
}

/// The clock line's end: whether a limit holds the clock below its maximum, and which.
pub(super) fn cap(ctx: &Ctx, s: &SystemSample) -> Vec<Span<'static>> {
    let capped = s.is_freq_capped();
    let mut spans = vec![Span::raw("capped "), flag(ctx, capped)];
    if capped == Some(true) {
        let by_limit = s.cpufreq.iter().find(|p| p.is_limited() == Some(true)).map(|p| {
            let mhz = |khz: Option<u64>| khz.map_or(0, |khz| khz / 1000);
            format!(" ({} limit {} of {} MHz)", policy_label(p), mhz(p.scaling_max_khz), mhz(p.max_khz))
        });
        let by_cooling = || {
            s.kernel_throttle
                .cooling
                .iter()
                .find(|d| d.kind == CoolingKind::CpuFreq && d.is_active())
                .map(|d| format!(" ({} {})", d.name, state(d)))
        };
        spans.extend(by_limit.or_else(by_cooling).map(Span::raw));
    }
    spans
}

/// The verdict line, then one line per source the machine has.
pub(super) fn lines(ctx: &Ctx, s: &SystemSample) -> Vec<Line<'static>> {
    let verdict = s.throttle_verdict();
    let mut lines = vec![Line::from([vec![label(ctx, "throttle")], verdict_spans(ctx, &verdict)].concat())];
    if let Some(report) = s.throttle.report() {
        lines.push(Line::from([vec![label(ctx, "firmware")], firmware(ctx, report)].concat()));
    }
    let kernel = &s.kernel_throttle;
    if let Some(counters) = &kernel.counters {
        lines.push(Line::from([vec![label(ctx, "counters")], counter_spans(ctx, counters)].concat()));
    }
    if !kernel.cooling.is_empty() {
        lines.push(Line::from([vec![label(ctx, "cooling")], cooling(ctx, &kernel.cooling)].concat()));
    }
    if !kernel.zones.is_empty() {
        lines.push(Line::from([vec![label(ctx, "trips")], trips(ctx, &kernel.zones)].concat()));
    }
    lines
}

fn verdict_spans(ctx: &Ctx, verdict: &ThrottleVerdict) -> Vec<Span<'static>> {
    if verdict.findings.is_empty() {
        return vec![
            Span::raw("unknown"),
            Span::styled(
                " (no firmware flags, counters, CPU cooling devices, passive trips or clock limits here)",
                ctx.theme.dim,
            ),
        ];
    }
    let sources: Vec<&str> = verdict.findings.iter().map(|f| source_name(f.source)).collect();
    vec![
        Span::raw("now "),
        flag(ctx, verdict.now()),
        Span::raw(" · this run "),
        flag(ctx, verdict.during_run()),
        Span::raw(" · since boot "),
        flag(ctx, verdict.since_boot()),
        Span::styled(format!(" (from {})", sources.join(", ")), ctx.theme.dim),
    ]
}

fn firmware(ctx: &Ctx, r: &ThrottleReport) -> Vec<Span<'static>> {
    let style = |b: ThrottleBits| if b.any() { ctx.theme.bad } else { ctx.theme.good };
    let source = match r.source {
        ThrottleSource::FirmwareSysfs => "get_throttled",
        ThrottleSource::Vcgencmd => "vcgencmd",
        ThrottleSource::UnderVoltageAlarm => "under-voltage alarm",
    };
    vec![
        Span::raw("now "),
        Span::styled(r.now.describe(), style(r.now)),
        Span::raw(" · this run "),
        Span::styled(r.during_run.describe(), style(r.during_run)),
        Span::raw(" · since boot "),
        r.since_boot.map_or_else(|| Span::raw("n/a"), |b| Span::styled(b.describe(), style(b))),
        Span::styled(format!(" ({source})"), ctx.theme.dim),
    ]
}

/// `package 14 (3.1 s), core 2 (0.0 s) since boot · +0 since the last sample · +0 this run`.
fn counter_spans(ctx: &Ctx, c: &ThrottleCounters) -> Vec<Span<'static>> {
    let kind = |name: &str, events: Option<u64>, ms: Option<u64>| {
        events.map(|n| {
            #[allow(clippy::cast_precision_loss)] // milliseconds since boot are far below 2^52
            let time = ms.map_or_else(String::new, |ms| format!(" ({:.1} s)", ms as f64 / 1000.0));
            format!("{name} {n}{time}")
        })
    };
    let since_boot: Vec<String> =
        [kind("package", c.package_events, c.package_ms), kind("core", c.core_events, c.core_ms)]
            .into_iter()
            .flatten()
            .collect();
    let rise = |n: u64| Span::styled(format!("+{n}"), if n > 0 { ctx.theme.bad } else { ctx.theme.good });
    vec![
        Span::raw(format!("{} events since boot · ", since_boot.join(", "))),
        c.interval_events.map_or_else(|| Span::raw("n/a"), rise),
        Span::raw(" since the last sample · "),
        rise(c.run_events),
        Span::raw(" this run"),
        Span::styled(format!(" (most on any of {} CPUs)", c.cpus), ctx.theme.dim),
    ]
}

/// `cur/max`, `?` for what cannot be read.
fn state(d: &CoolingDevice) -> String {
    let part = |v: Option<String>| v.unwrap_or_else(|| "?".into());
    format!("{}/{}", part(d.cur_state.map(|v| v.to_string())), part(d.max_state.map(|v| v.to_string())))
}

/// The devices slowing the CPU (or that none is), then fans; other devices are only counted.
fn cooling(ctx: &Ctx, devices: &[CoolingDevice]) -> Vec<Span<'static>> {
    let cpu: Vec<&CoolingDevice> = devices.iter().filter(|d| d.kind.slows_cpu()).collect();
    let slowing: Vec<String> =
        cpu.iter().filter(|d| d.slows_cpu_now()).map(|d| format!("{} {}", d.name, state(d))).collect();
    let mut spans = match (cpu.len(), slowing.is_empty()) {
        (0, _) => vec![Span::raw("no CPU cooling device")],
        (n, true) => vec![Span::styled("none slowing the CPU", ctx.theme.good), Span::raw(format!(" ({n} devices)"))],
        (_, false) => vec![Span::styled(format!("slowing the CPU: {}", slowing.join(", ")), ctx.theme.bad)],
    };
    let fans: Vec<String> =
        devices.iter().filter(|d| d.kind == CoolingKind::Fan).map(|d| format!("{} {}", d.name, state(d))).collect();
    if !fans.is_empty() {
        spans.push(Span::raw(format!(" · fan {}", fans.join(", "))));
    }
    let others = devices.iter().filter(|d| d.kind == CoolingKind::Other).count();
    if others > 0 {
        spans.push(Span::styled(format!(" · {others} other"), ctx.theme.dim));
    }
    spans
}

/// Zones at a throttling trip; else the zone closest to its passive trip; else the lowest trip
/// that would shut the machine down.
fn trips(ctx: &Ctx, zones: &[ZoneTrips]) -> Vec<Span<'static>> {
    let reached: Vec<String> = zones
        .iter()
        .filter_map(|z| {
            let trip = z.throttling_trip_reached()?;
            Some(format!("{} {:.1} °C ≥ {} {:.1} °C", z.zone, z.celsius, trip.kind.name(), trip.celsius))
        })
        .collect();
    if !reached.is_empty() {
        return vec![Span::styled(format!("at a throttling trip: {}", reached.join(", ")), ctx.theme.bad)];
    }
    let closest = zones
        .iter()
        .filter_map(|z| z.passive_celsius().map(|p| (z, p)))
        .min_by(|(a, pa), (b, pb)| (pa - a.celsius).total_cmp(&(pb - b.celsius)));
    if let Some((zone, passive)) = closest {
        return vec![
            Span::styled("below every passive trip", ctx.theme.good),
            Span::raw(format!(" · closest {} {:.1} °C, passive at {:.1} °C", zone.zone, zone.celsius, passive)),
        ];
    }
    let last_resort = zones
        .iter()
        .flat_map(|z| z.trips.iter().filter(|t| t.kind.throttles()).map(move |t| (z, t)))
        .min_by(|(_, a), (_, b)| a.celsius.total_cmp(&b.celsius));
    let text = last_resort.map_or_else(
        || "no passive trip (fan trips only)".to_string(),
        |(z, t)| format!("no passive trip · {} {:.1} °C, {} at {:.1} °C", z.zone, z.celsius, t.kind.name(), t.celsius),
    );
    vec![Span::raw(text)]
}
