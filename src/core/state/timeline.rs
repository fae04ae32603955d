//! Latency on the system samples' time axis. The core keeps latencies per model in inference
//! order and system samples in time order; to draw latency under the clock and temperature
//! sparklines, column for column, this folds the same events into one bucket per system sample:
//! the mean latency of each model's inferences that arrived since the previous sample (events
//! come through one ordered channel, so arrival order is time order).

use crate::core::common::stats::Ring;
use crate::core::run::event::{Event, ModelId};

/// Buckets kept: wider than any terminal, so every sparkline column has one.
pub const TIMELINE_BUCKETS: usize = 600;

/// Sum and count of one model's latencies within one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Acc {
    sum_ms: f64,
    count: u32,
}

/// Per system sample, per model, the mean latency (`None` when the model did not run).
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    closed: Ring<Vec<Acc>>,
    open: Vec<Acc>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self { closed: Ring::new(TIMELINE_BUCKETS), open: Vec::new() }
    }
}

impl Timeline {
    /// Folds one event in; call it with every event the state gets, before applying it there.
    pub fn observe(&mut self, event: &Event) {
        match event {
            // Cold inferences measure a switch, not the model: the line shows warm latency.
            Event::Inference(inf) if !inf.cold => {
                if self.open.len() <= inf.model {
                    self.open.resize(inf.model + 1, Acc::default());
                }
                let acc = &mut self.open[inf.model];
                acc.sum_ms += inf.wall_ns as f64 / 1e6;
                acc.count += 1;
            }
            // A sample closes the bucket of the inferences that ran up to it.
            Event::System(_) => self.closed.push(std::mem::take(&mut self.open)),
            _ => {}
        }
    }

    /// Forgets latencies but keeps one (empty) bucket per sample, so columns stay aligned with
    /// the system history, which a reset keeps.
    pub fn reset(&mut self) {
        let n = self.closed.len();
        self.closed.clear();
        (0..n).for_each(|_| self.closed.push(Vec::new()));
        self.open.clear();
    }

    /// Closed buckets (one per system sample seen, up to [`TIMELINE_BUCKETS`]).
    #[must_use]
    pub fn len(&self) -> usize {
        self.closed.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.closed.is_empty()
    }

    /// Mean latency of `model` in each of the last `n` buckets, oldest first.
    #[must_use]
    pub fn latency_ms(&self, model: ModelId, n: usize) -> Vec<Option<f64>> {
        let skip = self.closed.len().saturating_sub(n);
        self.closed
            .iter()
            .skip(skip)
            .map(|bucket| bucket.get(model).filter(|a| a.count > 0).map(|a| a.sum_ms / f64::from(a.count)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::machine::sample::SystemSample;
    use crate::core::run::event::Inference;

    fn inference(model: ModelId, ms: u64) -> Event {
        Event::Inference(Inference {
            model,
            seq: 0,
            wall_ns: ms * 1_000_000,
            at_ns: 0,
            profiled: false,
            cold: false,
            usage: None,
            ops: Vec::new(),
        })
    }

    #[test]
    fn each_sample_closes_a_bucket_of_mean_latencies() {
        let mut t = Timeline::default();
        for e in [inference(0, 10), inference(0, 20), inference(1, 5), Event::System(SystemSample::default())] {
            t.observe(&e);
        }
        t.observe(&Event::System(SystemSample::default()));
        assert_eq!(t.len(), 2);
        assert_eq!(t.latency_ms(0, 10), vec![Some(15.0), None]);
        assert_eq!(t.latency_ms(1, 1), vec![None]);
        assert_eq!(t.latency_ms(7, 2), vec![None, None]);
        t.reset();
        assert_eq!(t.latency_ms(0, 10), vec![None, None]);
    }
}
