//! `itest kecho`: the echo server returns every byte, in order, and closes after the peer.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::net::{self, echo_roundtrip, read_and_verify};
use crate::pattern;
use crate::prng::Prng;
use crate::report::{ensure, test, Test, TestResult};

pub struct Echo {
    pub addr: SocketAddr,
}

pub fn suite() -> Vec<Test<Echo>> {
    vec![
        test("one_byte", 15, one_byte),
        test("payload_64k", 20, |c| payload(c, 64 * 1024)),
        test("payload_16m", 60, |c| payload(c, 16 * 1024 * 1024)),
        test("all_byte_values", 15, all_byte_values),
        test("small_writes_coalesced", 20, small_writes_coalesced),
        test("random_pieces", 30, random_pieces),
        test("half_close", 30, half_close),
        test("last_bytes_with_fin", 15, last_bytes_with_fin),
        test("concurrent_1000_clients", 90, concurrent_1000_clients).alone(),
        test("idle_do_not_stall_active", 60, idle_do_not_stall_active)
            .alone()
            .long(),
        test("reset_client_isolated", 30, reset_client_isolated),
        test("nodelay_round_trips", 30, nodelay_round_trips).alone(),
    ]
}

fn pattern_bytes(len: usize) -> Vec<u8> {
    pattern::pattern_bytes(0, len)
}

fn pattern(offset: usize) -> u8 {
    pattern::pattern(offset as u64)
}

/// The server must close (EOF or reset) soon after we half-close, with nothing extra.
fn expect_close_after_ours(stream: &mut TcpStream) -> TestResult {
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| format!("shutdown: {e}"))?;
    net::expect_closed_silently(stream, Duration::from_secs(5)).map(|_| ())
}

fn one_byte(c: &Echo) -> TestResult {
    let mut s = net::connect(c.addr)?;
    echo_roundtrip(&mut s, b"Z")?;
    expect_close_after_ours(&mut s)
}

fn payload(c: &Echo, len: usize) -> TestResult {
    let mut s = net::connect(c.addr)?;
    echo_roundtrip(&mut s, &pattern_bytes(len))?;
    expect_close_after_ours(&mut s)
}

fn all_byte_values(c: &Echo) -> TestResult {
    let data: Vec<u8> = (0..4 * 256).map(|i| (i % 256) as u8).collect();
    let mut s = net::connect(c.addr)?;
    echo_roundtrip(&mut s, &data)?;
    expect_close_after_ours(&mut s)
}

fn small_writes_coalesced(c: &Echo) -> TestResult {
    let mut s = net::connect(c.addr)?;
    let data = pattern_bytes(3 * 2000);
    let mut writer = s.try_clone().map_err(|e| e.to_string())?;
    let sender = thread::spawn(move || {
        for piece in pattern_bytes(3 * 2000).chunks(3) {
            writer.write_all(piece).map_err(|e| format!("write: {e}"))?;
        }
        Ok::<(), String>(())
    });
    let read = read_and_verify(&mut s, data.len(), |i| data[i]);
    let sent = sender
        .join()
        .unwrap_or_else(|_| Err("writer panicked".into()));
    read.and(sent)?;
    expect_close_after_ours(&mut s)
}

fn random_pieces(c: &Echo) -> TestResult {
    const LEN: usize = 2 * 1024 * 1024;
    let mut s = net::connect(c.addr)?;
    let mut writer = s.try_clone().map_err(|e| e.to_string())?;
    let sender = thread::spawn(move || {
        let data = pattern_bytes(LEN);
        let mut rng = Prng::new(0x5eed);
        let mut off = 0;
        while off < LEN {
            let n = rng.between(1, 70_000).min(LEN - off);
            writer
                .write_all(&data[off..off + n])
                .map_err(|e| format!("write at {off}: {e}"))?;
            off += n;
        }
        Ok::<(), String>(())
    });
    let mut rng = Prng::new(0xfeed);
    let mut buf = vec![0u8; 70_000];
    let mut off = 0;
    let read = (|| {
        while off < LEN {
            let want = rng.between(1, buf.len()).min(LEN - off);
            let n = s
                .read(&mut buf[..want])
                .map_err(|e| format!("read at {off}: {e}"))?;
            ensure(n > 0, || format!("EOF after {off} of {LEN} bytes"))?;
            if let Some(i) = (0..n).find(|&i| buf[i] != pattern(off + i)) {
                return Err(format!("byte {} differs", off + i));
            }
            off += n;
        }
        Ok(())
    })();
    let sent = sender
        .join()
        .unwrap_or_else(|_| Err("writer panicked".into()));
    read.and(sent)?;
    expect_close_after_ours(&mut s)
}

