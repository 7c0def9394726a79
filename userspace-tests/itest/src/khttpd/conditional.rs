//! Last-Modified / If-Modified-Since, byte ranges, and the large file.

use std::io::Read;

use super::Http;
use crate::http_client::Response;
use crate::httpdate;
use crate::pattern::pattern;
use crate::report::{ensure, test, Test, TestResult};

pub fn tests() -> Vec<Test<Http>> {
    vec![
        test("last_modified_matches_mtime", 15, last_modified),
        test("if_modified_since_equal_304", 15, not_modified),
        test("if_modified_since_older_200", 15, modified_since_older),
        test("if_none_match_etag_304", 15, none_match),
        test("range_first_ten_206", 15, |c| range(c, "bytes=0-9", 0, 9)),
        test("range_open_end_206", 15, |c| range(c, "bytes=10-", 10, 99)),
        test("range_suffix_206", 15, |c| range(c, "bytes=-5", 95, 99)),
        // The whole file asked for as a range is still a 206, as nginx answers it (REDbot
        // flags a 200 there as RANGE_FULL).
        test("range_whole_file_206", 15, |c| {
            range(c, "bytes=0-", 0, 99)?;
            range(c, "bytes=0-99", 0, 99)
        }),
        test("range_unsatisfiable_416", 15, unsatisfiable),
        test("range_multi_gives_full_200", 15, |c| {
            full(c, "bytes=0-1,5-6")
        }),
        test("range_garbage_gives_full_200", 15, |c| {
            ["bytes=abc", "pages=0-5", "bytes="]
                .iter()
                .try_for_each(|v| full(c, v))
        }),
        test("range_deep_in_big_file", 30, range_in_big),
        test("big_file_intact", 180, big_file).alone(),
    ]
}

fn mtime_date(c: &Http, rel: &str) -> Result<String, String> {
    let meta = std::fs::metadata(c.root.join(rel)).map_err(|e| format!("stat {rel}: {e}"))?;
    let mtime = meta.modified().map_err(|e| format!("mtime {rel}: {e}"))?;
    Ok(httpdate::format_time(mtime))
}

fn last_modified(c: &Http) -> TestResult {
    let r = c.expect_file("/a.txt", "a.txt")?;
    let want = mtime_date(c, "a.txt")?;
    let got = r.head.header("last-modified");
    ensure(got == Some(want.as_str()), || {
        format!("Last-Modified {got:?}, want {want:?}")
    })
}

fn not_modified(c: &Http) -> TestResult {
    let r = c.fetch(&c.get("/a.txt"))?;
    let stamp = r
        .head
        .header("last-modified")
        .ok_or("no Last-Modified")?
        .to_string();
    let mut conn = c.conn()?;
    let mut raw = c.request("GET", "/a.txt", &format!("If-Modified-Since: {stamp}\r\n"));
    raw.extend(c.get("/b.txt"));
    conn.send(&raw)?;
    conn.response()?.expect_status(304)?;
    // A body after the 304 would be parsed as the next status line here.
    conn.response()
        .map_err(|e| format!("response after 304: {e}"))?
        .expect_status(200)?
        .expect_body(&c.file("b.txt")?)
        .map(|_| ())
}

/// The ETag sent back in If-None-Match: a 304 with the ETag and no body, on a connection
/// that goes on serving.
fn none_match(c: &Http) -> TestResult {
    let r = c.fetch(&c.get("/a.txt"))?;
    let etag = r.head.header("etag").ok_or("no ETag")?.to_string();
    let mut conn = c.conn()?;
    let mut raw = c.request("GET", "/a.txt", &format!("If-None-Match: {etag}\r\n"));
    raw.extend(c.get("/b.txt"));
    conn.send(&raw)?;
    let r = conn.response()?;
    r.expect_status(304)?;
    let got = r.head.header("etag");
    ensure(got == Some(etag.as_str()), || {
        format!("304 ETag {got:?}, want {etag:?}")
    })?;
    // A body after the 304 would be parsed as the next status line here.
    conn.response()
        .map_err(|e| format!("response after 304: {e}"))?
        .expect_status(200)?
        .expect_body(&c.file("b.txt")?)
        .map(|_| ())
}

