//! The run's journal: one typed entry per inference and per system sample, in the order the
//! state applied them, with what the state knew at that moment (the model's name, the machine
//! as of the latest sample, the model running when a sample arrived).
//!
//! The state keeps only summaries and bounded histories; a front end that wants every
//! inference on record (the export streams them to `inferences.csv` and `system.csv`) installs
//! a [`JournalSink`] on the session, which calls it as it applies each event. The core neither
//! knows nor cares where entries go; a sink must return at once (it runs on the front end's
//! thread, which the engine waits for when its channel is full).

use std::sync::Arc;

use crate::core::machine::rusage::Usage;
use crate::core::machine::sample::SystemSample;
use crate::core::machine::throttle::MachineTag;
use crate::core::run::event::{Event, Inference, ModelId};
use crate::core::state::monitor::MonitorState;

/// One timed (or profiled) inference, as it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct InferenceEntry {
    /// The engine's count of inferences in this run, across models (1 for the first).
    pub seq: u64,
    pub model: Arc<str>,
    /// When it ended, in ns since the session's epoch ([`crate::core::run::epoch`]).
    pub at_ns: u64,
    /// Wall time of the forward pass.
    pub wall_ns: u64,
    /// Whether the op profiler recorded it (its latency then includes the profiler's cost).
    pub profiled: bool,
    /// The first inference after a switch from another model.
    pub cold: bool,
    pub usage: Option<Usage>,
    /// The machine as of the latest system sample: what the state tagged the inference with.
    pub machine: MachineTag,
}

/// One system sample, with the model whose inference was the latest when it arrived.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleEntry {
    pub sample: SystemSample,
    pub running_model: Option<Arc<str>>,
}

/// What the journal records.
#[derive(Clone, Debug, PartialEq)]
pub enum JournalEntry {
    Inference(InferenceEntry),
    /// Boxed: samples are rare and large, inferences frequent and small.
    Sample(Box<SampleEntry>),
}

/// Where journal entries go; called on the front end's thread, so it must not block.
pub type JournalSink = Box<dyn FnMut(JournalEntry)>;

/// The part of an event the journal needs, taken before the state consumes the event.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pending {
    Inference { model: ModelId, seq: u64, at_ns: u64, wall_ns: u64, profiled: bool, cold: bool, usage: Option<Usage> },
    Sample,
}

impl Pending {
    /// What `event` will give the journal once applied, if anything.
    pub(crate) fn of(event: &Event) -> Option<Self> {
        match event {
            Event::Inference(Inference { model, seq, wall_ns, at_ns, profiled, cold, usage, .. }) => {
                Some(Self::Inference {
                    model: *model,
                    seq: *seq,
                    at_ns: *at_ns,
                    wall_ns: *wall_ns,
                    profiled: *profiled,
                    cold: *cold,
                    usage: *usage,
                })
            }
            Event::System(_) => Some(Self::Sample),
            _ => None,
        }
    }

    /// The entry, from the state the event was just applied to; `None` for an inference of a
    /// model the state does not know (the state ignores it too).
    pub(crate) fn entry(self, state: &MonitorState) -> Option<JournalEntry> {
        match self {
            Self::Inference { model, seq, at_ns, wall_ns, profiled, cold, usage } => {
                let name = Arc::clone(&state.models.get(model)?.name);
                let machine = state.machine;
                Some(JournalEntry::Inference(InferenceEntry {
                    seq,
                    model: name,
                    at_ns,
                    wall_ns,
                    profiled,
                    cold,
                    usage,
                    machine,
                }))
            }
            Self::Sample => {
                let sample = state.system.last()?.clone();
                let running = state.running_at_sample.last().copied().flatten();
                let running_model = running.and_then(|id| state.models.get(id)).map(|m| Arc::clone(&m.name));
                Some(JournalEntry::Sample(Box::new(SampleEntry { sample, running_model })))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inference(model: ModelId, seq: u64) -> Event {
        Event::Inference(Inference {
            model,
            seq,
            wall_ns: 2_000_000,
            at_ns: 5_000_000,
            profiled: seq % 2 == 0,
            cold: false,
            usage: None,
            ops: Vec::new(),
        })
    }

    fn journal(state: &mut MonitorState, events: Vec<Event>) -> Vec<JournalEntry> {
        let mut out = Vec::new();
        for event in events {
            let pending = Pending::of(&event);
            state.apply(event);
            out.extend(pending.and_then(|p| p.entry(state)));
        }
        out
    }

    #[test]
    fn inferences_carry_the_name_and_the_machine_as_of_the_latest_sample() {
        let mut state = MonitorState::new(&["a", "b"]);
        let hot = SystemSample { measured_mhz: Some(900.0), at_ms: 40, ..SystemSample::default() };
        let entries = journal(&mut state, vec![inference(0, 1), Event::System(hot), inference(1, 2), inference(7, 3)]);
        assert_eq!(entries.len(), 3, "an unknown model's inference has no entry: {entries:?}");
        let JournalEntry::Inference(first) = &entries[0] else { panic!("{entries:?}") };
        assert_eq!((&*first.model, first.seq, first.machine.mhz()), ("a", 1, None));
        let JournalEntry::Sample(sample) = &entries[1] else { panic!("{entries:?}") };
        assert_eq!((sample.sample.at_ms, sample.running_model.as_deref()), (40, Some("a")));
        let JournalEntry::Inference(second) = &entries[2] else { panic!("{entries:?}") };
        assert_eq!((&*second.model, second.profiled, second.machine.mhz()), ("b", true, Some(900.0)));
    }
}
