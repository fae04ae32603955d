//! The report's figures at the sizes the page uses: no two labels (titles, ticks, legends,
//! point names) overlap, a latency outlier goes above the axis and is named in the caption,
//! and a model's line breaks between its turns.

use std::fs;

use scraper::{ElementRef, Html};

use super::{compare, fixture, report, sel, without_models, PI, VM};

/// A text's box in the SVG's pixels: left, top, right, bottom. plotters writes `x`, `y`, a
/// `dy` in em or ex, `text-anchor` and `font-size`; a character is taken as 0.55 em wide (a
/// little more than sans-serif's average, so a near miss counts).
fn text_box(text: ElementRef) -> Option<([f64; 4], String)> {
    let label: String = text.text().collect::<String>().trim().to_string();
    if label.is_empty() {
        return None;
    }
    let attr = |name: &str| text.value().attr(name);
    let num = |name: &str| attr(name).and_then(|v| v.parse::<f64>().ok());
    let (x, y, size) = (num("x")?, num("y")?, num("font-size").unwrap_or(12.0));
    let dy = attr("dy").unwrap_or("0em");
    let shift = dy
        .strip_suffix("em")
        .map(|v| v.parse::<f64>().unwrap_or(0.0) * size)
        .or_else(|| dy.strip_suffix("ex").map(|v| v.parse::<f64>().unwrap_or(0.0) * size / 2.0))
        .unwrap_or(0.0);
    let base = y + shift;
    let width = 0.55 * size * label.chars().count() as f64;
    let left = match attr("text-anchor") {
        Some("middle") => x - width / 2.0,
        Some("end") => x - width,
        _ => x,
    };
    let (top, bottom) = (base - 0.8 * size, base + 0.2 * size);
    if attr("transform").is_some_and(|t| t.starts_with("rotate(270")) {
        // Reads upward: its width runs up the page and its height to the right of x.
        let (up, down) = (y - (x - left), y + (left + width - x));
        return Some(([x + (top - y), up, x + (bottom - y), down], label));
    }
    Some(([left, top, left + width, bottom], label))
}

/// Every pair of labels in each figure of `doc` that overlap.
fn collisions(doc: &Html) -> Vec<String> {
    let mut found = Vec::new();
    for figure in doc.select(&sel("figure")) {
        let id = figure.value().attr("id").unwrap_or("?");
        let boxes: Vec<([f64; 4], String)> = figure.select(&sel("svg text")).filter_map(text_box).collect();
        for (i, (a, la)) in boxes.iter().enumerate() {
            for (b, lb) in &boxes[i + 1..] {
                if a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3] {
                    found.push(format!("{id}: '{la}' {a:?} and '{lb}' {b:?}"));
                }
            }
        }
    }
    found
}

#[test]
fn no_two_labels_of_a_figure_overlap() {
    let two = without_models(&["shufflenet", "shufflenetv2"]);
    let mut pages: Vec<(String, Html)> = [fixture(PI), fixture(VM), two.path().to_path_buf()]
        .iter()
        .map(|snapshot| {
            let (_dir, html) = report(snapshot);
            (snapshot.display().to_string(), Html::parse_document(&html))
        })
        .collect();
    pages.push(("compare".into(), compare(&fixture(VM), &fixture(PI)).1));
    for (name, doc) in &pages {
        assert!(doc.select(&sel("figure svg text")).count() > 10, "{name}: too few labels to check");
        let found = collisions(doc);
        assert!(found.is_empty(), "{name}:\n{}", found.join("\n"));
    }
    // The check itself sees an overlap: a title over the bars' labels, as plotters placed it.
    let overlapping = Html::parse_document(
        r#"<figure id="f"><svg><text x="480" y="29" dy="0.76em" text-anchor="middle" font-size="14.5">time and MACs by category</text>
        <text x="570" y="49" dy="-0.5ex" text-anchor="middle" font-size="9.7">time</text></svg></figure>"#,
    );
    assert_eq!(collisions(&overlapping).len(), 1);
}

/// A 50 s inference among 100-300 ms ones: the axis stays on the others, the outlier is drawn
/// at its top, and the caption says how many and how high.
#[test]
fn a_latency_outlier_goes_above_the_axis_and_the_caption_says_so() {
    let dir = without_models(&[]);
    let path = dir.path().join("inferences.csv");
    let csv = fs::read_to_string(&path).unwrap();
    let mut done = false;
    let edited: Vec<String> = csv
        .lines()
        .map(|line| {
            let mut cells: Vec<String> = line.split(',').map(String::from).collect();
            if !done && cells.len() > 5 && cells[4] == "false" && cells[5] == "false" {
                cells[3] = "50000".into();
                done = true;
            }
            cells.join(",")
        })
        .collect();
    assert!(done, "no warm row to edit");
    fs::write(&path, edited.join("\n") + "\n").unwrap();
    let (_out, html) = report(dir.path());
    let doc = Html::parse_document(&html);
    let figure = doc.select(&sel("figure#timeline-latency")).next().unwrap();
    let note: String = figure.select(&sel("figcaption .off-scale")).next().expect("an off-scale note").text().collect();
    assert!(note.starts_with("1 point lies above the axis (up to 50000)"), "{note}");
    let ticks: Vec<f64> = figure
        .select(&sel("svg text[text-anchor=end]"))
        .filter_map(|t| t.text().collect::<String>().trim().parse().ok())
        .collect();
    let top = ticks.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(top.is_finite() && top < 5000.0 && ticks.iter().all(|t| *t >= 0.0), "y ticks {ticks:?}");
    // Unedited, nothing is off the scale.
    let (_out, html) = report(&fixture(VM));
    assert!(Html::parse_document(&html).select(&sel("figure .off-scale")).next().is_none());
}

/// Under the dwell schedule each model runs in turns: its line is drawn in pieces, one per
/// turn, not joined across the time other models ran.
#[test]
fn a_models_line_breaks_between_its_turns() {
    let (_dir, html) = report(&fixture(VM));
    let doc = Html::parse_document(&html);
    let figure = doc.select(&sel("figure#timeline-latency svg")).next().unwrap();
    let first_colour = figure.select(&sel("polyline[stroke='#4E79A7']")).count();
    // Less the legend's sample line, which plotters draws as a polyline too.
    assert!(first_colour > 2, "the first model's line is {first_colour} polylines");
}
