// SPDX-License-Identifier: GPL-2.0

//! Latency histograms of a server, per CPU: a sample costs one relaxed atomic add (plus a
//! load, and an atomic max when it is a new maximum) on the recording CPU's own cache lines.
//! Read as text from debugfs: `latency`, count, p50, p90, p99, p99.9 and max of each, in ns;
//! `latency_buckets`, the summed bucket counts themselves (format: [`Latency::write_buckets`]).

use crate::{
    clock,
    proto::histogram::{self, BUCKETS},
};
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

/// What is measured.
#[derive(Clone, Copy)]
pub(crate) enum Metric {
    /// From the wake-up that queued a connection's work item to the item starting.
    QueueDelay = 0,
    /// From a complete request (or echo chunk) to the last byte of its answer queued.
    Service = 1,
    /// From accept to the connection's first byte sent.
    FirstByte = 2,
    /// One sweep of the live-connection table for passed deadlines (every 500 to 700 ms, from
    /// the accept thread), from taking the table's lock to dropping it: what the sweep costs
    /// at the connection count.
    Sweep = 3,
}

const METRICS: usize = 4;
const NAMES: [&str; METRICS] = ["queue_delay", "service", "accept_to_first_byte", "sweep"];
/// Counters per metric: the buckets, then the maximum.
const PER_METRIC: usize = BUCKETS + 1;
/// Counters per CPU, rounded up to whole cache lines (8 counters) so CPUs share none.
const PER_CPU: usize = (METRICS * PER_METRIC).div_ceil(8) * 8;

/// The histograms of every possible CPU, side by side.
pub(crate) struct Latency {
    // INVARIANT: `counters.len() == cpus * PER_CPU`, `cpus >= 1`.
    counters: KVVec<AtomicU64>,
    cpus: usize,
}

impl Latency {
    /// Empty histograms for every possible CPU.
    pub(crate) fn new() -> Result<Self> {
        let cpus = clock::possible_cpus().max(1);
        let len = cpus.checked_mul(PER_CPU).ok_or(ENOMEM)?;
        // Some KiB per possible CPU: virtually contiguous, never a high-order allocation.
        let mut counters = KVVec::with_capacity(len, GFP_KERNEL)?;
        for _ in 0..len {
            counters.push(AtomicU64::new(0), GFP_KERNEL)?;
        }
        Ok(Self { counters, cpus })
    }

    /// Records `ns` nanoseconds under `metric`, on this CPU's histogram.
    pub(crate) fn record(&self, metric: Metric, ns: u64) {
        // A preempted caller may land on another CPU's slots: harmless, the adds are atomic.
        let cpu = clock::this_cpu().checked_rem(self.cpus).unwrap_or(0);
        let base = cpu * PER_CPU + metric as usize * PER_METRIC;
        if let Some(count) = self.counters.get(base + histogram::bucket(ns)) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(max) = self.counters.get(base + BUCKETS) {
            if ns > max.load(Ordering::Relaxed) {
                max.fetch_max(ns, Ordering::Relaxed);
            }
        }
    }

    /// Records the time since `since` (a [`clock::ns`] reading; 0: nothing to record).
    pub(crate) fn record_since(&self, metric: Metric, since: u64) {
        if since != 0 {
            self.record(metric, clock::ns().saturating_sub(since));
        }
    }

    /// Sums metric `m`'s buckets over every CPU into `sum`; returns the largest sample.
    fn sum(&self, m: usize, sum: &mut [u64]) -> u64 {
        sum.iter_mut().for_each(|c| *c = 0);
        let mut max = 0;
        for cpu in 0..self.cpus {
            let base = cpu * PER_CPU + m * PER_METRIC;
            let Some(slots) = self.counters.get(base..base + PER_METRIC) else {
                continue;
            };
            for (total, c) in sum.iter_mut().zip(slots) {
                *total = total.saturating_add(c.load(Ordering::Relaxed));
            }
            if let Some(cpu_max) = slots.last() {
                max = max.max(cpu_max.load(Ordering::Relaxed));
            }
        }
        max
    }

    /// The summary table, one line per metric.
    pub(crate) fn write_summary(&self, out: &mut dyn Write) -> core::fmt::Result {
        writeln!(
            out,
            "{:<22} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
            "ns", "count", "p50", "p90", "p99", "p99.9", "max"
        )?;
        // On the heap: 2 KiB is too much for the stack of a read().
        let mut sum = KVec::from_elem(0u64, BUCKETS, GFP_KERNEL).map_err(|_| core::fmt::Error)?;
        for (m, name) in NAMES.iter().enumerate() {
            let max = self.sum(m, &mut sum);
            let count = sum.iter().fold(0u64, |s, c| s.saturating_add(*c));
            writeln!(
                out,
                "{:<22} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
                name,
                count,
                histogram::percentile(&sum, 500).min(max),
                histogram::percentile(&sum, 900).min(max),
                histogram::percentile(&sum, 990).min(max),
                histogram::percentile(&sum, 999).min(max),
                max
            )?;
        }
        Ok(())
    }

    /// The raw histograms (for tools that diff two readings, such as `ktcp-stat`). Format,
    /// version 1: the header line below, then one line per metric,
    /// `NAME COUNT MAX_NS UPPER:COUNT...`, space-separated: `COUNT` is the sum of the bucket
    /// counts shown, `MAX_NS` the largest sample, and each non-empty bucket (in increasing
    /// order) is given by its largest value in ns (`histogram::bucket_high`) and its count.
    pub(crate) fn write_buckets(&self, out: &mut dyn Write) -> core::fmt::Result {
        writeln!(
            out,
            "# latency_buckets v1: name count max_ns upper_ns:count..."
        )?;
        let mut sum = KVec::from_elem(0u64, BUCKETS, GFP_KERNEL).map_err(|_| core::fmt::Error)?;
        for (m, name) in NAMES.iter().enumerate() {
            let max = self.sum(m, &mut sum);
            let count = sum.iter().fold(0u64, |s, c| s.saturating_add(*c));
            write!(out, "{name} {count} {max}")?;
            for (i, c) in sum.iter().enumerate().filter(|(_, c)| **c != 0) {
                write!(out, " {}:{}", histogram::bucket_high(i), c)?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}
