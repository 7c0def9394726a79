// SPDX-License-Identifier: GPL-2.0

//! Response heads and the small bodies of error responses.

use super::etag::ETag;
use super::status::Status;
use super::writer::Writer;

/// The `Content-Range` of a 206 or 416 response (RFC 9110 section 14.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentRange {
    /// `bytes first-last/total`, for 206.
    Bytes {
        /// First byte offset.
        first: u64,
        /// Last byte offset, inclusive.
        last: u64,
        /// Length of the whole representation.
        total: u64,
    },
    /// `bytes */total`, for 416.
    Unsatisfied {
        /// Length of the whole representation.
        total: u64,
    },
}

/// What goes into a response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head<'a> {
    /// The status.
    pub(crate) status: Status,
    /// The `Content-Length`: the body length, or for HEAD and 304 the length a GET 200
    /// would have.
    pub(crate) content_length: u64,
    /// The `Content-Type`; left out when empty.
    pub(crate) content_type: &'a str,
    /// `Connection: keep-alive` if true, else `Connection: close`.
    pub(crate) keep_alive: bool,
    /// The `Date`, from [`super::date::format_http_date`].
    pub(crate) date: &'a [u8; 29],
    /// The `Last-Modified`, if any.
    pub(crate) last_modified: Option<&'a [u8; 29]>,
    /// The `ETag`, if any.
    pub(crate) etag: Option<ETag>,
    /// `Cache-Control: max-age=N`, if any.
    pub(crate) max_age: Option<u32>,
    /// The `Content-Range`, if any.
    pub(crate) content_range: Option<ContentRange>,
    /// The `Location`, if any; must be visible ASCII.
    pub(crate) location: Option<&'a [u8]>,
    /// Whether to send `Allow: GET, HEAD` (for 405).
    pub(crate) allow: bool,
}

/// Writes the response head, blank line included, to `out`; the number of bytes written,
/// or `None` if `out` is too small or `content_type` or `location` holds a byte that
/// cannot appear in a field value (which could split the response).
pub(crate) fn write_head(head: &Head<'_>, out: &mut [u8]) -> Option<usize> {
    let mut w = Writer::new(out);
    w.put(b"HTTP/1.1 ")?;
    w.put_u64(u64::from(head.status.code()))?;
    w.put_byte(b' ')?;
    w.put(head.status.reason().as_bytes())?;
    w.put(b"\r\nServer: khttpd_rs\r\nDate: ")?;
    w.put(head.date)?;
    if !head.content_type.is_empty() {
        w.put(b"\r\nContent-Type: ")?;
        w.put(field_value(head.content_type.as_bytes())?)?;
    }
    w.put(b"\r\nContent-Length: ")?;
    w.put_u64(head.content_length)?;
    w.put(if head.keep_alive {
        b"\r\nConnection: keep-alive".as_slice()
    } else {
        b"\r\nConnection: close".as_slice()
    })?;
    if let Some(last_modified) = head.last_modified {
        w.put(b"\r\nLast-Modified: ")?;
        w.put(last_modified)?;
    }
    if let Some(etag) = head.etag {
        w.put(b"\r\nETag: ")?;
        etag.put(&mut w)?;
    }
    if let Some(max_age) = head.max_age {
        w.put(b"\r\nCache-Control: max-age=")?;
        w.put_u64(u64::from(max_age))?;
    }
    if let Some(range) = head.content_range {
        write_content_range(&mut w, range)?;
    }
    if let Some(location) = head.location {
        w.put(b"\r\nLocation: ")?;
        w.put(field_value(location)?)?;
    }
    if head.allow {
        w.put(b"\r\nAllow: GET, HEAD")?;
    }
    if matches!(head.status, Status::Ok | Status::PartialContent) {
        w.put(b"\r\nAccept-Ranges: bytes")?;
    }
    w.put(b"\r\n\r\n")?;
    Some(w.len())
}

/// Writes the `Content-Range` field line.
fn write_content_range(w: &mut Writer<'_>, range: ContentRange) -> Option<()> {
    w.put(b"\r\nContent-Range: bytes ")?;
    let total = match range {
        ContentRange::Bytes { first, last, total } => {
            w.put_u64(first)?;
            w.put_byte(b'-')?;
            w.put_u64(last)?;
            total
        }
        ContentRange::Unsatisfied { total } => {
            w.put_byte(b'*')?;
            total
        }
    };
    w.put_byte(b'/')?;
    w.put_u64(total)
}

/// `value` if it is safe in a field line: visible ASCII and SP only.
fn field_value(value: &[u8]) -> Option<&[u8]> {
    value
        .iter()
        .all(|&b| b == b' ' || b.is_ascii_graphic())
        .then_some(value)
}

/// Writes `HTTP/1.1 100 Continue` and its blank line (RFC 9110 section 15.2.1).
pub(crate) fn write_continue(out: &mut [u8]) -> Option<usize> {
    let mut w = Writer::new(out);
    w.put(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    Some(w.len())
}

/// A small HTML page naming `status`, to send as the body of an error response
/// (with `Content-Type: text/html; charset=utf-8`).
pub(crate) fn error_body(status: Status) -> &'static [u8] {
    /// The page for one code and reason phrase.
    macro_rules! page {
        ($status:literal) => {
            concat!(
                "<!DOCTYPE html>\n<html><head><title>",
                $status,
                "</title></head><body><h1>",
                $status,
                "</h1></body></html>\n"
            )
            .as_bytes()
        };
    }
    match status {
        Status::Ok => page!("200 OK"),
        Status::PartialContent => page!("206 Partial Content"),
        Status::MovedPermanently => page!("301 Moved Permanently"),
        Status::NotModified => page!("304 Not Modified"),
        Status::BadRequest => page!("400 Bad Request"),
        Status::Forbidden => page!("403 Forbidden"),
        Status::NotFound => page!("404 Not Found"),
        Status::MethodNotAllowed => page!("405 Method Not Allowed"),
        Status::RequestTimeout => page!("408 Request Timeout"),
        Status::PreconditionFailed => page!("412 Precondition Failed"),
        Status::ContentTooLarge => page!("413 Content Too Large"),
        Status::UriTooLong => page!("414 URI Too Long"),
        Status::RangeNotSatisfiable => page!("416 Range Not Satisfiable"),
        Status::HeaderFieldsTooLarge => page!("431 Request Header Fields Too Large"),
        Status::InternalServerError => page!("500 Internal Server Error"),
        Status::NotImplemented => page!("501 Not Implemented"),
        Status::ServiceUnavailable => page!("503 Service Unavailable"),
        Status::VersionNotSupported => page!("505 HTTP Version Not Supported"),
    }
}
