//! `itest maxconn`: N live connections are served; one more is refused; a freed slot is
//! served again.

use std::io::Write;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use crate::client::{Client, Proto};
use crate::net;
use crate::report::{ensure, test, Test, TestResult};

pub struct MaxConn {
    pub addr: SocketAddr,
    pub max: usize,
    pub proto: Proto,
}

pub fn suite(m: &MaxConn) -> Vec<Test<MaxConn>> {
    vec![test(m.proto.name(), 120 + m.max as u64 / 10, run)]
}

fn run(m: &MaxConn) -> TestResult {
    net::raise_nofile(m.max as u64 + 256)?;
    let mut held = Vec::with_capacity(m.max);
    for i in 0..m.max {
        let mut c = Client::open(m.proto, m.addr).map_err(|e| format!("client {i}: {e}"))?;
        c.exchange(64)
            .map_err(|e| format!("client {i} of {}: {e}", m.max))?;
        held.push(c);
    }
    over_limit_refused(m)?;
    drop(held.remove(0));
    held.push(served_again(m)?);
    for i in [0, held.len() - 1] {
        held[i]
            .exchange(64)
            .map_err(|e| format!("held client {i} after the refusal: {e}"))?;
    }
    Ok(())
}

/// The connection past the limit is closed without service (echo) or gets a 503 (http).
fn over_limit_refused(m: &MaxConn) -> TestResult {
    let mut extra = Client::open(m.proto, m.addr)?;
    match m.proto {
        Proto::Echo => {
            let _ = extra.stream().write_all(b"over the limit");
            let (echoed, _) =
                net::read_to_close(extra.stream(), Duration::from_secs(5)).map_err(|e| {
                    format!(
                        "connection {} beyond the limit was not closed: {e}",
                        m.max + 1
                    )
                })?;
            ensure(echoed.is_empty(), || {
                format!(
                    "connection beyond the limit was echoed {} bytes",
                    echoed.len()
                )
            })
        }
        Proto::Http => {
            extra
                .conn
                .send_lenient(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            let r = extra
                .conn
                .response()
                .map_err(|e| format!("connection beyond the limit: {e}"))?;
            r.expect_status(503)?;
            extra.conn.expect_closed(Duration::from_secs(3)).map(|_| ())
        }
    }
}

/// After a slot frees up, a new client is served within a few seconds.
fn served_again(m: &MaxConn) -> Result<Client, String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let attempt = Client::open(m.proto, m.addr).and_then(|mut c| {
            net::set_timeouts(c.stream(), Duration::from_secs(1))?;
            c.exchange(64).map(|_| c)
        });
        match attempt {
            Ok(c) => return Ok(c),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("not served within 5 s after a slot was freed: {e}"))
            }
            Err(_) => thread::sleep(Duration::from_millis(100)),
        }
    }
}
