//! Pipelining, files over 4 GiB, If-Range, and ranges of a generated listing.

use std::io::Write;

use super::Hard;
use crate::fixtures::hard::*;
use crate::http_client::Response;
use crate::pattern::pattern_bytes;
use crate::report::{ensure, test, Test, TestResult};

pub fn tests() -> Vec<Test<Hard>> {
    vec![
        test("pipelined_100_in_one_write", 60, pipelined_100),
        test("huge_head_5gib", 15, huge_head),
        test("huge_range_past_4gib", 15, huge_range),
        test("huge_suffix_range", 15, huge_suffix),
        test("huge_range_beyond_end_416", 15, huge_416),
        test("if_range_same_date_206", 15, |c: &Hard| {
            if_range(c, IfRange::SameDate)
        }),
        test("if_range_other_date_200", 15, |c: &Hard| {
            if_range(c, IfRange::OtherDate)
        }),
        test("if_range_etag_200", 15, |c: &Hard| {
            if_range(c, IfRange::OtherETag)
        }),
        test("if_range_own_etag_206", 15, |c: &Hard| {
            if_range(c, IfRange::OwnETag)
        }),
        test("if_range_weak_own_etag_200", 15, |c: &Hard| {
            if_range(c, IfRange::WeakOwnETag)
        }),
        test("listing_range_206", 15, listing_range),
    ]
}

/// Request `i` of the pipeline: (target, extra header lines, expected status and body).
fn pipelined_request(c: &Hard, i: usize) -> Result<(String, String, u16, Vec<u8>), String> {
    // Padding makes the requests add up to more than one 16 KiB input buffer.
    let pad = format!("X-Pad: {}\r\n", "p".repeat(100 + i % 7));
    let (name, text) = SMALL_FILES[i % SMALL_FILES.len()];
    Ok(match i % 4 {
        0 => (format!("/{name}"), pad, 200, text.as_bytes().to_vec()),
        1 => {
            let first = (i * 37_813) % (BODY4M_LEN - 200);
            let range = format!("Range: bytes={first}-{}\r\n", first + 99 + i % 50);
            let body = pattern_bytes(first as u64, 100 + i % 50);
            (format!("/{BODY4M_FILE}"), range + &pad, 206, body)
        }
        2 => {
            let n = 1 + i % 5;
            let body = text.as_bytes()[text.len() - n..].to_vec();
            (
                format!("/{name}"),
                format!("Range: bytes=-{n}\r\n{pad}"),
                206,
                body,
            )
        }
        _ => {
            let body = c.file(name)?[2..].to_vec();
            (
                format!("/{name}"),
                format!("Range: bytes=2-\r\n{pad}"),
                206,
                body,
            )
        }
    })
}

fn pipelined_100(c: &Hard) -> TestResult {
    let mut raw = Vec::new();
    let mut expected = Vec::new();
    for i in 0..100 {
        let (target, extra, status, body) = pipelined_request(c, i)?;
        raw.extend(c.request("GET", &target, &extra));
        expected.push((target, status, body));
    }
    let mut conn = c.conn()?;
    // One write: every request is in the server's socket at once.
    let n = conn.stream.write(&raw).map_err(|e| format!("write: {e}"))?;
    ensure(n == raw.len(), || {
        format!("short write: {n} of {} bytes", raw.len())
    })?;
    for (i, (target, status, body)) in expected.iter().enumerate() {
        conn.response()
            .and_then(|r| r.expect_status(*status)?.expect_body(body).map(|_| ()))
            .map_err(|e| format!("response {i} ({target}): {e}"))?;
    }
    Ok(())
}

fn get_with(c: &Hard, method: &str, target: &str, extra: &str) -> Result<Response, String> {
    let mut conn = c.conn()?;
    conn.send(&c.request(method, target, extra))?;
    if method == "HEAD" {
        conn.head_response()
    } else {
        conn.response()
    }
}

fn expect_header(r: &Response, name: &str, want: &str) -> TestResult {
    let got = r.head.header(name);
    ensure(got == Some(want), || {
        format!("{} response: {name} {got:?}, want {want:?}", r.head.status)
    })
}

