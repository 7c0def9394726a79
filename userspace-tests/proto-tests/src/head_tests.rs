// SPDX-License-Identifier: GPL-2.0

//! The resumable head parser: the stateless parser's answers byte by byte, linear work,
//! and pipelined heads after a reset.

use std::string::String;
use std::vec::Vec;

use crate::http_props::{SMALL, VALID};
use crate::proto::head::HeadParser;
use crate::proto::http::{parse, Limits, Method, Parsed, Reject};
use crate::proto::status::Status;

/// Shows bytes for a failure message.
fn show(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).escape_debug().collect()
}

/// Feeds `raw` to one parser in pieces ending at `ends` (growing), checking each answer
/// against the stateless parser; calls go on after Complete and Reject without a reset.
pub(crate) fn check_growing(raw: &[u8], ends: impl IntoIterator<Item = usize>, limits: &Limits) {
    let mut parser = HeadParser::new();
    for end in ends {
        let prefix = raw.get(..end).unwrap();
        assert_eq!(
            parser.parse(prefix, limits),
            parse(prefix, limits),
            "prefix {} of {}: {limits:?}",
            end,
            show(raw)
        );
    }
}

/// Limits that put every boundary of `raw` in reach.
fn limits_around(raw: &[u8]) -> Vec<Limits> {
    let mut all = std::vec![Limits::DEFAULT, SMALL];
    for max in 0..=raw.len().saturating_add(1) {
        all.push(Limits {
            max_head: max,
            ..Limits::DEFAULT
        });
        all.push(Limits {
            max_target: max,
            ..Limits::DEFAULT
        });
    }
    for max_headers in 0..4 {
        all.push(Limits {
            max_headers,
            ..Limits::DEFAULT
        });
    }
    all
}

#[test]
fn one_byte_at_a_time_matches_stateless() {
    let extra: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
        b"GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\0 HTTP/1.1\r\n\r\n",
        b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\r HTTP/1.1\r\n\r\n",
        b"G(T / HTTP/1.1\r\n\r\n",
        b" / HTTP/1.1\r\n\r\n",
        b"\r\r\nGET / HTTP/1.1\r\n\r\n",
        b"\n\r\n\nGET / HTTP/1.0\n\n",
        b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        b"BREW / HTTP/1.1\r\n\r\n",
    ];
    for raw in VALID.iter().chain(extra) {
        for limits in limits_around(raw) {
            check_growing(raw, 0..=raw.len(), &limits);
        }
    }
}

/// A request line's target that outgrows `max_target` is 414 while it arrives, and turns
/// into 400 when a NUL follows in the same line, as in the stateless parser: a refusal
/// from the line still arriving is not final.
#[test]
fn uri_too_long_then_bad_byte() {
    let limits = Limits {
        max_target: 4,
        ..Limits::DEFAULT
    };
    let raw = b"GET /abcdef\0";
    let mut parser = HeadParser::new();
    let answers: Vec<Parsed<'_>> = (0..=raw.len())
        .map(|end| parser.parse(raw.get(..end).unwrap(), &limits))
        .collect();
    let reject = |status| {
        Parsed::Reject(Reject {
            status,
            close: true,
        })
    };
    assert_eq!(answers.get(8), Some(&Parsed::Partial));
    assert_eq!(answers.get(9), Some(&reject(Status::UriTooLong)));
    assert_eq!(answers.get(11), Some(&reject(Status::UriTooLong)));
    assert_eq!(answers.get(12), Some(&reject(Status::BadRequest)));
    check_growing(raw, 0..=raw.len(), &limits);
}

/// A head of about 16 KiB: a long target, a host and one long field.
fn long_head() -> Vec<u8> {
    let mut raw = Vec::new();
    raw.extend_from_slice(b"GET /");
    raw.extend(std::iter::repeat_n(b'a', 8000));
    raw.extend_from_slice(b" HTTP/1.1\r\nHost: example.com\r\nX-Fill: ");
    raw.extend(std::iter::repeat_n(b'b', 16_300 - raw.len()));
    raw.extend_from_slice(b"\r\n\r\n");
    raw
}