fn half_close(c: &Echo) -> TestResult {
    const LEN: usize = 1024 * 1024;
    let mut s = net::connect(c.addr)?;
    let mut writer = s.try_clone().map_err(|e| e.to_string())?;
    let sender = thread::spawn(move || {
        writer
            .write_all(&pattern_bytes(LEN))
            .and_then(|_| writer.shutdown(Shutdown::Write))
            .map_err(|e| format!("write/shutdown: {e}"))
    });
    let got = net::read_to_close(&mut s, Duration::from_secs(20));
    let sent = sender
        .join()
        .unwrap_or_else(|_| Err("writer panicked".into()));
    let (got, how) = got?;
    sent?;
    ensure(how == net::Closed::Eof, || {
        format!("reset instead of EOF after {} bytes", got.len())
    })?;
    ensure(got.len() == LEN, || {
        format!("got {} of {LEN} bytes before EOF", got.len())
    })?;
    match (0..LEN).find(|&i| got[i] != pattern(i)) {
        Some(i) => Err(format!("byte {i} differs")),
        None => Ok(()),
    }
}

/// The last bytes and the FIN in one segment (corked, then `shutdown(Write)`): the echo
/// comes back, then the close at once, not at the idle timeout.
fn last_bytes_with_fin(c: &Echo) -> TestResult {
    const LEN: usize = 100;
    let mut s = net::connect(c.addr)?;
    net::set_cork(&s, true)?;
    s.write_all(&pattern_bytes(LEN))
        .map_err(|e| format!("write: {e}"))?;
    s.shutdown(Shutdown::Write)
        .map_err(|e| format!("shutdown: {e}"))?;
    let (got, how) = net::read_to_close(&mut s, Duration::from_millis(2000))?;
    ensure(how == net::Closed::Eof, || "reset instead of EOF".into())?;
    ensure(got == pattern_bytes(LEN), || {
        format!("got {} bytes back, want the {LEN} sent", got.len())
    })
}

/// Opens `count` connections, `per_thread` per thread, and runs `rounds` round trips on all
/// of them with every connection open at once. Returns when all threads are done.
fn many_clients(addr: SocketAddr, count: usize, per_thread: usize, rounds: usize) -> TestResult {
    let threads: Vec<_> = (0..count.div_ceil(per_thread))
        .map(|t| {
            thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || client_group(addr, t, per_thread, rounds))
        })
        .collect::<Result<_, _>>()
        .map_err(|e| format!("spawn: {e}"))?;
    let mut errors: Vec<String> = threads
        .into_iter()
        .filter_map(|h| h.join().unwrap_or_else(|_| Err("panicked".into())).err())
        .collect();
    let n = errors.len();
    errors.truncate(3);
    ensure(n == 0, || {
        format!("{n} client groups failed, e.g. {errors:?}")
    })
}

fn client_group(addr: SocketAddr, group: usize, size: usize, rounds: usize) -> TestResult {
    let mut conns = (0..size)
        .map(|_| net::connect(addr))
        .collect::<Result<Vec<_>, _>>()?;
    for round in 0..rounds {
        for (i, s) in conns.iter_mut().enumerate() {
            let msg = format!("g{group}-c{i}-r{round}\n");
            s.write_all(msg.as_bytes())
                .map_err(|e| format!("write: {e}"))?;
        }
        for (i, s) in conns.iter_mut().enumerate() {
            let msg = format!("g{group}-c{i}-r{round}\n").into_bytes();
            read_and_verify(s, msg.len(), |k| msg[k])
                .map_err(|e| format!("client {i} round {round}: {e}"))?;
        }
    }
    Ok(())
}

