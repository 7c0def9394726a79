// SPDX-License-Identifier: GPL-2.0

//! The Prometheus text exposition format (version 0.0.4) of snapshots, for node_exporter's
//! textfile collector: each counter as `ktcp_<name>_total`, each gauge as `ktcp_<name>`, and
//! the latency histograms as the summary `ktcp_latency_seconds` (quantiles since the module
//! was loaded, and `_count`; no `_sum`: the module keeps no sum of the samples) with the
//! gauge `ktcp_latency_max_seconds`. Every sample has a `module` label.

use std::fmt::Write;
use std::io;
use std::path::Path;

use crate::histogram;
use crate::snapshot::{Snapshot, GAUGES};

/// The quantiles exposed, as (label, per mille).
const QUANTILES: [(&str, u64); 4] = [("0.5", 500), ("0.9", 900), ("0.99", 990), ("0.999", 999)];

/// The HELP text of a counter or gauge file.
fn help(name: &str) -> String {
    let known = match name {
        "accepted" => "Connections accepted.",
        "active" => "Connections open now.",
        "closed" => "Connections closed, refused ones included.",
        "refused" => "Connections refused at max_connections or for lack of memory.",
        "timeouts" => "Connections closed by a timeout.",
        "objects" => "Connection objects in memory.",
        "requests" => "HTTP requests answered.",
        "responses_2xx" => "HTTP responses with a 2xx status.",
        "responses_3xx" => "HTTP responses with a 3xx status.",
        "responses_4xx" => "HTTP responses with a 4xx status.",
        "responses_5xx" => "HTTP responses with a 5xx status.",
        "bytes_sent" => "Bytes sent, heads and bodies.",
        "bytes_spliced" => "File bytes sent by splice, without a copy.",
        "send_polls" => "Runs of a blocked send started by the 1 s retry poll, not a wake-up.",
        "send_polls_moved" => "Retry polls of a blocked send after which bytes moved.",
        "buffer_allocs" => "Connection buffers allocated because the pool had none.",
        "file_cache_hits" => "File opens answered by the open-file cache.",
        "file_cache_misses" => "File opens not answered by the open-file cache.",
        "bytes" => "Bytes echoed.",
        "errors" => "Per-request or per-connection errors.",
        _ => "",
    };
    if known.is_empty() {
        format!("The module's debugfs counter {name}.")
    } else {
        known.to_string()
    }
}

