//! Lingering close: an error response stays readable while the client is still sending.
//!
//! Closing a socket with unread input sends a reset, which destroys the response in the
//! client's receive queue (and fails its writes). A server that shuts its write side down and
//! drains the input for a while lets the client finish sending and then read the whole
//! response followed by a clean EOF.

use std::io::Write;
use std::time::Duration;

use super::{one_response_then_eof, Hard};
use crate::pattern::pattern_bytes;
use crate::report::{ensure, test, Test, TestResult};

const CHUNK: usize = 64 * 1024;

pub fn tests() -> Vec<Test<Hard>> {
    vec![
        test("lingering_413_while_body_sent", 60, |c: &Hard| {
            let len = 2 << 20;
            let head = c.request("GET", "/a.txt", &format!("Content-Length: {len}\r\n"));
            error_then_eof(c, &head, len, 413)
        }),
        test("lingering_400_then_garbage", 60, |c: &Hard| {
            let head = c.request("GET", "/a.txt", "NoColonHere\r\n");
            error_then_eof(c, &head, 1 << 20, 400)
        }),
    ]
}

/// Sends `head`, then `len` more bytes in 64 KiB writes that must all succeed, then reads:
/// one complete `status` response (body as long as its Content-Length), then EOF.
fn error_then_eof(c: &Hard, head: &[u8], len: usize, status: u16) -> TestResult {
    let mut conn = c.conn()?;
    conn.send(head)?;
    let body = pattern_bytes(7, len);
    for (i, chunk) in body.chunks(CHUNK).enumerate() {
        conn.stream.write_all(chunk).map_err(|e| {
            format!(
                "write {i} ({} of {len} bytes sent after the head): {e}",
                i * CHUNK
            )
        })?;
    }
    let r = one_response_then_eof(&mut conn.stream, Duration::from_secs(10), false)?;
    r.expect_status(status)?;
    let declared = r.head.content_length()?;
    ensure(declared == Some(r.body.len()), || {
        format!(
            "{status} body {} bytes, Content-Length {declared:?}",
            r.body.len()
        )
    })
}
