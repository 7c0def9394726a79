// SPDX-License-Identifier: GPL-2.0

//! The HTTP/1.x request-head parser (RFC 9112 sections 2, 3, 5 and 6; RFC 9110 section 7.2).
//!
//! It has the shape of the `httparse` crate: [`parse`] is handed the unparsed bytes of a
//! connection each time more arrive, re-parses them from the start and answers
//! [`Parsed::Partial`] until the head is complete. A complete [`Request`] borrows from the
//! caller's buffer; `head_len` tells the caller how far to advance, and whatever follows
//! (a body, a pipelined request) is left for it. [`super::head::HeadParser`] gives the same
//! answers without re-reading what earlier calls already examined.

use super::etag::IfNoneMatch;
use super::lex::{
    is_digits, is_ows, is_tchar, is_token, list_items, parse_u64, split_at, trim_ows,
};
use super::status::Status;

/// A request method (RFC 9110 section 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
    /// `CONNECT`.
    Connect,
    /// `OPTIONS`.
    Options,
    /// `TRACE`.
    Trace,
    /// `PATCH`.
    Patch,
}

impl Method {
    /// The method named by `token`; method names are case-sensitive (RFC 9110 section 9.1).
    fn from_token(token: &[u8]) -> Option<Method> {
        match token {
            b"GET" => Some(Method::Get),
            b"HEAD" => Some(Method::Head),
            b"POST" => Some(Method::Post),
            b"PUT" => Some(Method::Put),
            b"DELETE" => Some(Method::Delete),
            b"CONNECT" => Some(Method::Connect),
            b"OPTIONS" => Some(Method::Options),
            b"TRACE" => Some(Method::Trace),
            b"PATCH" => Some(Method::Patch),
            _ => None,
        }
    }

    /// The method's name, as sent.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
        }
    }

    /// Whether a static file server serves this method: `GET` and `HEAD`. The others are
    /// answered 405 with `Allow: GET, HEAD`.
    pub(crate) fn allowed(self) -> bool {
        matches!(self, Method::Get | Method::Head)
    }
}

/// The protocol version of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// `HTTP/1.0`.
    Http10,
    /// `HTTP/1.1`, or a later 1.x minor version (RFC 9110 section 2.5).
    Http11,
}

/// Size limits enforced while parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Longest request-target, in bytes; longer is 414.
    pub(crate) max_target: usize,
    /// Longest head, request line and leading empty lines included; longer is 431.
    pub(crate) max_head: usize,
    /// Most header field lines; more is 431.
    pub(crate) max_headers: usize,
    /// Largest accepted `Content-Length`; larger is 413.
    pub(crate) max_body: u64,
}

impl Limits {
    /// 8 KiB targets, 16 KiB heads, 64 fields, 1 MiB bodies.
    pub(crate) const DEFAULT: Limits = Limits {
        max_target: 8192,
        max_head: 16384,
        max_headers: 64,
        max_body: 1 << 20,
    };
}

/// A parsed request head; every slice borrows from the buffer given to [`parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request<'b> {
    /// The method.
    pub(crate) method: Method,
    /// The protocol version.
    pub(crate) version: Version,
    /// The request-target exactly as sent.
    pub(crate) target: &'b [u8],
    /// The path of the target, still percent-encoded, without the query; `/` for an
    /// absolute-form target without a path.
    pub(crate) path: &'b [u8],
    /// The authority of an absolute-form target, else the `Host` field value
    /// (RFC 9112 section 3.2.2); `None` only for HTTP/1.0 without `Host`.
    pub(crate) host: Option<&'b [u8]>,
    /// Whether the connection stays open after the response.
    pub(crate) keep_alive: bool,
    /// Length of the body that follows the head; 0 without `Content-Length`.
    pub(crate) content_length: u64,
    /// Whether an HTTP/1.1 client sent `Expect: 100-continue`.
    pub(crate) expect_continue: bool,
    /// The `If-Modified-Since` value; `None` if absent or sent more than once.
    pub(crate) if_modified_since: Option<&'b [u8]>,
    /// The `If-None-Match` fields, for [`super::etag::is_not_modified`].
    pub(crate) if_none_match: IfNoneMatch<'b>,
    /// The `If-Match` fields, for [`super::etag::precondition_fails`].
    pub(crate) if_match: IfNoneMatch<'b>,
    /// The `If-Unmodified-Since` value; `None` if absent or sent more than once.
    pub(crate) if_unmodified_since: Option<&'b [u8]>,
    /// The `Range` value; `None` if absent or sent more than once, and also when
    /// `If-Range` was sent more than once, as that condition cannot be evaluated.
    pub(crate) range: Option<&'b [u8]>,
    /// The `If-Range` value, for [`super::range::if_range_allows`]; `None` if absent or
    /// sent more than once.
    pub(crate) if_range: Option<&'b [u8]>,
    /// The `User-Agent` value, for the access log; `None` if absent or sent more than once.
    pub(crate) user_agent: Option<&'b [u8]>,
    /// The `Referer` value, for the access log; `None` if absent or sent more than once.
    pub(crate) referer: Option<&'b [u8]>,
}

