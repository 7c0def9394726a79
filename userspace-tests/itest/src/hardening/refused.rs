//! Refusals a client can read: the 503 past `max_connections` and past the buffer budget.

use std::io::{ErrorKind, Read};
use std::thread;
use std::time::Duration;

use super::{one_response_then_eof, Hard};
use crate::http_client::{parse_response, HttpConn};
use crate::net;
use crate::report::{ensure, test, Test, TestResult};

pub fn tests(max: usize) -> Vec<Test<Hard>> {
    vec![test(
        "refused_503_read_after_request_sent",
        60 + max as u64 / 10,
        refused_after_request,
    )]
}

/// With `buffer_mib=1`.
pub fn budget_tests() -> Vec<Test<Hard>> {
    vec![test("buffer_budget_503", 60, budget)]
}

/// `max` keep-alive connections, each served once and held open.
fn hold(c: &Hard, max: usize) -> Result<Vec<HttpConn>, String> {
    net::raise_nofile(max as u64 + 256)?;
    (0..max)
        .map(|_| {
            let mut conn = c.conn()?;
            conn.send(&c.get("/"))?;
            let r = conn.response()?;
            ensure(r.head.status < 500, || format!("status {}", r.head.status))?;
            Ok(conn)
        })
        .collect::<Result<_, String>>()
        .map_err(|e| format!("holding {max} connections: {e}"))
}

/// Past `max_connections`: the client has sent a request (and sends another 200 ms later)
/// before it reads; it must still read the whole 503, then EOF.
fn refused_after_request(c: &Hard) -> TestResult {
    let held = hold(c, c.max)?;
    let mut extra = c.conn()?;
    extra.send(&c.get("/a.txt"))?;
    thread::sleep(Duration::from_millis(200));
    extra
        .send(&c.get("/b.txt"))
        .map_err(|e| format!("second request of the refused client: {e}"))?;
    let r = one_response_then_eof(&mut extra.stream, Duration::from_secs(10), false)
        .map_err(|e| format!("refused client: {e}"))?;
    r.expect_status(503)?;
    drop(held);
    Ok(())
}

/// A head never finished, so the server keeps its buffers.
const PARTIAL: &[u8] = b"GET /a.txt HTTP/1.1\r\nHost: hardening\r\nX-Partial: 1\r\n";
const HOLDERS: usize = 128;

/// With a 1 MiB budget, 128 connections holding half a request each use it up (a busy
/// connection takes tens of KiB); a complete request must then get a 503 and a close, and
/// once the holders leave, the next request is served.
fn budget(c: &Hard) -> TestResult {
    net::raise_nofile(HOLDERS as u64 + 256)?;
    let mut holders = Vec::with_capacity(HOLDERS);
    for i in 0..HOLDERS {
        let mut conn = c.conn().map_err(|e| format!("holder {i}: {e}"))?;
        conn.send(PARTIAL).map_err(|e| format!("holder {i}: {e}"))?;
        holders.push(conn);
    }
    thread::sleep(Duration::from_secs(1));
    let mut late = c.conn()?;
    late.send_lenient(&c.get("/a.txt"));
    let r = late
        .response()
        .map_err(|e| format!("request past the budget: {e}"))?;
    ensure(r.head.status == 503, || {
        format!(
            "request past a 1 MiB budget answered {} (want 503 and close)",
            r.head.status
        )
    })?;
    late.expect_closed(Duration::from_secs(5))
        .map_err(|e| format!("after the 503: {e}"))?;
    let mut refused = 0;
    for (i, h) in holders.iter_mut().enumerate() {
        refused += holder_state(h).map_err(|e| format!("holder {i}: {e}"))?;
    }
    drop(holders);
    thread::sleep(Duration::from_secs(1));
    c.expect_file("/a.txt", "a.txt")
        .map(|_| ())
        .map_err(|e| format!("after the holders left ({refused} of them got 503): {e}"))
}

/// 0 if the holder is still waiting with nothing received, 1 if it got a 503.
fn holder_state(h: &mut HttpConn) -> Result<usize, String> {
    net::set_timeouts(&h.stream, Duration::from_millis(20))?;
    let mut buf = vec![0u8; 4096];
    match h.stream.read(&mut buf) {
        Ok(0) => Err("closed without a response".into()),
        Ok(n) => {
            let status = parse_response(&buf[..n], false, true)?.map(|(r, _)| r.head.status);
            ensure(status == Some(503), || {
                format!("got {status:?} for half a request")
            })?;
            Ok(1)
        }
        Err(e) if net::is_timeout(&e) || e.kind() == ErrorKind::Interrupted => Ok(0),
        Err(e) if net::is_reset(&e) => Err(format!("reset: {e}")),
        Err(e) => Err(format!("read: {e}")),
    }
}
