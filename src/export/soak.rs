//! A thermal soak in `run.json`: when each phase began, how the heating ended, the plateau, and
//! per model the cold and hot medians with their intervals, the throttle penalty and the
//! latency at the full clock. The headless report prints the same figures.

use serde_json::{json, Value};

use crate::core::state::MonitorState;
use crate::core::state::{HeatingEnd, Phase, Soak};

fn phase(p: &Phase) -> Value {
    json!({ "count": p.count, "p50_ms": p.p50_ms, "p50_ci_ms": p.p50_ci.map(|(a, b)| [a, b]) })
}

/// The soak's record.
#[must_use]
pub fn soak_json(state: &MonitorState, soak: &Soak) -> Value {
    let models: Vec<Value> = state
        .models
        .iter()
        .enumerate()
        .map(|(id, model)| {
            let figures = soak.model(id);
            json!({
                "model": &*model.name,
                "cold": phase(&figures.cold),
                "hot": phase(&figures.hot),
                "hot_over_cold": figures.slowdown().map(|s| s + 1.0),
                "throttle_penalty": model.throttle.penalty(),
                "throttle_penalty_ci": model.throttle.penalty_ci().map(|(a, b)| [a, b]),
                "latency_ms_full_clock": model.throttle.full_clock_ms(),
            })
        })
        .collect();
    json!({
        "phase": soak.phase.key(),
        "cold_at_ms": soak.cold_at_ms,
        "heating_at_ms": soak.heating_at_ms,
        "hot_at_ms": soak.hot_at_ms,
        "done_at_ms": soak.done_at_ms,
        "heating_end": soak.heating_end.map(HeatingEnd::key),
        "plateau_c": soak.plateau_c,
        "max_c": soak.max_c,
        "first_throttled_ms": state.first_throttled_ms,
        "models": models,
    })
}
