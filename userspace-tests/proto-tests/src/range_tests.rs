// SPDX-License-Identifier: GPL-2.0

//! `Range` evaluation: every form and edge case of RFC 9110 section 14.

use crate::proto::etag::ETag;
use crate::proto::range::{if_range_allows, parse_range, RangeSpec};

/// A 206 answer.
fn part(first: u64, last: u64) -> RangeSpec {
    RangeSpec::Partial { first, last }
}

#[test]
fn range_table() {
    use RangeSpec::{Full, Unsatisfiable};
    for (value, len, want) in [
        ("bytes=0-0", 100, part(0, 0)),
        ("bytes=0-99", 100, part(0, 99)),
        ("bytes=10-20", 100, part(10, 20)),
        ("bytes=10-1000", 100, part(10, 99)),
        ("bytes=10-18446744073709551615", 100, part(10, 99)),
        ("bytes=10-99999999999999999999999", 100, part(10, 99)),
        ("bytes=99-", 100, part(99, 99)),
        ("bytes=0-", 100, part(0, 99)),
        ("bytes=-1", 100, part(99, 99)),
        ("bytes=-10", 100, part(90, 99)),
        ("bytes=-100", 100, part(0, 99)),
        ("bytes=-1000", 100, part(0, 99)),
        ("bytes=-99999999999999999999999", 100, part(0, 99)),
        // Case-insensitive unit, optional whitespace around list elements.
        ("Bytes=1-2", 100, part(1, 2)),
        ("BYTES= 1-2 ", 100, part(1, 2)),
        (" bytes=1-2,", 100, part(1, 2)),
        ("bytes=, 1-2", 100, part(1, 2)),
        // Beyond the end.
        ("bytes=100-", 100, Unsatisfiable),
        ("bytes=100-200", 100, Unsatisfiable),
        ("bytes=99999999999999999999999-", 100, Unsatisfiable),
        ("bytes=-0", 100, Unsatisfiable),
        ("bytes=-000", 100, Unsatisfiable),
        ("bytes=0-0", 0, Unsatisfiable),
        ("bytes=0-", 0, Unsatisfiable),
        ("bytes=-5", 0, Unsatisfiable),
        // Ignored: served whole.
        ("", 100, Full),
        ("bytes", 100, Full),
        ("bytes=", 100, Full),
        ("bytes=-", 100, Full),
        ("bytes=5", 100, Full),
        ("bytes=a-b", 100, Full),
        ("bytes=1-a", 100, Full),
        ("bytes=+1-2", 100, Full),
        ("bytes=1 - 2", 100, Full),
        ("bytes =1-2", 100, Full),
        ("bytes=5-4", 100, Full),
        ("bytes=5-4", 0, Full),
        ("bytes=1-2-3", 100, Full),
        ("bytes=0-1,5-6", 100, Full),
        ("bytes=0-1, -5", 100, Full),
        ("items=0-1", 100, Full),
        ("none", 100, Full),
        ("bytes=--1", 100, Full),
    ] {
        assert_eq!(
            parse_range(value.as_bytes(), len),
            want,
            "{value:?} of {len}"
        );
    }
}

#[test]
fn huge_lengths() {
    let len = u64::MAX;
    assert_eq!(
        parse_range(b"bytes=-1", len),
        part(u64::MAX - 1, u64::MAX - 1)
    );
    assert_eq!(parse_range(b"bytes=0-", len), part(0, u64::MAX - 1));
    assert_eq!(
        parse_range(b"bytes=18446744073709551615-", len),
        RangeSpec::Unsatisfiable
    );
}

#[test]
fn if_range_table() {
    // Sun, 06 Nov 1994 08:49:37 GMT, 1234 bytes: ETag "2ebc98a1-4d2".
    let file = ETag {
        mtime: 784_111_777,
        size: 1234,
        weak: false,
    };
    let now = file.mtime + 2;
    for (if_range, want) in [
        (None, true),
        // The file's Last-Modified, in each HTTP-date form.
        (Some("Sun, 06 Nov 1994 08:49:37 GMT"), true),
        (Some(" Sun, 06 Nov 1994 08:49:37 GMT\t"), true),
        (Some("Sunday, 06-Nov-94 08:49:37 GMT"), true),
        (Some("Sun Nov  6 08:49:37 1994"), true),
        // Any other second: the file changed (or the client is confused).
        (Some("Sun, 06 Nov 1994 08:49:36 GMT"), false),
        (Some("Sun, 06 Nov 1994 08:49:38 GMT"), false),
        (Some("Thu, 01 Jan 1970 00:00:00 GMT"), false),
        // The file's own strong tag matches; its weak form and other tags do not.
        (Some("\"2ebc98a1-4d2\""), true),
        (Some(" \"2ebc98a1-4d2\" "), true),
        (Some("W/\"2ebc98a1-4d2\""), false),
        (Some("\"2ebc98a1-4d3\""), false),
        (Some("\"784111777\""), false),
        (Some("W/\"x\""), false),
        (Some("*"), false),
        (Some("\"2ebc98a1-4d2\", \"x\""), false),
        // Malformed.
        (Some(""), false),
        (Some("784111777"), false),
        (Some("Sun, 06 Nov 1994 08:49:37"), false),
        (Some("sun, 06 nov 1994 08:49:37 gmt"), false),
    ] {
        assert_eq!(
            if_range_allows(if_range.map(str::as_bytes), Some(&file), now),
            want,
            "{if_range:?}"
        );
    }
    let epoch = ETag {
        mtime: 0,
        size: 0,
        weak: false,
    };
    assert!(if_range_allows(
        Some(b"Thu, 01 Jan 1970 00:00:00 GMT"),
        Some(&epoch),
        2
    ));
    let far = ETag {
        mtime: u64::MAX,
        size: 0,
        weak: false,
    };
    assert!(!if_range_allows(
        Some(b"Fri, 31 Dec 9999 23:59:59 GMT"),
        Some(&far),
        u64::MAX
    ));
}

/// A date matches only as a strong validator: a modification at least a second before
/// now. A tag is taken as strong whenever (nginx's rule).
#[test]
fn if_range_date_needs_a_settled_mtime() {
    let file = ETag {
        mtime: 784_111_777,
        size: 1234,
        weak: false,
    };
    let date = Some(&b"Sun, 06 Nov 1994 08:49:37 GMT"[..]);
    let tag = Some(&b"\"2ebc98a1-4d2\""[..]);
    for (now, want) in [
        (file.mtime, false),
        (file.mtime + 1, false),
        (file.mtime + 2, true),
    ] {
        assert_eq!(if_range_allows(date, Some(&file), now), want, "now {now}");
        assert!(if_range_allows(tag, Some(&file), now), "now {now}");
    }
}

/// Without validators (a generated listing) only the absence of If-Range allows a range.
#[test]
fn if_range_without_validators() {
    assert!(if_range_allows(None, None, 0));
    for value in ["Sun, 06 Nov 1994 08:49:37 GMT", "\"x\"", "*", ""] {
        assert!(
            !if_range_allows(Some(value.as_bytes()), None, u64::MAX),
            "{value:?}"
        );
    }
}