/// Why a request is refused, and whether the connection must close afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reject {
    /// The status to answer with.
    pub(crate) status: Status,
    /// Whether to close after answering; true for every reject [`parse`] gives, since
    /// each is a protocol violation or leaves the message framing unknown.
    pub(crate) close: bool,
}

/// The outcome of [`parse`].
// The request is returned by value, like httparse's: boxing it would allocate per request.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Parsed<'b> {
    /// The head is not complete yet: call again with more bytes.
    Partial,
    /// A complete head of `head_len` bytes, leading empty lines included.
    Complete {
        /// The request.
        req: Request<'b>,
        /// Bytes of `buf` taken by the head.
        head_len: usize,
    },
    /// The request must be refused.
    Reject(Reject),
}

/// Parses the request head at the start of `buf`.
pub(crate) fn parse<'b>(buf: &'b [u8], limits: &Limits) -> Parsed<'b> {
    match parse_head(buf, limits) {
        Ok(Some((req, head_len))) => Parsed::Complete { req, head_len },
        Ok(None) => Parsed::Partial,
        Err(status) => Parsed::Reject(Reject {
            status,
            close: true,
        }),
    }
}

/// [`parse`] with `?`: `Ok(None)` is Partial, `Err` a status to refuse with.
fn parse_head<'b>(buf: &'b [u8], limits: &Limits) -> Result<Option<(Request<'b>, usize)>, Status> {
    // Only the first max_head bytes may hold the head; once that many are buffered
    // without a complete head, waiting for more cannot help.
    let window = buf.get(..limits.max_head).unwrap_or(buf);
    let window_full = buf.len() >= limits.max_head;
    let mut lines = Lines {
        rest: window,
        consumed: 0,
    };
    let request_line = loop {
        match lines.next_line()? {
            // RFC 9112 section 2.2: empty lines before the request line are ignored.
            Line::Complete([]) => {}
            Line::Complete(line) => break line,
            Line::Incomplete(prefix) => {
                check_request_prefix(prefix, limits)?;
                return incomplete(window_full);
            }
        }
    };
    let start = parse_request_line(request_line, limits)?;
    let mut fields = Fields::default();
    let mut count = 0usize;
    loop {
        match lines.next_line()? {
            Line::Complete([]) => break,
            Line::Complete(line) => {
                count = count.saturating_add(1);
                if count > limits.max_headers {
                    return Err(Status::HeaderFieldsTooLarge);
                }
                fields.add(line)?;
            }
            Line::Incomplete(_) => return incomplete(window_full),
        }
    }
    let req = fields.finish(&start, limits)?;
    Ok(Some((req, lines.consumed)))
}

/// The answer for a head that has not ended: wait for more, unless the limit is reached.
pub(super) fn incomplete<T>(window_full: bool) -> Result<Option<T>, Status> {
    if window_full {
        Err(Status::HeaderFieldsTooLarge)
    } else {
        Ok(None)
    }
}

/// One line of the head, as cut by [`Lines`].
enum Line<'b> {
    /// A complete line, without its line end.
    Complete(&'b [u8]),
    /// The bytes after the last line end: a line still arriving.
    Incomplete(&'b [u8]),
}

/// Cuts the head into lines ended by CRLF or a bare LF (RFC 9112 section 2.2).
struct Lines<'b> {
    /// The bytes not cut yet.
    rest: &'b [u8],
    /// Bytes cut so far, line ends included.
    consumed: usize,
}