fn huge_head(c: &Hard) -> TestResult {
    let r = get_with(c, "HEAD", &format!("/{HUGE_FILE}"), "")?;
    r.expect_status(200)?;
    expect_header(&r, "content-length", &HUGE_LEN.to_string())
}

fn huge_range(c: &Hard) -> TestResult {
    let (first, last) = (HUGE_MARK_AT, HUGE_MARK_AT + 15);
    let range = format!("Range: bytes={first}-{last}\r\n");
    let r = get_with(c, "GET", &format!("/{HUGE_FILE}"), &range)?;
    r.expect_status(206)?.expect_body(HUGE_MARKER)?;
    expect_header(
        &r,
        "content-range",
        &format!("bytes {first}-{last}/{HUGE_LEN}"),
    )
}

fn huge_suffix(c: &Hard) -> TestResult {
    let r = get_with(c, "GET", &format!("/{HUGE_FILE}"), "Range: bytes=-16\r\n")?;
    r.expect_status(206)?.expect_body(&[0u8; 16])?;
    let first = HUGE_LEN - 16;
    let want = format!("bytes {first}-{}/{HUGE_LEN}", HUGE_LEN - 1);
    expect_header(&r, "content-range", &want)
}

fn huge_416(c: &Hard) -> TestResult {
    let range = format!("Range: bytes={HUGE_LEN}-\r\n");
    let r = get_with(c, "GET", &format!("/{HUGE_FILE}"), &range)?;
    r.expect_status(416)?;
    expect_header(&r, "content-range", &format!("bytes */{HUGE_LEN}"))
}

enum IfRange {
    SameDate,
    OtherDate,
    /// Another entity-tag.
    OtherETag,
    /// The file's own ETag, as sent: a strong one.
    OwnETag,
    /// The file's own ETag marked weak, which the strong comparison never matches.
    WeakOwnETag,
}

/// `Range: bytes=0-3` with an `If-Range`: the range only if the validator matches.
fn if_range(c: &Hard, which: IfRange) -> TestResult {
    let full = c.file("a.txt")?;
    let plain = c.fetch(&c.get("/a.txt"))?;
    plain.expect_status(200)?.expect_body(&full)?;
    let modified = plain
        .head
        .header("last-modified")
        .ok_or("a.txt has no Last-Modified")?;
    let want_modified = crate::httpdate::format(OLD_MTIME);
    ensure(modified == want_modified, || {
        format!("a.txt Last-Modified {modified:?}, the file's mtime is {want_modified:?}")
    })?;
    let etag = plain.head.header("etag").ok_or("a.txt has no ETag")?;
    // nginx's form: "<hex mtime>-<hex size>".
    let want_etag = format!("\"{OLD_MTIME:x}-{:x}\"", full.len());
    ensure(etag == want_etag, || {
        format!("a.txt ETag {etag:?}, want {want_etag:?}")
    })?;
    let (validator, status, body) = match which {
        IfRange::SameDate => (modified.to_string(), 206, full[..4].to_vec()),
        IfRange::OtherDate => ("Wed, 01 Jan 2014 00:00:00 GMT".into(), 200, full.clone()),
        IfRange::OtherETag => ("\"x\"".into(), 200, full.clone()),
        IfRange::OwnETag => (etag.to_string(), 206, full[..4].to_vec()),
        IfRange::WeakOwnETag => (format!("W/{etag}"), 200, full.clone()),
    };
    let extra = format!("Range: bytes=0-3\r\nIf-Range: {validator}\r\n");
    let r = get_with(c, "GET", "/a.txt", &extra)?;
    r.expect_status(status)
        .and_then(|r| r.expect_body(&body))
        .map(|_| ())
        .map_err(|e| format!("If-Range: {validator}: {e}"))
}

fn listing_range(c: &Hard) -> TestResult {
    let full = c.fetch(&c.get("/"))?;
    full.expect_status(200)?;
    ensure(full.body.len() > 10, || "listing of / too short".into())?;
    let r = get_with(c, "GET", "/", "Range: bytes=0-9\r\n")?;
    r.expect_status(206)?.expect_body(&full.body[..10])?;
    expect_header(
        &r,
        "content-range",
        &format!("bytes 0-9/{}", full.body.len()),
    )
}
