// SPDX-License-Identifier: GPL-2.0

//! What happened between two snapshots: per-second rates of the counters over the measured
//! elapsed time, the gauges at the end, and the percentiles of the samples recorded in
//! between (from the difference of the bucket counts).

use serde_json::{json, Value};

use crate::histogram;
use crate::snapshot::{Snapshot, GAUGES};

/// The latency of one metric over an interval.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct IntervalLatency {
    pub(crate) name: String,
    /// Samples recorded in the interval.
    pub(crate) count: u64,
    /// p50, p90, p99 in ns (upper ends of buckets); `None` without samples.
    pub(crate) p50: Option<u64>,
    pub(crate) p90: Option<u64>,
    pub(crate) p99: Option<u64>,
}

/// One interval of one module.
#[derive(Clone, Debug)]
pub(crate) struct Interval {
    pub(crate) module: String,
    /// Seconds between the two snapshots, as measured.
    pub(crate) elapsed: f64,
    /// Counter increase per second, by counter name (gauges excluded).
    pub(crate) rates: Vec<(String, f64)>,
    /// Gauges at the end of the interval.
    pub(crate) gauges: Vec<(String, u64)>,
    pub(crate) latency: Vec<IntervalLatency>,
}

impl Interval {
    /// The rate of `counter` per second, if the module has that counter.
    pub(crate) fn rate(&self, counter: &str) -> Option<f64> {
        self.rates
            .iter()
            .find(|(n, _)| n == counter)
            .map(|(_, r)| *r)
    }

