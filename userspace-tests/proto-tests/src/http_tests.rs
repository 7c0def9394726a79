// SPDX-License-Identifier: GPL-2.0

//! Table tests for the request parser: each status path, each field rule, the smuggling
//! cases of RFC 9112 sections 6.3 and 11, pipelining and keep-alive.

use std::format;
use std::string::String;
use std::vec::Vec;

use crate::proto::etag::IfNoneMatch;
use crate::proto::http::{parse, Limits, Method, Parsed, Reject, Request, Version};
use crate::proto::status::Status;

/// Shows bytes for a failure message.
fn show(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).escape_debug().collect()
}

/// Parses `raw`, which must be a complete head.
fn complete(raw: &[u8]) -> (Request<'_>, usize) {
    match parse(raw, &Limits::DEFAULT) {
        Parsed::Complete { req, head_len } => (req, head_len),
        other => panic!("{other:?} for {}", show(raw)),
    }
}

/// The status a rejected `raw` gets under `limits`; every reject must close.
fn reject_with(raw: &[u8], limits: &Limits) -> Option<u16> {
    match parse(raw, limits) {
        Parsed::Reject(Reject { status, close }) => {
            assert!(close, "reject without close for {}", show(raw));
            Some(status.code())
        }
        _ => None,
    }
}

