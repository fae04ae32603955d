//! Reading `/proc` under the sampler's root: the machine's CPU time (`proc/stat`), this
//! process's CPU time and threads (`proc/self/stat`, `proc/self/task`) and the load average
//! (`proc/loadavg`), through the bounded readers of [`crate::core::machine::sysfs`].
//!
//! This process is read under the same root as the machine, not from the real `/proc/self` nor
//! from `sysinfo`: "the machine's busy time minus infertop's" only means something when both
//! halves describe one machine over one interval. On a board the root is `/` and `self` is
//! infertop; a fixture tree holds the recorded process of the recorded machine. `sysinfo`'s
//! process CPU is a rate over its own refresh interval, not over the interval between two
//! `proc/stat` readings, and is absent when fixture tests turn `sysinfo` off.

use std::path::Path;

use crate::core::machine::sysfs;

/// How much of `proc/stat` is read. Its `cpu` lines come first at about 60 bytes each, so
/// this holds them for a thousand cores; the per-interrupt counters after them, which grow
/// with the machine, are never needed.
const STAT_BYTES: u64 = 64 * 1024;

/// CPU time of all cores since boot by kind, in `USER_HZ` ticks (the aggregate `cpu` line).
/// `guest` and `guest_nice` are not kept: the kernel already counts them in `user` and `nice`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTicks {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    /// Time the hypervisor gave this VM's virtual cores to someone else.
    pub steal: u64,
}

impl CpuTicks {
    /// Work done on the cores (user, nice, system, irq, softirq): neither idle nor stolen.
    #[must_use]
    pub fn busy(&self) -> u64 {
        [self.user, self.nice, self.system, self.irq, self.softirq].into_iter().fold(0, u64::saturating_add)
    }

    /// All time of all cores, stolen time included.
    #[must_use]
    pub fn total(&self) -> u64 {
        [self.busy(), self.idle, self.iowait, self.steal].into_iter().fold(0, u64::saturating_add)
    }

    /// The ticks counted from `earlier` to `self`; `None` when a counter went back (a reset,
    /// or readings of two different machines). `iowait` is the exception: the kernel
    /// documents that it can decrease, so it counts as no change then.
    #[must_use]
    pub fn since(&self, earlier: &CpuTicks) -> Option<CpuTicks> {
        Some(CpuTicks {
            user: self.user.checked_sub(earlier.user)?,
            nice: self.nice.checked_sub(earlier.nice)?,
            system: self.system.checked_sub(earlier.system)?,
            idle: self.idle.checked_sub(earlier.idle)?,
            iowait: self.iowait.saturating_sub(earlier.iowait),
            irq: self.irq.checked_sub(earlier.irq)?,
            softirq: self.softirq.checked_sub(earlier.softirq)?,
            steal: self.steal.checked_sub(earlier.steal)?,
        })
    }
}

/// What one look at `proc` under the root finds; only `proc/stat` is required.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub cpu: CpuTicks,
    /// Cores online: the `cpuN` lines of `proc/stat`.
    pub cores: u32,
    /// This process's user + system time, in the same ticks (all its threads, living or ended).
    pub own_ticks: Option<u64>,
    /// This process's threads.
    pub own_threads: Option<u32>,
    /// The 1-minute load average.
    pub load_1m: Option<f64>,
}

/// Reads `proc` under `root`; `None` without a readable, well-formed `proc/stat`.
#[must_use]
pub fn read(root: &Path) -> Option<Reading> {
    let proc = root.join("proc");
    let (cpu, cores) = parse_stat(&sysfs::read_head_lines(&proc.join("stat"), STAT_BYTES)?)?;
    Some(Reading {
        cpu,
        cores,
        own_ticks: sysfs::read_trimmed(&proc.join("self/stat")).as_deref().and_then(parse_own_ticks),
        own_threads: count_threads(&proc.join("self/task")),
        load_1m: sysfs::read_trimmed(&proc.join("loadavg")).as_deref().and_then(parse_load),
    })
}

