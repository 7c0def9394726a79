// SPDX-License-Identifier: GPL-2.0

//! Path resolution: decoding, normalising and every rejection.

use std::string::String;

use proptest::prelude::*;

use crate::proto::path::{is_hidden_name, resolve, write_dir_location, PathError, Resolved};
use crate::proto::status::Status;

/// Resolves into a 64-byte buffer and returns the name and the trailing-slash flag.
fn resolved(path: &[u8]) -> Result<(String, bool), PathError> {
    let mut out = [0u8; 64];
    let Resolved {
        len,
        trailing_slash,
        ..
    } = resolve(path, &mut out)?;
    let name = out.get(..len).unwrap();
    Ok((String::from_utf8_lossy(name).into_owned(), trailing_slash))
}

#[test]
fn resolves_and_normalises() {
    for (path, name, slash) in [
        ("/", "", true),
        ("//", "", true),
        ("/.", "", true),
        ("/index.html", "index.html", false),
        ("/a/b/c.txt", "a/b/c.txt", false),
        ("/a//b/./c/", "a/b/c", true),
        ("/a/.", "a", true),
        ("/a%20b", "a b", false),
        ("/%41%62", "Ab", false),
        ("/%e2%82%ac", "\u{20ac}", false),
        ("/a+b", "a+b", false),
        ("/...", "...", false),
        ("/..a/a..", "..a/a..", false),
        ("/%2e", "", true),
        ("/a/%2E/", "a", true),
    ] {
        assert_eq!(
            resolved(path.as_bytes()),
            Ok((String::from(name), slash)),
            "{path}"
        );
    }
}

#[test]
fn rejections() {
    for (path, want) in [
        ("", PathError::BadRequest),
        ("a/b", PathError::BadRequest),
        ("http://h/", PathError::BadRequest),
        ("/a%", PathError::BadRequest),
        ("/a%2", PathError::BadRequest),
        ("/a%zz", PathError::BadRequest),
        ("/a%%41", PathError::BadRequest),
        ("/a\0b", PathError::BadRequest),
        ("/a%00b", PathError::BadRequest),
        ("/..", PathError::Forbidden),
        ("/../etc/passwd", PathError::Forbidden),
        ("/a/../b", PathError::Forbidden),
        ("/a/..", PathError::Forbidden),
        ("/%2e%2e/x", PathError::Forbidden),
        ("/.%2E/x", PathError::Forbidden),
        ("/a%2fb", PathError::Forbidden),
        ("/a%2F..%2Fb", PathError::Forbidden),
        ("/a%5cb", PathError::Forbidden),
        ("/a\\b", PathError::Forbidden),
        ("/..%5c..%5cwin.ini", PathError::Forbidden),
    ] {
        assert_eq!(resolved(path.as_bytes()), Err(want), "{path}");
    }
}

#[test]
fn too_long_for_the_buffer() {
    let mut out = [0u8; 5];
    assert_eq!(
        resolve(b"/abcde", &mut out),
        Ok(Resolved {
            len: 5,
            trailing_slash: false,
            hidden: false,
        })
    );
    assert_eq!(resolve(b"/abcdef", &mut out), Err(PathError::TooLong));
    assert_eq!(resolve(b"/ab/cde", &mut out), Err(PathError::TooLong));
    // A forbidden path is refused as such however small the buffer.
    assert_eq!(
        resolve(b"/abcdefgh/../x", &mut out),
        Err(PathError::Forbidden)
    );
    assert_eq!(
        resolve(b"/abcdefgh/%00", &mut out),
        Err(PathError::BadRequest)
    );
    assert_eq!(
        resolve(b"/", &mut []),
        Ok(Resolved {
            len: 0,
            trailing_slash: true,
            hidden: false,
        })
    );
}

#[test]
fn error_statuses() {
    assert_eq!(PathError::BadRequest.status(), Status::BadRequest);
    assert_eq!(PathError::Forbidden.status(), Status::Forbidden);
    assert_eq!(PathError::TooLong.status(), Status::UriTooLong);
}

#[test]
fn hidden_segments() {
    for (path, hidden) in [
        ("/.git/config", true),
        ("/.git", true),
        ("/.git/", true),
        ("/a/.htpasswd", true),
        ("/a/.b/c", true),
        ("/%2Egit/", true),
        ("/%2egit", true),
        ("/a/%2E%2E%2E", true),
        ("/...", true),
        ("/..a/b", true),
        ("/.%2E./x", true),
        ("/a.txt", false),
        ("/./a.txt", false),
        ("/a/./b/.", false),
        ("/a./b..", false),
        ("/", false),
        ("/.", false),
        ("/%2e/", false),
        ("/a%2e", false),
    ] {
        let mut out = [0u8; 64];
        let resolved = resolve(path.as_bytes(), &mut out);
        assert_eq!(resolved.map(|r| r.hidden), Ok(hidden), "{path}");
    }
    // A `..` segment stays forbidden, hidden or not.
    for path in ["/a/..", "/.git/..", "/%2E%2E/.git"] {
        assert_eq!(
            resolve(path.as_bytes(), &mut [0u8; 64]),
            Err(PathError::Forbidden),
            "{path}"
        );
    }
}

