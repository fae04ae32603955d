//! The report of one snapshot: the run, its warnings, the study's four scatter plots, where
//! the time goes per model, what-if variants against their originals, and the run over time.

mod sections;
mod what_if;

use std::fmt::Write as _;

use super::html::{self, escape};
use super::snapshot::Snapshot;
use super::study::{self, Scatter};
use super::{chart, ReportError};
use crate::core::analysis::MIN_MODELS;

/// Models with fewer warm inferences than this get a "few samples" warning: below it the p90
/// is not even given.
pub const FEW_SAMPLES: u64 = 10;

/// The whole report page of `snap`.
///
/// # Errors
/// When a figure cannot be drawn.
pub fn report_page(snap: &Snapshot) -> Result<String, ReportError> {
    let mut body = format!("<h1>infertop report: {}</h1>\n", escape(&snap.name()));
    body.push_str(&sections::run_section(snap));
    body.push_str(&sections::warnings_section(snap));
    body.push_str(&study_section(snap)?);
    body.push_str(&sections::breakdown_section(snap)?);
    body.push_str(&sections::split_section(snap));
    body.push_str(&what_if::what_if_section(snap));
    body.push_str(&sections::timeline_section(snap)?);
    Ok(html::page(&format!("infertop report: {}", snap.name()), &body))
}

fn study_section(snap: &Snapshot) -> Result<String, ReportError> {
    let mut out = String::from("<h2 id=\"study\">Accuracy, size, computations and time</h2>\n");
    let scatters = study::all(&snap.models);
    out.push_str(&too_few_models(&scatters));
    out.push_str("<div class=\"grid\">\n");
    for s in scatters {
        if s.points.is_empty() {
            let what = format!("{} against {}", s.y.key(), s.x.key());
            out.push_str(&html::absent(&format!("No model has both values for {what}: not drawn.")));
            continue;
        }
        let svg = chart::scatter(&s)?;
        out.push_str(&html::figure(&s.id(), "scatter", &svg, &coefficients(&s)));
    }
    out.push_str("</div>\n");
    Ok(out)
}

/// Once for the whole section: which plots have too few models for a coefficient (two points
/// always lie on a line), so their captions need not each say "n/a". Empty when every drawn
/// plot has enough.
fn too_few_models(scatters: &[Scatter]) -> String {
    let few: Vec<&Scatter> = scatters.iter().filter(|s| (1..MIN_MODELS).contains(&s.points.len())).collect();
    let Some(most) = few.iter().map(|s| s.points.len()).max() else { return String::new() };
    let which = if few.len() == scatters.iter().filter(|s| !s.points.is_empty()).count() {
        "the plots below show the models without coefficients".to_string()
    } else {
        let names: Vec<String> = few.iter().map(|s| format!("{} against {}", s.y.key(), s.x.key())).collect();
        format!("{} show{} the models without coefficients", names.join(", "), if few.len() == 1 { "s" } else { "" })
    };
    let models = if most == 1 { "one model" } else { "two models" };
    format!(
        "<p class=\"few-models\" data-min=\"{MIN_MODELS}\">Correlations need three or more models; with {models}, \
         {which}.</p>\n"
    )
}

/// The caption of a scatter plot: what it shows and its coefficients, the exact values in data
/// attributes for programs, rounded in the text for people. Below [`MIN_MODELS`] points it
/// gives only the count ([`too_few_models`] says why, once).
#[must_use]
pub fn coefficients(s: &Scatter) -> String {
    let mut out = format!("{} against {}: ", escape(s.y.axis()), escape(s.x.axis()));
    if s.points.len() < MIN_MODELS {
        let _ = write!(out, "<span class=\"coef\" data-n=\"{0}\">n = {0}</span>", s.points.len());
        return out;
    }
    let attr = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:e}"));
    let text = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3}"));
    let _ = write!(
        out,
        "<span class=\"coef\" data-pearson=\"{}\" data-spearman=\"{}\" data-n=\"{}\">Pearson r = {}, Spearman ρ = {}, n = {}</span>",
        attr(s.pearson),
        attr(s.spearman),
        s.points.len(),
        text(s.pearson),
        text(s.spearman),
        s.points.len()
    );
    if s.pearson.is_none() {
        out.push_str(" (no coefficient: the values do not vary)");
    }
    out
}