fn modified_since_older(c: &Http) -> TestResult {
    let extra = "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n";
    c.fetch(&c.request("GET", "/a.txt", extra))?
        .expect_status(200)?
        .expect_body(&c.file("a.txt")?)
        .map(|_| ())
}

fn ranged(c: &Http, rel: &str, spec: &str) -> Result<Response, String> {
    c.fetch(&c.request("GET", &format!("/{rel}"), &format!("Range: {spec}\r\n")))
}

fn expect_content_range(r: &Response, want: &str) -> TestResult {
    let got = r.head.header("content-range");
    ensure(got == Some(want), || {
        format!("Content-Range {got:?}, want {want:?}")
    })
}

fn range(c: &Http, spec: &str, first: usize, last: usize) -> TestResult {
    let file = c.file("range.txt")?;
    let r = ranged(c, "range.txt", spec)?;
    r.expect_status(206)?.expect_body(&file[first..=last])?;
    expect_content_range(&r, &format!("bytes {first}-{last}/{}", file.len()))
}

fn unsatisfiable(c: &Http) -> TestResult {
    let len = c.file("range.txt")?.len();
    let r = ranged(c, "range.txt", "bytes=999999-")?;
    r.expect_status(416)?;
    expect_content_range(&r, &format!("bytes */{len}"))
}

fn full(c: &Http, spec: &str) -> TestResult {
    ranged(c, "range.txt", spec)?
        .expect_status(200)
        .map_err(|e| format!("Range: {spec}: {e}"))?
        .expect_body(&c.file("range.txt")?)
        .map(|_| ())
}

fn big_len(c: &Http) -> Result<u64, String> {
    std::fs::metadata(c.root.join("big.bin"))
        .map(|m| m.len())
        .map_err(|e| format!("stat big.bin: {e}"))
}

fn range_in_big(c: &Http) -> TestResult {
    let len = big_len(c)?;
    let first = (len / 4 * 3).min(50_000_000);
    let last = first + 99;
    let r = ranged(c, "big.bin", &format!("bytes={first}-{last}"))?;
    let want: Vec<u8> = (first..=last).map(pattern).collect();
    r.expect_status(206)?.expect_body(&want)?;
    expect_content_range(&r, &format!("bytes {first}-{last}/{len}"))
}

/// Streams big.bin and checks every byte against its offset, then reuses the connection.
fn big_file(c: &Http) -> TestResult {
    let len = big_len(c)?;
    let mut conn = c.conn()?;
    conn.send(&c.get("/big.bin"))?;
    let (head, early) = conn.head_only()?;
    ensure(head.status == 200, || format!("status {}", head.status))?;
    let declared = head.content_length()?;
    ensure(declared == Some(len as usize), || {
        format!("Content-Length {declared:?}, file has {len}")
    })?;
    ensure(early.len() as u64 <= len, || {
        "more bytes than the file".into()
    })?;
    let mut offset = 0u64;
    let check = |bytes: &[u8], offset: &mut u64| -> TestResult {
        for &b in bytes {
            ensure(b == pattern(*offset), || format!("byte {offset} differs"))?;
            *offset += 1;
        }
        Ok(())
    };
    check(&early, &mut offset)?;
    let mut chunk = vec![0u8; 256 * 1024];
    while offset < len {
        let want = chunk.len().min((len - offset) as usize);
        let n = conn
            .stream
            .read(&mut chunk[..want])
            .map_err(|e| format!("read at {offset} of {len}: {e}"))?;
        ensure(n > 0, || format!("EOF at {offset} of {len}"))?;
        check(&chunk[..n], &mut offset)?;
    }
    conn.send(&c.get("/a.txt"))?;
    conn.response()
        .map_err(|e| format!("request after big file: {e}"))?
        .expect_status(200)?
        .expect_body(&c.file("a.txt")?)
        .map(|_| ())
}
