//! kecho_rs `idle_timeout`: a silent client is closed, a slow but live one is not.

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use super::Hard;
use crate::net::{self, read_and_verify, Closed};
use crate::pattern::pattern_bytes;
use crate::report::{ensure, test, Test, TestResult};

pub fn tests(idle: u64) -> Vec<Test<Hard>> {
    vec![
        test("echo_silent_client_closed", idle + 15, silent).alone(),
        test("echo_message_every_half_timeout_kept", 20 + 4 * idle, live).alone(),
    ]
}

/// Connects and says nothing: EOF between `idle` and `idle + 2.5` seconds later.
fn silent(c: &Hard) -> TestResult {
    let secs = c.idle_timeout;
    let t0 = Instant::now();
    let mut stream = net::connect(c.addr)?;
    let within = Duration::from_millis(secs * 1000 + 2500);
    let how = net::expect_closed_silently(&mut stream, within)
        .map_err(|e| format!("silent client, idle_timeout={secs}: {e}"))?;
    let ms = t0.elapsed().as_millis() as u64;
    ensure(how == Closed::Eof, || {
        format!("closed by {how:?} after {ms} ms, want EOF")
    })?;
    ensure(ms + 100 >= secs * 1000, || {
        format!("closed after {ms} ms, before idle_timeout={secs}")
    })
}

/// A message every half `idle_timeout` (at least 0.3 s), seven of them, every echo checked:
/// the connection lives three times as long as the timeout, and is still served.
fn live(c: &Hard) -> TestResult {
    let gap = Duration::from_millis(c.idle_timeout * 500).max(Duration::from_millis(300));
    let mut stream = net::connect(c.addr)?;
    for i in 0..7u64 {
        let msg = pattern_bytes(i * 1000, 64);
        stream
            .write_all(&msg)
            .and_then(|_| stream.flush())
            .map_err(|e| format!("message {i}: write: {e}"))?;
        read_and_verify(&mut stream, msg.len(), |j| msg[j])
            .map_err(|e| format!("message {i} ({} ms in): {e}", gap.as_millis() as u64 * i))?;
        if i < 6 {
            thread::sleep(gap);
        }
    }
    Ok(())
}
