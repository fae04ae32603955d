//! The snapshot's tables as types: one struct per row of `models.csv`, `ops.csv`,
//! `inferences.csv` and `system.csv`, whose field names are the column headers. The export writes them and the report reads them back,
//! so a column is added, renamed or documented in one place.
//!
//! Times and MACs are per inference (one forward pass of the whole batch). An `Option` that is
//! `None` is an empty field: not measured, never zero. Reading is lenient with snapshots of
//! older versions: a column they lack reads as empty (or 0 for a count marked
//! `#[serde(default)]`); only the columns every version wrote and that cannot be empty (the
//! model's name, its status, its iterations) must be there.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::core::profiling::Category;

/// One row of `models.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub model: String,
    pub params: Option<u64>,
    /// Per inference (whole batch), from the calibration pass.
    pub macs: Option<f64>,
    /// Inferences since the start or the last reset.
    pub iterations: u64,
    #[serde(default)]
    pub latency_ms_mean: Option<f64>,
    /// Percentiles cover the latest `percentile_window` inferences; mean, min and max all.
    pub latency_ms_p50: Option<f64>,
    /// 95 % confidence interval of the median (distribution-free, from order statistics).
    pub latency_ms_p50_ci_low: Option<f64>,
    pub latency_ms_p50_ci_high: Option<f64>,
    /// Empty below 10 samples in the window.
    #[serde(default)]
    pub latency_ms_p90: Option<f64>,
    /// Empty below 100 samples in the window.
    #[serde(default)]
    pub latency_ms_p99: Option<f64>,
    #[serde(default)]
    pub latency_ms_min: Option<f64>,
    #[serde(default)]
    pub latency_ms_max: Option<f64>,
    /// Images per second: batch / mean latency.
    #[serde(default)]
    pub inferences_per_s: Option<f64>,
    /// Median latency per billion MACs.
    #[serde(default)]
    pub ms_per_gmac: Option<f64>,
    /// MACs over median latency.
    #[serde(default)]
    pub gmacs_per_s: Option<f64>,
    /// `gmacs_per_s` over the machine's measured peak.
    #[serde(default)]
    pub peak_share: Option<f64>,
    pub share_conv2d: Option<f64>,
    pub share_batchnorm: Option<f64>,
    pub share_relu: Option<f64>,
    pub share_concat: Option<f64>,
    pub share_add: Option<f64>,
    pub share_pool: Option<f64>,
    pub share_linear: Option<f64>,
    pub share_bookkeeping: Option<f64>,
    pub share_other: Option<f64>,
    /// Throttled mean latency over unthrottled mean, minus one.
    pub throttle_penalty: Option<f64>,
    /// 95 % confidence interval of the penalty (delta method); one that includes 0 is noise.
    #[serde(default)]
    pub throttle_penalty_ci_low: Option<f64>,
    #[serde(default)]
    pub throttle_penalty_ci_high: Option<f64>,
    /// Mean latency scaled to the full clock.
    #[serde(default)]
    pub latency_ms_full_clock: Option<f64>,
    pub throttled_inferences: Option<u64>,
    /// `loading`, `running` or `failed`.
    pub status: String,
    pub error: Option<String>,
    /// Reference top-1 error in %, from the manifest.
    pub top1_error_pct: Option<f64>,
    /// `arch:<name>`, or the path of a scripted model (`model.pt`).
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub batch: Option<i64>,
    /// Input shape per image, `3x224x224`.
    #[serde(default)]
    pub input_chw: Option<String>,
    pub macs_per_image: Option<f64>,
    /// Bytes of the top-level ops' inputs and outputs per inference.
    #[serde(default)]
    pub bytes: Option<f64>,
    /// Profiled inferences (their latency includes the profiler's cost).
    #[serde(default)]
    pub profiled_iterations: u64,
    /// Of the latest profiled inferences (`core::state::profiled_window`), those whose op times are in
    /// the shares, `op_ms` and `ops.csv`/`layers.csv`, and those left out: stalled (wall time
    /// far above the others') or run while other work competed for the cores.
    #[serde(default)]
    pub profiled_kept: u64,
    #[serde(default)]
    pub profiled_stalled: u64,
    #[serde(default)]
    pub profiled_contended: u64,
    #[serde(default)]
    pub percentile_window: u64,
    /// Sum of the top-level ops' time per inference: what the shares divide.
    pub op_ms: Option<f64>,
    /// Mean wall time of the profiled inferences (`op_ms` is part of it).
    #[serde(default)]
    pub latency_ms_profiled_mean: Option<f64>,
    /// What the op profiler adds to the inferences it records (0.06: 6 % slower; see
    /// `core::analysis::summary`); empty with `--profile-every 1`.
    #[serde(default)]
    pub profiler_cost: Option<f64>,
    #[serde(default)]
    pub peak_gmacs_per_s: Option<f64>,
    /// First inferences after a switch from another model (dwell schedule), kept out of the
    /// latency columns above.
    #[serde(default)]
    pub cold_iterations: u64,
    #[serde(default)]
    pub cold_latency_ms_p50: Option<f64>,
    /// Cold p50 minus warm p50: what switching models costs this one.
    #[serde(default)]
    pub switch_cost_ms: Option<f64>,
    /// Minor page faults per warm inference (the process's, all threads).
    #[serde(default)]
    pub minor_faults_per_inference: Option<f64>,
    #[serde(default)]
    pub context_switches_per_inference: Option<f64>,
    /// Energy per warm inference in mJ: each inference's wall time times the mean power of the
    /// sample interval it ran in, averaged (see `core::state::energy`); empty without a power source.
    #[serde(default)]
    pub energy_mj_per_inference: Option<f64>,
    /// `energy_mj_per_inference` per billion MACs.
    #[serde(default)]
    pub energy_mj_per_gmac: Option<f64>,
    /// Inferences behind the energy figures (those of intervals with a power reading).
    #[serde(default)]
    pub energy_iterations: u64,
    /// What the watts came from (`ina3221/VDD_IN`, `RAPL package-0`, `PMIC rails`); empty when
    /// there is no energy figure.
    #[serde(default)]
    pub power_source: Option<String>,
    /// The machine's memory bandwidth through libtorch (GB/s), beside `peak_gmacs_per_s`.
    #[serde(default)]
    pub bandwidth_gb_per_s: Option<f64>,
    /// The roofline split of `op_ms` (see `core::analysis::roofline`): time the MACs at the peak explain
    /// (compute floor), time the bytes at the bandwidth explain (memory floor), time inside the
    /// convolution and matrix-multiply kernels beyond their floor (below peak), and the rest
    /// (outside kernels: dispatch, bookkeeping, allocation, ops without such a kernel). The four
    /// add up to `op_ms`.
    #[serde(default)]
    pub compute_ms: Option<f64>,
    #[serde(default)]
    pub memory_ms: Option<f64>,
    #[serde(default)]
    pub below_peak_ms: Option<f64>,
    #[serde(default)]
    pub outside_kernels_ms: Option<f64>,
    /// The latency the MAC-only model (latency = a·MACs + c) fitted on the other models gives
    /// this one (leave-one-model-out; empty below three measured models).
    #[serde(default)]
    pub latency_ms_left_out_mac_fit: Option<f64>,
    /// The same from the op-level model (per op kind: a·MACs + b·bytes + c·calls).
    #[serde(default)]
    pub latency_ms_left_out_op_fit: Option<f64>,
    /// The latency this machine's kernel calibration predicts from the model's shapes alone
    /// (`core::limits::kernels`; no timing of the model in it); empty without a calibration.
    #[serde(default)]
    pub latency_ms_predicted: Option<f64>,
    /// For a what-if variant's row (`resnet50 ⟨fold-bn⟩`): the change (`fold-bn`,
    /// `threads=1`) and the model it changes; empty for a model of the manifest.
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub base_model: Option<String>,
    /// The variant's output against the original's on the same input: largest absolute
    /// difference, and that over the largest |original output|.
    #[serde(default)]
    pub output_max_abs_diff: Option<f64>,
    #[serde(default)]
    pub output_max_rel_diff: Option<f64>,
    /// Whether `output_max_rel_diff` is within the stated tolerance (1e-4); a variant that
    /// does not agree is never called faster.
    #[serde(default)]
    pub output_agrees: Option<bool>,
    /// Median latency over the original's, minus one (−0.2: 20 % faster), with a conservative
    /// 95 % interval from the two medians' intervals.
    #[serde(default)]
    pub delta_p50: Option<f64>,
    #[serde(default)]
    pub delta_p50_ci_low: Option<f64>,
    #[serde(default)]
    pub delta_p50_ci_high: Option<f64>,
    /// `faster`, `slower`, `no clear change` (the interval holds 0), `output differs`, `pending`.
    #[serde(default)]
    pub what_if_verdict: Option<String>,
    /// Read from snapshots written before the four-way split, where `below_peak_ms` and
    /// `outside_kernels_ms` were one column; never written.
    #[serde(default, skip_serializing)]
    pub overhead_ms: Option<f64>,
}

