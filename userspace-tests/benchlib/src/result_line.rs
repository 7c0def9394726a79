//! The one-line machine-readable summary: `RESULT key=value key=value ...`.

use std::fmt;

use crate::stats::Summary;

/// Ordered key/value pairs; setting a key again replaces its value in place.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResultLine {
    pairs: Vec<(String, String)>,
}

impl ResultLine {
    pub fn new(tool: &str) -> Self {
        let mut line = ResultLine::default();
        line.set("tool", tool);
        line
    }

    /// Sets `key`; whitespace and `=` in the value become `_` so the line stays parseable.
    pub fn set(&mut self, key: &str, value: impl fmt::Display) -> &mut Self {
        let value: String = value
            .to_string()
            .chars()
            .map(|c| {
                if c.is_whitespace() || c == '=' {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        match self.pairs.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value,
            None => self.pairs.push((key.to_string(), value)),
        }
        self
    }

    /// Sets a float with a fixed number of decimals.
    pub fn set_f64(&mut self, key: &str, value: f64, decimals: usize) -> &mut Self {
        self.set(key, format!("{value:.decimals$}"))
    }

    /// Sets `avg_us`, `p50_us`, `p90_us`, `p99_us` and `max_us`.
    pub fn set_latency(&mut self, summary: &Summary) -> &mut Self {
        self.set_f64("avg_us", summary.avg_us, 1)
            .set("p50_us", summary.p50_us)
            .set("p90_us", summary.p90_us)
            .set("p99_us", summary.p99_us)
            .set("max_us", summary.max_us)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn get_f64(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    /// Parses a line that starts with `RESULT `; `None` for any other line.
    /// Tokens without `=` are ignored.
    pub fn parse(line: &str) -> Option<ResultLine> {
        let rest = line.trim().strip_prefix("RESULT")?;
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            return None;
        }
        let pairs = rest
            .split_whitespace()
            .filter_map(|token| token.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Some(ResultLine { pairs })
    }
}

impl fmt::Display for ResultLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RESULT")?;
        for (key, value) in &self.pairs {
            write!(f, " {key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_order_and_replaces() {
        let mut line = ResultLine::new("kecho-bench");
        line.set("server", "my server").set("rps", 1).set("rps", 2);
        line.set_f64("secs", 1.23456, 3);
        assert_eq!(
            line.to_string(),
            "RESULT tool=kecho-bench server=my_server rps=2 secs=1.235"
        );
    }

    #[test]
    fn parses_round_trip_and_rejects_other_lines() {
        let mut line = ResultLine::new("t");
        line.set_latency(&Summary {
            count: 3,
            avg_us: 2.5,
            p50_us: 2,
            p90_us: 3,
            p99_us: 3,
            max_us: 4,
        });
        let parsed = ResultLine::parse(&format!("  {line}\n")).unwrap();
        assert_eq!(parsed, line);
        assert_eq!(parsed.get_f64("avg_us"), Some(2.5));
        assert_eq!(parsed.get("missing"), None);
        assert!(ResultLine::parse("RESULTS a=1").is_none());
        assert!(ResultLine::parse("# RESULT a=1").is_none());
        let loose = ResultLine::parse("RESULT a=1 junk b=x=y").unwrap();
        assert_eq!((loose.get("a"), loose.get("b")), (Some("1"), Some("x=y")));
    }
}
