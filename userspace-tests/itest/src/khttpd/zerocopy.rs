//! File bodies sent without a copy (spliced page-cache pages): ranges starting mid-page, and a
//! file truncated while it is being sent. Whether bytes really went by reference is checked
//! by the script, from the module's `bytes_spliced` counter.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use super::Http;
use crate::net;
use crate::pattern::{pattern, pattern_bytes};
use crate::report::{ensure, test, Test, TestResult};

/// The truncated file's size before and after the cut.
const TRUNC_LEN: u64 = 16 << 20;
const TRUNC_TO: u64 = 64 << 10;

pub fn tests() -> Vec<Test<Http>> {
    vec![
        // Odd offsets and lengths: the first and last page are partial.
        test("range_odd_offset_300k_intact", 30, |c| {
            range_intact(c, 12_345, 300_001)
        }),
        test("range_last_100k_intact", 30, |c| {
            let len = big_len(c)?;
            range_intact(c, len - 100_003, 100_003)
        }),
        test("truncated_during_send_closes", 60, truncated),
    ]
}

fn big_len(c: &Http) -> Result<u64, String> {
    fs::metadata(c.root.join("big.bin"))
        .map(|m| m.len())
        .map_err(|e| format!("stat big.bin: {e}"))
}

/// `bytes=first-(first+len-1)` of big.bin: a 206 whose every byte matches its offset.
fn range_intact(c: &Http, first: u64, len: u64) -> TestResult {
    let total = big_len(c)?;
    ensure(first + len <= total, || {
        format!("big.bin has {total} bytes, the test needs {}", first + len)
    })?;
    let last = first + len - 1;
    let r = c.fetch(&c.request(
        "GET",
        "/big.bin",
        &format!("Range: bytes={first}-{last}\r\n"),
    ))?;
    let r = r.expect_status(206)?;
    ensure(r.body.len() as u64 == len, || {
        format!("{} body bytes, want {len}", r.body.len())
    })?;
    match r
        .body
        .iter()
        .zip(first..)
        .find(|(b, at)| **b != pattern(*at))
    {
        Some((_, at)) => Err(format!("byte at file offset {at} differs")),
        None => Ok(()),
    }
}

/// A 16 MiB file is cut to 64 KiB after the client read 64 KiB of it, with the client's
/// receive buffer small so that most of the file is still unsent: the server must close the
/// connection short of the promised length (never pad it, never hang), every byte it did send
/// must be the file's, and it must go on serving.
fn truncated(c: &Http) -> TestResult {
    let name = format!("trunc-{}.bin", std::process::id());
    let path = c.root.join(&name);
    let result = (|| {
        let mut f = fs::File::create(&path).map_err(|e| format!("create {name}: {e}"))?;
        for start in (0..TRUNC_LEN).step_by(1 << 20) {
            f.write_all(&pattern_bytes(start, 1 << 20))
                .map_err(|e| format!("write {name}: {e}"))?;
        }
        drop(f);
        let mut conn = c.conn()?;
        net::set_rcvbuf(&conn.stream, 64 << 10)?;
        conn.send(&c.get(&format!("/{name}")))?;
        let (head, early) = conn.head_only()?;
        ensure(head.status == 200, || format!("status {}", head.status))?;
        let mut got = early;
        let mut chunk = vec![0u8; 64 << 10];
        while (got.len() as u64) < TRUNC_TO {
            let n = conn
                .stream
                .read(&mut chunk)
                .map_err(|e| format!("read before the cut: {e}"))?;
            ensure(n > 0, || {
                format!("EOF after {} bytes, before the cut", got.len())
            })?;
            got.extend_from_slice(&chunk[..n]);
        }
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(TRUNC_TO))
            .map_err(|e| format!("truncate {name}: {e}"))?;
        let cut = Instant::now();
        conn.stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .map_err(|e| format!("timeout: {e}"))?;
        loop {
            match conn.stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                Err(e) if net::is_reset(&e) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(format!(
                        "not closed {} ms after the cut ({} bytes read): {e}",
                        cut.elapsed().as_millis(),
                        got.len()
                    ))
                }
            }
        }
        ensure((got.len() as u64) < TRUNC_LEN, || {
            format!("all {TRUNC_LEN} bytes arrived although the file was cut to {TRUNC_TO}")
        })?;
        if let Some(at) = (0..got.len()).find(|&i| got[i] != pattern(i as u64)) {
            return Err(format!(
                "byte {at} of {} received differs from the file's",
                got.len()
            ));
        }
        c.expect_file("/a.txt", "a.txt").map(|_| ())
    })();
    let _ = fs::remove_file(&path);
    result
}
