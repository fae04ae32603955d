//! A thermal soak: run the model set until the board's temperature stops rising, and compare
//! each model's latency cold (the first minutes) with its latency hot (after the plateau).
//!
//! Phases, on the events' own clock (ms since the session's epoch, [`crate::core::run::epoch`]):
//! 1. **cold**: from the first timed inference once the machine's limits are measured (the
//!    engine measures them after its first inference, a pause of seconds on a slow board that
//!    would otherwise eat the cold phase), for `phase`; every warm latency is kept per model;
//! 2. **heating**: until the headline temperature (the CPU's, see
//!    [`SystemSample::headline_temp`](crate::core::machine::sample::SystemSample::headline_temp)) has
//!    stayed within `band` °C for `window` (a plateau), or, on a board without a sensor, until
//!    only `phase` of the run's `max` is left;
//! 3. **hot**: `phase` again, latencies kept per model;
//! 4. **done**: the front end stops the run and reports.
//!
//! The fold sees the same events as [`crate::core::state::monitor::MonitorState`] and nothing else, so a
//! recorded episode drives it exactly as a board does.

use std::collections::VecDeque;
use std::time::Duration;

use crate::core::common::stats::{median_ci_sorted, quantile_sorted};
use crate::core::run::event::{Event, ModelId};

/// How long a soak's run may outlast its longest time before the front end's deadline stops it
/// anyway: the soak's clock starts with the session, a moment after the front end's.
pub const DEADLINE_GRACE: Duration = Duration::from_secs(5);

/// How long each part of a soak lasts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoakConfig {
    /// Length of the cold and the hot measurement.
    pub phase: Duration,
    /// How long the temperature must stay within `band_c` to count as a plateau.
    pub window: Duration,
    /// The plateau's band, in °C (peak to peak over `window`).
    pub band_c: f64,
    /// The longest soak, from the session's start; without a plateau the hot phase is its
    /// last `phase`.
    pub max: Duration,
}

impl Default for SoakConfig {
    fn default() -> Self {
        // A Pi 4 without a heatsink reaches its plateau in 5-10 minutes under full load; one
        // with a fan in 2-3. A band of 0.5 °C over two minutes ignores sensor noise (a Pi reads
        // in steps of about 0.5 °C) but not a board still warming by a degree a minute.
        Self {
            phase: Duration::from_secs(30),
            window: Duration::from_secs(120),
            band_c: 0.5,
            max: Duration::from_secs(1800),
        }
    }
}

/// Where a soak stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoakPhase {
    /// Waiting for the first timed inference.
    Starting,
    Cold,
    Heating,
    Hot,
    Done,
}

impl SoakPhase {
    /// The phase as a word for lines and files.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Cold => "cold",
            Self::Heating => "heating",
            Self::Hot => "hot",
            Self::Done => "done",
        }
    }
}

/// Why the heating ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeatingEnd {
    /// The temperature stayed within the band for the window.
    Plateau,
    /// No plateau (or no sensor) before the run's longest time.
    TimeUp,
}

impl HeatingEnd {
    /// The reason as a word for files and JSON lines.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Plateau => "plateau",
            Self::TimeUp => "time_up",
        }
    }
}

