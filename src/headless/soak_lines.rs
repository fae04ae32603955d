//! The report of a thermal soak (`--soak`) at the end of a headless run: one line for the run
//! (phases, plateau, time to first throttle) and one per model (cold against hot p50 with their
//! intervals, the throttle penalty, latency at the full clock).

use std::io::{self, Write};

use crate::cli::LineFormat;
use crate::core::state::MonitorState;
use crate::core::state::{HeatingEnd, Phase, Soak};

/// Writes the report when the run was a soak; nothing otherwise.
pub(super) fn write(out: &mut impl Write, state: &MonitorState, format: LineFormat) -> io::Result<()> {
    let Some(soak) = &state.soak else { return Ok(()) };
    match format {
        LineFormat::Text => text(out, state, soak),
        LineFormat::Jsonl => jsonl(out, state, soak),
    }
}

/// `12.5s`, or `none` when the moment never came.
fn seconds_or(ms: Option<u64>, none: &str) -> String {
    ms.map_or_else(|| none.into(), |ms| format!("{:.1}s", ms as f64 / 1000.0))
}

fn seconds(ms: Option<u64>) -> String {
    seconds_or(ms, "-")
}

fn celsius(c: Option<f64>) -> String {
    c.map_or_else(|| "n/a".into(), |c| format!("{c:.1}°C"))
}

fn p50(phase: &Phase) -> String {
    match (phase.p50_ms, phase.p50_ci) {
        (Some(p), Some((lo, hi))) => format!("{p:.2}ms [{lo:.2}–{hi:.2}] n={}", phase.count),
        (Some(p), None) => format!("{p:.2}ms n={}", phase.count),
        _ => format!("- n={}", phase.count),
    }
}

fn heating_end(soak: &Soak) -> &'static str {
    match soak.heating_end {
        Some(HeatingEnd::Plateau) => "plateau",
        Some(HeatingEnd::TimeUp) => "time up, no plateau",
        None => "unfinished",
    }
}

fn text(out: &mut impl Write, state: &MonitorState, soak: &Soak) -> io::Result<()> {
    writeln!(
        out,
        "soak: {} · cold from {} · heating from {} ({}) · hot from {} · plateau {} · max {} · first throttled {}",
        soak.phase.key(),
        seconds(soak.cold_at_ms),
        seconds(soak.heating_at_ms),
        heating_end(soak),
        seconds(soak.hot_at_ms),
        celsius(soak.plateau_c),
        celsius(soak.max_c),
        seconds_or(state.first_throttled_ms, "never"),
    )?;
    for (id, model) in state.models.iter().enumerate() {
        let figures = soak.model(id);
        let slowdown = figures.slowdown().map_or_else(|| "-".into(), |s| format!("{:+.1}%", 100.0 * s));
        let throttle = &model.throttle;
        let penalty = match (throttle.penalty(), throttle.penalty_ci(), throttle.penalty_significant()) {
            (Some(p), Some((lo, hi)), Some(sig)) => {
                format!("{:+.1}% [{:+.1}…{:+.1}]{}", 100.0 * p, 100.0 * lo, 100.0 * hi, if sig { "" } else { " n.s." })
            }
            (Some(p), _, _) => format!("{:+.1}%", 100.0 * p),
            _ => "n/a".into(),
        };
        let full = throttle.full_clock_ms().map_or_else(|| "n/a".into(), |ms| format!("{ms:.2}ms"));
        writeln!(
            out,
            "soak {:<14} cold {}  hot {}  hot/cold {slowdown}  throttle penalty {penalty}  at full clock {full}",
            model.name,
            p50(&figures.cold),
            p50(&figures.hot),
        )?;
    }
    Ok(())
}

/// One `soak` record: the same object as `run.json`'s `soak`.
fn jsonl(out: &mut impl Write, state: &MonitorState, soak: &Soak) -> io::Result<()> {
    let mut record = crate::export::soak_json(state, soak);
    record["type"] = "soak".into();
    writeln!(out, "{record}")
}
