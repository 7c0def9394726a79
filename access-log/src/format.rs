// SPDX-License-Identifier: GPL-2.0

//! Output formats: nginx's `combined` log format, and JSON lines.

use crate::event::{unescape, Request};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde::Serialize;

/// The request line as nginx logs it (`$request`): `-` when it could not be read.
fn request_line(r: &Request) -> String {
    if r.method.is_empty() {
        return "-".into();
    }
    let protocol = match r.version {
        10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    format!("{} {} {protocol}", r.method, r.target)
}

/// A text as nginx logs it: the module's escaping, less the escaped `'` that nginx leaves as
/// it is; an empty variable is logged as `-`.
fn nginx_text(s: &str) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s.replace("\\x27", "'")
    }
}

/// The event's wall-clock time in `tz`.
fn local<Tz: TimeZone>(r: &Request, tz: &Tz) -> DateTime<Tz> {
    tz.timestamp_opt(r.time, 0)
        .single()
        .unwrap_or_else(|| tz.from_utc_datetime(&DateTime::<Utc>::UNIX_EPOCH.naive_utc()))
}

/// One line of nginx's `combined` format, the time in `tz` (the machine's zone, as nginx's
/// `$time_local`):
/// `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
/// "$http_referer" "$http_user_agent"`.
pub fn combined_in<Tz: TimeZone>(r: &Request, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    format!(
        "{} - - [{}] \"{}\" {} {} \"{}\" \"{}\"",
        r.client.ip(),
        local(r, tz).format("%d/%b/%Y:%H:%M:%S %z"),
        request_line(r).replace("\\x27", "'"),
        r.status,
        r.body_bytes,
        nginx_text(&r.referer),
        nginx_text(&r.user_agent)
    )
}

#[derive(Serialize)]
struct Json {
    time: String,
    remote_addr: String,
    remote_port: u16,
    request: String,
    method: String,
    target: String,
    status: u16,
    bytes_sent: u64,
    body_bytes_sent: u64,
    request_time: f64,
    http_referer: String,
    http_user_agent: String,
}

/// One JSON object: the same fields, and the request time in seconds; text unescaped
/// (invalid UTF-8 replaced), then escaped as JSON.
pub fn json(r: &Request) -> String {
    json_in(r, &FixedOffset::east_opt(0).expect("UTC"))
}

/// [`json`] with the time in `tz`.
pub fn json_in<Tz: TimeZone>(r: &Request, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let text = |s: &str| String::from_utf8_lossy(&unescape(s)).into_owned();
    let j = Json {
        time: local(r, tz).to_rfc3339(),
        remote_addr: r.client.ip().to_string(),
        remote_port: r.client.port(),
        request: text(&request_line(r)),
        method: r.method.clone(),
        target: text(&r.target),
        status: r.status,
        bytes_sent: r.bytes,
        body_bytes_sent: r.body_bytes,
        request_time: r.duration_ns as f64 / 1e9,
        http_referer: text(&r.referer),
        http_user_agent: text(&r.user_agent),
    };
    serde_json::to_string(&j).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_line;

    fn req() -> Request {
        parse_line(r#"x-1 [000] 5.0: request: client=10.1.2.3:5555 time=1795824000 method=GET target='/a\x22b\x27' version=11 status=206 bytes=300 body_bytes=10 duration_ns=1500000 referer='' user_agent='curl/8'"#)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn combined_is_nginx_combined() {
        let utc = FixedOffset::east_opt(0).unwrap();
        assert_eq!(
            combined_in(&req(), &utc),
            r#"10.1.2.3 - - [28/Nov/2026:00:00:00 +0000] "GET /a\x22b' HTTP/1.1" 206 10 "-" "curl/8""#
        );
        let mut r = req();
        r.method.clear();
        r.version = 0;
        r.status = 400;
        assert!(combined_in(&r, &utc).contains(r#"] "-" 400 "#));
    }

    #[test]
    fn json_unescapes_and_parses_back() {
        let line = json_in(&req(), &FixedOffset::east_opt(0).unwrap());
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["target"], "/a\"b'");
        assert_eq!(v["request"], "GET /a\"b' HTTP/1.1");
        assert_eq!(v["remote_addr"], "10.1.2.3");
        assert_eq!(v["remote_port"], 5555);
        assert_eq!(v["status"], 206);
        assert_eq!(v["bytes_sent"], 300);
        assert_eq!(v["body_bytes_sent"], 10);
        assert_eq!(v["request_time"], 0.0015);
        assert_eq!(v["time"], "2026-11-28T00:00:00+00:00");
        assert_eq!(v["http_referer"], "");
    }
}