/// A soak in progress: an event fold.
#[derive(Clone, Debug, PartialEq)]
pub struct Soak {
    pub config: SoakConfig,
    pub phase: SoakPhase,
    /// When each phase began (ms): cold, heating, hot, done.
    pub cold_at_ms: Option<u64>,
    pub heating_at_ms: Option<u64>,
    pub hot_at_ms: Option<u64>,
    pub done_at_ms: Option<u64>,
    pub heating_end: Option<HeatingEnd>,
    /// The plateau's mean temperature, when there was one.
    pub plateau_c: Option<f64>,
    /// The highest headline temperature of the soak.
    pub max_c: Option<f64>,
    /// Warm latencies (ms) per model in the cold and the hot phase.
    cold: Vec<Vec<f64>>,
    hot: Vec<Vec<f64>>,
    /// (ms, headline °C) over the last `window`.
    recent: VecDeque<(u64, f64)>,
    now_ms: u64,
    /// The engine has measured the machine's limits (the last of them, the bandwidth, came).
    limits_known: bool,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Soak {
    #[must_use]
    pub fn new(config: SoakConfig) -> Self {
        Self {
            config,
            phase: SoakPhase::Starting,
            cold_at_ms: None,
            heating_at_ms: None,
            hot_at_ms: None,
            done_at_ms: None,
            heating_end: None,
            plateau_c: None,
            max_c: None,
            cold: Vec::new(),
            hot: Vec::new(),
            recent: VecDeque::new(),
            now_ms: 0,
            limits_known: false,
        }
    }

    /// Folds one event in.
    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::Inference(i) => {
                let at_ms = i.at_ns / 1_000_000;
                self.advance(at_ms, false);
                if self.phase == SoakPhase::Starting && self.limits_known {
                    self.begin(SoakPhase::Cold, at_ms);
                }
                // Latency comes from unprofiled, warm inferences, as everywhere else.
                if !i.cold && !i.profiled {
                    let ms = i.wall_ns as f64 / 1e6;
                    match self.phase {
                        SoakPhase::Cold => push(&mut self.cold, i.model, ms),
                        SoakPhase::Hot => push(&mut self.hot, i.model, ms),
                        _ => {}
                    }
                }
            }
            Event::System(sample) => {
                if let Some(t) = sample.headline_temp() {
                    self.max_c = Some(self.max_c.map_or(t.celsius, |m| m.max(t.celsius)));
                    if self.phase == SoakPhase::Heating {
                        self.recent.push_back((sample.at_ms, t.celsius));
                    }
                }
                self.advance(sample.at_ms, true);
            }
            Event::Bandwidth { .. } => self.limits_known = true,
            _ => {}
        }
    }

    /// Moves through the phases whose end has come by `now_ms`; a plateau is judged only when
    /// a new reading came (`reading`), over the readings of the window.
    fn advance(&mut self, now_ms: u64, reading: bool) {
        self.now_ms = self.now_ms.max(now_ms);
        let now = self.now_ms;
        let phase = ms(self.config.phase);
        match self.phase {
            SoakPhase::Cold if self.cold_at_ms.is_some_and(|t| now >= t + phase) => {
                self.begin(SoakPhase::Heating, now);
            }
            SoakPhase::Heating => {
                if let Some(plateau) = self.plateau(now).filter(|_| reading) {
                    self.plateau_c = Some(plateau);
                    self.heating_end = Some(HeatingEnd::Plateau);
                    self.begin(SoakPhase::Hot, now);
                } else if now + phase >= ms(self.config.max) {
                    self.heating_end = Some(HeatingEnd::TimeUp);
                    self.begin(SoakPhase::Hot, now);
                }
            }
            SoakPhase::Hot if self.hot_at_ms.is_some_and(|t| now >= t + phase) => self.begin(SoakPhase::Done, now),
            _ => {}
        }
    }

    fn begin(&mut self, phase: SoakPhase, at_ms: u64) {
        self.phase = phase;
        let slot = match phase {
            SoakPhase::Cold => &mut self.cold_at_ms,
            SoakPhase::Heating => &mut self.heating_at_ms,
            SoakPhase::Hot => &mut self.hot_at_ms,
            SoakPhase::Done => &mut self.done_at_ms,
            SoakPhase::Starting => return,
        };
        *slot = Some(at_ms);
    }

    /// The mean temperature of the last `window`, when it stayed within the band over all of
    /// it (and heating has lasted at least that long).
    fn plateau(&mut self, now: u64) -> Option<f64> {
        let window = ms(self.config.window);
        let start = self.heating_at_ms?;
        if now < start + window {
            return None;
        }
        while self.recent.front().is_some_and(|(t, _)| *t + window < now) {
            self.recent.pop_front();
        }
        // The window must be covered by readings from its start on.
        let first = self.recent.front()?.0;
        if first > now.saturating_sub(window) + window / 10 {
            return None;
        }
        let (lo, hi) = self.recent.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (_, c)| (lo.min(*c), hi.max(*c)));
        (hi - lo <= self.config.band_c)
            .then(|| self.recent.iter().map(|(_, c)| c).sum::<f64>() / self.recent.len() as f64)
    }

    /// Whether the soak has finished.
    #[must_use]
    pub fn done(&self) -> bool {
        self.phase == SoakPhase::Done
    }

    /// Model `model`'s cold and hot medians with their 95 % intervals.
    #[must_use]
    pub fn model(&self, model: ModelId) -> SoakModel {
        SoakModel { cold: Phase::of(self.cold.get(model)), hot: Phase::of(self.hot.get(model)) }
    }
}

fn push(lists: &mut Vec<Vec<f64>>, model: ModelId, ms: f64) {
    if lists.len() <= model {
        lists.resize_with(model + 1, Vec::new);
    }
    lists[model].push(ms);
}

/// One model's latency in one phase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Phase {
    pub count: usize,
    pub p50_ms: Option<f64>,
    pub p50_ci: Option<(f64, f64)>,
}

impl Phase {
    fn of(values: Option<&Vec<f64>>) -> Self {
        let mut sorted = values.cloned().unwrap_or_default();
        sorted.sort_by(f64::total_cmp);
        Self { count: sorted.len(), p50_ms: quantile_sorted(&sorted, 0.5), p50_ci: median_ci_sorted(&sorted) }
    }
}

/// One model's soak figures.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SoakModel {
    pub cold: Phase,
    pub hot: Phase,
}

impl SoakModel {
    /// Hot p50 over cold p50, minus 1: how much slower the model got once the board was hot.
    #[must_use]
    pub fn slowdown(&self) -> Option<f64> {
        Some(self.hot.p50_ms? / self.cold.p50_ms? - 1.0)
    }
}

#[cfg(test)]
mod tests;
