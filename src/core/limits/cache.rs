//! A per-machine cache of the machine's limits (GEMM peak, memory bandwidth): each start takes a
//! short measurement and keeps the best of it and all earlier runs. A measurement taken while
//! something else loaded the machine reads low; keeping the best corrects it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Measurement budget when the cache already holds a value, and when it does not.
const SHORT: Duration = Duration::from_millis(200);
const FULL: Duration = Duration::from_millis(600);

/// The best of `measure` (given a time budget) and what `file` in the per-user cache holds
/// under `key`; writes the new best back. A cache that cannot be read or written only costs a
/// longer measurement next time.
pub fn best_of_runs(file: &str, key: &str, measure: impl FnOnce(Duration) -> f64) -> f64 {
    match cache_dir() {
        Some(dir) => best_of_runs_in(&dir.join(file), key, measure),
        None => measure(FULL),
    }
}

/// [`best_of_runs`] with an explicit cache file (tests point it at a temporary folder).
pub fn best_of_runs_in(path: &Path, key: &str, measure: impl FnOnce(Duration) -> f64) -> f64 {
    let mut cache: BTreeMap<String, f64> =
        std::fs::read_to_string(path).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default();
    let cached = cache.get(key).copied().filter(|v| v.is_finite() && *v > 0.0);
    let measured = measure(if cached.is_some() { SHORT } else { FULL });
    let best = cached.map_or(measured, |c| c.max(measured));
    if cached != Some(best) && best.is_finite() && best > 0.0 {
        cache.insert(key.to_string(), best);
        if let Ok(text) = serde_json::to_string_pretty(&cache) {
            let _ = path.parent().map(std::fs::create_dir_all);
            let _ = std::fs::write(path, text);
        }
    }
    best
}

/// `$XDG_CACHE_HOME/infertop`, or `~/.cache/infertop`.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("infertop"))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // the cache returns the very values it was given
mod tests {
    use super::*;

    #[test]
    fn the_best_run_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("limits.json");
        let mut budgets = Vec::new();
        let first = best_of_runs_in(&file, "k", |b| {
            budgets.push(b);
            10.0
        });
        assert_eq!(first, 10.0);
        // A lower reading later (a busy machine) does not lower the cached best.
        let second = best_of_runs_in(&file, "k", |b| {
            budgets.push(b);
            7.0
        });
        assert_eq!(second, 10.0);
        let third = best_of_runs_in(&file, "k", |_| 12.0);
        assert_eq!(third, 12.0);
        assert_eq!(budgets, [FULL, SHORT], "a cached value shortens the measurement");
        let other = best_of_runs_in(&file, "another key", |_| 3.0);
        assert_eq!(other, 3.0);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("\"k\": 12.0") && text.contains("another key"), "{text}");
    }

    #[test]
    fn a_corrupt_cache_is_measured_over() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("limits.json");
        std::fs::write(&file, "not json").unwrap();
        assert_eq!(best_of_runs_in(&file, "k", |_| 5.0), 5.0);
        assert_eq!(best_of_runs_in(&file, "k", |_| 1.0), 5.0);
    }
}