/// Is `name` a valid metric name part (`[a-zA-Z0-9_]`)? Others are left out.
fn valid(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The exposition of `snapshots` (one per module), families in a stable order.
pub(crate) fn render(snapshots: &[Snapshot]) -> String {
    let mut out = String::new();
    // Every counter name any module has, in order of first appearance.
    let mut names: Vec<&str> = Vec::new();
    for s in snapshots {
        for (name, _) in &s.counters {
            if valid(name) && !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    for name in names {
        let gauge = GAUGES.contains(&name);
        let family = if gauge {
            format!("ktcp_{name}")
        } else {
            format!("ktcp_{name}_total")
        };
        let kind = if gauge { "gauge" } else { "counter" };
        let _ = writeln!(out, "# HELP {family} {}", help(name));
        let _ = writeln!(out, "# TYPE {family} {kind}");
        for s in snapshots {
            if let Some(v) = s.counter(name) {
                let _ = writeln!(out, "{family}{{module=\"{}\"}} {v}", s.module);
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP ktcp_latency_seconds Latency since the module was loaded (queue_delay: wake-up \
         to work item running; service: request complete to answer queued; \
         accept_to_first_byte; sweep: one pass over the connection table for deadlines); \
         upper end of a log-linear bucket."
    );
    let _ = writeln!(out, "# TYPE ktcp_latency_seconds summary");
    for s in snapshots {
        for h in &s.latency {
            let labels = format!("module=\"{}\",metric=\"{}\"", s.module, h.name);
            for (q, per_mille) in QUANTILES {
                let v = histogram::percentile(&h.buckets, per_mille).min(h.max);
                let _ = writeln!(
                    out,
                    "ktcp_latency_seconds{{{labels},quantile=\"{q}\"}} {}",
                    seconds(v)
                );
            }
            let _ = writeln!(out, "ktcp_latency_seconds_count{{{labels}}} {}", h.count);
        }
    }
    let _ = writeln!(
        out,
        "# HELP ktcp_latency_max_seconds Largest latency since the module was loaded."
    );
    let _ = writeln!(out, "# TYPE ktcp_latency_max_seconds gauge");
    for s in snapshots {
        for h in &s.latency {
            let labels = format!("module=\"{}\",metric=\"{}\"", s.module, h.name);
            let _ = writeln!(
                out,
                "ktcp_latency_max_seconds{{{labels}}} {}",
                seconds(h.max)
            );
        }
    }
    out
}

/// `ns` nanoseconds in seconds, exactly (a decimal with up to nine digits after the point).
fn seconds(ns: u64) -> String {
    let frac = format!("{:09}", ns % 1_000_000_000);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{}", ns / 1_000_000_000)
    } else {
        format!("{}.{frac}", ns / 1_000_000_000)
    }
}

/// Writes `text` to `path` atomically: into a new file in the same directory, then renamed
/// over `path`, so that a reader (node_exporter) sees the old file or the new one, whole.
pub(crate) fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".ktcp-stat-")
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::histogram::BUCKETS;
    use crate::snapshot::Histogram;
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Instant;

    /// A parsed sample: metric name, labels, value.
    pub(crate) type Sample = (String, Vec<(String, String)>, f64);

    /// A strict reader of the text format, as far as this tool uses it: `# HELP NAME TEXT` and
    /// `# TYPE NAME counter|gauge|summary` before a family's samples, once each; the samples
    /// of a family together; names `[a-zA-Z_:][a-zA-Z0-9_:]*`, labels `name="value"` without
    /// escapes, values floats; counters end in `_total`, summary samples are the family
    /// (with a `quantile` label in [0, 1]) or `<family>_count`.
    pub(crate) fn parse(text: &str) -> Result<Vec<Sample>, String> {
        let mut types: HashMap<String, String> = HashMap::new();
        let mut helped: Vec<String> = Vec::new();
        let mut done: Vec<String> = Vec::new();
        let mut current: Option<String> = None;
        let mut samples = Vec::new();
        if !text.ends_with('\n') {
            return Err("no final newline".into());
        }
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest
                    .split_once(' ')
                    .ok_or(format!("HELP without text: {line}"))?;
                if !name_ok(name) || help.is_empty() || helped.iter().any(|h| h == name) {
                    return Err(format!("bad or repeated HELP: {line}"));
                }
                helped.push(name.into());
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').ok_or(format!("bad TYPE: {line}"))?;
                if !["counter", "gauge", "summary"].contains(&kind) || types.contains_key(name) {
                    return Err(format!("bad or repeated TYPE: {line}"));
                }
                if !helped.iter().any(|h| h == name) {
                    return Err(format!("TYPE before HELP: {line}"));
                }
                if kind == "counter" && !name.ends_with("_total") {
                    return Err(format!("counter not ending in _total: {line}"));
                }
                types.insert(name.into(), kind.into());
                if let Some(c) = current.take() {
                    done.push(c);
                }
                current = Some(name.into());
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                return Err(format!("unexpected line: {line:?}"));
            }
            let (name, labels, value) = sample(line)?;
            let family = current
                .clone()
                .ok_or(format!("sample before any TYPE: {line}"))?;
            let kind = &types[&family];
            let ok = match kind.as_str() {
                "summary" => {
                    let q = labels.iter().find(|(k, _)| k == "quantile");
                    (name == family
                        && q.is_some_and(|(_, v)| {
                            v.parse::<f64>().is_ok_and(|q| (0.0..=1.0).contains(&q))
                        }))
                        || (name == format!("{family}_count") && q.is_none() && value >= 0.0)
                }
                _ => name == family,
            };
            if !ok || done.contains(&name) {
                return Err(format!("sample {line} does not belong to {kind} {family}"));
            }
            samples.push((name, labels, value));
        }
        Ok(samples)
    }

    fn name_ok(name: &str) -> bool {
        let mut b = name.bytes();
        b.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b':')
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
    }

    fn sample(line: &str) -> Result<Sample, String> {
        let (head, value) = line.rsplit_once(' ').ok_or(format!("no value: {line}"))?;
        let value: f64 = value.parse().map_err(|_| format!("bad value: {line}"))?;
        let (name, labels) = match head.split_once('{') {
            Some((name, rest)) => (
                name,
                rest.strip_suffix('}')
                    .ok_or(format!("bad labels: {line}"))?,
            ),
            None => (head, ""),
        };
        if !name_ok(name) {
            return Err(format!("bad name: {line}"));
        }
        let mut out = Vec::new();
        for pair in labels.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or(format!("bad label: {line}"))?;
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .filter(|v| !v.contains(['"', '\\']))
                .ok_or(format!("bad label value: {line}"))?;
            if !name_ok(k) {
                return Err(format!("bad label name: {line}"));
            }
            out.push((k.to_string(), v.to_string()));
        }
        Ok((name.to_string(), out, value))
    }

    fn snapshot(module: &str, counters: &[(&str, u64)], samples: &[u64]) -> Snapshot {
        let mut buckets = vec![0; BUCKETS];
        for s in samples {
            buckets[histogram::bucket(*s)] += 1;
        }
        Snapshot {
            module: module.into(),
            at: Instant::now(),
            counters: counters.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            latency: vec![Histogram {
                name: "service".into(),
                count: samples.len() as u64,
                max: samples.iter().copied().max().unwrap_or(0),
                buckets,
            }],
        }
    }

    fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(a, b)| a == k && b == v))
            })
            .map(|s| s.2)
    }

    #[test]
    fn the_exposition_parses_back_to_the_snapshot() {
        let http = snapshot(
            "khttpd_rs",
            &[("accepted", 12), ("active", 3), ("requests", 9_007_199_254)],
            &[1000, 5000, 2_000_000],
        );
        let echo = snapshot(
            "kecho_rs",
            &[("accepted", 4), ("active", 0), ("bytes", 77)],
            &[],
        );
        let text = render(&[echo, http]);
        let samples = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let m = |module| [("module", module)];
        assert_eq!(
            value(&samples, "ktcp_accepted_total", &m("khttpd_rs")),
            Some(12.0)
        );
        assert_eq!(
            value(&samples, "ktcp_accepted_total", &m("kecho_rs")),
            Some(4.0)
        );
        assert_eq!(value(&samples, "ktcp_active", &m("khttpd_rs")), Some(3.0));
        assert_eq!(
            value(&samples, "ktcp_requests_total", &m("khttpd_rs")),
            Some(9_007_199_254.0)
        );
        assert_eq!(value(&samples, "ktcp_requests_total", &m("kecho_rs")), None);
        assert_eq!(
            value(&samples, "ktcp_bytes_total", &m("kecho_rs")),
            Some(77.0)
        );
        assert!(text.contains("ktcp_requests_total{module=\"khttpd_rs\"} 9007199254\n"));
        let svc = [("module", "khttpd_rs"), ("metric", "service")];
        assert_eq!(
            value(&samples, "ktcp_latency_seconds_count", &svc),
            Some(3.0)
        );
        let p50 = value(
            &samples,
            "ktcp_latency_seconds",
            &[svc[0], svc[1], ("quantile", "0.5")],
        )
        .unwrap();
        assert_eq!(
            p50,
            histogram::bucket_high(histogram::bucket(5000)) as f64 / 1e9
        );
        let p999 = value(
            &samples,
            "ktcp_latency_seconds",
            &[svc[0], svc[1], ("quantile", "0.999")],
        )
        .unwrap();
        assert_eq!(p999, 0.002);
        assert_eq!(
            value(&samples, "ktcp_latency_max_seconds", &svc),
            Some(0.002)
        );
    }

    #[test]
    fn the_checker_refuses_broken_expositions() {
        let good = "# HELP a_total x\n# TYPE a_total counter\na_total{module=\"m\"} 1\n";
        assert!(parse(good).is_ok());
        let bad = [
            "a_total 1\n",                                                             // no TYPE
            "# TYPE a_total counter\na_total 1\n",                                     // no HELP
            "# HELP a x\n# TYPE a counter\na 1\n", // counter name
            "# HELP a_total x\n# TYPE a_total counter\na_total{module=m} 1\n", // unquoted
            "# HELP a_total x\n# TYPE a_total counter\na_total 1x\n", // value
            "# HELP a_total x\n# TYPE a_total counter\nb_total 1\n", // wrong family
            "# HELP s x\n# TYPE s summary\ns 1\n", // no quantile
            "# HELP a_total x\n# TYPE a_total counter\na_total 1", // no newline
            "# HELP g x\n# TYPE g gauge\ng 1\n# HELP h x\n# TYPE h gauge\nh 1\ng 2\n", // split family
        ];
        for text in bad {
            assert!(parse(text).is_err(), "accepted: {text:?}");
        }
    }

    #[test]
    fn seconds_are_exact() {
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(1_500), "0.0000015");
        assert_eq!(seconds(2_000_000_000), "2");
        assert_eq!(seconds(u64::MAX), "18446744073.709551615");
    }

    #[test]
    fn the_output_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ktcp.prom");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        // Nothing else is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
