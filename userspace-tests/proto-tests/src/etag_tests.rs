// SPDX-License-Identifier: GPL-2.0

//! Entity-tags: nginx's `ETag` form, `If-None-Match` (weak comparison, lists, `*`, malformed
//! values) and its precedence over `If-Modified-Since`, and the strong comparison of
//! `If-Range`.

use std::format;
use std::string::String;
use std::vec::Vec;

use proptest::prelude::*;

use crate::proto::etag::{
    if_range_tag_matches, is_not_modified, none_match_matches, precondition_fails, ETag,
    IfNoneMatch,
};

/// Sun, 06 Nov 1994 08:49:37 GMT, 1234 bytes: `"2ebc98a1-4d2"`.
const FILE: ETag = ETag {
    mtime: 784_111_777,
    size: 1234,
    weak: false,
};
const TAG: &str = "\"2ebc98a1-4d2\"";
const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

fn text(etag: &ETag) -> String {
    let mut out = [0u8; 64];
    let n = etag.write(&mut out).expect("fits");
    String::from_utf8(out[..n].to_vec()).expect("ASCII")
}

#[test]
fn nginx_form() {
    assert_eq!(text(&FILE), TAG);
    for (mtime, size, want) in [
        (0, 0, "\"0-0\""),
        (1, 15, "\"1-f\""),
        (16, 255, "\"10-ff\""),
        (0x6564_3a2b, 0x1_0000_0000, "\"65643a2b-100000000\""),
        (u64::MAX, u64::MAX, "\"ffffffffffffffff-ffffffffffffffff\""),
    ] {
        assert_eq!(
            text(&ETag {
                mtime,
                size,
                weak: false
            }),
            want
        );
    }
}

#[test]
fn write_refuses_small_buffers() {
    let mut out = [0u8; 64];
    for len in 0..TAG.len() {
        assert_eq!(FILE.write(&mut out[..len]), None, "{len}");
    }
    assert_eq!(FILE.write(&mut out[..TAG.len()]), Some(TAG.len()));
}

#[test]
fn if_none_match_table() {
    for (value, want) in [
        // The file's tag, weak or not: the weak comparison.
        (TAG, true),
        ("W/\"2ebc98a1-4d2\"", true),
        (" \t\"2ebc98a1-4d2\" ", true),
        ("*", true),
        (" * ", true),
        // Lists, empty elements and whitespace included.
        ("\"a\", \"2ebc98a1-4d2\"", true),
        ("\"2ebc98a1-4d2\",\"a\"", true),
        (",, \"a\" ,W/\"2ebc98a1-4d2\",", true),
        ("\"a,b\", \"2ebc98a1-4d2\"", true),
        // Other tags.
        ("\"2ebc98a1-4d3\"", false),
        ("\"2EBC98A1-4D2\"", false),
        ("\"x\"", false),
        ("\"\"", false),
        ("\"a\", W/\"b\"", false),
        ("", false),
        (",", false),
        // Malformed: no 304 even when the file's tag is in it.
        ("2ebc98a1-4d2", false),
        ("\"2ebc98a1-4d2", false),
        ("w/\"2ebc98a1-4d2\"", false),
        ("W/ \"2ebc98a1-4d2\"", false),
        ("\"2ebc98a1-4d2\" \"a\"", false),
        ("\"2ebc98a1-4d2\"x", false),
        ("\"2ebc98a1-4d2\", a", false),
        ("a, \"2ebc98a1-4d2\"", false),
        ("*, \"2ebc98a1-4d2\"", false),
        ("\"2ebc98a1-4d2\", *", false),
        ("\"a b\", \"2ebc98a1-4d2\"", false),
        ("**", false),
    ] {
        assert_eq!(
            none_match_matches(value.as_bytes(), &FILE),
            want,
            "{value:?}"
        );
    }
}

