// SPDX-License-Identifier: GPL-2.0

//! Access-log escaping (nginx's default `escape`).

use crate::proto::log_escape::{escape, needs_escape};
use proptest::prelude::*;
use std::vec::Vec;

fn escaped(src: &[u8], cap: usize) -> Vec<u8> {
    let mut dst = std::vec![0u8; cap];
    let n = escape(src, &mut dst);
    dst.truncate(n);
    dst
}

/// The unescaping the access-log tool and a reader of nginx's log do.
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' {
            let hex = std::str::from_utf8(&s[i + 2..i + 4]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 4;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn plain_text_is_kept() {
    assert_eq!(escaped(b"/index.html?a=1&b=2", 64), b"/index.html?a=1&b=2");
    assert_eq!(escaped(b"curl/8.1 (x86_64)", 64), b"curl/8.1 (x86_64)");
}

#[test]
fn quote_backslash_controls_and_high_bytes_are_hex() {
    assert_eq!(escaped(b"a\"b", 64), b"a\\x22b");
    assert_eq!(escaped(b"a\\b", 64), b"a\\x5Cb");
    assert_eq!(escaped(b"it's", 64), b"it\\x27s");
    assert_eq!(escaped(b"\t\x7f\x80\xff", 64), b"\\x09\\x7F\\x80\\xFF");
    assert_eq!(escaped(b"\x1f ~", 64), b"\\x1F ~");
}

#[test]
fn an_escape_is_never_cut() {
    assert_eq!(escaped(b"ab\"", 4), b"ab");
    assert_eq!(escaped(b"ab\"", 6), b"ab\\x22");
    assert_eq!(escaped(b"abc", 2), b"ab");
    assert_eq!(escaped(b"abc", 0), b"");
}

proptest! {
    #[test]
    fn output_is_safe_bounded_and_reversible(src in proptest::collection::vec(any::<u8>(), 0..200), cap in 0usize..300) {
        let out = escaped(&src, cap);
        prop_assert!(out.len() <= cap);
        prop_assert!(out.iter().all(|&b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\''));
        let back = unescape(&out);
        // What was written is a prefix of the input, and all of it when there was room.
        prop_assert!(src.starts_with(&back));
        let need: usize = src.iter().map(|&b| if needs_escape(b) { 4 } else { 1 }).sum();
        if need <= cap {
            prop_assert_eq!(back, src);
        }
    }
}
