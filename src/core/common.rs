//! Small helpers every part of the core uses: statistics (latency windows, quantiles, intervals,
//! correlations), one-line error text, and file reads with a size limit.
//!
//! Its files are private to the core; what the front ends use is re-exported here.

pub(in crate::core) mod bounded_read;
pub(in crate::core) mod oneline;
pub(in crate::core) mod stats;

pub use bounded_read::{describe, open_bounded, read_text_at_most};
pub use oneline::one_line;
pub use stats::{pearson, quantile_sorted, spearman, LatencySummary};