impl<'b> Lines<'b> {
    /// The next line; a NUL or a CR not followed by LF is an error.
    fn next_line(&mut self) -> Result<Line<'b>, Status> {
        let Some(lf) = self.rest.iter().position(|&b| b == b'\n') else {
            // A CR at the very end may still be followed by its LF.
            let prefix = self.rest.strip_suffix(b"\r").unwrap_or(self.rest);
            check_line_bytes(prefix)?;
            return Ok(Line::Incomplete(prefix));
        };
        let (line, after) = split_at(self.rest, lf).ok_or(Status::BadRequest)?;
        self.rest = after.get(1..).unwrap_or_default();
        self.consumed = self.consumed.saturating_add(lf).saturating_add(1);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        check_line_bytes(line)?;
        Ok(Line::Complete(line))
    }
}

/// Refuses a NUL or a bare CR in a line (RFC 9112 section 2.2, RFC 9110 section 5.5).
pub(super) fn check_line_bytes(line: &[u8]) -> Result<(), Status> {
    if line.iter().any(|&b| b == 0 || b == b'\r') {
        Err(Status::BadRequest)
    } else {
        Ok(())
    }
}

/// Checks a request line that has not ended, so that a bad method or an over-long target
/// is refused before the buffer fills up.
fn check_request_prefix(prefix: &[u8], limits: &Limits) -> Result<(), Status> {
    let mut parts = prefix.splitn(3, |&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    match parts.next() {
        None if method.iter().all(|&b| is_tchar(b)) => Ok(()),
        None => Err(Status::BadRequest),
        Some(_) if !is_token(method) => Err(Status::BadRequest),
        Some(target) if target.len() > limits.max_target => Err(Status::UriTooLong),
        Some(_) => Ok(()),
    }
}

/// Checks a complete request line on its own, as [`parse`] does.
pub(super) fn check_request_line(line: &[u8], limits: &Limits) -> Result<(), Status> {
    parse_request_line(line, limits).map(|_| ())
}

/// Checks a complete field line on its own, as [`parse`] does after earlier lines that
/// left `content_length`, and updates it: the one thing a field line's check carries over
/// to the next.
pub(super) fn check_field_line(
    line: &[u8],
    content_length: &mut Option<u64>,
) -> Result<(), Status> {
    let mut fields = Fields {
        content_length: *content_length,
        ..Fields::default()
    };
    fields.add(line)?;
    *content_length = fields.content_length;
    Ok(())
}

/// The parts of a request line (RFC 9112 section 3).
struct RequestLine<'b> {
    /// The method.
    method: Method,
    /// The version.
    version: Version,
    /// The raw request-target.
    target: &'b [u8],
    /// The path of the target, query stripped.
    path: &'b [u8],
    /// The authority of an absolute-form target.
    authority: Option<&'b [u8]>,
}

/// Parses `method SP request-target SP HTTP-version`; the checks run in the order that
/// [`check_request_prefix`] can apply them early, so a prefix never disagrees.
fn parse_request_line<'b>(line: &'b [u8], limits: &Limits) -> Result<RequestLine<'b>, Status> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    if !is_token(method) {
        return Err(Status::BadRequest);
    }
    let target = parts.next().ok_or(Status::BadRequest)?;
    if target.len() > limits.max_target {
        return Err(Status::UriTooLong);
    }
    let version = parts.next().ok_or(Status::BadRequest)?;
    if target.is_empty() || !target.iter().all(|&b| is_target_byte(b)) {
        return Err(Status::BadRequest);
    }
    let version = parse_version(version)?;
    let method = Method::from_token(method).ok_or(Status::NotImplemented)?;
    let (path, authority) = split_target(target)?;
    Ok(RequestLine {
        method,
        version,
        target,
        path,
        authority,
    })
}

/// Whether `b` may appear in a request-target: visible ASCII, but no fragment.
fn is_target_byte(b: u8) -> bool {
    b.is_ascii_graphic() && b != b'#'
}

/// Parses `HTTP/x.y` (RFC 9112 section 2.3): another major version is 505, anything
/// malformed 400.
fn parse_version(v: &[u8]) -> Result<Version, Status> {
    let rest = v.strip_prefix(b"HTTP/").ok_or(Status::BadRequest)?;
    let major_len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (major, minor) = split_at(rest, major_len).ok_or(Status::BadRequest)?;
    let minor = match minor {
        [] => None,
        [b'.', digits @ ..] if is_digits(digits) => Some(digits),
        _ => return Err(Status::BadRequest),
    };
    match (major, minor) {
        (b"1", Some(b"0")) => Ok(Version::Http10),
        (b"1", Some([_])) => Ok(Version::Http11),
        (b"1", _) | ([], _) => Err(Status::BadRequest),
        _ => Err(Status::VersionNotSupported),
    }
}