    pub(crate) fn gauge(&self, name: &str) -> Option<u64> {
        self.gauges.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    pub(crate) fn latency(&self, name: &str) -> Option<&IntervalLatency> {
        self.latency.iter().find(|l| l.name == name)
    }

    /// The interval as one JSON object (for `--json`).
    pub(crate) fn to_json(&self) -> Value {
        let rates: serde_json::Map<String, Value> = self
            .rates
            .iter()
            .map(|(n, r)| (n.clone(), json!(r)))
            .collect();
        let gauges: serde_json::Map<String, Value> = self
            .gauges
            .iter()
            .map(|(n, v)| (n.clone(), json!(v)))
            .collect();
        let latency: serde_json::Map<String, Value> = self
            .latency
            .iter()
            .map(|l| {
                let v =
                    json!({"count": l.count, "p50_ns": l.p50, "p90_ns": l.p90, "p99_ns": l.p99});
                (l.name.clone(), v)
            })
            .collect();
        json!({
            "module": self.module,
            "elapsed_s": self.elapsed,
            "rates": rates,
            "gauges": gauges,
            "latency": latency,
        })
    }
}

/// The interval from `before` to `after` (two snapshots of one module). A counter that went
/// down (the module was reloaded) counts as no increase.
pub(crate) fn between(before: &Snapshot, after: &Snapshot) -> Interval {
    let elapsed = after.at.saturating_duration_since(before.at).as_secs_f64();
    let mut rates = Vec::new();
    let mut gauges = Vec::new();
    for (name, now) in &after.counters {
        if GAUGES.contains(&name.as_str()) {
            gauges.push((name.clone(), *now));
        } else {
            let then = before.counter(name).unwrap_or(0);
            rates.push((name.clone(), rate(now.saturating_sub(then), elapsed)));
        }
    }
    let latency = after
        .latency
        .iter()
        .map(|h| {
            let diff: Vec<u64> = match before.latency.iter().find(|b| b.name == h.name) {
                Some(b) => h
                    .buckets
                    .iter()
                    .zip(&b.buckets)
                    .map(|(a, b)| a.saturating_sub(*b))
                    .collect(),
                None => h.buckets.clone(),
            };
            let count = diff.iter().fold(0u64, |s, c| s.saturating_add(*c));
            // No sample of the interval exceeds the largest since the load.
            let p =
                |per_mille| (count > 0).then(|| histogram::percentile(&diff, per_mille).min(h.max));
            IntervalLatency {
                name: h.name.clone(),
                count,
                p50: p(500),
                p90: p(900),
                p99: p(990),
            }
        })
        .collect();
    Interval {
        module: after.module.clone(),
        elapsed,
        rates,
        gauges,
        latency,
    }
}

/// `delta` per second over `elapsed` seconds (0 for an empty interval).
fn rate(delta: u64, elapsed: f64) -> f64 {
    if elapsed > 0.0 {
        delta as f64 / elapsed
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::BUCKETS;
    use crate::snapshot::Histogram;
    use std::time::{Duration, Instant};

    fn snapshot(at: Instant, counters: &[(&str, u64)], samples: &[u64], max: u64) -> Snapshot {
        let mut buckets = vec![0; BUCKETS];
        for s in samples {
            buckets[histogram::bucket(*s)] += 1;
        }
        Snapshot {
            module: "khttpd_rs".into(),
            at,
            counters: counters.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            latency: vec![Histogram {
                name: "service".into(),
                count: samples.len() as u64,
                max,
                buckets,
            }],
        }
    }

    #[test]
    fn rates_use_the_measured_elapsed_time() {
        let t0 = Instant::now();
        let a = snapshot(t0, &[("requests", 100), ("active", 5)], &[], 0);
        let b = snapshot(
            t0 + Duration::from_millis(1250),
            &[("requests", 600), ("active", 7)],
            &[],
            0,
        );
        let i = between(&a, &b);
        assert_eq!(i.elapsed, 1.25);
        assert_eq!(i.rate("requests"), Some(400.0));
        // rate x elapsed gives the counter's difference back.
        assert_eq!(i.rate("requests").unwrap() * i.elapsed, 500.0);
        assert_eq!(i.rate("active"), None);
        assert_eq!(i.gauge("active"), Some(7));
    }

    #[test]
    fn a_counter_that_went_down_counts_as_zero() {
        let t0 = Instant::now();
        let a = snapshot(t0, &[("requests", 100)], &[], 0);
        let b = snapshot(
            t0 + Duration::from_secs(1),
            &[("requests", 3), ("errors", 2)],
            &[],
            0,
        );
        let i = between(&a, &b);
        assert_eq!(i.rate("requests"), Some(0.0));
        assert_eq!(i.rate("errors"), Some(2.0));
        assert_eq!(rate(5, 0.0), 0.0);
    }

    #[test]
    fn percentiles_are_those_of_the_interval_only() {
        let t0 = Instant::now();
        // Before: 1000 slow samples (1 ms). In the interval: 99 at 1 us and 1 at 100 us.
        let old = vec![1_000_000u64; 1000];
        let mut new = old.clone();
        new.extend(std::iter::repeat_n(1000, 99));
        new.push(100_000);
        let a = snapshot(t0, &[], &old, 1_000_000);
        let b = snapshot(t0 + Duration::from_secs(1), &[], &new, 1_000_000);
        let l = between(&a, &b).latency[0].clone();
        assert_eq!(l.count, 100);
        let high = |v| histogram::bucket_high(histogram::bucket(v));
        assert_eq!(l.p50, Some(high(1000)));
        assert_eq!(l.p90, Some(high(1000)));
        assert_eq!(l.p99, Some(high(1000)));
        // The cumulative table would say 1 ms for all of them.
        assert!(l.p50.unwrap() < 2000);
    }

    #[test]
    fn an_interval_without_samples_has_no_percentiles() {
        let t0 = Instant::now();
        let a = snapshot(t0, &[], &[5000, 7000], 7000);
        let l = between(&a, &a).latency[0].clone();
        assert_eq!((l.count, l.p50, l.p99), (0, None, None));
    }

    #[test]
    fn percentiles_stop_at_the_largest_sample() {
        let t0 = Instant::now();
        let a = snapshot(t0, &[], &[], 0);
        let b = snapshot(t0 + Duration::from_secs(1), &[], &[1000], 1000);
        let l = between(&a, &b).latency[0].clone();
        assert_eq!(l.p99, Some(1000));
    }

    #[test]
    fn json_has_every_rate_gauge_and_metric() {
        let t0 = Instant::now();
        let a = snapshot(t0, &[("requests", 0), ("active", 0)], &[], 0);
        let b = snapshot(
            t0 + Duration::from_secs(2),
            &[("requests", 10), ("active", 1)],
            &[1000],
            1000,
        );
        let v = between(&a, &b).to_json();
        assert_eq!(v["module"], "khttpd_rs");
        assert_eq!(v["elapsed_s"], 2.0);
        assert_eq!(v["rates"]["requests"], 5.0);
        assert_eq!(v["gauges"]["active"], 1);
        assert_eq!(v["latency"]["service"]["count"], 1);
        assert_eq!(v["latency"]["service"]["p50_ns"], 1000);
    }
}
