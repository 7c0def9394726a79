//! Latency samples in microseconds and their summary.

use std::time::Duration;

/// Latency samples, in microseconds.
#[derive(Default, Clone)]
pub struct Latencies {
    samples: Vec<u64>,
}

/// Average, percentiles and maximum of a set of samples (all zero when empty).
#[derive(Default, Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub avg_us: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Latencies {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Latencies {
            samples: Vec::with_capacity(capacity),
        }
    }

    pub fn record(&mut self, elapsed: Duration) {
        self.record_us(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn record_us(&mut self, micros: u64) {
        self.samples.push(micros);
    }

    pub fn extend(&mut self, other: &Latencies) {
        self.samples.extend_from_slice(&other.samples);
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Summarises the samples (sorts them in place).
    pub fn summary(&mut self) -> Summary {
        self.samples.sort_unstable();
        let sorted = &self.samples;
        let Some(&max_us) = sorted.last() else {
            return Summary::default();
        };
        let total: u128 = sorted.iter().map(|&v| u128::from(v)).sum();
        Summary {
            count: sorted.len(),
            avg_us: total as f64 / sorted.len() as f64,
            p50_us: percentile(sorted, 50.0),
            p90_us: percentile(sorted, 90.0),
            p99_us: percentile(sorted, 99.0),
            max_us,
        }
    }
}

/// Nearest-rank percentile of sorted samples; 0 when there are none.
pub fn percentile(sorted: &[u64], pct: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (pct / 100.0 * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied().unwrap_or(0)
}

/// Items per second; 0 when no time passed.
pub fn per_second(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

/// MiB per second; 0 when no time passed.
pub fn mib_per_second(bytes: u64, secs: f64) -> f64 {
    per_second(bytes, secs) / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut lat = Latencies::new();
        for v in (1..=100).rev() {
            lat.record_us(v);
        }
        let s = lat.summary();
        assert_eq!(
            (s.count, s.p50_us, s.p90_us, s.p99_us, s.max_us),
            (100, 50, 90, 99, 100)
        );
        assert!((s.avg_us - 50.5).abs() < 1e-9);
    }

    #[test]
    fn small_and_empty_sets() {
        assert_eq!(Latencies::new().summary(), Summary::default());
        let mut one = Latencies::new();
        one.record(Duration::from_micros(7));
        let s = one.summary();
        assert_eq!((s.p50_us, s.p99_us, s.max_us), (7, 7, 7));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), 2);
        assert_eq!(percentile(&[1, 2, 3, 4], 99.0), 4);
    }

    #[test]
    fn rates_handle_zero_time() {
        assert_eq!(per_second(10, 0.0), 0.0);
        assert_eq!(per_second(10, 2.0), 5.0);
        assert_eq!(mib_per_second(2 * 1024 * 1024, 1.0), 2.0);
    }
}