/// Splits a request-target into its path and, for absolute-form, its authority
/// (RFC 9112 section 3.2). Asterisk-form and authority-form are refused.
fn split_target(target: &[u8]) -> Result<(&[u8], Option<&[u8]>), Status> {
    if target.starts_with(b"/") {
        return Ok((strip_query(target), None));
    }
    let after_scheme = strip_http_scheme(target).ok_or(Status::BadRequest)?;
    let authority_len = after_scheme
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .unwrap_or(after_scheme.len());
    let (authority, rest) = split_at(after_scheme, authority_len).ok_or(Status::BadRequest)?;
    if authority.is_empty() || !is_host_value(authority) {
        return Err(Status::BadRequest);
    }
    let path = match strip_query(rest) {
        [] => b"/",
        path => path,
    };
    Ok((path, Some(authority)))
}

/// `target` after a case-insensitive `http://` or `https://`.
fn strip_http_scheme(target: &[u8]) -> Option<&[u8]> {
    let colon = target.iter().position(|&b| b == b':')?;
    let (scheme, rest) = split_at(target, colon)?;
    let known = scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https");
    if known {
        rest.strip_prefix(b"://")
    } else {
        None
    }
}

/// `target` up to its query.
fn strip_query(target: &[u8]) -> &[u8] {
    target.split(|&b| b == b'?').next().unwrap_or(target)
}

/// Whether `value` is a valid `uri-host [ ":" port ]`: only the bytes RFC 3986 allows in
/// an authority, without userinfo (RFC 9110 section 4.2.4).
fn is_host_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]%".contains(&b))
}

/// A field that must appear at most once to be used.
#[derive(Clone, Copy, Default)]
enum Single<'b> {
    /// Not sent.
    #[default]
    Absent,
    /// Sent once, with this value.
    One(&'b [u8]),
    /// Sent more than once.
    Repeated,
}

impl<'b> Single<'b> {
    /// Records one more occurrence.
    fn add(&mut self, value: &'b [u8]) {
        *self = match self {
            Single::Absent => Single::One(value),
            _ => Single::Repeated,
        };
    }

    /// A list condition's three states (`If-None-Match`, `If-Match`).
    fn condition(self) -> IfNoneMatch<'b> {
        match self {
            Single::Absent => IfNoneMatch::Absent,
            Single::One(value) => IfNoneMatch::One(value),
            Single::Repeated => IfNoneMatch::Repeated,
        }
    }

    /// The value if the field was sent exactly once.
    fn get(self) -> Option<&'b [u8]> {
        match self {
            Single::One(value) => Some(value),
            _ => None,
        }
    }
}

/// What the header fields say, gathered line by line.
#[derive(Default)]
struct Fields<'b> {
    /// `Host`.
    host: Single<'b>,
    /// `Content-Length`, once all its values agreed.
    content_length: Option<u64>,
    /// Whether `Transfer-Encoding` was sent.
    transfer_encoding: bool,
    /// Whether `Connection` listed `close`.
    close: bool,
    /// Whether `Connection` listed `keep-alive`.
    keep_alive: bool,
    /// Whether `Expect: 100-continue` was sent.
    expect_continue: bool,
    /// `If-Modified-Since`.
    if_modified_since: Single<'b>,
    /// `If-None-Match`.
    if_none_match: Single<'b>,
    /// `If-Match`.
    if_match: Single<'b>,
    /// `If-Unmodified-Since`.
    if_unmodified_since: Single<'b>,
    /// `Range`.
    range: Single<'b>,
    /// `If-Range`.
    if_range: Single<'b>,
    /// `User-Agent`.
    user_agent: Single<'b>,
    /// `Referer`.
    referer: Single<'b>,
}

