//! Deadlines: a trickled head is cut at `header_timeout`; a download right after a long
//! keep-alive idle is never cut by the idle deadline.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::Hard;
use crate::fixtures::hard::{BODY4M_FILE, BODY4M_LEN};
use crate::http_client::parse_response;
use crate::net::{self, preview};
use crate::pattern::pattern;
use crate::report::{ensure, test, Test, TestResult};

/// Always listed: a run without `--header-timeout` or `--keepalive-timeout` fails them
/// ("needs --..."), rather than leaving them out unseen.
pub fn tests(header: Option<u64>, keepalive: Option<u64>) -> Vec<Test<Hard>> {
    let (h, k) = (header.unwrap_or(0), keepalive.unwrap_or(0));
    vec![
        test("header_trickle_cut_408", h + 20, trickle).alone(),
        test(
            "keepalive_idle_80pct_then_4mib_x5",
            5 * k + 120,
            idle_then_body,
        )
        .alone()
        .long(),
    ]
}

/// One byte per 0.4 s: the server must send 408 and close between `header_timeout - 0.5 s`
/// and `header_timeout + 2 s` after the first byte, never answering the request.
fn trickle(c: &Hard) -> TestResult {
    let secs = c.header_timeout.ok_or("needs --header-timeout")?;
    let mut conn = c.conn()?;
    let raw = c.request("GET", "/a.txt", "User-Agent: itest-hardening-trickle\r\n");
    let mut writer = conn.stream.try_clone().map_err(|e| format!("clone: {e}"))?;
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (said, how, took, sent) = thread::scope(|s| {
        let trickler = s.spawn(|| {
            let mut sent = 0;
            for b in raw.chunks(1) {
                if stop.load(Ordering::Relaxed) || writer.write_all(b).is_err() {
                    break;
                }
                sent += 1;
                thread::sleep(Duration::from_millis(400));
            }
            sent
        });
        let closed = net::read_to_close(&mut conn.stream, Duration::from_secs(secs + 8));
        let took = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        let sent = trickler.join().unwrap_or(0);
        closed.map(|(said, how)| (said, how, took, sent))
    })?;
    let status = parse_response(&said, false, true)?.map(|(r, _)| r.head.status);
    ensure(sent < raw.len(), || {
        format!("the whole head ({sent} bytes) was sent before the server closed")
    })?;
    ensure(status == Some(408), || {
        format!(
            "closed ({how:?}) after {} ms with {status:?} (want 408): {}",
            took.as_millis(),
            preview(&said)
        )
    })?;
    let (lo, hi) = (secs * 1000 - 500, secs * 1000 + 2000);
    let ms = took.as_millis() as u64;
    ensure((lo..=hi).contains(&ms), || {
        format!("408 and close after {ms} ms, want {lo}..{hi} ms")
    })
}

/// Idle for 80 % of `keepalive_timeout`, then download 4 MiB as fast as possible; five times
/// on the same connection. The idle deadline must not survive into the download.
fn idle_then_body(c: &Hard) -> TestResult {
    let secs = c.keepalive_timeout.ok_or("needs --keepalive-timeout")?;
    let idle = Duration::from_millis(secs * 800);
    let mut conn = c.conn()?;
    net::set_timeouts(&conn.stream, Duration::from_secs(30))?;
    conn.send(&c.get("/a.txt"))?;
    conn.response()?.expect_status(200)?;
    let target = format!("/{BODY4M_FILE}");
    for round in 0..5 {
        thread::sleep(idle);
        let t0 = Instant::now();
        conn.send(&c.get(&target))
            .map_err(|e| format!("round {round}: {e}"))?;
        let (head, first) = conn
            .head_only()
            .map_err(|e| format!("round {round}: {e}"))?;
        ensure(head.status == 200, || {
            format!("round {round}: status {}", head.status)
        })?;
        ensure(head.content_length()? == Some(BODY4M_LEN), || {
            format!(
                "round {round}: Content-Length {:?}",
                head.header("content-length")
            )
        })?;
        read_body(&mut conn.stream, first, BODY4M_LEN).map_err(|e| {
            format!(
                "round {round}, {} ms after the request (idle {} ms before it): {e}",
                t0.elapsed().as_millis(),
                idle.as_millis()
            )
        })?;
    }
    Ok(())
}

/// Reads the rest of a pattern body whose first bytes (`first`) came with the head.
fn read_body(stream: &mut std::net::TcpStream, first: Vec<u8>, len: usize) -> TestResult {
    let mut got = first.len();
    if got > len {
        return Err(format!("{} bytes after the body", got - len));
    }
    check(&first, 0)?;
    let mut chunk = vec![0u8; 256 * 1024];
    while got < len {
        let want = chunk.len().min(len - got);
        match stream.read(&mut chunk[..want]) {
            Ok(0) => return Err(format!("cut after {got} of {len} body bytes (EOF)")),
            Ok(n) => {
                check(&chunk[..n], got)?;
                got += n;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cut after {got} of {len} body bytes: {e}")),
        }
    }
    Ok(())
}

fn check(bytes: &[u8], at: usize) -> TestResult {
    match bytes
        .iter()
        .enumerate()
        .find(|&(i, &b)| b != pattern((at + i) as u64))
    {
        Some((i, _)) => Err(format!("body byte {} is wrong", at + i)),
        None => Ok(()),
    }
}
