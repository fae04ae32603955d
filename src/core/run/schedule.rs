//! Which model runs next. Switching models evicts the previous model's weights and activations
//! from the caches, so the first inference after a switch is slower than the model's own
//! steady state, and small models feel it most (`ShuffleNet` ran 1.2–1.4× slower round-robin than
//! alone). The dwell schedule stays on a model for a while and marks the first inference after a
//! switch as cold, so warm latency and the cost of switching are measured apart.

use std::time::{Duration, Instant};

/// How the engine moves between models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// One inference per model in turn: every latency includes the switch (the old default).
    RoundRobin,
    /// Stay on a model for at least this long and at least [`MIN_DWELL_RUNS`] inferences, then
    /// move on; the first inference after a switch is cold and kept apart.
    Dwell(Duration),
}

/// A dwell holds at least this many timed inferences: one cold, one warm.
pub const MIN_DWELL_RUNS: u32 = 2;

/// The default dwell: ten 32×32 models cycle in about five seconds here, so every row stays
/// fresh, while each dwell holds a few to hundreds of warm inferences.
pub const DEFAULT_DWELL: Duration = Duration::from_millis(500);

/// The next turn: which slot, and whether its inference is cold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Turn {
    pub slot: usize,
    /// The previous work on the engine thread was another model's (dwell schedule only).
    pub cold: bool,
}

/// Picks turns for a fixed number of slots, some of which may have left (failed models).
#[derive(Clone, Debug)]
pub struct Scheduler {
    schedule: Schedule,
    /// The slot that ran last (timed or not) and when its dwell began.
    current: Option<(usize, Instant)>,
    /// Timed inferences in the current dwell.
    runs_here: u32,
}

impl Scheduler {
    #[must_use]
    pub fn new(schedule: Schedule) -> Self {
        Self { schedule, current: None, runs_here: 0 }
    }

    /// The slot to run next among those `alive`, or `None` when none is. `focus` runs one slot
    /// only while it is alive.
    pub fn next(&mut self, alive: &[bool], focus: Option<usize>, now: Instant) -> Option<Turn> {
        let slot = match focus.filter(|f| alive.get(*f).copied().unwrap_or(false)) {
            Some(f) => f,
            None => self.pick(alive, now)?,
        };
        let cold = matches!(self.schedule, Schedule::Dwell(_)) && self.current.is_some_and(|(c, _)| c != slot);
        Some(Turn { slot, cold })
    }

    /// Records that `slot` ran, timed (an inference) or not (loading, warming up): untimed work
    /// also fills the caches with that model.
    pub fn ran(&mut self, slot: usize, timed: bool, now: Instant) {
        if self.current.is_none_or(|(c, _)| c != slot) {
            self.current = Some((slot, now));
            self.runs_here = 0;
        }
        if timed {
            self.runs_here += 1;
        }
    }

    /// The next slot without focus: the current one while its dwell lasts, else the next alive
    /// slot after it.
    fn pick(&self, alive: &[bool], now: Instant) -> Option<usize> {
        let after = match (self.schedule, self.current) {
            (Schedule::Dwell(dwell), Some((slot, since))) => {
                let staying = self.runs_here < MIN_DWELL_RUNS || now.duration_since(since) < dwell;
                if staying && alive.get(slot).copied().unwrap_or(false) {
                    return Some(slot);
                }
                slot + 1
            }
            (Schedule::RoundRobin, Some((slot, _))) => slot + 1,
            (_, None) => 0,
        };
        (0..alive.len()).map(|k| (after + k) % alive.len()).find(|&s| alive[s])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turns(s: &mut Scheduler, alive: &[bool], start: Instant, steps: &[u64]) -> Vec<(usize, bool)> {
        steps
            .iter()
            .map(|&ms| {
                let now = start + Duration::from_millis(ms);
                let t = s.next(alive, None, now).unwrap();
                s.ran(t.slot, true, now);
                (t.slot, t.cold)
            })
            .collect()
    }

    #[test]
    fn round_robin_takes_turns_and_marks_nothing_cold() {
        let start = Instant::now();
        let mut s = Scheduler::new(Schedule::RoundRobin);
        let got = turns(&mut s, &[true, false, true], start, &[0, 1, 2, 3]);
        assert_eq!(got, [(0, false), (2, false), (0, false), (2, false)]);
    }

    #[test]
    fn dwell_stays_keeps_the_switch_apart_and_moves_on() {
        let start = Instant::now();
        let mut s = Scheduler::new(Schedule::Dwell(Duration::from_millis(100)));
        let got = turns(&mut s, &[true, true], start, &[0, 50, 99, 100, 150, 210, 260]);
        // Slot 0 from 0 ms: the dwell ends at 100 ms; slot 1's first inference is cold.
        assert_eq!(got, [(0, false), (0, false), (0, false), (1, true), (1, false), (0, true), (0, false)]);
    }

    #[test]
    fn a_slow_model_still_gets_a_warm_inference_per_dwell() {
        let start = Instant::now();
        let mut s = Scheduler::new(Schedule::Dwell(Duration::from_millis(10)));
        // Each inference takes longer than the dwell: two per turn all the same.
        let got = turns(&mut s, &[true, true], start, &[0, 500, 1000, 1500]);
        assert_eq!(got, [(0, false), (0, false), (1, true), (1, false)]);
    }

    #[test]
    fn loading_a_model_warms_its_caches_so_its_first_timed_run_is_warm() {
        let start = Instant::now();
        let mut s = Scheduler::new(Schedule::Dwell(Duration::from_millis(100)));
        s.ran(1, false, start);
        let t = s.next(&[true, true], None, start).unwrap();
        assert_eq!(t, Turn { slot: 1, cold: false });
    }

    #[test]
    fn focus_wins_while_alive_and_nothing_alive_is_none() {
        let start = Instant::now();
        let mut s = Scheduler::new(Schedule::Dwell(Duration::from_millis(100)));
        s.ran(0, true, start);
        assert_eq!(s.next(&[true, true], Some(1), start).unwrap(), Turn { slot: 1, cold: true });
        assert_eq!(s.next(&[true, false], Some(1), start).unwrap().slot, 0);
        assert_eq!(s.next(&[false, false], None, start), None);
    }
}
