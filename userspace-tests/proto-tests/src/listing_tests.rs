// SPDX-License-Identifier: GPL-2.0

//! Directory listings: structure, href encoding and HTML escaping.

use std::string::String;
use std::vec::Vec;

use crate::proto::listing::{write_listing_entry, write_listing_head, write_listing_tail};

/// Runs a writer into a large buffer and returns its text.
fn written(write: impl FnOnce(&mut [u8]) -> Option<usize>) -> String {
    let mut out = [0u8; 1024];
    let len = write(&mut out).expect("fits");
    String::from_utf8(out.get(..len).unwrap().to_vec()).expect("UTF-8")
}

#[test]
fn page_structure() {
    let head = written(|out| write_listing_head(b"/docs/", out));
    assert_eq!(
        head,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of /docs/</title></head>\n<body><h1>Index of /docs/</h1>\n<ul>\n"
    );
    assert_eq!(written(write_listing_tail), "</ul>\n</body></html>\n");
}

#[test]
fn entries() {
    for (name, is_dir, want) in [
        (&b"a.txt"[..], false, "<li><a href=\"a.txt\">a.txt</a></li>\n"),
        (b"sub", true, "<li><a href=\"sub/\">sub/</a></li>\n"),
        (b"..", true, "<li><a href=\"../\">../</a></li>\n"),
        (b"a b", false, "<li><a href=\"a%20b\">a b</a></li>\n"),
        (
            b"<script>&\"'.html",
            false,
            "<li><a href=\"%3Cscript%3E%26%22%27.html\">&lt;script&gt;&amp;&quot;&#39;.html</a></li>\n",
        ),
        (
            b"javascript:alert(1)",
            false,
            "<li><a href=\"javascript%3Aalert%281%29\">javascript:alert(1)</a></li>\n",
        ),
        (b"100%", false, "<li><a href=\"100%25\">100%</a></li>\n"),
        (b"q?#", false, "<li><a href=\"q%3F%23\">q?#</a></li>\n"),
        (
            "caf\u{e9}".as_bytes(),
            false,
            "<li><a href=\"caf%C3%A9\">caf\u{e9}</a></li>\n",
        ),
        (
            b"bad\xff\xc3",
            false,
            "<li><a href=\"bad%FF%C3\">bad\u{fffd}\u{fffd}</a></li>\n",
        ),
        (
            b"line\nbreak",
            false,
            "<li><a href=\"line%0Abreak\">line\u{fffd}break</a></li>\n",
        ),
    ] {
        assert_eq!(written(|out| write_listing_entry(name, is_dir, out)), want);
    }
}

#[test]
fn head_title_is_escaped() {
    let head = written(|out| write_listing_head(b"/<b>&\xff/", out));
    assert!(
        head.contains("Index of /&lt;b&gt;&amp;\u{fffd}/</title>"),
        "{head}"
    );
}

#[test]
fn reports_overflow_at_every_size() {
    let mut out: Vec<u8> = std::vec![0; 256];
    let full = write_listing_entry(b"<name>", true, &mut out).unwrap();
    for size in 0..full {
        assert_eq!(
            write_listing_entry(b"<name>", true, &mut out[..size]),
            None,
            "{size}"
        );
    }
    for size in 0..21 {
        assert_eq!(write_listing_tail(&mut out[..size]), None, "{size}");
    }
    assert_eq!(write_listing_tail(&mut out[..21]), Some(21));
    assert_eq!(write_listing_head(b"/", &mut out[..50]), None);
}