fn concurrent_1000_clients(c: &Echo) -> TestResult {
    net::raise_nofile(4096)?;
    many_clients(c.addr, 1000, 10, 5)
}

fn idle_do_not_stall_active(c: &Echo) -> TestResult {
    net::raise_nofile(4096)?;
    let mut idle = (0..300)
        .map(|_| net::connect(c.addr))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    many_clients(c.addr, 50, 1, 20)?;
    let took = started.elapsed();
    ensure(took < Duration::from_secs(10), || {
        format!(
            "50 active clients took {} ms beside 300 idle ones",
            took.as_millis()
        )
    })?;
    // The idle ones were not dropped either.
    for i in [0, 150, 299] {
        echo_roundtrip(&mut idle[i], b"still here").map_err(|e| format!("idle {i}: {e}"))?;
    }
    Ok(())
}

fn reset_client_isolated(c: &Echo) -> TestResult {
    for i in 0..10 {
        let mut s = net::connect(c.addr)?;
        net::set_rcvbuf(&s, 4096)?;
        // Send far more than we read, so the server is mid-echo when the RST arrives.
        s.set_write_timeout(Some(Duration::from_millis(500)))
            .map_err(|e| e.to_string())?;
        let data = pattern_bytes(512 * 1024);
        let _ = s.write_all(&data);
        let mut head = [0u8; 100];
        let _ = s.read(&mut head);
        net::set_linger_zero(&s)?;
        drop(s);
        let mut fresh = net::connect(c.addr)?;
        echo_roundtrip(&mut fresh, &pattern_bytes(64 * 1024))
            .map_err(|e| format!("fresh client after reset {i}: {e}"))?;
        expect_close_after_ours(&mut fresh)?;
    }
    Ok(())
}

/// The server sends with `TCP_NODELAY`. 20,000 bytes come back in two sends (16 KiB, the
/// server's buffer, `BUF_SIZE` in src/echo.rs, then the rest), both shorter than loopback's 64 KiB segments: with Nagle
/// on, the second waits for the ACK of the first, which this client (with nothing to send)
/// delays by 40 ms or more, in every round once its first quick ACKs are spent. Without it a
/// round takes a few milliseconds, even in the emulated debug guest. (Ping-pong of single
/// bytes cannot show Nagle: each request carries the ACK of the previous answer.)
fn nodelay_round_trips(c: &Echo) -> TestResult {
    let mut s = net::connect(c.addr)?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let data = pattern_bytes(20_000);
    let mut rounds = Vec::with_capacity(50);
    for i in 0..50 {
        let started = Instant::now();
        echo_roundtrip(&mut s, &data).map_err(|e| format!("round {i}: {e}"))?;
        rounds.push(started.elapsed());
    }
    rounds.sort();
    let median = rounds[rounds.len() / 2];
    ensure(median < Duration::from_millis(25), || {
        format!(
            "the median of 50 round trips of 20,000 bytes took {} ms (want < 25; a server \
             sending with Nagle on waits 40 ms for each delayed ACK)",
            median.as_millis()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_servers;
    use crate::report::{run_suite, Selection};

    #[test]
    fn suite_passes_against_a_correct_echo_server() {
        let addr = fake_servers::echo();
        assert_eq!(
            run_suite("kecho", Echo { addr }, suite(), &Selection::default()),
            0
        );
    }

    #[test]
    fn suite_fails_against_a_server_that_drops_a_byte() {
        let addr = fake_servers::lossy_echo();
        let sel = Selection {
            filter: Some("payload_64k".into()),
            ..Selection::default()
        };
        assert_eq!(run_suite("kecho", Echo { addr }, suite(), &sel), 1);
    }
}
