// SPDX-License-Identifier: GPL-2.0

//! One `khttpd_rs:request` trace event, read from its text form: a line of `trace_pipe`
//! (or of `trace-cmd report`), whose fields the event's `TP_printk` writes as
//! `key=value`, text values in single quotes. Text values are escaped by the module as nginx
//! escapes its log (`\xHH` for `"`, `\` and bytes outside 0x20..0x7e), and `'` too, so a
//! quoted value never holds a quote.

use anyhow::{anyhow, bail, Context, Result};
use std::net::SocketAddr;

/// The fields of one request event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The client's address and port.
    pub client: SocketAddr,
    /// When the response ended: seconds since the epoch.
    pub time: i64,
    /// Empty when the request line could not be read (a 400, a 408).
    pub method: String,
    pub target: String,
    /// 10 or 11; 0 when the request line could not be read.
    pub version: u8,
    pub status: u16,
    /// Head and body.
    pub bytes: u64,
    pub body_bytes: u64,
    pub duration_ns: u64,
    pub referer: String,
    pub user_agent: String,
}

/// What marks a request event in a line of trace output.
const MARK: &str = "request: client=";

/// Parses a line of trace output: `Ok(None)` if it is not a request event (another event,
/// a comment, a lost-events notice), an error if it is one but malformed.
pub fn parse_line(line: &str) -> Result<Option<Request>> {
    let Some(at) = line.find(MARK) else {
        return Ok(None);
    };
    let fields = &line[at + MARK.len() - "client=".len()..];
    let mut req = Request {
        client: SocketAddr::from(([0, 0, 0, 0], 0)),
        time: 0,
        method: String::new(),
        target: String::new(),
        version: 0,
        status: 0,
        bytes: 0,
        body_bytes: 0,
        duration_ns: 0,
        referer: String::new(),
        user_agent: String::new(),
    };
    let mut seen = std::collections::HashSet::new();
    for (key, value) in pairs(fields)? {
        let bad = || anyhow!("bad {key}={value:?}");
        match key {
            "client" => req.client = parse_client(value).with_context(bad)?,
            "time" => req.time = value.parse().map_err(|_| bad())?,
            "method" => req.method = value.to_string(),
            "target" => req.target = value.to_string(),
            "version" => req.version = value.parse().map_err(|_| bad())?,
            "status" => req.status = value.parse().map_err(|_| bad())?,
            "bytes" => req.bytes = value.parse().map_err(|_| bad())?,
            "body_bytes" => req.body_bytes = value.parse().map_err(|_| bad())?,
            "duration_ns" => req.duration_ns = value.parse().map_err(|_| bad())?,
            "referer" => req.referer = value.to_string(),
            "user_agent" => req.user_agent = value.to_string(),
            _ => bail!("unknown field {key} in a request event"),
        }
        if !seen.insert(key) {
            bail!("{key} twice in a request event");
        }
    }
    if seen.len() != 11 {
        bail!("a request event with {} fields, not 11: {line}", seen.len());
    }
    Ok(Some(req))
}

/// Splits `key=value key='quoted value' ...` into pairs.
fn pairs(mut s: &str) -> Result<Vec<(&str, &str)>> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(out);
        }
        let eq = s.find('=').ok_or_else(|| anyhow!("no '=' in {s:?}"))?;
        let key = &s[..eq];
        let rest = &s[eq + 1..];
        let (value, next) = if let Some(quoted) = rest.strip_prefix('\'') {
            let end = quoted
                .find('\'')
                .ok_or_else(|| anyhow!("unterminated value of {key}"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        out.push((key, value));
        s = next;
    }
}

/// `%pISpc` output: `1.2.3.4:80` or `[::1]:80`.
fn parse_client(value: &str) -> Result<SocketAddr> {
    Ok(value.parse()?)
}

/// Undoes the module's `\xHH` escaping, for output formats that escape differently (JSON).
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            if let Some(v) = s
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"          <idle>-0       [001] ..s2.  1234.567890: request: client=127.0.0.1:40312 time=1795824000 method=GET target='/a b\x22.txt?q=1' version=11 status=200 bytes=345 body_bytes=100 duration_ns=123456 referer='' user_agent='curl/8.1 (x\x5C86)'"#;

    #[test]
    fn a_trace_pipe_line() {
        let r = parse_line(LINE).unwrap().unwrap();
        assert_eq!(r.client, "127.0.0.1:40312".parse().unwrap());
        assert_eq!(r.time, 1795824000);
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, r"/a b\x22.txt?q=1");
        assert_eq!(
            (r.version, r.status, r.bytes, r.body_bytes),
            (11, 200, 345, 100)
        );
        assert_eq!(r.duration_ns, 123456);
        assert_eq!(r.referer, "");
        assert_eq!(r.user_agent, r"curl/8.1 (x\x5C86)");
        assert_eq!(unescape(&r.user_agent), b"curl/8.1 (x\\86)");
    }

    #[test]
    fn ipv6_clients_and_trace_cmd_report_lines() {
        let line = LINE
            .replace("127.0.0.1:40312", "[::1]:8081")
            .replace("request: ", "khttpd_rs:request: ");
        let r = parse_line(&line).unwrap().unwrap();
        assert_eq!(r.client, "[::1]:8081".parse().unwrap());
    }

    #[test]
    fn other_lines_are_skipped_and_broken_ones_refused() {
        assert_eq!(parse_line("# tracer: nop").unwrap(), None);
        assert_eq!(
            parse_line("  x-1 [000] 1.0: conn_open: id=1 client=1.2.3.4:5 refused=0").unwrap(),
            None
        );
        assert!(parse_line(&LINE.replace(" status=200", "")).is_err());
        assert!(parse_line(&LINE.replace("status=200", "status=abc")).is_err());
        assert!(
            parse_line(&LINE.replace("user_agent='curl/8.1 (x\\x5C86)'", "user_agent='open"))
                .is_err()
        );
    }
}
