// SPDX-License-Identifier: GPL-2.0

//! Response heads, 100 Continue and error bodies.

use std::string::String;

use crate::proto::date::format_http_date;
use crate::proto::etag::ETag;
use crate::proto::response::{error_body, write_continue, write_head, ContentRange, Head};
use crate::proto::status::Status;

/// The date used by every test: `Sun, 06 Nov 1994 08:49:37 GMT`.
const DATE: &[u8; 29] = b"Sun, 06 Nov 1994 08:49:37 GMT";

/// A 200 with no optional fields.
fn base() -> Head<'static> {
    Head {
        status: Status::Ok,
        content_length: 1234,
        content_type: "text/html; charset=utf-8",
        keep_alive: true,
        date: DATE,
        last_modified: None,
        etag: None,
        max_age: None,
        content_range: None,
        location: None,
        allow: false,
    }
}

/// Writes `head` into a large buffer and returns its text.
fn head_text(head: &Head<'_>) -> String {
    let mut out = [0u8; 1024];
    let len = write_head(head, &mut out).expect("fits");
    String::from_utf8(out.get(..len).unwrap().to_vec()).unwrap()
}

#[test]
fn plain_200() {
    assert_eq!(
        head_text(&base()),
        "HTTP/1.1 200 OK\r\nServer: khttpd_rs\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 1234\r\nConnection: keep-alive\r\nAccept-Ranges: bytes\r\n\r\n"
    );
}

#[test]
fn partial_content_with_last_modified() {
    let modified = format_http_date(0);
    let head = Head {
        status: Status::PartialContent,
        content_length: 10,
        keep_alive: false,
        last_modified: Some(&modified),
        content_range: Some(ContentRange::Bytes {
            first: 5,
            last: 14,
            total: u64::MAX,
        }),
        ..base()
    };
    assert_eq!(
        head_text(&head),
        "HTTP/1.1 206 Partial Content\r\nServer: khttpd_rs\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 10\r\nConnection: close\r\nLast-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Range: bytes 5-14/18446744073709551615\r\nAccept-Ranges: bytes\r\n\r\n"
    );
}

/// A file's 304: validators and caching fields, no Accept-Ranges (as nginx).
#[test]
fn not_modified_with_etag_and_cache_control() {
    let modified = format_http_date(784_111_777);
    let head = Head {
        status: Status::NotModified,
        last_modified: Some(&modified),
        etag: Some(ETag {
            mtime: 784_111_777,
            size: 1234,
            weak: false,
        }),
        max_age: Some(31_536_000),
        ..base()
    };
    assert_eq!(
        head_text(&head),
        "HTTP/1.1 304 Not Modified\r\nServer: khttpd_rs\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 1234\r\nConnection: keep-alive\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nETag: \"2ebc98a1-4d2\"\r\nCache-Control: max-age=31536000\r\n\r\n"
    );
    // The largest tag and max-age fit in a head of a few hundred bytes; a buffer one byte
    // short of the head is refused, not overrun.
    let big = Head {
        etag: Some(ETag {
            mtime: u64::MAX,
            size: u64::MAX,
            weak: true,
        }),
        max_age: Some(u32::MAX),
        ..head
    };
    let text = head_text(&big);
    assert!(text.contains("\r\nETag: W/\"ffffffffffffffff-ffffffffffffffff\"\r\nCache-Control: max-age=4294967295\r\n"), "{text}");
    let mut out = [0u8; 1024];
    assert_eq!(write_head(&big, &mut out[..text.len() - 1]), None);
}

#[test]
fn unsatisfiable_range() {
    let head = Head {
        status: Status::RangeNotSatisfiable,
        content_length: 0,
        content_type: "",
        content_range: Some(ContentRange::Unsatisfied { total: 0 }),
        ..base()
    };
    assert_eq!(
        head_text(&head),
        "HTTP/1.1 416 Range Not Satisfiable\r\nServer: khttpd_rs\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\nConnection: keep-alive\r\nContent-Range: bytes */0\r\n\r\n"
    );
}

#[test]
fn redirect_and_method_not_allowed() {
    let redirect = Head {
        status: Status::MovedPermanently,
        content_length: 0,
        location: Some(b"/dir/"),
        ..base()
    };
    let text = head_text(&redirect);
    assert!(
        text.starts_with("HTTP/1.1 301 Moved Permanently\r\n"),
        "{text}"
    );
    assert!(text.ends_with("\r\nLocation: /dir/\r\n\r\n"), "{text}");
    assert!(!text.contains("Accept-Ranges"));
    let not_allowed = Head {
        status: Status::MethodNotAllowed,
        allow: true,
        ..base()
    };
    assert!(
        head_text(&not_allowed).ends_with("\r\nConnection: keep-alive\r\nAllow: GET, HEAD\r\n\r\n")
    );
}

#[test]
fn refuses_field_injection() {
    let mut out = [0u8; 1024];
    let injected = Head {
        location: Some(b"/a\r\nSet-Cookie: x=1"),
        ..base()
    };
    assert_eq!(write_head(&injected, &mut out), None);
    let bad_type = Head {
        content_type: "text/html\nX: y",
        ..base()
    };
    assert_eq!(write_head(&bad_type, &mut out), None);
}

#[test]
fn reports_overflow_at_every_size() {
    let head = Head {
        content_range: Some(ContentRange::Bytes {
            first: 0,
            last: 1,
            total: 2,
        }),
        location: Some(b"/x"),
        allow: true,
        ..base()
    };
    let mut out = [0u8; 1024];
    let full = write_head(&head, &mut out).unwrap();
    for size in 0..full {
        assert_eq!(write_head(&head, &mut out[..size]), None, "{size}");
    }
    assert_eq!(write_head(&head, &mut out[..full]), Some(full));
}

#[test]
fn continue_line() {
    let mut out = [0u8; 64];
    let len = write_continue(&mut out).unwrap();
    assert_eq!(&out[..len], b"HTTP/1.1 100 Continue\r\n\r\n");
    assert_eq!(write_continue(&mut out[..len - 1]), None);
}

#[test]
fn error_bodies_name_their_status() {
    for status in [
        Status::BadRequest,
        Status::Forbidden,
        Status::NotFound,
        Status::MethodNotAllowed,
        Status::RequestTimeout,
        Status::ContentTooLarge,
        Status::UriTooLong,
        Status::RangeNotSatisfiable,
        Status::HeaderFieldsTooLarge,
        Status::InternalServerError,
        Status::NotImplemented,
        Status::ServiceUnavailable,
        Status::VersionNotSupported,
        Status::Ok,
        Status::PartialContent,
        Status::MovedPermanently,
        Status::NotModified,
    ] {
        let body = core::str::from_utf8(error_body(status)).unwrap();
        let title = std::format!("<title>{} {}</title>", status.code(), status.reason());
        assert!(body.contains(&title), "{body}");
        assert!(body.starts_with("<!DOCTYPE html>"));
    }
}
