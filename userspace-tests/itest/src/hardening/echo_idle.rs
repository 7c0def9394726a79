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
        test("echo_one_message_per_second_kept", 20, live).alone(),
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

/// One message a second for 5 s, every echo checked, then the connection is still served.
fn live(c: &Hard) -> TestResult {
    let mut stream = net::connect(c.addr)?;
    for i in 0..7u64 {
        let msg = pattern_bytes(i * 1000, 64);
        stream
            .write_all(&msg)
            .and_then(|_| stream.flush())
            .map_err(|e| format!("message {i}: write: {e}"))?;
        read_and_verify(&mut stream, msg.len(), |j| msg[j])
            .map_err(|e| format!("message {i} ({i} s in): {e}"))?;
        if i < 6 {
            thread::sleep(Duration::from_secs(1));
        }
    }
    Ok(())
}