#[test]
fn hidden_names() {
    for (name, hidden) in [
        (&b".git"[..], true),
        (b".", true),
        (b"..", true),
        (b".htpasswd", true),
        (b"a.txt", false),
        (b"a.", false),
        (b"", false),
        (b"%2Egit", false),
    ] {
        assert_eq!(
            is_hidden_name(name),
            hidden,
            "{}",
            String::from_utf8_lossy(name)
        );
    }
}

/// The `Location` for a directory name, as text.
fn location(name: &[u8]) -> Option<String> {
    let mut out = [0u8; 128];
    let len = write_dir_location(name, &mut out)?;
    Some(String::from_utf8(out.get(..len)?.to_vec()).unwrap())
}

#[test]
fn dir_locations() {
    for (name, want) in [
        (&b""[..], "/"),
        (b"a", "/a/"),
        (b"a/b", "/a/b/"),
        (b"a b", "/a%20b/"),
        (b"A-Z_a.z~09", "/A-Z_a.z~09/"),
        (b"evil.example", "/evil.example/"),
        (b"\xc3\xa9t\xc3\xa9", "/%C3%A9t%C3%A9/"),
        (b"\xff\x00\x7f", "/%FF%00%7F/"),
        (
            b"%?#:;@&=+$,!'()*[]\"<>",
            "/%25%3F%23%3A%3B%40%26%3D%2B%24%2C%21%27%28%29%2A%5B%5D%22%3C%3E/",
        ),
        (b"a\r\nSet-Cookie: x", "/a%0D%0ASet-Cookie%3A%20x/"),
        (b"back\\slash", "/back%5Cslash/"),
        // Not from resolve, but still never `//`.
        (b"/evil.example", "/evil.example/"),
        (b"a//b/", "/a/b/"),
    ] {
        assert_eq!(
            location(name).as_deref(),
            Some(want),
            "{}",
            String::from_utf8_lossy(name)
        );
    }
}

/// The open-redirect case: a request for `//evil.example` (a directory of that name)
/// must not be redirected to `//evil.example/`, which a browser reads as another host.
#[test]
fn protocol_relative_path_stays_local() {
    for path in [
        "//evil.example",
        "///evil.example",
        "/.//evil.example",
        "//evil.example/.",
    ] {
        let mut name = [0u8; 64];
        let resolved = resolve(path.as_bytes(), &mut name).unwrap();
        let name = name.get(..resolved.len).unwrap();
        assert_eq!(name, b"evil.example", "{path}");
        assert_eq!(location(name).as_deref(), Some("/evil.example/"), "{path}");
    }
}

#[test]
fn dir_location_too_small() {
    let name = b"a b/c";
    let want = b"/a%20b/c/";
    for size in 0..want.len() {
        let mut out = std::vec![0u8; size];
        assert_eq!(write_dir_location(name, &mut out), None, "size {size}");
    }
    let mut out = [0u8; 9];
    assert_eq!(write_dir_location(name, &mut out), Some(9));
    assert_eq!(&out, want);
    assert_eq!(write_dir_location(b"", &mut []), None);
    assert_eq!(write_dir_location(b"", &mut [0u8; 1]), Some(1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// The location of any resolved directory is visible ASCII (safe in a field line),
    /// starts with a single `/`, ends with `/`, and resolves back to the same name.
    #[test]
    fn dir_location_round_trips(
        path in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..60),
            prop::collection::vec(prop::sample::select(&b"//./%2e20 a\xc3"[..]), 0..30),
        ],
    ) {
        let mut raw = std::vec![b'/'];
        raw.extend(path);
        let mut name = [0u8; 64];
        let Ok(resolved) = resolve(&raw, &mut name) else {
            return Ok(());
        };
        let name = name.get(..resolved.len).unwrap();
        let mut out = [0u8; 256];
        let len = write_dir_location(name, &mut out).unwrap();
        let location = out.get(..len).unwrap();
        prop_assert!(location.iter().all(u8::is_ascii_graphic));
        prop_assert!(location.starts_with(b"/") && location.ends_with(b"/"));
        prop_assert!(!location.starts_with(b"//"));
        let mut again = [0u8; 64];
        let back = resolve(location, &mut again).unwrap();
        prop_assert_eq!(again.get(..back.len).unwrap(), name);
        prop_assert!(back.trailing_slash);
    }
}
