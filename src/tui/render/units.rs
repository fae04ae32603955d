//! Numbers as short, fixed-width text: SI prefixes, milliseconds, shares, bars and text
//! sparklines. A missing value is "–", never 0.

/// Shown for a value that is not known (yet, or on this machine).
pub const NONE: &str = "–";

/// `1.82G`, `556M`, `12.3k`, `999`, `0.0400`: never `0` for a value that is not zero.
#[must_use]
pub fn si(v: f64) -> String {
    let (number, prefix) = prefixed(v, 1000.0, &["", "k", "M", "G", "T"]);
    format!("{number}{prefix}")
}

/// A rate or size with its unit under an SI prefix: `with_unit(4e4, "MAC/s")` is
/// `40.0 kMAC/s`; zero is `0`.
#[must_use]
pub fn with_unit(v: f64, unit: &str) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let (number, prefix) = prefixed(v, 1000.0, &["", "k", "M", "G", "T"]);
    format!("{number} {prefix}{unit}")
}

/// Bytes under a binary prefix: `512 B`, `40.0 KiB`, `3.70 GiB`; zero is `0`.
#[must_use]
pub fn bytes(b: u64) -> String {
    if b == 0 {
        return "0".into();
    }
    let (number, prefix) = prefixed(b as f64, 1024.0, &["", "Ki", "Mi", "Gi", "Ti"]);
    format!("{number} {prefix}B")
}

/// The one scaling behind [`si`], [`with_unit`] and [`bytes`]: `v` divided by `step` until it
/// is below `step` (or the prefixes run out), with about three significant figures.
fn prefixed(v: f64, step: f64, prefixes: &[&'static str]) -> (String, &'static str) {
    if !v.is_finite() {
        return (NONE.into(), "");
    }
    let mut scaled = v;
    let mut n = 0;
    while scaled.abs() >= step && n + 1 < prefixes.len() {
        scaled /= step;
        n += 1;
    }
    let a = scaled.abs();
    let digits = if a >= 100.0 || a == 0.0 || (n == 0 && a >= 1.0) {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        // Below one without a prefix left: enough decimals for three significant figures.
        (2.0 - a.log10().floor()).min(12.0) as usize
    };
    (format!("{scaled:.digits$}"), prefixes[n])
}

/// `1 inference`, `2 inferences`: a count with its noun, singular or plural.
#[must_use]
pub fn count(n: impl TryInto<u64>, noun: &str) -> String {
    let n: u64 = n.try_into().unwrap_or(u64::MAX);
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A positive quantity with SI prefix, or [`NONE`] when zero or unknown.
#[must_use]
pub fn si_known(v: Option<f64>) -> String {
    v.filter(|v| *v > 0.0).map_or_else(|| NONE.into(), si)
}

/// Milliseconds with three significant figures or so: `0.412`, `4.12`, `41.2`, `412`.
#[must_use]
pub fn ms(v: f64) -> String {
    if !v.is_finite() {
        return NONE.into();
    }
    let digits = match v.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        a if a >= 1.0 => 2,
        _ => 3,
    };
    format!("{v:.digits$}")
}

/// A ratio as wide as a time: three significant figures (`0.981`, `1.32`, `67.3`, `673`).
#[must_use]
pub fn ratio(r: f64) -> String {
    ms(r)
}

/// [`ms`] of an optional value.
#[must_use]
pub fn ms_opt(v: Option<f64>) -> String {
    v.map_or_else(|| NONE.into(), ms)
}

/// A share (0..=1) as a percentage: `62.1%`.
#[must_use]
pub fn pct(share: f64) -> String {
    if share.is_finite() {
        format!("{:.1}%", share * 100.0)
    } else {
        NONE.into()
    }
}

/// [`pct`] of an optional share.
#[must_use]
pub fn pct_opt(share: Option<f64>) -> String {
    share.map_or_else(|| NONE.into(), pct)
}

/// A fixed-precision number or [`NONE`].
#[must_use]
pub fn num(v: Option<f64>, digits: usize) -> String {
    v.filter(|v| v.is_finite()).map_or_else(|| NONE.into(), |v| format!("{v:.digits$}"))
}

/// A horizontal bar `width` cells wide, filled to `share` in eighths of a cell.
#[must_use]
pub fn bar(share: f64, width: usize) -> String {
    const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let share = if share.is_finite() { share.clamp(0.0, 1.0) } else { 0.0 };
    let eighths = (share * width as f64 * 8.0).round() as usize;
    let mut out = "█".repeat(eighths / 8);
    if eighths % 8 > 0 && out.chars().count() < width {
        out.push(PARTS[eighths % 8]);
    }
    let len = out.chars().count();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(len)));
    out
}

/// The last `width` values as a one-line text sparkline, scaled between their own minimum and
/// maximum so that jitter shows; right-aligned so the newest value is at the right edge.
#[must_use]
pub fn spark(values: &[f64], width: usize) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let recent = &values[values.len().saturating_sub(width)..];
    let (lo, hi) = recent.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let mut out: String = " ".repeat(width.saturating_sub(recent.len()));
    for v in recent {
        let level = if hi > lo { ((v - lo) / (hi - lo) * 7.0).round() as usize } else { 3 };
        out.push(LEVELS[level.min(7)]);
    }
    out
}

