//! Request/response framing: methods, keep-alive, pipelining, request forms.

use std::net::Shutdown;
use std::thread;
use std::time::Duration;

use super::{has_required_headers, Http, CLOSE_WITHIN};
use crate::httpdate;
use crate::net;
use crate::report::{ensure, test, Test, TestResult};

pub fn tests() -> Vec<Test<Http>> {
    vec![
        test("get_200_body_and_type", 15, get_200),
        test("head_no_body_then_pipelined", 15, head_no_body),
        test("required_headers", 20, required_headers),
        test("keepalive_default_http11", 15, keepalive_default),
        test("connection_close_honoured", 15, connection_close),
        test("request_and_fin_in_one_segment", 15, request_and_fin),
        test("http10_closes", 15, http10_closes),
        test("http10_keepalive_stays_open", 15, http10_keepalive),
        test("pipelined_three_in_order", 15, pipelined_three),
        test("one_byte_per_write", 30, one_byte_per_write).alone(),
        test("absolute_form_target", 15, absolute_form),
        test("query_string_ignored", 15, query_ignored),
        test("not_found_404_keeps_connection", 15, not_found),
        test("post_405_with_allow", 15, post_405),
        test("unknown_method_501", 15, unknown_method),
        test("get_body_discarded_then_pipelined", 15, body_discarded),
        test("expect_100_continue", 20, expect_continue),
        test("date_is_now_and_moves_on", 20, date_is_now),
    ]
}

fn get_200(c: &Http) -> TestResult {
    let r = c.expect_file("/a.txt", "a.txt")?;
    ensure(r.head.media_type().as_deref() == Some("text/plain"), || {
        format!("Content-Type {:?}", r.head.header("content-type"))
    })?;
    ensure(r.head.version == "HTTP/1.1", || {
        format!("version {}", r.head.version)
    })
}

fn head_no_body(c: &Http) -> TestResult {
    let get = c.fetch(&c.get("/a.txt"))?;
    let mut conn = c.conn()?;
    let mut both = c.request("HEAD", "/a.txt", "");
    both.extend(c.get("/b.txt"));
    conn.send(&both)?;
    let head = conn.head_response()?;
    head.expect_status(200)?;
    for name in ["content-length", "content-type"] {
        ensure(head.head.header(name) == get.head.header(name), || {
            format!(
                "HEAD {name} {:?} differs from GET {:?}",
                head.head.header(name),
                get.head.header(name)
            )
        })?;
    }
    // A body after the HEAD response would be parsed as the next status line here.
    let next = conn
        .response()
        .map_err(|e| format!("response after HEAD: {e}"))?;
    next.expect_status(200)?.expect_body(&c.file("b.txt")?)?;
    Ok(())
}

fn required_headers(c: &Http) -> TestResult {
    let requests = [
        c.get("/a.txt"),
        c.get("/no-such-file.txt"),
        c.request("POST", "/a.txt", "Content-Length: 0\r\n"),
        c.get("/sub"),
        b"GET /a.txt HTTP/1.1\r\n\r\n".to_vec(),
    ];
    for raw in requests {
        has_required_headers(&c.fetch(&raw)?)?;
    }
    Ok(())
}

fn keepalive_default(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    for (target, rel) in [
        ("/a.txt", "a.txt"),
        ("/b.txt", "b.txt"),
        ("/c.txt", "c.txt"),
    ] {
        conn.send(&c.get(target))?;
        let r = conn.response()?;
        r.expect_status(200)?.expect_body(&c.file(rel)?)?;
        ensure(!r.head.connection_has("close"), || {
            "HTTP/1.1 response says close".into()
        })?;
    }
    Ok(())
}

fn connection_close(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    conn.send(&c.request("GET", "/a.txt", "Connection: close\r\n"))?;
    let r = conn.response()?;
    r.expect_status(200)?.expect_body(&c.file("a.txt")?)?;
    ensure(r.head.connection_has("close"), || {
        format!("Connection: {:?}", r.head.header("connection"))
    })?;
    conn.expect_closed(CLOSE_WITHIN).map(|_| ())
}

/// The request and the client's FIN in one segment (corked, then `shutdown(Write)`): the
/// server answers, then closes at once, having seen the end of the stream with the request
/// (not only at the keep-alive timeout: 4 s in this suite).
fn request_and_fin(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    net::set_cork(&conn.stream, true)?;
    conn.send(&c.request("GET", "/a.txt", ""))?;
    conn.stream
        .shutdown(Shutdown::Write)
        .map_err(|e| format!("shutdown: {e}"))?;
    let r = conn.response()?;
    r.expect_status(200)?.expect_body(&c.file("a.txt")?)?;
    conn.expect_closed(Duration::from_millis(1500)).map(|_| ())
}