#[test]
fn not_modified_precedence() {
    use IfNoneMatch::{Absent, One, Repeated};
    let older = "Sat, 05 Nov 1994 08:49:37 GMT";
    for (inm, ims, want) in [
        // If-Modified-Since alone decides.
        (Absent, None, false),
        (Absent, Some(DATE), true),
        (Absent, Some("Mon, 07 Nov 1994 00:00:00 GMT"), true),
        (Absent, Some(older), false),
        (Absent, Some("garbage"), false),
        // If-None-Match decides whenever it is present (RFC 9110 section 13.2.2).
        (One(TAG.as_bytes()), None, true),
        (One(TAG.as_bytes()), Some(older), true),
        (One(b"\"other\""), Some(DATE), false),
        (One(b"*"), Some(older), true),
        (One(b"bad"), Some(DATE), false),
        (One(b""), Some(DATE), false),
        // Several lines: evaluated as matching nothing, If-Modified-Since still ignored.
        (Repeated, Some(DATE), false),
        (Repeated, None, false),
    ] {
        assert_eq!(
            is_not_modified(inm, ims.map(str::as_bytes), &FILE),
            want,
            "{inm:?} {ims:?}"
        );
    }
}

#[test]
fn if_range_tag_table() {
    for (value, want) in [
        (TAG, Some(true)),
        (" \"2ebc98a1-4d2\"\t", Some(true)),
        // The strong comparison: a weak tag never matches.
        ("W/\"2ebc98a1-4d2\"", Some(false)),
        ("\"2ebc98a1-4d3\"", Some(false)),
        ("\"x\"", Some(false)),
        // A list or anything after the tag is not an entity-tag.
        ("\"2ebc98a1-4d2\", \"x\"", Some(false)),
        ("\"2ebc98a1-4d2\" x", Some(false)),
        ("\"2ebc98a1-4d2", Some(false)),
        // Not tags: a date, or garbage, is the date parser's to judge.
        (DATE, None),
        ("*", None),
        ("", None),
        ("2ebc98a1-4d2", None),
        ("w/\"2ebc98a1-4d2\"", None),
    ] {
        assert_eq!(
            if_range_tag_matches(value.as_bytes(), &FILE),
            want,
            "{value:?}"
        );
    }
}

