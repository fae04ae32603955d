//! The system view's power, at the end of the temperature line (a line of its own would cost
//! the history a chart on an 80x24 screen): the source's watts and what they cover, then the
//! other rails; "needs root" where only root may read the source, "n/a" where the machine has
//! none.

use ratatui::text::Span;

use super::Ctx;
use crate::core::machine::SystemSample;
use crate::core::machine::{PowerReading, RailPower};

/// Other rails shown at most: a Pi 5's PMIC has twelve.
const OTHER_RAILS: usize = 3;

/// ` · power 6.24 W ina3221/VDD_IN (board input) · VDD_SOC 1.38 W`, to follow the temperature.
pub(super) fn spans(ctx: &Ctx, s: &SystemSample) -> Vec<Span<'static>> {
    let head = vec![Span::raw(" · "), Span::styled("power ", ctx.theme.header)];
    let spans = match s.power.as_deref() {
        None => vec![Span::raw("n/a"), Span::styled(" (no power monitor, RAPL counter or PMIC here)", ctx.theme.dim)],
        Some(p) if p.needs_root => vec![
            Span::styled("needs root", ctx.theme.warn),
            Span::raw(format!(" · {} ", p.source)),
            Span::styled("(its energy_uj is readable by root only)", ctx.theme.dim),
        ],
        Some(p) => readable(ctx, p),
    };
    [head, spans].concat()
}

fn readable(ctx: &Ctx, p: &PowerReading) -> Vec<Span<'static>> {
    let watts = p.watts.map_or_else(|| "n/a".into(), |w| format!("{w:.2} W"));
    let mut spans = vec![
        Span::raw(format!("{watts} {} ", p.source)),
        Span::styled(format!("({})", p.scope.describe()), ctx.theme.dim),
    ];
    let others = other_rails(p);
    if !others.is_empty() {
        spans.push(Span::raw(format!(" · {}", others.join(", "))));
    }
    spans
}

/// The largest rails that are not the source, `VDD_SOC 1.25 W`.
fn other_rails(p: &PowerReading) -> Vec<String> {
    let in_source = |rail: &RailPower| p.source.split('+').any(|name| name == rail.name);
    let mut others: Vec<(&str, f64)> = p
        .rails
        .iter()
        .filter(|rail| !in_source(rail))
        .filter_map(|rail| Some((rail.name.rsplit('/').next().unwrap_or(&rail.name), rail.watts?)))
        .collect();
    others.sort_by(|a, b| b.1.total_cmp(&a.1));
    others.into_iter().take(OTHER_RAILS).map(|(name, watts)| format!("{name} {watts:.2} W")).collect()
}