fn http10_closes(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    conn.send(b"GET /a.txt HTTP/1.0\r\n\r\n")?;
    conn.response()?
        .expect_status(200)?
        .expect_body(&c.file("a.txt")?)?;
    conn.expect_closed(CLOSE_WITHIN).map(|_| ())
}

fn http10_keepalive(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    let raw = b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    conn.send(raw)?;
    let r = conn.response()?;
    r.expect_status(200)?;
    ensure(r.head.connection_has("keep-alive"), || {
        format!("Connection: {:?}", r.head.header("connection"))
    })?;
    conn.send(raw)?;
    conn.response()
        .map_err(|e| format!("second request: {e}"))?
        .expect_status(200)?
        .expect_body(&c.file("a.txt")?)
        .map(|_| ())
}

fn pipelined_three(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    let mut raw = c.get("/a.txt");
    raw.extend(c.get("/b.txt"));
    raw.extend(c.get("/c.txt"));
    conn.send(&raw)?;
    for rel in ["a.txt", "b.txt", "c.txt"] {
        conn.response()
            .map_err(|e| format!("response for {rel}: {e}"))?
            .expect_status(200)?
            .expect_body(&c.file(rel)?)?;
    }
    Ok(())
}

fn one_byte_per_write(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    let raw = c.request(
        "GET",
        "/b.txt",
        "User-Agent: itest-trickle\r\nAccept: */*\r\n",
    );
    for b in raw.chunks(1) {
        conn.send(b)?;
        thread::sleep(Duration::from_millis(2));
    }
    conn.response()?
        .expect_status(200)?
        .expect_body(&c.file("b.txt")?)
        .map(|_| ())
}

fn absolute_form(c: &Http) -> TestResult {
    let target = format!("http://{}/a.txt", c.host());
    c.expect_file(&target, "a.txt").map(|_| ())
}

fn query_ignored(c: &Http) -> TestResult {
    c.expect_file("/a.txt?x=1", "a.txt").map(|_| ())
}

fn not_found(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    conn.send(&c.get("/no-such-file.txt"))?;
    conn.response()?.expect_status(404)?;
    conn.send(&c.get("/a.txt"))?;
    conn.response()
        .map_err(|e| format!("request after 404: {e}"))?
        .expect_status(200)
        .map(|_| ())
}

fn post_405(c: &Http) -> TestResult {
    let r = c.fetch(&c.request("POST", "/a.txt", "Content-Length: 0\r\n"))?;
    r.expect_status(405)?;
    let allow = r.head.header("allow").unwrap_or("");
    let methods: Vec<&str> = allow.split(',').map(str::trim).collect();
    ensure(
        methods.contains(&"GET") && methods.contains(&"HEAD"),
        || format!("Allow: {allow:?}"),
    )
}

fn unknown_method(c: &Http) -> TestResult {
    c.fetch(&c.request("FOO", "/a.txt", ""))?
        .expect_status(501)
        .map(|_| ())
}

fn body_discarded(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    let mut raw = c.request("GET", "/a.txt", "Content-Length: 10\r\n");
    raw.extend_from_slice(b"0123456789");
    raw.extend(c.get("/b.txt"));
    conn.send(&raw)?;
    conn.response()?
        .expect_status(200)?
        .expect_body(&c.file("a.txt")?)?;
    conn.response()
        .map_err(|e| format!("request after body: {e}"))?
        .expect_status(200)?
        .expect_body(&c.file("b.txt")?)
        .map(|_| ())
}

fn expect_continue(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    crate::net::set_timeouts(&conn.stream, Duration::from_secs(3))?;
    let extra = "Content-Length: 10\r\nExpect: 100-continue\r\n";
    conn.send(&c.request("GET", "/a.txt", extra))?;
    let interim = conn
        .response()
        .map_err(|e| format!("waiting for 100: {e}"))?;
    interim.expect_status(100)?;
    conn.send(b"0123456789")?;
    conn.response()?
        .expect_status(200)?
        .expect_body(&c.file("a.txt")?)
        .map(|_| ())
}

/// `Date` is the current second, on a 200 and on an error, and moves on with the clock on
/// the same connection (the server formats it once per second and shares it).
fn date_is_now(c: &Http) -> TestResult {
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    let mut conn = c.conn()?;
    let mut dates = Vec::new();
    for round in 0..2 {
        for target in ["/a.txt", "/no-such-file"] {
            let before = now();
            conn.send(&c.get(target))?;
            let r = conn.response()?;
            let after = now();
            let date = r.head.header("date").unwrap_or("").to_string();
            ensure(
                (before..=after).any(|s| httpdate::format(s) == date),
                || {
                    format!(
                        "{target}: Date {date:?}, the clock {}",
                        httpdate::format(after)
                    )
                },
            )?;
            dates.push(date);
        }
        if round == 0 {
            thread::sleep(Duration::from_millis(2100));
        }
    }
    ensure(dates.first() != dates.last(), || {
        format!("Date stayed {:?} over 2 s", dates.first())
    })
}
