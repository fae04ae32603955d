//! Where labels go: text anchors, and point names placed clear of each other.

/// Where each point's label goes, relative to the point (pixels): above right, else below
/// right, above left or below left, the first place clear of the labels placed before and of
/// the points; above right when none is.
pub(super) fn label_offsets(at: &[(i32, i32)], chars: &[usize]) -> Vec<(i32, i32)> {
    // plotters draws a 13 px font at about 10.5 px; a character is about 0.6 of that wide.
    const HEIGHT: i32 = 12;
    let width = |n: usize| (6.5 * n as f64).ceil() as i32;
    let overlaps = |a: [i32; 4], b: [i32; 4]| a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
    let dots: Vec<[i32; 4]> = at.iter().map(|&(x, y)| [x - 6, y - 6, x + 6, y + 6]).collect();
    let mut placed: Vec<[i32; 4]> = Vec::new();
    at.iter()
        .zip(chars)
        .map(|(&(x, y), &n)| {
            let w = width(n);
            let choices = [(7, -14), (7, 4), (-7 - w, -14), (-7 - w, 4)];
            let boxed = |(dx, dy): (i32, i32)| [x + dx, y + dy, x + dx + w, y + dy + HEIGHT];
            let clear = |o: &(i32, i32)| {
                let b = boxed(*o);
                !placed.iter().chain(&dots).any(|p| overlaps(*p, b))
            };
            let offset = choices.iter().copied().find(clear).unwrap_or(choices[0]);
            placed.push(boxed(offset));
            offset
        })
        .collect()
}

pub(super) fn left_centre() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Left, VPos::Center)
}

pub(super) fn centre_below() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Center, VPos::Top)
}

pub(super) fn centre_above() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Center, VPos::Bottom)
}

pub(super) fn right_of_axis() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Right, VPos::Center)
}
