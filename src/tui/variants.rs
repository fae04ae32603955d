//! What-if variants as the live screen reads them: which rows vary which original, the core's
//! comparison of each, the one figure per row that the models table's what-if column shows and
//! sorts by, and how a variant row's name reads beside its original. Derived once per frame
//! from the state; drawing lives in `render/what_if.rs`.

use crate::core::analysis::{comparisons, Comparison, Verdict};
use crate::core::models::{Variant, VariantRequest};
use crate::core::run::ModelId;
use crate::core::state::MonitorState;
use crate::tui::render::units::fit;

/// How a model row relates to what-if variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Neither varied nor a variant.
    Alone,
    /// An original with at least one variant row.
    Original,
    /// A variant row of `base`.
    Variant { base: ModelId, variant: Variant },
}

/// The run's variants and their comparisons, as of one frame.
#[derive(Clone, Debug, Default)]
pub struct WhatIf {
    /// By model id.
    roles: Vec<Role>,
    /// The core's comparisons of the loaded variant rows, in row order.
    comparisons: Vec<Comparison>,
}

impl WhatIf {
    /// The variants of `state`; the comparisons are only computed when there are any.
    #[must_use]
    pub fn of(state: &MonitorState) -> Self {
        let mut roles = vec![Role::Alone; state.models.len()];
        let varied: Vec<(ModelId, ModelId, Variant)> =
            (0..state.models.len()).filter_map(|id| variant_row(state, id).map(|(b, v)| (id, b, v))).collect();
        for &(id, base, variant) in &varied {
            roles[id] = Role::Variant { base, variant };
        }
        for &(_, base, _) in &varied {
            if roles[base] == Role::Alone {
                roles[base] = Role::Original;
            }
        }
        let comparisons = if varied.is_empty() { Vec::new() } else { comparisons(state) };
        Self { roles, comparisons }
    }

    /// Whether the run has any variant row (the what-if column and block show only then).
    #[must_use]
    pub fn any(&self) -> bool {
        self.roles.iter().any(|r| matches!(r, Role::Variant { .. }))
    }

    #[must_use]
    pub fn role(&self, id: ModelId) -> Role {
        self.roles.get(id).copied().unwrap_or(Role::Alone)
    }

    /// Every loaded variant's comparison, computed once per frame.
    #[must_use]
    pub fn comparisons(&self) -> &[Comparison] {
        &self.comparisons
    }

    /// The comparison of variant row `id`, once it is loaded.
    #[must_use]
    pub fn comparison(&self, id: ModelId) -> Option<&Comparison> {
        self.comparisons.iter().find(|c| c.model == id)
    }

    /// The variant rows of `base`, loaded or not, in row order.
    #[must_use]
    pub fn variants_of(&self, base: ModelId) -> Vec<ModelId> {
        (0..self.roles.len())
            .filter(|&id| matches!(self.role(id), Role::Variant { base: b, .. } if b == base))
            .collect()
    }

    /// The loaded variant rows of `base` that have been compared.
    pub fn comparisons_of(&self, base: ModelId) -> impl Iterator<Item = &Comparison> {
        self.comparisons.iter().filter(move |c| c.base == base)
    }