/// A head of about 16 KiB in `Limits::DEFAULT.max_headers` short fields.
fn many_fields_head() -> Vec<u8> {
    let mut raw = Vec::from(&b"GET / HTTP/1.1\r\nHost: example.com\r\n"[..]);
    for i in 0..Limits::DEFAULT.max_headers - 1 {
        raw.extend_from_slice(std::format!("X-{i:03}: ").as_bytes());
        raw.extend(std::iter::repeat_n(b'v', 245));
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    raw
}

/// Feeds `raw` one byte at a time and returns the bytes the parser examined; checks that
/// every proper prefix is Partial and the whole is the stateless Complete.
fn trickle(raw: &[u8]) -> usize {
    let mut parser = HeadParser::new();
    for end in 0..raw.len() {
        let answer = parser.parse(raw.get(..end).unwrap(), &Limits::DEFAULT);
        assert_eq!(answer, Parsed::Partial, "at {end}");
    }
    let whole = parser.parse(raw, &Limits::DEFAULT);
    assert!(matches!(whole, Parsed::Complete { head_len, .. } if head_len == raw.len()));
    assert_eq!(whole, parse(raw, &Limits::DEFAULT));
    parser.scanned()
}

/// The issue: one byte per segment made the server re-read the head from its first byte
/// each time. The work is now at most three reads of the head (the new bytes, each line
/// once more when it ends, and one whole parse at the end), where re-reading every prefix
/// costs `n (n + 1) / 2`.
#[test]
fn trickled_head_costs_linear_work() {
    for raw in [long_head(), many_fields_head()] {
        let n = raw.len();
        assert!(n > 16_000 && n <= Limits::DEFAULT.max_head, "{n}");
        let incremental = trickle(&raw);
        assert!(incremental <= 3 * n, "{incremental} bytes examined for {n}");

        // The old behaviour, measured with the same counter: start over on every call.
        let mut parser = HeadParser::new();
        let mut from_scratch = 0usize;
        for end in 1..=n {
            parser.reset();
            parser.parse(raw.get(..end).unwrap(), &Limits::DEFAULT);
            from_scratch += parser.scanned();
        }
        std::println!("{n}-byte head, one byte per call: {incremental} bytes examined, {from_scratch} starting over each call");
        assert!(from_scratch >= n * (n + 1) / 2, "{from_scratch} for {n}");
        assert!(from_scratch > 2000 * incremental);
    }
}

/// Once the head is refused, more bytes cost nothing more.
#[test]
fn refused_head_is_not_read_again() {
    let mut raw = Vec::from(&b"GET / HTTP/1.1\r\nX: \0\r\n"[..]);
    let mut parser = HeadParser::new();
    let refused = Parsed::Reject(Reject {
        status: Status::BadRequest,
        close: true,
    });
    assert_eq!(parser.parse(&raw, &Limits::DEFAULT), refused);
    let scanned = parser.scanned();
    raw.extend(std::iter::repeat_n(b'x', 1000));
    assert_eq!(parser.parse(&raw, &Limits::DEFAULT), refused);
    assert_eq!(parse(&raw, &Limits::DEFAULT), refused);
    assert_eq!(parser.scanned(), scanned);
}

/// How a connection uses the parser: parse what is buffered; on Complete consume the head
/// (and its body) and reset; stop at a Reject. Every answer is checked against the
/// stateless parser. Returns the answers given, as text.
pub(crate) fn serve_pipelined(stream: &[u8], ends: &[usize], limits: &Limits) -> Vec<String> {
    let mut input: Vec<u8> = Vec::new();
    let mut parser = HeadParser::new();
    let mut answers = Vec::new();
    let mut body_left = 0usize;
    let mut fed = 0usize;
    for &end in ends {
        input.extend_from_slice(stream.get(fed..end).unwrap());
        fed = end;
        loop {
            let skipped = body_left.min(input.len());
            input.drain(..skipped);
            body_left -= skipped;
            if body_left > 0 {
                break;
            }
            let answer = parser.parse(&input, limits);
            assert_eq!(answer, parse(&input, limits), "{}", show(&input));
            match answer {
                Parsed::Partial => break,
                Parsed::Reject(reject) => {
                    answers.push(std::format!("{reject:?}"));
                    return answers;
                }
                Parsed::Complete { req, head_len } => {
                    answers.push(std::format!("{} {}", show(req.target), head_len));
                    body_left = usize::try_from(req.content_length).unwrap();
                    input.drain(..head_len);
                    parser.reset();
                }
            }
        }
    }
    answers
}

#[test]
fn pipelined_heads_after_reset() {
    let stream = b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n\
        POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody\
        GET /three HTTP/1.1\r\nHost: a\r\n\r\n\
        GET /four HTTP/1.1\r\nHost: a\r\n\r";
    // The fourth head has not ended: no answer for it.
    let want = ["/one 30", "/two 50", "/three 32"];
    // All at once, one byte at a time, and in pieces of 7.
    let all_at_once = [stream.len()];
    let bytewise: Vec<usize> = (1..=stream.len()).collect();
    let sevens: Vec<usize> = (7..stream.len()).step_by(7).chain([stream.len()]).collect();
    for ends in [&all_at_once[..], &bytewise, &sevens] {
        let answers = serve_pipelined(stream, ends, &Limits::DEFAULT);
        assert_eq!(answers, want, "{ends:?}");
    }
    // The caller's way to continue: reset, then parse the bytes after the head.
    let mut parser = HeadParser::new();
    let first_len = 30;
    let Parsed::Complete { head_len, .. } = parser.parse(stream, &Limits::DEFAULT) else {
        panic!("first head");
    };
    assert_eq!(head_len, first_len);
    parser.reset();
    let rest = stream.get(first_len..).unwrap();
    let Parsed::Complete { req, .. } = parser.parse(rest, &Limits::DEFAULT) else {
        panic!("second head");
    };
    assert_eq!((req.method, req.path), (Method::Post, &b"/two"[..]));
}

/// A buffer that shrank is not the one the earlier calls saw: the parser starts over
/// instead of answering for bytes that are gone.
#[test]
fn shorter_buffer_starts_over() {
    let mut parser = HeadParser::new();
    let long = b"GET /a-rather-long-target HTTP/1.1\r\nHost: a\r\n";
    assert_eq!(parser.parse(long, &Limits::DEFAULT), Parsed::Partial);
    let short = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_eq!(
        parser.parse(short, &Limits::DEFAULT),
        parse(short, &Limits::DEFAULT)
    );
}
