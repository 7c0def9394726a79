//! Header and keep-alive timeouts (only with `--header-timeout` / `--keepalive-timeout`).

use std::thread;
use std::time::{Duration, Instant};

use super::Http;
use crate::http_client::parse_response;
use crate::net;
use crate::report::{ensure, test, Test, TestResult};

/// Always listed: a run of the whole suite without `--header-timeout` or
/// `--keepalive-timeout` fails them ("needs --..."), rather than leaving them out unseen.
pub fn tests(header: Option<u64>, keepalive: Option<u64>) -> Vec<Test<Http>> {
    let (h, k) = (header.unwrap_or(0), keepalive.unwrap_or(0));
    vec![
        test(
            "header_timeout_closes_stalled_client",
            h + 15,
            header_timeout,
        ),
        test("keepalive_timeout_closes_idle", k + 15, keepalive_idle),
        test(
            "keepalive_active_not_closed_early",
            3 * k + 15,
            keepalive_active,
        )
        .long(),
    ]
}

fn required(opt: Option<u64>, flag: &str) -> Result<u64, String> {
    opt.ok_or_else(|| format!("needs --{flag}"))
}

fn header_timeout(c: &Http) -> TestResult {
    let secs = required(c.header_timeout, "header-timeout")?;
    let mut conn = c.conn()?;
    conn.send(b"GET /a.t")?;
    let started = Instant::now();
    let (said, _) = net::read_to_close(&mut conn.stream, Duration::from_secs(secs + 3))
        .map_err(|e| format!("stalled request not closed within {} s: {e}", secs + 3))?;
    // A 408 before the close is fine; anything else is not.
    if !said.is_empty() {
        let parsed = parse_response(&said, false, true)?;
        let status = parsed.map(|(r, _)| r.head.status);
        ensure(status == Some(408), || {
            format!("sent {status:?} before closing")
        })?;
    }
    let took = started.elapsed();
    ensure(
        took + Duration::from_secs(1) >= Duration::from_secs(secs),
        || {
            format!(
                "closed after {} ms, before the {secs} s timeout",
                took.as_millis()
            )
        },
    )
}

fn keepalive_idle(c: &Http) -> TestResult {
    let secs = required(c.keepalive_timeout, "keepalive-timeout")?;
    let mut conn = c.conn()?;
    conn.send(&c.get("/a.txt"))?;
    conn.response()?.expect_status(200)?;
    let started = Instant::now();
    conn.expect_closed(Duration::from_secs(secs + 3))?;
    let took = started.elapsed();
    ensure(
        took + Duration::from_secs(1) >= Duration::from_secs(secs),
        || {
            format!(
                "closed after {} ms, before the {secs} s timeout",
                took.as_millis()
            )
        },
    )
}

fn keepalive_active(c: &Http) -> TestResult {
    let secs = required(c.keepalive_timeout, "keepalive-timeout")?;
    let gap = Duration::from_millis(secs * 1000 / 2).max(Duration::from_millis(300));
    let rounds = (2 * secs * 1000 / gap.as_millis() as u64).max(4) + 1;
    let mut conn = c.conn()?;
    for i in 0..rounds {
        conn.send(&c.get("/a.txt"))
            .and_then(|_| conn.response())
            .and_then(|r| r.expect_status(200).map(|_| ()))
            .map_err(|e| format!("request {i} ({} ms in): {e}", gap.as_millis() as u64 * i))?;
        thread::sleep(gap);
    }
    Ok(())
}