impl<'b> Fields<'b> {
    /// Takes in one `name: value` line (RFC 9112 section 5).
    fn add(&mut self, line: &'b [u8]) -> Result<(), Status> {
        // A leading SP or HTAB is obs-fold, refused per RFC 9112 section 5.2.
        if line.first().is_some_and(|&b| is_ows(b)) {
            return Err(Status::BadRequest);
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(Status::BadRequest)?;
        let (name, rest) = split_at(line, colon).ok_or(Status::BadRequest)?;
        let value = trim_ows(rest.get(1..).unwrap_or_default());
        // A token check also refuses whitespace before the colon (RFC 9112 section 5.1).
        if !is_token(name) || !value.iter().all(|&b| is_field_byte(b)) {
            return Err(Status::BadRequest);
        }
        if name.eq_ignore_ascii_case(b"host") {
            if !is_host_value(value) {
                return Err(Status::BadRequest);
            }
            self.host.add(value);
        } else if name.eq_ignore_ascii_case(b"content-length") {
            self.add_content_length(value)?;
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.transfer_encoding = true;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for option in list_items(value) {
                self.close |= option.eq_ignore_ascii_case(b"close");
                self.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case(b"expect") {
            self.expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
        } else if name.eq_ignore_ascii_case(b"if-modified-since") {
            self.if_modified_since.add(value);
        } else if name.eq_ignore_ascii_case(b"if-none-match") {
            self.if_none_match.add(value);
        } else if name.eq_ignore_ascii_case(b"if-match") {
            self.if_match.add(value);
        } else if name.eq_ignore_ascii_case(b"if-unmodified-since") {
            self.if_unmodified_since.add(value);
        } else if name.eq_ignore_ascii_case(b"range") {
            self.range.add(value);
        } else if name.eq_ignore_ascii_case(b"if-range") {
            self.if_range.add(value);
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            self.user_agent.add(value);
        } else if name.eq_ignore_ascii_case(b"referer") {
            self.referer.add(value);
        }
        Ok(())
    }

    /// Takes in a `Content-Length` value: digits, or a list of identical values, and the
    /// same value on every line (RFC 9112 section 6.3, item 5).
    fn add_content_length(&mut self, value: &[u8]) -> Result<(), Status> {
        for item in value.split(|&b| b == b',') {
            let length = parse_u64(trim_ows(item)).ok_or(Status::BadRequest)?;
            if self.content_length.is_some_and(|seen| seen != length) {
                return Err(Status::BadRequest);
            }
            self.content_length = Some(length);
        }
        Ok(())
    }

    /// Checks the fields as a whole and builds the request.
    fn finish(self, start: &RequestLine<'b>, limits: &Limits) -> Result<Request<'b>, Status> {
        // RFC 9112 section 3.2: HTTP/1.1 needs exactly one Host, any version at most one.
        let host = match (self.host, start.version) {
            (Single::Repeated, _) | (Single::Absent, Version::Http11) => {
                return Err(Status::BadRequest)
            }
            (host, _) => host.get(),
        };
        // RFC 9112 section 6.1: both framings at once is smuggling; chunked bodies are
        // not accepted at all.
        if self.transfer_encoding {
            return Err(if self.content_length.is_some() {
                Status::BadRequest
            } else {
                Status::NotImplemented
            });
        }
        let content_length = self.content_length.unwrap_or(0);
        if content_length > limits.max_body {
            return Err(Status::ContentTooLarge);
        }
        let is_11 = start.version == Version::Http11;
        Ok(Request {
            method: start.method,
            version: start.version,
            target: start.target,
            path: start.path,
            host: start.authority.or(host),
            keep_alive: !self.close && (is_11 || self.keep_alive),
            content_length,
            // RFC 9110 section 10.1.1: an HTTP/1.0 expectation is ignored.
            expect_continue: is_11 && self.expect_continue,
            if_modified_since: self.if_modified_since.get(),
            if_none_match: self.if_none_match.condition(),
            if_match: self.if_match.condition(),
            if_unmodified_since: self.if_unmodified_since.get(),
            // RFC 9110 section 13.1.5: a Range under a condition that cannot be
            // evaluated is not honoured; the whole representation is always correct.
            range: match self.if_range {
                Single::Repeated => None,
                _ => self.range.get(),
            },
            if_range: self.if_range.get(),
            user_agent: self.user_agent.get(),
            referer: self.referer.get(),
        })
    }
}

/// Whether `b` may appear in a field value: visible, SP, HTAB or obs-text; no controls.
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}
