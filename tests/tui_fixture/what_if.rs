//! The what-if fixture: an original with variants that are faster with the same output,
//! faster with a different output, slower, and still short of an interval, beside a model
//! without variants and an original whose variant is still loading, built from the same op
//! trees and system samples as the main fixture.

use std::sync::Arc;

use infertop::core::machine::Usage;
use infertop::core::models::{variant_name, OutputCheck, Variant, VariantOf};
use infertop::core::run::{Event, Inference, ModelInfo, VariantInfo};
use infertop::core::state::MonitorState;

use super::{sample, shape, Shape, Tree};

/// The what-if fixture's rows: a model alone; resnet50 and four variants of it (fold-bn faster
/// with the same output, channels-last faster but with a different output, threads=2 slower,
/// threads=1 with too few latencies for an interval); mobilenet with a variant still loading.
pub fn names() -> Vec<String> {
    let mut names = vec!["resnet18".to_string(), "resnet50".to_string()];
    for v in [Variant::FoldBn, Variant::ChannelsLast, Variant::Threads(2), Variant::Threads(1)] {
        names.push(variant_name("resnet50", v));
    }
    names.push("mobilenet".into());
    names.push(variant_name("mobilenet", Variant::FoldBn));
    names
}

/// How each loaded row of the what-if fixture is built: its shape, its variant with the output
/// check, and how many rounds it runs (fewer than 6: no interval yet).
fn rows(rounds: u64) -> Vec<(Shape, Option<VariantInfo>, u64)> {
    let of = |variant, max_abs, max_rel| {
        let of = VariantOf { base: "resnet50".into(), variant };
        Some(VariantInfo { of, check: Ok(OutputCheck { max_abs, max_rel }) })
    };
    let slowed = |per_mille: u64| Shape { kernel_us: shape(7).kernel_us * per_mille / 1000, ..shape(7) };
    vec![
        (shape(0), None, rounds),
        (shape(7), None, rounds),
        (Shape { batch_norm: false, ..shape(7) }, of(Variant::FoldBn, 2.4e-6, 3.1e-7), rounds),
        // Faster than the original, but it computes something else: never a speed-up.
        (slowed(600), of(Variant::ChannelsLast, 0.41, 2.7e-2), rounds),
        (slowed(1_700), of(Variant::Threads(2), 9.5e-6, 1.2e-6), rounds),
        (slowed(2_800), of(Variant::Threads(1), 8.0e-6, 1.0e-6), 4),
        (shape(1), None, rounds),
    ]
}

/// The events of the what-if fixture: `rounds` rounds (under 20, so the clock is never capped
/// and the medians' intervals stay narrow), each model once per round, then a system sample.
pub fn events(rounds: u64) -> Vec<Event> {
    let names = names();
    let rows = rows(rounds);
    let mut tree = Tree::default();
    let mut events = vec![Event::Peak { gmacs_per_s: 40.0 }, Event::Bandwidth { gb_per_s: 12.0 }];
    let mut spans = Vec::new();
    for (id, (s, variant, _)) in rows.iter().enumerate() {
        let start = tree.next;
        let scope = tree.model(&names[id], s);
        spans.push(start..tree.next);
        let info = ModelInfo {
            name: Arc::from(names[id].as_str()),
            source: format!("arch:{}", names[id]),
            params: (s.conv_macs / 60.0) as u64 * u64::from(s.stages) + 51_300,
            batch: 1,
            input: [3, 32, 32],
            top1_error: None,
            variant: variant.clone(),
        };
        events.push(Event::ModelReady { model: id, info });
        events.push(Event::Nodes(tree.infos[start as usize..].to_vec()));
        events.push(Event::ModelScope { model: id, scope });
    }
    let (mut seq, mut at_ns) = (0, 0);
    for round in 0..rounds {
        for (id, span) in spans.iter().enumerate().filter(|(id, _)| round < rows[*id].2) {
            let scale = 1_000 + (round * 37 + id as u64 * 11) % 23 * 4;
            let (ops, wall_ns) = tree.timings(span.clone(), scale);
            (seq, at_ns) = (seq + 1, at_ns + wall_ns);
            let usage = Some(Usage { minor_faults: 5, context_switches: 3 });
            let inference = Inference { model: id, seq, wall_ns, at_ns, profiled: true, cold: false, usage, ops };
            events.push(Event::Inference(inference));
        }
        events.push(Event::System(sample(round)));
    }
    events
}

/// The state after the what-if fixture's events.
pub fn state(rounds: u64) -> MonitorState {
    let mut state = MonitorState::new(&names());
    for event in events(rounds) {
        state.apply(event);
    }
    state
}