/// Cuts `text` to `width` characters, ending in `…` when it was longer.
#[must_use]
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// Cuts `text` to `width` characters in the middle, keeping its start and (the larger part)
/// its end with `…` between: `features.12.conv.3` stays told apart from `features.13.conv.3`.
#[must_use]
pub fn fit_middle(text: &str, width: usize) -> String {
    cut_keeping(text, width, width.saturating_sub(1) / 2)
}

/// `text` cut to `width` characters with `…` after its first `head` characters, the rest of the
/// width from its end (`text` itself when it fits).
fn cut_keeping(text: &str, width: usize, head: usize) -> String {
    let len = text.chars().count();
    if len <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let tail = width - 1 - head;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(len - tail));
    out
}

/// Cuts `text` to `width` characters from the front, keeping its end after `…`: a layer path
/// reads from its block to its leaf (`…x.2.residual_function.3`), and the block index that tells
/// the rows apart stays.
#[must_use]
pub fn fit_front(text: &str, width: usize) -> String {
    cut_keeping(text, width, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_cut_from_the_front_keeps_its_block_and_leaf() {
        assert_eq!(fit_front("conv4_x.2.residual_function.3", 24), "…x.2.residual_function.3");
        assert_eq!(fit_front("conv4_x.1.residual_function.3", 24), "…x.1.residual_function.3");
        assert_eq!(fit_front("fc", 24), "fc");
        assert_eq!(fit_front("abc", 0), "");
        assert_eq!(fit_front("abcdef", 3).chars().count(), 3);
    }

    #[test]
    fn numbers_read_as_expected() {
        assert_eq!(si(1_823_000_000.0), "1.82G");
        assert_eq!(si(556_000_000.0), "556M");
        assert_eq!(si(12_345.0), "12.3k");
        assert_eq!(si(999.0), "999");
        assert_eq!(si_known(Some(0.0)), NONE);
        assert_eq!(ms(0.4123), "0.412");
        assert_eq!(ms(41.23), "41.2");
        assert_eq!(pct(0.621), "62.1%");
        assert_eq!(fit("aten::mkldnn_convolution", 8), "aten::m…");
        assert_eq!(fit("abc", 0), "");
    }

    #[test]
    fn rates_and_sizes_never_print_a_nonzero_value_as_zero() {
        assert_eq!(with_unit(0.00004 * 1e9, "MAC/s"), "40.0 kMAC/s");
        assert_eq!(with_unit(9.0e9, "MAC/s"), "9.00 GMAC/s");
        assert_eq!(with_unit(2.5e6, "MAC/s"), "2.50 MMAC/s");
        assert_eq!(with_unit(0.0, "MAC/s"), "0");
        assert_eq!(with_unit(0.5, "MAC/s"), "0.500 MAC/s");
        assert_eq!(si(0.0004), "0.000400");
        assert_eq!(si(0.0), "0");
        assert_eq!(si(12.0), "12");
        assert_eq!(bytes(0), "0");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(40 * 1024), "40.0 KiB");
        assert_eq!(bytes(4 * 1024 * 1024 * 1024 - 300 * 1024 * 1024), "3.71 GiB");
        assert_eq!(count(1_u32, "inference"), "1 inference");
        assert_eq!(count(0_u32, "inference"), "0 inferences");
        assert_eq!(count(2_u64, "sample"), "2 samples");
    }

    #[test]
    fn fit_middle_keeps_both_ends_at_every_width() {
        let name = "features.12.conv.3";
        assert_eq!(fit_middle(name, 0), "");
        assert_eq!(fit_middle(name, 1), "…");
        assert_eq!(fit_middle(name, 2), "…3");
        assert_eq!(fit_middle(name, 3), "f…3");
        assert_eq!(fit_middle(name, 10), "feat…onv.3");
        assert_eq!(fit_middle(name, 18), name);
        assert_eq!(fit_middle(name, 17), "features…2.conv.3");
        assert_eq!(fit_middle("", 0), "");
        // Multi-byte characters are kept whole.
        assert_eq!(fit_middle("ÿ¬ü→😀éaß", 5), "ÿ¬…aß");
        for width in 0..12 {
            assert_eq!(fit_middle("ÿ¬ü→😀éaßüüü", width).chars().count(), width);
        }
    }

    #[test]
    fn bars_and_sparklines_have_their_width_whatever_the_data() {
        for share in [0.0, 0.3, 1.0, 7.0, f64::NAN, -1.0] {
            for width in [0, 1, 5, 40] {
                assert_eq!(bar(share, width).chars().count(), width, "{share} {width}");
            }
        }
        assert_eq!(bar(0.5, 4), "██  ");
        for values in [vec![], vec![1.0], vec![1.0, 2.0, 3.0], vec![5.0; 100]] {
            for width in [0, 1, 8, 200] {
                assert_eq!(spark(&values, width).chars().count(), width);
            }
        }
        assert_eq!(spark(&[1.0, 8.0], 3), " ▁█");
    }
}