/// One row of `ops.csv`: an op under one parent op, per inference.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpRecord {
    pub model: String,
    pub op: String,
    /// The op it ran under; empty for top-level ops (whose `total_ms` add up to `op_ms`).
    pub parent_op: Option<String>,
    /// `conv2d`, `batchnorm`, ... as in the `share_*` columns.
    pub category: String,
    pub calls_per_inference: Option<f64>,
    pub self_ms: Option<f64>,
    /// Counted only where no op of the same name is above it, so recursion is not counted
    /// twice: a call nested in its namesake shows 0 here (its time is in the outer call's).
    pub total_ms: Option<f64>,
    /// Counted like `total_ms`.
    pub macs: f64,
    #[serde(default)]
    pub bytes: f64,
    #[serde(default)]
    pub gmacs_per_s: Option<f64>,
    /// Roofline split of `total_ms`, for top-level ops (a nested op's time is in its parent's):
    /// the four add up to `total_ms`.
    #[serde(default)]
    pub compute_ms: Option<f64>,
    #[serde(default)]
    pub memory_ms: Option<f64>,
    #[serde(default)]
    pub below_peak_ms: Option<f64>,
    #[serde(default)]
    pub outside_kernels_ms: Option<f64>,
}

/// One row of `inferences.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InferenceRecord<'a> {
    /// When the inference ended, in ms since the session's epoch (`core::run::epoch`), as
    /// `system.csv`'s `t_ms` (which is whole ms).
    pub t_ms: f64,
    /// The engine's count of inferences in this run, across models (1 for the first).
    #[serde(default)]
    pub seq: u64,
    pub model: Cow<'a, str>,
    /// Wall time of the forward pass.
    pub latency_ms: f64,
    /// Recorded by the op profiler, whose overhead is then in `latency_ms`.
    pub profiled: bool,
    /// The first inference after a switch from another model.
    pub cold: bool,
    /// The machine as of the latest system sample (none before the first): the clock the
    /// engine measured, the highest cpufreq reported, the hardware maximum, the headline
    /// temperature (the hottest CPU sensor, see `SystemSample::headline_temp`),
    /// and the throttle verdict from every source (`machine_throttled` in `system.csv`).
    #[serde(default)]
    pub freq_measured_mhz: Option<f64>,
    #[serde(default)]
    pub freq_cur_mhz: Option<f64>,
    #[serde(default)]
    pub freq_max_mhz: Option<f64>,
    #[serde(default)]
    pub temp_c: Option<f64>,
    #[serde(default)]
    pub throttled: Option<bool>,
    /// What the process incurred during the inference (all threads).
    #[serde(default)]
    pub minor_faults: Option<u64>,
    #[serde(default)]
    pub context_switches: Option<u64>,
    /// The energy the machine's power source measured over the inference: the mean power of
    /// the sample interval it ran in times its wall time (see `core::state::energy`). Empty without a
    /// power source, in the first interval (no mean power yet), and for the inferences of an
    /// interval no sample closed (the run's last).
    #[serde(default)]
    pub energy_mj: Option<f64>,
}