    /// The variant of `base` with the lowest median among those whose output agrees and whose
    /// change has an interval: what the original's what-if cell names.
    #[must_use]
    pub fn best(&self, base: ModelId) -> Option<&Comparison> {
        self.comparisons_of(base)
            .filter_map(|c| measured(c).map(|d| (c, d)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c)
    }

    /// What the what-if column sorts by: a variant's change of median when its output agrees
    /// and the change is measured, an original's best variant's; unknown (last) otherwise, so
    /// a variant whose output differs never sorts among the speed-ups.
    #[must_use]
    pub fn sort_value(&self, id: ModelId) -> Option<f64> {
        match self.role(id) {
            Role::Alone => None,
            Role::Original => self.best(id).and_then(measured),
            Role::Variant { .. } => self.comparison(id).and_then(measured),
        }
    }

    /// The name a row shows at position `at` of `order` (the rows as drawn): a variant right
    /// under its original or a sibling as a branch of it (`├ ⟨fold-bn⟩`, `└` for the group's
    /// last), elsewhere its full name, with the variant's short label when that is longer than
    /// `width`.
    #[must_use]
    pub fn display_name(&self, state: &MonitorState, order: &[ModelId], at: usize, width: usize) -> String {
        let id = order[at];
        let name = state.models[id].name.to_string();
        let Role::Variant { base, variant } = self.role(id) else { return name };
        let in_group = |other: Option<&ModelId>| {
            other.is_some_and(|&o| o == base || matches!(self.role(o), Role::Variant { base: b, .. } if b == base))
        };
        let under_base = at > 0 && in_group(order.get(at - 1));
        if under_base {
            let branch = if in_group(order.get(at + 1)) { '├' } else { '└' };
            let long = format!("{branch} \u{27e8}{variant}\u{27e9}");
            return if long.chars().count() <= width {
                long
            } else {
                format!("{branch} \u{27e8}{}\u{27e9}", short(variant))
            };
        }
        if name.chars().count() <= width {
            return name;
        }
        // The label tells the variant apart, so the original's name gives way first.
        let label = format!(" \u{27e8}{}\u{27e9}", short(variant));
        let room = width.saturating_sub(label.chars().count()).max(2);
        format!("{}{label}", fit(&state.models[base].name, room))
    }
}

/// A variant's change of median if its verdict rests on an agreeing output and an interval.
fn measured(c: &Comparison) -> Option<f64> {
    match c.verdict {
        Verdict::Faster | Verdict::Slower | Verdict::NoClearChange => c.delta_p50,
        Verdict::Pending | Verdict::Disagrees => None,
    }
}

/// A variant's label in a few characters, for narrow cells: `fold`, `nhwc`, `t=4`, `¬dnn`.
#[must_use]
pub fn short(variant: Variant) -> String {
    match variant {
        Variant::FoldBn => "fold".into(),
        Variant::ChannelsLast => "nhwc".into(),
        Variant::Threads(n) => format!("t={n}"),
        Variant::NoMkldnn => "¬dnn".into(),
    }
}

/// Row `id`'s original and variant: from its info once loaded, before that from its name as
/// the run gave it (`resnet50 ⟨fold-bn⟩`), so the row reads as a variant while it loads.
fn variant_row(state: &MonitorState, id: ModelId) -> Option<(ModelId, Variant)> {
    let model = &state.models[id];
    let (base, variant) = if let Some(info) = model.info.as_ref().and_then(|i| i.variant.as_ref()) {
        (info.of.base.clone(), info.of.variant)
    } else {
        let (base, label) = model.name.strip_suffix('\u{27e9}')?.rsplit_once(" \u{27e8}")?;
        let VariantRequest::One(variant) = label.parse().ok()? else { return None };
        (base.to_string(), variant)
    };
    let base = state.models.iter().position(|m| *m.name == *base).filter(|&b| b != id)?;
    Some((base, variant))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::models::variant_name;

    fn names(rows: &[&str]) -> MonitorState {
        MonitorState::new(rows)
    }

    #[test]
    fn rows_named_like_variants_of_another_row_are_variants_before_they_load() {
        let fold = variant_name("resnet50", Variant::FoldBn);
        let t2 = variant_name("resnet50", Variant::Threads(2));
        let orphan = variant_name("vgg11", Variant::FoldBn);
        let state = names(&["resnet18", "resnet50", &fold, &t2, &orphan, "odd \u{27e8}fold\u{27e9}"]);
        let w = WhatIf::of(&state);
        assert!(w.any());
        assert_eq!(w.role(0), Role::Alone);
        assert_eq!(w.role(1), Role::Original);
        assert_eq!(w.role(2), Role::Variant { base: 1, variant: Variant::FoldBn });
        assert_eq!(w.role(3), Role::Variant { base: 1, variant: Variant::Threads(2) });
        assert_eq!((w.role(4), w.role(5)), (Role::Alone, Role::Alone), "no such original, no such variant");
        assert_eq!(w.variants_of(1), vec![2, 3]);
        assert!(!WhatIf::of(&names(&["resnet18", "vgg11"])).any());
    }

    #[test]
    fn a_variant_under_its_original_reads_as_a_branch_and_elsewhere_by_its_full_name() {
        let fold = variant_name("resnet50", Variant::FoldBn);
        let cl = variant_name("resnet50", Variant::ChannelsLast);
        let state = names(&["resnet50", &fold, &cl, "vgg11"]);
        let w = WhatIf::of(&state);
        let name = |order: &[ModelId], at, width| w.display_name(&state, order, at, width);
        assert_eq!(name(&[0, 1, 2, 3], 1, 18), "├ ⟨fold-bn⟩");
        assert_eq!(name(&[0, 1, 2, 3], 2, 18), "└ ⟨channels-last⟩");
        assert_eq!(name(&[0, 1, 2, 3], 2, 12), "└ ⟨nhwc⟩");
        assert_eq!(name(&[2, 3, 0, 1], 0, 30), "resnet50 ⟨channels-last⟩");
        assert_eq!(name(&[2, 3, 0, 1], 0, 18), "resnet50 ⟨nhwc⟩");
        assert_eq!(name(&[2, 3, 0, 1], 3, 18), "└ ⟨fold-bn⟩");
        assert_eq!(name(&[2, 3, 0, 1], 1, 18), "vgg11");
        let long = variant_name("efficientnet_b0_custom", Variant::Threads(2));
        let state = names(&["efficientnet_b0_custom", "vgg11", &long]);
        let w = WhatIf::of(&state);
        assert_eq!(w.display_name(&state, &[0, 1, 2], 2, 18), "efficientne… ⟨t=2⟩");
    }
}