/// Another opaque-tag for the property tests: `etagc` bytes between quotes.
fn other_tag() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        proptest::collection::vec(prop_oneof![Just(0x21u8), 0x23u8..=0x7e], 0..12),
    )
        .prop_map(|(weak, chars)| {
            let inner = String::from_utf8(chars).expect("ASCII");
            format!("{}\"{inner}\"", if weak { "W/" } else { "" })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The tag is `"<hex mtime>-<hex size>"` for every file, it satisfies If-None-Match,
    /// in either form, and If-Range, only in its strong form.
    #[test]
    fn own_tag_round_trips(mtime in any::<u64>(), size in any::<u64>()) {
        let etag = ETag { mtime, size, weak: false };
        let tag = text(&etag);
        prop_assert_eq!(&tag, &format!("\"{mtime:x}-{size:x}\""));
        let weak = format!("W/{tag}");
        prop_assert!(none_match_matches(tag.as_bytes(), &etag));
        prop_assert!(none_match_matches(weak.as_bytes(), &etag));
        prop_assert_eq!(if_range_tag_matches(tag.as_bytes(), &etag), Some(true));
        prop_assert_eq!(if_range_tag_matches(weak.as_bytes(), &etag), Some(false));
        let other = ETag { mtime: mtime ^ 1, size, weak: false };
        prop_assert!(!none_match_matches(tag.as_bytes(), &other));
        prop_assert_eq!(if_range_tag_matches(tag.as_bytes(), &other), Some(false));
    }

    /// In a well-formed list, the file's tag matches wherever it stands; a list of other
    /// tags never does; a list with one malformed element never does.
    #[test]
    fn lists(
        others in proptest::collection::vec(other_tag(), 0..6),
        at in any::<prop::sample::Index>(),
        sep in prop_oneof![Just(","), Just(", "), Just(" ,\t"), Just(",,")],
    ) {
        let others: Vec<String> = others
            .into_iter()
            .filter(|t| t.trim_start_matches("W/") != TAG)
            .collect();
        let without = others.join(sep);
        prop_assert!(!none_match_matches(without.as_bytes(), &FILE), "{}", without);
        let mut with = others.clone();
        with.insert(at.index(others.len() + 1), TAG.into());
        let with_text = with.join(sep);
        prop_assert!(none_match_matches(with_text.as_bytes(), &FILE), "{}", with_text);
        let broken = format!("{with_text}{sep}bad");
        prop_assert!(!none_match_matches(broken.as_bytes(), &FILE), "{}", broken);
    }

    /// Any bytes: no panic, and a 304 only for a value that names the tag or is `*`.
    #[test]
    fn arbitrary_values(value in proptest::collection::vec(any::<u8>(), 0..64)) {
        let matched = none_match_matches(&value, &FILE);
        let named = value.windows(TAG.len()).any(|w| w == TAG.as_bytes())
            || value.iter().filter(|&&b| b != b' ' && b != b'\t').eq(b"*".iter());
        prop_assert!(!matched || named);
        let _ = if_range_tag_matches(&value, &FILE);
    }
}

#[test]
fn a_fresh_file_gets_a_weak_tag_that_no_if_range_matches() {
    let (mtime, size) = (784_111_777, 1234);
    // Two seconds old or more: strong, nginx's form.
    assert_eq!(ETag::of_file(mtime, size, mtime + 2), FILE);
    // Modified within the last two seconds (or in the future): weak.
    for now in [mtime - 5, mtime, mtime + 1] {
        let fresh = ETag::of_file(mtime, size, now);
        assert!(fresh.weak, "now {now}");
        assert_eq!(text(&fresh), format!("W/{TAG}"));
        // If-None-Match compares weakly: the tag, W/ or not, still gives 304.
        assert!(none_match_matches(TAG.as_bytes(), &fresh));
        assert!(none_match_matches(format!("W/{TAG}").as_bytes(), &fresh));
        // If-Range compares strongly: never a range under a weak tag.
        assert_eq!(if_range_tag_matches(TAG.as_bytes(), &fresh), Some(false));
        assert_eq!(
            if_range_tag_matches(format!("W/{TAG}").as_bytes(), &fresh),
            Some(false)
        );
    }
}

#[test]
fn if_match_and_if_unmodified_since_preconditions() {
    let one = |v: &'static str| IfNoneMatch::One(v.as_bytes());
    let weak_tag = format!("W/{TAG}");
    // If-Match: the strong comparison; `*` matches any file.
    for (if_match, fails) in [
        (IfNoneMatch::Absent, false),
        (one(TAG), false),
        (one("\"x\", \"2ebc98a1-4d2\""), false),
        (one("*"), false),
        (one(" * "), false),
        (one("\"x\""), true),
        (IfNoneMatch::One(weak_tag.as_bytes()), true),
        (one(""), true),
        (one("\"2ebc98a1-4d2"), true),
        (one("garbage"), true),
        (IfNoneMatch::Repeated, true),
    ] {
        assert_eq!(
            precondition_fails(if_match, None, &FILE),
            fails,
            "{if_match:?}"
        );
    }
    // Our own weak tag never passes If-Match.
    let fresh = ETag::of_file(FILE.mtime, FILE.size, FILE.mtime);
    assert!(precondition_fails(one(TAG), None, &fresh));
    assert!(!precondition_fails(one("*"), None, &fresh));
    // If-Unmodified-Since, only without If-Match: fails for a file modified after the date.
    let before = "Sun, 06 Nov 1994 08:49:36 GMT";
    assert!(!precondition_fails(
        IfNoneMatch::Absent,
        Some(DATE.as_bytes()),
        &FILE
    ));
    assert!(precondition_fails(
        IfNoneMatch::Absent,
        Some(before.as_bytes()),
        &FILE
    ));
    assert!(!precondition_fails(
        IfNoneMatch::Absent,
        Some(b"not a date"),
        &FILE
    ));
    assert!(!precondition_fails(
        one(TAG),
        Some(before.as_bytes()),
        &FILE
    ));
}