/// The aggregate `cpu` line and the number of `cpuN` lines after it. The count is only
/// trusted when another line follows the `cpuN` lines (`intr` always does), so that a file
/// cut short can never read as fewer cores.
#[must_use]
pub fn parse_stat(text: &str) -> Option<(CpuTicks, u32)> {
    let mut lines = text.lines();
    let mut fields = lines.next()?.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields.map(str::parse).collect::<Result<_, _>>().ok()?;
    // Steal time, the eighth value, has been there since Linux 2.6.11.
    let [user, nice, system, idle, iowait, irq, softirq, steal, ..] = values[..] else { return None };
    let mut cores = 0;
    let followed = lines.any(|line| {
        let per_core = line.strip_prefix("cpu").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        cores += u32::from(per_core);
        !per_core
    });
    (followed && cores > 0).then_some((CpuTicks { user, nice, system, idle, iowait, irq, softirq, steal }, cores))
}

/// `utime + stime` of a `/proc/<pid>/stat` line. The command name in parentheses may hold
/// spaces and parentheses itself, so the fields are counted from the last `)`: `utime` and
/// `stime` are fields 14 and 15 of the line, the 12th and 13th after the name.
#[must_use]
pub fn parse_own_ticks(text: &str) -> Option<u64> {
    let (_, after_name) = text.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    utime.checked_add(stime)
}

/// The entries of a `task` folder named by thread id; `None` when there are none.
fn count_threads(dir: &Path) -> Option<u32> {
    let count = sysfs::dir_entries(dir).filter(|e| e.file_name().to_str().is_some_and(|n| n.parse::<u32>().is_ok()));
    u32::try_from(count.count()).ok().filter(|n| *n > 0)
}

/// The first field of `proc/loadavg` (`0.52 0.58 0.59 2/345 12345`).
fn parse_load(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  330450 12 60200 127273 4220 7 340 303 0 0\n\
                        cpu0 159808 6 28193 71337 1768 3 23 157 0 0\n\
                        cpu1 170642 6 32006 55936 2452 4 316 146 0 0\n\
                        intr 9431205 0 9 0\nctxt 28340191\n";

    #[test]
    fn the_aggregate_line_and_the_cores_are_read() {
        let (cpu, cores) = parse_stat(STAT).unwrap();
        assert_eq!(cores, 2);
        assert_eq!(cpu.steal, 303);
        assert_eq!(cpu.busy(), 330_450 + 12 + 60_200 + 7 + 340);
        assert_eq!(cpu.total(), cpu.busy() + 127_273 + 4220 + 303);
    }

    #[test]
    fn a_stat_cut_short_or_malformed_is_no_reading() {
        let cut = STAT.lines().take(2).collect::<Vec<_>>().join("\n");
        assert_eq!(parse_stat(&cut), None, "the cpu lines may go on: the core count is unknown");
        assert_eq!(parse_stat("cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\nintr 0\n"), None, "no steal field");
        assert_eq!(parse_stat("cpu0 1 2 3 4 5 6 7 8\nintr 0\n"), None, "no aggregate line");
        assert_eq!(parse_stat("cpu  1 2 x 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\nintr 0\n"), None);
    }

    #[test]
    fn own_ticks_are_counted_after_the_last_parenthesis() {
        let line = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 900 0 2 0 1500 230 0 0 20 0 5 0 1000 1 1";
        assert_eq!(parse_own_ticks(line), Some(1730));
        assert_eq!(parse_own_ticks("4242 (x) S 1 2"), None);
    }

    #[test]
    fn iowait_may_go_back_but_nothing_else_may() {
        let earlier = CpuTicks { user: 10, iowait: 5, ..CpuTicks::default() };
        let later = CpuTicks { user: 14, iowait: 3, ..CpuTicks::default() };
        assert_eq!(later.since(&earlier), Some(CpuTicks { user: 4, ..CpuTicks::default() }));
        assert_eq!(earlier.since(&later), None);
    }

    #[test]
    fn load_must_be_a_plain_number() {
        assert_eq!(parse_load("2.15 1.30 0.80 3/412 9876"), Some(2.15));
        assert_eq!(parse_load("NaN 1 1"), None);
        assert_eq!(parse_load("-1 1 1"), None);
    }
}
