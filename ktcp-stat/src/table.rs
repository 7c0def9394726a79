// SPDX-License-Identifier: GPL-2.0

//! The human-readable output: a header, then one line per module and interval.

use crate::interval::Interval;

/// The column titles (see README "Live statistics").
pub(crate) const HEADER: &str = "module      accept/s  close/s refuse/s timeout/s  active    req/s  error/s     MB/s  svc_p50  svc_p99   qd_p50   qd_p99";

/// One line for `interval`. Rates per second; `req/s` is `-` for kecho_rs (no requests);
/// `MB/s` is bytes sent (khttpd_rs) or echoed (kecho_rs), in 10^6 bytes; the latencies are
/// the interval's p50 and p99 of the service time (`svc`) and the queue delay (`qd`).
pub(crate) fn line(interval: &Interval) -> String {
    let rate = |name: &str| match interval.rate(name) {
        Some(r) => format!("{r:.1}"),
        None => "-".into(),
    };
    let bytes = interval.rate("bytes_sent").or(interval.rate("bytes"));
    let mb = bytes.map_or("-".into(), |b| format!("{:.2}", b / 1e6));
    let active = interval
        .gauge("active")
        .map_or("-".into(), |a| a.to_string());
    let pct = |metric: &str, p99: bool| {
        let l = interval.latency(metric);
        let v = l.and_then(|l| if p99 { l.p99 } else { l.p50 });
        v.map_or("-".into(), ns)
    };
    format!(
        "{:<10} {:>9} {:>8} {:>8} {:>9} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        interval.module,
        rate("accepted"),
        rate("closed"),
        rate("refused"),
        rate("timeouts"),
        active,
        rate("requests"),
        rate("errors"),
        mb,
        pct("service", false),
        pct("service", true),
        pct("queue_delay", false),
        pct("queue_delay", true),
    )
}

/// `v` nanoseconds, short: `950ns`, `12.3us`, `4.56ms`, `1.20s`.
pub(crate) fn ns(v: u64) -> String {
    let v = v as f64;
    if v < 1e3 {
        format!("{v}ns")
    } else if v < 1e6 {
        format!("{:.1}us", v / 1e3)
    } else if v < 1e9 {
        format!("{:.2}ms", v / 1e6)
    } else {
        format!("{:.2}s", v / 1e9)
    }
}

/// Prints the header first ([`Printer::start`]) and again before every `every`-th line (0:
/// once), as `vmstat` does.
pub(crate) struct Printer {
    every: usize,
    lines: usize,
}

impl Printer {
    pub(crate) fn new(every: usize) -> Self {
        Self { every, lines: 0 }
    }

    /// The first header.
    pub(crate) fn start(&self) -> String {
        format!("{HEADER}\n")
    }

    /// The text for the next `line`: the line, after the header when one is due.
    pub(crate) fn next(&mut self, line: &str) -> String {
        let header = self.every > 0 && self.lines > 0 && self.lines.is_multiple_of(self.every);
        self.lines += 1;
        if header {
            format!("{HEADER}\n{line}\n")
        } else {
            format!("{line}\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::IntervalLatency;

    fn interval(module: &str, rates: &[(&str, f64)]) -> Interval {
        Interval {
            module: module.into(),
            elapsed: 1.0,
            rates: rates.iter().map(|(n, r)| (n.to_string(), *r)).collect(),
            gauges: vec![("active".into(), 8)],
            latency: vec![IntervalLatency {
                name: "service".into(),
                count: 3,
                p50: Some(12_287),
                p90: Some(40_000),
                p99: Some(1_310_719),
            }],
        }
    }

    #[test]
    fn a_line_has_one_field_per_column() {
        let i = interval(
            "khttpd_rs",
            &[
                ("accepted", 2.0),
                ("requests", 1234.56),
                ("bytes_sent", 2_500_000.0),
            ],
        );
        let l = line(&i);
        let fields: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(fields.len(), HEADER.split_whitespace().count(), "{l}");
        assert_eq!(
            fields,
            [
                "khttpd_rs",
                "2.0",
                "-",
                "-",
                "-",
                "8",
                "1234.6",
                "-",
                "2.50",
                "12.3us",
                "1.31ms",
                "-",
                "-"
            ]
        );
        // Columns line up under the header.
        assert_eq!(l.len(), HEADER.len(), "{l}\n{HEADER}");
    }

    #[test]
    fn kecho_shows_echoed_bytes_and_no_requests() {
        let l = line(&interval("kecho_rs", &[("bytes", 1e6)]));
        let fields: Vec<&str> = l.split_whitespace().collect();
        assert_eq!((fields[6], fields[8]), ("-", "1.00"));
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(ns(950), "950ns");
        assert_eq!(ns(12_345), "12.3us");
        assert_eq!(ns(4_560_000), "4.56ms");
        assert_eq!(ns(1_200_000_000), "1.20s");
    }

    #[test]
    fn the_header_repeats_every_n_lines() {
        let mut p = Printer::new(2);
        let out: String = p.start() + &(0..5).map(|i| p.next(&i.to_string())).collect::<String>();
        assert_eq!(
            out,
            format!("{HEADER}\n0\n1\n{HEADER}\n2\n3\n{HEADER}\n4\n")
        );
        let mut once = Printer::new(0);
        let out: String = once.start()
            + &(0..3)
                .map(|i| once.next(&i.to_string()))
                .collect::<String>();
        assert_eq!(out.matches("module").count(), 1);
    }
}