/// One row of `system.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemRecord<'a> {
    /// When the sample was taken, in ms since the session's epoch (`core::run::epoch`).
    pub t_ms: u64,
    /// What was measured, with its unit at the end of the name.
    pub metric: Cow<'a, str>,
    /// Which core, policy, sensor or flag, or what a machine-wide value describes.
    pub source: String,
    pub value: f64,
    /// The model whose inference was the latest when the sample arrived.
    #[serde(default)]
    pub running_model: Option<Cow<'a, str>>,
}

impl ModelRecord {
    /// The time shares in [`Category::ALL`] order; `None` when the model was never profiled.
    #[must_use]
    pub fn shares(&self) -> Option<[f64; 9]> {
        let s = [
            self.share_conv2d,
            self.share_batchnorm,
            self.share_relu,
            self.share_concat,
            self.share_add,
            self.share_pool,
            self.share_linear,
            self.share_bookkeeping,
            self.share_other,
        ];
        s.iter().all(Option::is_some).then(|| s.map(|v| v.unwrap_or(0.0)))
    }

    /// Top-1 accuracy in %: 100 minus the manifest's top-1 error.
    #[must_use]
    pub fn accuracy_pct(&self) -> Option<f64> {
        self.top1_error_pct.map(|e| 100.0 - e)
    }
}

/// The time categories of `models.csv`'s `share_*` columns and `ops.csv`'s `category`, in the
/// order the figures stack them: the core's one table of category names.
pub const CATEGORIES: [&str; 9] = {
    let mut keys = [""; 9];
    let mut i = 0;
    while i < keys.len() {
        keys[i] = Category::ALL[i].key();
        i += 1;
    }
    keys
};

#[cfg(test)]
mod tests {
    use super::*;

