// SPDX-License-Identifier: GPL-2.0

//! Property tests: the parser never panics, gives the same answer however the bytes are
//! split, and `resolve` never yields a name that could leave the served directory.

use std::vec::Vec;

use proptest::prelude::*;

use crate::proto::http::{parse, Limits, Parsed};
use crate::proto::path::{is_hidden_name, resolve};

/// Valid requests to mutate and to split.
pub(crate) const VALID: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"\r\nHEAD /x/y.html?q=1 HTTP/1.1\r\nHost: example.com:80\r\nConnection: close\r\nRange: bytes=0-10\r\n\r\n",
    b"GET http://h/p HTTP/1.0\nConnection: keep-alive\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\n\n",
    b"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\nExpect: 100-continue\r\n\r\nabc",
    b"GET /f HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"a\", W/\"b\"\r\nIf-Range: \"c\"\r\nRange: bytes=1-\r\n\r\n",
    b"OPTIONS /%2e%2E/x HTTP/1.9\r\nhost:h\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\nGET / HTTP/1.1\r\n",
];

/// Small limits, so that mutations reach the limit paths too.
pub(crate) const SMALL: Limits = Limits {
    max_target: 16,
    max_head: 96,
    max_headers: 3,
    max_body: 100,
};

/// One edit of a byte string.
#[derive(Clone, Debug)]
pub(crate) enum Mutation {
    /// Replace the byte at a position.
    Flip(usize, u8),
    /// Cut the bytes from a position on.
    Cut(usize),
    /// Repeat a run of bytes in place.
    Repeat(usize, usize),
    /// Insert a byte that matters to the grammar.
    Splice(usize, u8),
}

/// Any mutation; positions are taken modulo the length.
pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        any::<usize>().prop_map(Mutation::Cut),
        (any::<usize>(), 1usize..20).prop_map(|(at, n)| Mutation::Repeat(at, n)),
        (any::<usize>(), prop::sample::select(&b"\r\n\0 \t:,/?%"[..]))
            .prop_map(|(at, b)| Mutation::Splice(at, b)),
    ]
}

/// Applies `mutation` to `bytes`.
pub(crate) fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len().max(1);
    match *mutation {
        Mutation::Flip(at, b) => {
            if let Some(slot) = bytes.get_mut(at % len) {
                *slot = b;
            }
        }
        Mutation::Cut(at) => bytes.truncate(at % len),
        Mutation::Repeat(at, n) => {
            let start = at % len;
            let run: Vec<u8> = bytes.iter().skip(start).take(n).copied().collect();
            let tail = bytes.split_off(start.min(bytes.len()));
            bytes.extend_from_slice(&run);
            bytes.extend_from_slice(&tail);
        }
        Mutation::Splice(at, b) => bytes.insert((at % len).min(bytes.len()), b),
    }
}

/// Checks what must hold for any answer: a head length within the buffer and limit.
fn check_answer(buf: &[u8], limits: &Limits) {
    if let Parsed::Complete { head_len, .. } = parse(buf, limits) {
        assert!(head_len <= buf.len() && head_len <= limits.max_head);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Guards against panics (slicing, overflow) on arbitrary bytes.
    #[test]
    fn parse_total_on_arbitrary_bytes(buf in prop::collection::vec(any::<u8>(), 0..300)) {
        check_answer(&buf, &Limits::DEFAULT);
        check_answer(&buf, &SMALL);
    }

    /// Guards against panics on near-valid requests, which reach deeper parser states.
    #[test]
    fn parse_total_on_mutated_requests(
        which in 0..VALID.len(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut buf = VALID.get(which).unwrap().to_vec();
        for m in &mutations {
            apply(&mut buf, m);
        }
        check_answer(&buf, &Limits::DEFAULT);
        check_answer(&buf, &SMALL);
        // Whenever the mutant is still a complete head, its proper prefixes are Partial.
        for limits in [&Limits::DEFAULT, &SMALL] {
            if let Parsed::Complete { head_len, .. } = parse(&buf, limits) {
                for cut in 0..head_len {
                    prop_assert_eq!(parse(buf.get(..cut).unwrap(), limits), Parsed::Partial);
                }
            }
        }
    }

    /// A path that resolves never holds a `..` segment, a leading `/` or a NUL.
    #[test]
    fn resolve_stays_inside(
        path in prop_oneof![
            prop::collection::vec(
                prop::sample::select(&b"/./..%2e%2E%2f%5c%00%41a\\\0"[..]),
                0..40,
            ),
            prop::collection::vec(any::<u8>(), 0..60).prop_map(|mut bytes| {
                bytes.insert(0, b'/');
                bytes
            }),
        ],
    ) {
        let mut out = [0u8; 64];
        if let Ok(resolved) = resolve(&path, &mut out) {
            let name = out.get(..resolved.len).unwrap();
            prop_assert!(!name.starts_with(b"/"));
            prop_assert!(!name.contains(&0));
            prop_assert!(name.split(|&b| b == b'/').all(|s| s != b".." && s != b"." && !s.is_empty()) || name.is_empty());
            // Hidden exactly when a segment of the name is.
            prop_assert_eq!(resolved.hidden, name.split(|&b| b == b'/').any(is_hidden_name));
        }
    }
}

/// Guards the `httparse` contract: every proper prefix of a valid head is Partial, and the
/// whole gives the same Complete however it arrived.
#[test]
fn every_split_point_is_partial_then_complete() {
    for raw in VALID {
        let whole = parse(raw, &Limits::DEFAULT);
        let Parsed::Complete { head_len, .. } = whole else {
            panic!("not complete: {whole:?}");
        };
        for cut in 0..head_len {
            let prefix = raw.get(..cut).unwrap();
            assert_eq!(
                parse(prefix, &Limits::DEFAULT),
                Parsed::Partial,
                "cut at {cut}"
            );
        }
        for end in head_len..=raw.len() {
            assert_eq!(parse(raw.get(..end).unwrap(), &Limits::DEFAULT), whole);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The same, over generated requests: feeding bytes in two pieces into a growing
    /// buffer answers Partial until the head is complete, then the same Complete.
    #[test]
    fn generated_requests_split_anywhere(
        path in "/[a-z0-9._~%-]{0,20}(\\?[a-z=&]{0,10})?",
        host in "[a-z]{1,10}(:[0-9]{1,5})?",
        fields in prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,10}", "[ -~]{0,20}"), 0..5),
        lf_only in any::<bool>(),
    ) {
        let eol = if lf_only { "\n" } else { "\r\n" };
        let mut raw = std::format!("GET {path} HTTP/1.1{eol}Host: {host}{eol}");
        for (name, value) in &fields {
            // Keep the generated fields clear of the ones with rules of their own.
            raw.push_str(&std::format!("X-{name}: {value}{eol}"));
        }
        raw.push_str(eol);
        let raw = raw.as_bytes();
        let whole = parse(raw, &Limits::DEFAULT);
        let is_complete = matches!(whole, Parsed::Complete { head_len, .. } if head_len == raw.len());
        prop_assert!(is_complete, "{:?}", whole);
        for cut in 0..raw.len() {
            prop_assert_eq!(parse(raw.get(..cut).unwrap(), &Limits::DEFAULT), Parsed::Partial);
        }
    }
}