/// Checks a table of (case, request, expected status) against `limits`.
fn check_rejects(limits: &Limits, table: &[(&str, &[u8], u16)]) {
    let failures: Vec<String> = table
        .iter()
        .filter_map(|&(case, raw, want)| {
            let got = reject_with(raw, limits);
            (got != Some(want))
                .then(|| format!("{case}: want {want}, got {:?}", parse(raw, limits)))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn default_limits() {
    let Limits {
        max_target,
        max_head,
        max_headers,
        max_body,
    } = Limits::DEFAULT;
    assert_eq!(
        (max_target, max_head, max_headers, max_body),
        (8192, 16384, 64, 1 << 20)
    );
}

#[test]
fn simple_get() {
    let raw = b"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";
    let (req, len) = complete(raw);
    assert_eq!(len, raw.len());
    assert_eq!(req.method, Method::Get);
    assert_eq!(req.version, Version::Http11);
    assert_eq!(req.target, b"/index.html?x=1");
    assert_eq!(req.path, b"/index.html");
    assert_eq!(req.host, Some(&b"example.com"[..]));
    assert!(req.keep_alive);
    assert_eq!(req.content_length, 0);
    assert!(!req.expect_continue);
    assert_eq!(req.if_modified_since, None);
    assert_eq!(req.range, None);
    assert_eq!(req.if_range, None);
}

#[test]
fn bare_lf_line_ends_are_accepted() {
    let raw = b"GET / HTTP/1.1\nHost: a\n\n";
    assert_eq!(complete(raw).1, raw.len());
}

#[test]
fn leading_empty_lines_are_skipped_and_counted() {
    let raw = b"\r\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let (req, len) = complete(raw);
    assert_eq!(len, raw.len());
    assert_eq!(req.path, b"/");
}

#[test]
fn partial_heads() {
    for raw in [
        &b""[..],
        b"\r",
        b"\r\n",
        b"G",
        b"GET /",
        b"GET / HTTP/1.1",
        b"GET / HTTP/1.1\r",
        b"GET / HTTP/1.1\r\n",
        b"GET / HTTP/1.1\r\nHost: a",
        b"GET / HTTP/1.1\r\nHost: a\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r",
    ] {
        assert_eq!(
            parse(raw, &Limits::DEFAULT),
            Parsed::Partial,
            "{}",
            show(raw)
        );
    }
}

#[test]
fn methods() {
    for (token, method, allowed) in [
        ("GET", Method::Get, true),
        ("HEAD", Method::Head, true),
        ("POST", Method::Post, false),
        ("PUT", Method::Put, false),
        ("DELETE", Method::Delete, false),
        ("CONNECT", Method::Connect, false),
        ("OPTIONS", Method::Options, false),
        ("TRACE", Method::Trace, false),
        ("PATCH", Method::Patch, false),
    ] {
        let raw = format!("{token} / HTTP/1.1\r\nHost: a\r\n\r\n");
        let (req, _) = complete(raw.as_bytes());
        assert_eq!(req.method, method);
        assert_eq!(req.method.allowed(), allowed, "{token}");
        assert_eq!(req.method.name(), token);
    }
}

#[test]
fn user_agent_and_referer_for_the_log() {
    let (req, _) = complete(
        b"GET / HTTP/1.1\r\nHost: a\r\nUser-Agent:  curl/8 (x)  \r\nreferer: http://r/\r\n\r\n",
    );
    assert_eq!(req.user_agent, Some(&b"curl/8 (x)"[..]));
    assert_eq!(req.referer, Some(&b"http://r/"[..]));
    let (req, _) = complete(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!((req.user_agent, req.referer), (None, None));
    // Sent twice: neither value is the one, none is logged (and the request is served).
    let (req, _) = complete(b"GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n");
    assert_eq!(req.user_agent, None);
}

#[test]
fn versions() {
    for (version, want) in [
        ("HTTP/1.0", Version::Http10),
        ("HTTP/1.1", Version::Http11),
        ("HTTP/1.2", Version::Http11),
        ("HTTP/1.9", Version::Http11),
    ] {
        let raw = format!("GET / {version}\r\nHost: a\r\n\r\n");
        assert_eq!(complete(raw.as_bytes()).0.version, want, "{version}");
    }
}

#[test]
fn request_line_rejects() {
    check_rejects(
        &Limits::DEFAULT,
        &[
            ("unknown method", b"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501),
            (
                "lower-case method",
                b"get / HTTP/1.1\r\nHost: a\r\n\r\n",
                501,
            ),
            (
                "non-token method",
                b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
            ("empty method", b" / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            ("double space", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (
                "space before version",
                b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
            ("tab separator", b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            ("trailing space", b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400),
            ("no version", b"GET /\r\n\r\n", 400),
            ("method only", b"GET\r\n\r\n", 400),
            (
                "asterisk-form",
                b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
            (
                "authority-form",
                b"CONNECT a.com:443 HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
            (
                "relative target",
                b"GET index.html HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
            (
                "other scheme",
                b"GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
            (
                "empty authority",
                b"GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
            (
                "userinfo",
                b"GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
            ("fragment", b"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (
                "non-ASCII target",
                b"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
            ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
            ("HTTP/3", b"GET / HTTP/3\r\nHost: a\r\n\r\n", 505),
            ("HTTP/0.9", b"GET / HTTP/0.9\r\n\r\n", 505),
            ("HTTP/1", b"GET / HTTP/1\r\nHost: a\r\n\r\n", 400),
            ("HTTP/1.", b"GET / HTTP/1.\r\nHost: a\r\n\r\n", 400),
            ("HTTP/1.10", b"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400),
            ("HTTP/1.x", b"GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400),
            ("lower-case http", b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
            ("no major", b"GET / HTTP/.1\r\nHost: a\r\n\r\n", 400),
            ("junk version", b"GET / FOO\r\nHost: a\r\n\r\n", 400),
            ("NUL in target", b"GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (
                "bare CR in line",
                b"GET /\r HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
            ("bare CR line end", b"GET / HTTP/1.1\rHost: a\r\n\r\n", 400),
            ("CR CR LF", b"GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400),
            (
                "bare CR leading",
                b"\rGET / HTTP/1.1\r\nHost: a\r\n\r\n",
                400,
            ),
        ],
    );
}

#[test]
fn field_rejects() {
    check_rejects(
        &Limits::DEFAULT,
        &[
            ("no colon", b"GET / HTTP/1.1\r\nHost: a\r\nFoo\r\n\r\n", 400),
            (
                "space before colon",
                b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
                400,
            ),
            (
                "tab before colon",
                b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
                400,
            ),
            (
                "empty name",
                b"GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n",
                400,
            ),
            (
                "non-token name",
                b"GET / HTTP/1.1\r\nHost: a\r\nF(o: x\r\n\r\n",
                400,
            ),
            (
                "obs-fold SP",
                b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n",
                400,
            ),
            (
                "obs-fold HTAB",
                b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\t2\r\n\r\n",
                400,
            ),
            (
                "space after request line",
                b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
                400,
            ),
            (
                "NUL in value",
                b"GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n",
                400,
            ),
            (
                "bare CR in value",
                b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
                400,
            ),
            (
                "control in value",
                b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n",
                400,
            ),
            (
                "DEL in value",
                b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n",
                400,
            ),
            (
                "NUL in name",
                b"GET / HTTP/1.1\r\nHost: a\r\nX\0: b\r\n\r\n",
                400,
            ),
            ("bare CR end", b"GET / HTTP/1.1\r\nHost: a\r\r\n", 400),
            ("1.1 without Host", b"GET / HTTP/1.1\r\n\r\n", 400),
            (
                "two Hosts",
                b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
                400,
            ),
            (
                "two Hosts mixed case",
                b"GET / HTTP/1.1\r\nhost: a\r\nHOST: b\r\n\r\n",
                400,
            ),
            (
                "two Hosts in 1.0",
                b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
                400,
            ),
            (
                "Host with slash",
                b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
                400,
            ),
            (
                "Host with userinfo",
                b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",
                400,
            ),
            (
                "Host with space",
                b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
                400,
            ),
        ],
    );
}

#[test]
fn framing_rejects() {
    check_rejects(
        &Limits::DEFAULT,
        &[
            ("CL not digits", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400),
            ("CL negative", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
            ("CL plus", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", 400),
            ("CL empty", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400),
            ("CL hex", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400),
            ("CL inner space", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", 400),
            ("CL list differs", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n", 400),
            ("CL empty element", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,,1\r\n\r\n", 400),
            ("CL lines differ", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
            ("CL over u64", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", 400),
            ("CL and TE", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("TE and CL", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400),
            ("TE chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
            ("TE obfuscated", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 501),
            ("TE lower-case name", b"POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: chunked\r\n\r\n", 501),
            ("TE in 1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
            ("TE with space before colon", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 400),
            ("TE with tab value", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\n\r\n", 501),
            ("TE and CL in 1.0", b"POST / HTTP/1.0\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("vertical tab in TE name", b"POST / HTTP/1.1\r\nHost: a\r\n\x0bTransfer-Encoding: chunked\r\n\r\n", 400),
            ("TE folded onto a field", b"POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n", 400),
            ("CL with tab before colon", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 3\r\n\r\n", 400),
            ("CL split by bare CR", b"POST / HTTP/1.1\r\nHost: a\r\nX: y\rContent-Length: 3\r\n\r\n", 400),
            ("CL too large", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n", 413),
            ("CL u64 max", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n", 413),
        ],
    );
}

#[test]
fn content_length_accepted_forms() {
    for (value, want) in [
        ("0", 0),
        ("5", 5),
        ("005", 5),
        ("5, 5", 5),
        ("5,5 ,  5", 5),
        ("1048576", 1 << 20),
    ] {
        let raw = format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {value}\r\n\r\nhello");
        let (req, len) = complete(raw.as_bytes());
        assert_eq!(req.content_length, want, "{value}");
        assert_eq!(len, raw.len() - 5, "the body is left to the caller");
    }
    let raw = b"POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 3\r\nCONTENT-LENGTH: 3\r\n\r\n";
    assert_eq!(complete(raw).0.content_length, 3);
}

#[test]
fn size_limits() {
    let limits = Limits::DEFAULT;
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(8192));
    let max_target = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(8191));
    assert_eq!(complete(max_target.as_bytes()).0.target.len(), 8192);
    let too_many: String = (0..65).map(|i| format!("X-{i}: v\r\n")).collect();
    let too_many = format!("GET / HTTP/1.1\r\nHost: a\r\n{too_many}\r\n");
    let max_fields: String = (0..63).map(|i| format!("X-{i}: v\r\n")).collect();
    let max_fields = format!("GET / HTTP/1.1\r\nHost: a\r\n{max_fields}\r\n");
    complete(max_fields.as_bytes());
    let big_field = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
        "v".repeat(16384)
    );
    check_rejects(
        &limits,
        &[
            ("target over max", long_target.as_bytes(), 414),
            (
                "target over max, line unfinished",
                long_target.as_bytes().get(..8200).unwrap(),
                414,
            ),
            ("65 fields", too_many.as_bytes(), 431),
            ("head over max", big_field.as_bytes(), 431),
            (
                "head over max, unfinished",
                big_field.as_bytes().get(..16384).unwrap(),
                431,
            ),
        ],
    );
    // Just below the head limit nothing is decided yet.
    assert_eq!(
        parse(big_field.as_bytes().get(..16383).unwrap(), &limits),
        Parsed::Partial
    );
}

#[test]
fn head_limit_is_inclusive() {
    let raw = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let exact = Limits {
        max_head: raw.len(),
        ..Limits::DEFAULT
    };
    assert!(matches!(parse(raw, &exact), Parsed::Complete { .. }));
    let short = Limits {
        max_head: raw.len() - 1,
        ..Limits::DEFAULT
    };
    assert_eq!(reject_with(raw, &short), Some(431));
    // Leading empty lines count towards the head.
    let mut padded = std::vec![b'\n'];
    padded.extend_from_slice(raw);
    assert_eq!(reject_with(&padded, &exact), Some(431));
}

#[test]
fn target_limit_detected_before_line_ends() {
    let limits = Limits {
        max_target: 10,
        ..Limits::DEFAULT
    };
    assert_eq!(parse(b"GET /123456789", &limits), Parsed::Partial);
    assert_eq!(reject_with(b"GET /1234567890", &limits), Some(414));
    assert_eq!(
        reject_with(b"GET /1234567890 HTTP/1.1\r\n", &limits),
        Some(414)
    );
    // A bad method is refused as soon as it is seen.
    assert_eq!(reject_with(b"G(T", &limits), Some(400));
    assert_eq!(reject_with(b"GET\t", &limits), Some(400));
}

#[test]
fn max_body_limit() {
    let limits = Limits {
        max_body: 10,
        ..Limits::DEFAULT
    };
    let ok = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n";
    assert!(matches!(parse(ok, &limits), Parsed::Complete { .. }));
    let big = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
    assert_eq!(reject_with(big, &limits), Some(413));
}

#[test]
fn absolute_form() {
    for (target, path, host) in [
        ("http://example.com/a/b?q=1", "/a/b", "example.com"),
        ("http://example.com", "/", "example.com"),
        ("http://example.com?q", "/", "example.com"),
        ("HTTP://Example.com:8080/x", "/x", "Example.com:8080"),
        ("https://[::1]:443/x", "/x", "[::1]:443"),
    ] {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: other\r\n\r\n");
        let (req, _) = complete(raw.as_bytes());
        assert_eq!(req.target, target.as_bytes());
        assert_eq!(req.path, path.as_bytes(), "{target}");
        // RFC 9112 section 3.2.2: the target's authority wins over Host.
        assert_eq!(req.host, Some(host.as_bytes()), "{target}");
    }
    // HTTP/1.1 still needs a Host field.
    assert_eq!(
        reject_with(b"GET http://a/ HTTP/1.1\r\n\r\n", &Limits::DEFAULT),
        Some(400)
    );
    let (req, _) = complete(b"GET http://a/ HTTP/1.0\r\n\r\n");
    assert_eq!(req.host, Some(&b"a"[..]));
}

#[test]
fn http10_host_is_optional() {
    let (req, _) = complete(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(req.host, None);
    let (req, _) = complete(b"GET / HTTP/1.0\r\nHost: h\r\n\r\n");
    assert_eq!(req.host, Some(&b"h"[..]));
}

#[test]
fn field_names_are_case_insensitive_and_values_trimmed() {
    let raw = b"GET / HTTP/1.1\r\nhOsT: \t h \t\r\nIF-MODIFIED-SINCE:  Sun, 06 Nov 1994 08:49:37 GMT \r\nrange:bytes=0-1\r\nEXPECT: 100-Continue\r\nx-empty:\r\n\r\n";
    let (req, _) = complete(raw);
    assert_eq!(req.host, Some(&b"h"[..]));
    assert_eq!(
        req.if_modified_since,
        Some(&b"Sun, 06 Nov 1994 08:49:37 GMT"[..])
    );
    assert_eq!(req.range, Some(&b"bytes=0-1"[..]));
    assert!(req.expect_continue);
}

#[test]
fn repeated_conditional_fields_are_ignored() {
    let raw = b"GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\nIf-Modified-Since: a\r\nIf-Modified-Since: b\r\n\r\n";
    let (req, _) = complete(raw);
    assert_eq!(req.range, None);
    assert_eq!(req.if_modified_since, None);
}

#[test]
fn if_range_is_kept_once() {
    let date = "Sun, 06 Nov 1994 08:49:37 GMT";
    let raw =
        format!("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\nif-RANGE: \t{date} \r\n\r\n");
    let (req, _) = complete(raw.as_bytes());
    assert_eq!(req.if_range, Some(date.as_bytes()));
    assert_eq!(req.range, Some(&b"bytes=0-1"[..]));
    // Without Range it is still reported; respond ignores it then.
    let (req, _) = complete(b"GET / HTTP/1.1\r\nHost: h\r\nIf-Range: \"x\"\r\n\r\n");
    assert_eq!(req.if_range, Some(&b"\"x\""[..]));
    assert_eq!(req.range, None);
}

/// A repeated If-Range cannot be evaluated, so the Range under it is dropped too: the
/// whole file is the one answer that is right whatever the condition meant.
#[test]
fn repeated_if_range_drops_the_range() {
    let raw =
        b"GET / HTTP/1.1\r\nHost: h\r\nIf-Range: a\r\nRange: bytes=0-1\r\nIf-Range: a\r\n\r\n";
    let (req, _) = complete(raw);
    assert_eq!(req.if_range, None);
    assert_eq!(req.range, None);
}

#[test]
fn if_none_match_is_kept_and_repeats_are_marked() {
    let (req, _) = complete(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(req.if_none_match, IfNoneMatch::Absent);
    let (req, _) =
        complete(b"GET / HTTP/1.1\r\nHost: h\r\nif-none-MATCH: \t\"a\", W/\"b\" \r\n\r\n");
    assert_eq!(req.if_none_match, IfNoneMatch::One(b"\"a\", W/\"b\""));
    // An empty value is kept as sent: a list of no tags, which matches nothing.
    let (req, _) = complete(b"GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match:\r\n\r\n");
    assert_eq!(req.if_none_match, IfNoneMatch::One(b""));
    let (req, _) = complete(
        b"GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\n\r\n",
    );
    assert_eq!(req.if_none_match, IfNoneMatch::Repeated);
}

#[test]
fn if_match_and_if_unmodified_since_are_kept() {
    let (req, _) = complete(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(
        (req.if_match, req.if_unmodified_since),
        (IfNoneMatch::Absent, None)
    );
    let (req, _) = complete(
        b"GET / HTTP/1.1\r\nHost: h\r\nIf-Match: \"a\"\r\nif-unmodified-since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
    );
    assert_eq!(req.if_match, IfNoneMatch::One(b"\"a\""));
    assert_eq!(
        req.if_unmodified_since,
        Some(&b"Sun, 06 Nov 1994 08:49:37 GMT"[..])
    );
    let (req, _) =
        complete(b"GET / HTTP/1.1\r\nHost: h\r\nIf-Match: \"a\"\r\nIf-Match: \"b\"\r\n\r\n");
    assert_eq!(req.if_match, IfNoneMatch::Repeated);
}

#[test]
fn expect_continue() {
    for (raw, want) in [
        (
            &b"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n"[..],
            true,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-CONTINUE\r\n\r\n",
            true,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n",
            false,
        ),
        // RFC 9110 section 10.1.1: ignored in HTTP/1.0.
        (b"GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", false),
    ] {
        assert_eq!(complete(raw).0.expect_continue, want, "{}", show(raw));
    }
}

#[test]
fn keep_alive_matrix() {
    for (version, connection, want) in [
        ("1.1", None, true),
        ("1.1", Some("close"), false),
        ("1.1", Some("Close"), false),
        ("1.1", Some("keep-alive"), true),
        ("1.1", Some("foo, CLOSE"), false),
        ("1.1", Some("keep-alive, close"), false),
        ("1.1", Some("closed"), true),
        ("1.1", Some("upgrade"), true),
        ("1.0", None, false),
        ("1.0", Some("keep-alive"), true),
        ("1.0", Some("Keep-Alive"), true),
        ("1.0", Some("foo ,keep-alive"), true),
        ("1.0", Some("keep-alive, close"), false),
        ("1.0", Some("close"), false),
        ("1.0", Some("keep-alives"), false),
    ] {
        let field = connection.map_or(String::new(), |c| format!("Connection: {c}\r\n"));
        let raw = format!("GET / HTTP/{version}\r\nHost: h\r\n{field}\r\n");
        assert_eq!(
            complete(raw.as_bytes()).0.keep_alive,
            want,
            "{}",
            show(raw.as_bytes())
        );
    }
    let two_lines =
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n";
    assert!(!complete(two_lines).0.keep_alive);
}

#[test]
fn pipelined_requests() {
    let first = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    let second = b"HEAD /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    let mut buf = first.to_vec();
    buf.extend_from_slice(second);
    buf.extend_from_slice(b"GET /c HT");
    let (req, len) = complete(&buf);
    assert_eq!((req.path, len), (&b"/a"[..], first.len()));
    let rest = buf.get(len..).unwrap();
    let (req, len) = complete(rest);
    assert_eq!(
        (req.method, req.path, req.keep_alive),
        (Method::Head, &b"/b"[..], false)
    );
    assert_eq!(len, second.len());
    assert_eq!(
        parse(rest.get(len..).unwrap(), &Limits::DEFAULT),
        Parsed::Partial
    );
}

#[test]
fn smuggling_body_is_not_parsed_as_a_request() {
    // RFC 9112 section 11.2: a body that looks like a request stays a body: the caller
    // gets head_len and content_length, and must skip the body itself.
    let raw = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 32\r\n\r\nGET /admin HTTP/1.1\r\nHost: h\r\n\r\n";
    let (req, len) = complete(raw);
    assert_eq!(req.content_length, 32);
    assert_eq!(raw.len() - len, 32);
}

#[test]
fn status_codes_and_reasons() {
    for (status, code, reason) in [
        (Status::Ok, 200, "OK"),
        (Status::PartialContent, 206, "Partial Content"),
        (Status::MovedPermanently, 301, "Moved Permanently"),
        (Status::NotModified, 304, "Not Modified"),
        (Status::BadRequest, 400, "Bad Request"),
        (Status::Forbidden, 403, "Forbidden"),
        (Status::NotFound, 404, "Not Found"),
        (Status::MethodNotAllowed, 405, "Method Not Allowed"),
        (Status::RequestTimeout, 408, "Request Timeout"),
        (Status::PreconditionFailed, 412, "Precondition Failed"),
        (Status::ContentTooLarge, 413, "Content Too Large"),
        (Status::UriTooLong, 414, "URI Too Long"),
        (Status::RangeNotSatisfiable, 416, "Range Not Satisfiable"),
        (
            Status::HeaderFieldsTooLarge,
            431,
            "Request Header Fields Too Large",
        ),
        (Status::InternalServerError, 500, "Internal Server Error"),
        (Status::NotImplemented, 501, "Not Implemented"),
        (Status::ServiceUnavailable, 503, "Service Unavailable"),
        (
            Status::VersionNotSupported,
            505,
            "HTTP Version Not Supported",
        ),
    ] {
        assert_eq!((status.code(), status.reason()), (code, reason));
    }
}

#[test]
fn bare_cr_and_nul_refused_before_line_ends() {
    // Other checks also refuse these once the line is complete; here the line is not.
    for raw in [
        &b"GET /\rx"[..],
        b"\r\r",
        b"GET /\0",
        b"GET / HTTP/1.1\r\nHost: a\rb",
        b"GET / HTTP/1.1\r\nHost: a\r\nX: \0",
    ] {
        assert_eq!(
            reject_with(raw, &Limits::DEFAULT),
            Some(400),
            "{}",
            show(raw)
        );
    }
}