    fn write<T: Serialize>(rows: &[T]) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in rows {
            w.serialize(r).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    fn read<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, csv::Error> {
        csv::Reader::from_reader(text.as_bytes()).deserialize().collect()
    }

    /// Every field set (numbers distinct per field), so a column read into the wrong field or
    /// lost on the way shows.
    fn full_model() -> ModelRecord {
        let text = write(&[ModelRecord::default()]);
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let values: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, column)| match *column {
                "model" | "status" | "error" | "source" | "input_chw" | "power_source" | "variant" | "base_model" => {
                    format!("{column}-{i}")
                }
                "what_if_verdict" => "faster".into(),
                "output_agrees" => "true".into(),
                _ => i.to_string(),
            })
            .collect();
        read::<ModelRecord>(&format!("{}\n{}\n", header.join(","), values.join(","))).unwrap().remove(0)
    }

    #[test]
    fn a_written_models_row_reads_back_as_itself() {
        let row = full_model();
        assert!(row.latency_ms_predicted.is_some() && row.profiled_contended > 0 && row.error.is_some(), "{row:?}");
        assert_eq!(read::<ModelRecord>(&write(std::slice::from_ref(&row))).unwrap(), [row]);
        let op = OpRecord {
            model: "m".into(),
            op: "aten::conv2d".into(),
            category: "conv2d".into(),
            macs: 2.0,
            ..OpRecord::default()
        };
        assert_eq!(read::<OpRecord>(&write(std::slice::from_ref(&op))).unwrap(), [op]);
    }

    #[test]
    fn older_snapshots_read_with_their_columns_and_a_missing_name_status_or_count_is_an_error() {
        let text = write(&[full_model()]);
        let (header, values) = text.split_once('\n').unwrap();
        let keep = |drop: &[&str]| {
            let columns: Vec<(&str, &str)> =
                header.split(',').zip(values.trim_end().split(',')).filter(|(c, _)| !drop.contains(c)).collect();
            let (h, v): (Vec<&str>, Vec<&str>) = columns.into_iter().unzip();
            format!("{}\n{}\n", h.join(","), v.join(","))
        };
        // Written before the four-way split: one overhead column, read but never written.
        let old = keep(&["below_peak_ms", "outside_kernels_ms", "latency_ms_predicted", "profiled_kept"]).replacen(
            "compute_ms,",
            "overhead_ms,compute_ms,",
            1,
        );
        let old = {
            let (h, v) = old.split_once('\n').unwrap();
            let at = h.split(',').position(|c| c == "overhead_ms").unwrap();
            let mut values: Vec<&str> = v.trim_end().split(',').collect();
            values.insert(at, "7.5");
            format!("{h}\n{}\n", values.join(","))
        };
        let row = read::<ModelRecord>(&old).unwrap().remove(0);
        assert_eq!(
            (row.overhead_ms, row.below_peak_ms, row.latency_ms_predicted, row.profiled_kept),
            (Some(7.5), None, None, 0)
        );
        assert!(!write(&[row]).contains("overhead_ms"), "the old column is never written");
        // A share column missing reads as unknown, so the model reads as not profiled.
        assert_eq!(read::<ModelRecord>(&keep(&["share_relu"])).unwrap()[0].shares(), None);
        for required in ["model", "status", "iterations"] {
            let err = read::<ModelRecord>(&keep(&[required])).unwrap_err().to_string();
            assert!(err.contains(required), "{err}");
        }
    }

    #[test]
    fn written_inference_and_system_rows_read_back_as_themselves() {
        let inference = InferenceRecord {
            t_ms: 12.5,
            seq: 3,
            model: Cow::Borrowed("resnet50"),
            latency_ms: 25.25,
            profiled: true,
            temp_c: Some(61.0),
            throttled: Some(false),
            minor_faults: Some(7),
            ..InferenceRecord::default()
        };
        let back: Vec<InferenceRecord<'static>> = read(&write(std::slice::from_ref(&inference))).unwrap();
        assert_eq!(back, [inference]);
        let sample = SystemRecord {
            t_ms: 500,
            metric: Cow::Borrowed("temp_c"),
            source: "cpu-thermal".into(),
            value: 48.5,
            running_model: Some(Cow::Borrowed("tiny")),
        };
        let back: Vec<SystemRecord<'static>> = read(&write(std::slice::from_ref(&sample))).unwrap();
        assert_eq!(back, [sample]);
    }

    #[test]
    fn the_share_columns_follow_the_category_table() {
        let header = write(&[ModelRecord::default()]);
        let shares: Vec<&str> =
            header.lines().next().unwrap().split(',').filter_map(|c| c.strip_prefix("share_")).collect();
        assert_eq!(shares, CATEGORIES);
    }
}
