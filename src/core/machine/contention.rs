//! Contention: whether other work competed with infertop for the cores while it measured.
//!
//! Each sample compares two readings of `proc` under the sampler's root (see [`procfs`]):
//! the machine's CPU time by kind, infertop's own CPU time and threads, and the load average.
//! Over that interval it gives the share of time a hypervisor stole, the share the cores were
//! busy, what infertop used and what everything else used, and a verdict with its reasons.
//! Without two readings (the first sample, no `proc/stat`) there is no figure at all, and an
//! unknown verdict is never taken for "no contention".

pub mod procfs;

use std::path::Path;

use serde::Serialize;

use procfs::Reading;

/// Other processes count as competing from this much CPU on, in cores averaged over the
/// interval (10 % of one core). An idle Linux system (init, journald, sshd, a shell, kernel
/// threads) uses a few hundredths of a core; a second program doing anything at all (a build,
/// a browser tab, another benchmark) uses more than a tenth, and every tick it runs on a core
/// that an engine thread wanted delays an inference.
pub const OTHER_CORES: f64 = 0.1;

/// A hypervisor stealing this share of all CPU time (in %) means a neighbour on the host is
/// competing for the physical cores. A VM alone on its host shows well under 0.5 %.
pub const STEAL_PCT: f64 = 2.0;

/// The load average counts as contention from `max(cores, infertop's threads)` plus this on:
/// more tasks waited to run than there are cores, and more than all of infertop's threads
/// could account for, so other tasks were queueing for the cores. Counting every infertop
/// thread as runnable (most of them sleep) keeps infertop's own threads from ever raising it;
/// the price is that it fires only on a real backlog. The load is a 1-minute average and so
/// stays up to a minute after the backlog is gone: the one criterion that looks back further
/// than the interval.
pub const LOAD_MARGIN: f64 = 0.5;

/// What the verdict rests on, each `false` when it did not hold or could not be checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Reasons {
    /// Other processes used at least [`OTHER_CORES`], more than tick rounding explains.
    pub others: bool,
    /// Steal time reached [`STEAL_PCT`].
    pub steal: bool,
    /// The load average passed cores and infertop's threads by [`LOAD_MARGIN`].
    pub load: bool,
}

impl Reasons {
    /// Whether any reason holds.
    #[must_use]
    pub fn any(self) -> bool {
        self.others || self.steal || self.load
    }
}

/// Contention over one sample interval. Shares are of all cores' time, stolen time included.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Contention {
    /// Cores online.
    pub cores: u32,
    /// Share of time the cores worked (user, nice, system, irq, softirq), in %.
    pub busy_pct: f64,
    /// Share of time the hypervisor gave the cores to someone else, in %.
    pub steal_pct: f64,
    /// infertop's CPU (every thread: engine, sampler, front end), in cores.
    pub own_cores: Option<f64>,
    /// infertop's threads at the end of the interval.
    pub own_threads: Option<u32>,
    /// Everything else's CPU (other processes, kernel threads, interrupts), in cores; unknown
    /// when infertop's own is.
    pub other_cores: Option<f64>,
    /// The 1-minute load average at the end of the interval.
    pub load_1m: Option<f64>,
    pub reasons: Reasons,
}

impl Contention {
    /// The figures for the interval between two readings; `None` when no time passed (a
    /// recorded file read twice) or a counter went back.
    #[must_use]
    pub fn between(earlier: &Reading, later: &Reading) -> Option<Self> {
        let ticks = later.cpu.since(&earlier.cpu)?;
        let total = ticks.total();
        if total == 0 || later.cores == 0 {
            return None;
        }
        let per_core = total as f64 / f64::from(later.cores);
        // (ours, everyone else's) busy ticks; a process time going back is no reading.
        let own = earlier.own_ticks.zip(later.own_ticks).and_then(|(before, after)| after.checked_sub(before));
        let own = own.map(|own| (own, ticks.busy().saturating_sub(own)));
        let figures = Self {
            cores: later.cores,
            busy_pct: 100.0 * ticks.busy() as f64 / total as f64,
            steal_pct: 100.0 * ticks.steal as f64 / total as f64,
            own_cores: own.map(|(own, _)| own as f64 / per_core),
            own_threads: later.own_threads,
            other_cores: own.map(|(_, other)| other as f64 / per_core),
            load_1m: later.load_1m,
            reasons: Reasons::default(),
        };
        // `proc/stat` counts whole ticks as they fall on each core and the process's time is
        // rounded on its own, so "busy minus ours" can be off by about a tick per core and one
        // more: on a 100 ms interval (10 ticks a core) that alone would look like 0.1 cores.
        let beyond_rounding = own.is_some_and(|(_, other)| other > u64::from(later.cores) + 1);
        Some(Self { reasons: figures.judge(beyond_rounding), ..figures })
    }

    /// The reasons that hold for these figures.
    fn judge(&self, others_beyond_rounding: bool) -> Reasons {
        let threads = self.own_threads.map(f64::from);
        Reasons {
            others: others_beyond_rounding && self.other_cores.is_some_and(|c| c >= OTHER_CORES),
            steal: self.steal_pct >= STEAL_PCT,
            load: matches!((self.load_1m, threads), (Some(load), Some(threads))
                if load >= f64::from(self.cores).max(threads) + LOAD_MARGIN),
        }
    }

    /// `Some(true)` when any reason holds, `Some(false)` when none does and others' CPU is
    /// known, `None` when it is not (infertop's own CPU could not be read).
    #[must_use]
    pub fn verdict(&self) -> Option<bool> {
        if self.reasons.any() {
            Some(true)
        } else {
            self.other_cores.map(|_| false)
        }
    }

    /// `other 0.80 cores, steal 3.0%, load 2.10/2`.
    #[must_use]
    pub fn describe(&self) -> String {
        let other = self.other_cores.map_or_else(|| "n/a".into(), |c| format!("{c:.2} cores"));
        let load = self.load_1m.map_or_else(|| "n/a".into(), |l| format!("{l:.2}/{}", self.cores));
        format!("other {other}, steal {:.1}%, load {load}", self.steal_pct)
    }
}

/// The figures when contended, `none` when not, `n/a` when unknown.
#[must_use]
pub fn describe(contention: Option<&Contention>) -> String {
    match contention.map(|c| (c, c.verdict())) {
        Some((c, Some(true))) => c.describe(),
        Some((_, Some(false))) => "none".into(),
        _ => "n/a".into(),
    }
}

/// Contention over a whole run, folded from every sample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ContentionSummary {
    /// Samples with a verdict.
    pub samples_known: u64,
    /// Samples whose verdict was "contended".
    pub samples_contended: u64,
    /// The highest steal share of any sample, in %.
    pub max_steal_pct: Option<f64>,
    /// The most CPU other processes used in any sample, in cores.
    pub max_other_cores: Option<f64>,
    /// Cores online, as the latest sample counted them.
    pub cores: Option<u32>,
}

impl ContentionSummary {
    /// Folds in one sample's contention (`None`: the sample had no verdict to give).
    pub fn record(&mut self, contention: Option<&Contention>) {
        let Some(c) = contention else { return };
        self.cores = Some(c.cores);
        self.max_steal_pct = Some(self.max_steal_pct.map_or(c.steal_pct, |m| m.max(c.steal_pct)));
        if let Some(other) = c.other_cores {
            self.max_other_cores = Some(self.max_other_cores.map_or(other, |m| m.max(other)));
        }
        if let Some(contended) = c.verdict() {
            self.samples_known += 1;
            self.samples_contended += u64::from(contended);
        }
    }

    /// Fewer intra-op threads than `threads` that would have left the cores other work used
    /// free: `(threads, cores, other cores)`, from the busiest sample; `None` without
    /// contention or when `threads` already leaves them (at least one thread stays).
    #[must_use]
    pub fn fewer_threads(&self, threads: usize) -> Option<(usize, u32, f64)> {
        let (cores, other) = (self.cores?, self.max_other_cores?);
        if self.samples_contended == 0 || !other.is_finite() {
            return None;
        }
        let free = (f64::from(cores) - other).floor().max(1.0) as usize;
        (free < threads).then_some((free, cores, other))
    }

    /// The share of samples with a verdict that were contended; `None` without any.
    #[must_use]
    pub fn contended_share(&self) -> Option<f64> {
        (self.samples_known > 0).then(|| self.samples_contended as f64 / self.samples_known as f64)
    }

    /// A sentence for the run's record when any sample was contended.
    #[must_use]
    pub fn warning(&self) -> Option<String> {
        let or_na = |v: Option<f64>, unit: &str, decimals: usize| {
            v.map_or_else(|| "n/a".into(), |v| format!("{v:.decimals$}{unit}"))
        };
        (self.samples_contended > 0).then(|| {
            format!(
                "{} of {} samples were taken while other work used the cores (other processes up to {}, steal up to {})",
                self.samples_contended,
                self.samples_known,
                or_na(self.max_other_cores, " cores", 2),
                or_na(self.max_steal_pct, "%", 1),
            )
        })
    }
}

/// Reads `proc` under a root at every sample and gives the contention since the reading
/// before; kept by the sampler's sensor thread.
#[derive(Debug, Default)]
pub(crate) struct ContentionWatch {
    last: Option<Reading>,
}

impl ContentionWatch {
    /// The contention since the last successful reading; `None` at the first one and when
    /// `proc/stat` cannot be read (the reading before is then kept for the next interval).
    pub(crate) fn next(&mut self, root: &Path) -> Option<Contention> {
        let reading = procfs::read(root)?;
        let contention = self.last.as_ref().and_then(|earlier| Contention::between(earlier, &reading));
        self.last = Some(reading);
        contention
    }
}

#[cfg(test)]
mod tests;
