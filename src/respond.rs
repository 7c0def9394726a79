// SPDX-License-Identifier: GPL-2.0

//! Turning a parsed request into a response: hello mode, files, directories, errors.
//!
//! All HTTP syntax comes from `proto/`; this file only decides what to answer and wires the
//! file system (`fs.rs`) to the send queue (`send_queue.rs`). Every response takes one path,
//! [`send`]: write the head, then attach the body unless the request was `HEAD`.

use crate::{
    budget::BufferBudget,
    clock,
    file_cache::FileCache,
    fs::{File, Meta, Root},
    params::Tunable,
    proto::{
        date::{format_http_date, DateCache},
        etag::{is_not_modified, precondition_fails, ETag},
        http::{Method, Request},
        listing, mime,
        path::{self, is_hidden_name, write_dir_location, PathError},
        range::{if_range_allows, parse_range, RangeSpec},
        response::{error_body, write_continue, write_head, ContentRange, Head},
        status::Status,
    },
    send_queue::{Body, SendQueue},
};
use kernel::{bindings, prelude::*, str::CStr, sync::Arc};

/// The body of every hello-mode response (the C khttpd's behaviour).
pub(crate) const HELLO: &[u8] = b"Hello World!\n";
/// Longest name looked up below the root, including the NUL.
pub(crate) const NAME_CAP: usize = 4096;
/// Largest directory listing generated.
const LISTING_CAP: usize = 1 << 20;
/// Room left at the end of a listing for its closing tags.
const TAIL_ROOM: usize = 64;
const INDEX: &[u8] = b"index.html";
const HTML: &str = "text/html; charset=utf-8";

/// What is served in static-file mode.
pub(crate) struct Docroot {
    /// The directory, and the credential files are opened with.
    pub(crate) root: Root,
    /// Serve and list names starting with `.`.
    pub(crate) dotfiles: bool,
    /// Files opened recently under the root.
    pub(crate) cache: Arc<FileCache>,
    /// Seconds of `Cache-Control: max-age` on file responses (0: none; writable at run
    /// time).
    pub(crate) max_age: Tunable,
}

impl Docroot {
    /// `name` under the root, opened (or from the cache), and what `stat` says of it.
    fn open(&self, name: &CStr) -> Result<(File, Meta)> {
        self.cache.open(&self.root, name)
    }
}

/// How a request was answered.
pub(crate) struct Answer {
    /// The status sent.
    pub(crate) status: Status,
    /// Close the connection after this response.
    pub(crate) close: bool,
}

/// What every part of one response needs besides status and body.
struct Exchange<'r> {
    req: &'r Request<'r>,
    /// Now, in seconds since the epoch, and as an HTTP date.
    now: u64,
    date: [u8; 29],
    head_only: bool,
}

/// Answers `req`, writing the head (and a small body) into `out` and attaching any larger
/// body; `name` is scratch space for the looked-up name.
pub(crate) fn respond(
    req: &Request<'_>,
    docroot: Option<&Docroot>,
    budget: &Arc<BufferBudget>,
    dates: &DateCache,
    out: &mut SendQueue,
    name: &mut [u8],
) -> Answer {
    let now = clock::unix_secs();
    let ex = Exchange {
        req,
        now,
        date: dates.get(now),
        head_only: req.method == Method::Head,
    };
    if req.expect_continue && req.content_length > 0 {
        if let Some(n) = write_continue(out.tail()) {
            out.commit(n);
        }
    }
    let status = if !req.method.allowed() {
        error(&ex, out, Status::MethodNotAllowed)
    } else if let Some(docroot) = docroot {
        serve_path(&ex, docroot, budget, out, name)
    } else {
        let h = head(
            &ex,
            Status::Ok,
            HELLO.len() as u64,
            "text/plain; charset=utf-8",
        );
        send(
            &ex,
            out,
            &h,
            Body::Static {
                data: HELLO,
                pos: 0,
            },
        )
    };
    Answer {
        status,
        // A 500 may mean the response could not even be written: never reuse the connection.
        close: !req.keep_alive || status == Status::InternalServerError,
    }
}

/// Writes an error response for a request that could not be parsed; the connection closes.
/// `date` is the current one (`DateCache::get`). The length of its body (the error page), 0
/// if nothing could be written.
pub(crate) fn reject(status: Status, date: &[u8; 29], out: &mut SendQueue) -> usize {
    out.clear();
    match write_closing_error(status, date, out.tail()) {
        Some(n) => {
            out.commit(n);
            error_body(status).len()
        }
        None => 0,
    }
}

/// Writes a complete `Connection: close` error response (head and body) into `buf`, dated
/// `date`.
pub(crate) fn write_closing_error(
    status: Status,
    date: &[u8; 29],
    buf: &mut [u8],
) -> Option<usize> {
    let body = error_body(status);
    let head = Head {
        status,
        content_length: body.len() as u64,
        content_type: HTML,
        keep_alive: false,
        date,
        last_modified: None,
        etag: None,
        max_age: None,
        content_range: None,
        location: None,
        allow: false,
    };
    let n = write_head(&head, buf)?;
    buf.get_mut(n..n.checked_add(body.len())?)?
        .copy_from_slice(body);
    n.checked_add(body.len())
}

fn head<'a>(ex: &'a Exchange<'_>, status: Status, len: u64, content_type: &'a str) -> Head<'a> {
    Head {
        status,
        content_length: len,
        content_type,
        keep_alive: ex.req.keep_alive,
        date: &ex.date,
        last_modified: None,
        etag: None,
        max_age: None,
        content_range: None,
        location: None,
        allow: false,
    }
}

/// The one way a response goes out: `head`, then `body` unless the request was `HEAD`. If the
/// head cannot be written, everything pending is replaced by a closing 500.
fn send(ex: &Exchange<'_>, out: &mut SendQueue, head: &Head<'_>, body: Body) -> Status {
    match write_head(head, out.tail()) {
        Some(n) => {
            out.commit(n);
            if !ex.head_only {
                out.set_body(body);
            }
            head.status
        }
        None => {
            reject(Status::InternalServerError, &ex.date, out);
            Status::InternalServerError
        }
    }
}

/// An error response with its small HTML page.
fn error(ex: &Exchange<'_>, out: &mut SendQueue, status: Status) -> Status {
    let page = error_body(status);
    let mut h = head(ex, status, page.len() as u64, HTML);
    h.allow = status == Status::MethodNotAllowed;
    send(ex, out, &h, Body::Static { data: page, pos: 0 })
}

/// Maps a lookup or open error to a status.
fn lookup_status(e: Error) -> Status {
    let errno = -e.to_errno();
    if errno == bindings::ENOENT as i32
        || errno == bindings::ENOTDIR as i32
        || errno == bindings::ENAMETOOLONG as i32
    {
        Status::NotFound
    } else if errno == bindings::EXDEV as i32
        || errno == bindings::ELOOP as i32
        || errno == bindings::EACCES as i32
        || errno == bindings::EPERM as i32
    {
        Status::Forbidden
    } else {
        Status::InternalServerError
    }
}

/// The request path resolved into `name` as a NUL-terminated relative name.
struct Resolved<'n> {
    cname: &'n CStr,
    /// Length of the name (without the NUL); the root itself is ".".
    len: usize,
    trailing_slash: bool,
    hidden: bool,
}

fn resolve<'n>(ex: &Exchange<'_>, name: &'n mut [u8]) -> Result<Resolved<'n>, PathError> {
    let cap = name.len().saturating_sub(INDEX.len() + 2);
    let room = name.get_mut(..cap).ok_or(PathError::TooLong)?;
    let resolved = path::resolve(ex.req.path, room)?;
    let mut len = resolved.len;
    if len == 0 {
        // The root itself.
        *name.first_mut().ok_or(PathError::TooLong)? = b'.';
        len = 1;
    }
    *name.get_mut(len).ok_or(PathError::TooLong)? = 0;
    let cname = CStr::from_bytes_with_nul(name.get(..=len).ok_or(PathError::TooLong)?)
        .map_err(|_| PathError::BadRequest)?;
    Ok(Resolved {
        cname,
        len,
        trailing_slash: resolved.trailing_slash,
        hidden: resolved.hidden,
    })
}

fn serve_path(
    ex: &Exchange<'_>,
    docroot: &Docroot,
    budget: &Arc<BufferBudget>,
    out: &mut SendQueue,
    name: &mut [u8],
) -> Status {
    let (len, trailing_slash, opened) = match resolve(ex, name) {
        Ok(r) if r.hidden && !docroot.dotfiles => return error(ex, out, Status::NotFound),
        Ok(r) => (r.len, r.trailing_slash, docroot.open(r.cname)),
        Err(e) => return error(ex, out, e.status()),
    };
    let (file, meta) = match opened {
        Ok(opened) => opened,
        Err(e) => return error(ex, out, lookup_status(e)),
    };
    if meta.is_file {
        if trailing_slash {
            return error(ex, out, Status::NotFound);
        }
        let shown = name.get(..len).unwrap_or_default();
        return serve_file(
            ex,
            out,
            file,
            &meta,
            mime::mime_for(shown),
            &docroot.max_age,
        );
    }
    if !meta.is_dir {
        return error(ex, out, Status::Forbidden);
    }
    if !trailing_slash {
        // The root never gets here: its path is "/", which ends in a slash.
        return redirect(ex, out, name, len);
    }
    // `name` is "dir" (or "."): try "dir/index.html". Only a missing index shows the
    // listing: an index that may not be read must not reveal the names beside it.
    if let Some(index) = index_name(name, len) {
        match docroot.open(index) {
            Ok((index_file, index_meta)) if index_meta.is_file => {
                return serve_file(ex, out, index_file, &index_meta, HTML, &docroot.max_age)
            }
            Ok(_) => {}
            Err(e) if lookup_status(e) == Status::NotFound => {}
            Err(e) => return error(ex, out, lookup_status(e)),
        }
    }
    serve_listing(ex, out, &file, docroot.dotfiles, budget)
}

/// Builds "NAME/index.html\0" in place after the resolved name.
fn index_name(name: &mut [u8], len: usize) -> Option<&CStr> {
    let end = len + 1 + INDEX.len();
    *name.get_mut(len)? = b'/';
    name.get_mut(len + 1..end)?.copy_from_slice(INDEX);
    *name.get_mut(end)? = 0;
    CStr::from_bytes_with_nul(name.get(..=end)?).ok()
}

/// 301 to the directory's own URL with a slash, built from the normalised name `name[..len]`
/// (never from the raw target, which could make `//host` an open redirect). The location is
/// written into the scratch space after the name.
fn redirect(ex: &Exchange<'_>, out: &mut SendQueue, name: &mut [u8], len: usize) -> Status {
    if len > name.len() {
        return error(ex, out, Status::InternalServerError);
    }
    // Cannot panic: `len` is within `name` (checked above).
    let (shown, scratch) = name.split_at_mut(len);
    let Some(n) = write_dir_location(shown, scratch) else {
        return error(ex, out, Status::UriTooLong);
    };
    let location = scratch.get(..n);
    let page = error_body(Status::MovedPermanently);
    let mut h = head(ex, Status::MovedPermanently, page.len() as u64, HTML);
    h.location = location;
    send(ex, out, &h, Body::Static { data: page, pos: 0 })
}

/// Which bytes of a `len`-byte representation to send: a 206 range, the whole 200, or 416;
/// `file` is a file's validators (none for a listing), for `If-Range`.
fn select_range(ex: &Exchange<'_>, len: u64, file: Option<&ETag>) -> RangeSpec {
    let Some(range) = ex.req.range else {
        return RangeSpec::Full;
    };
    if if_range_allows(ex.req.if_range, file, ex.now) {
        parse_range(range, len)
    } else {
        RangeSpec::Full
    }
}

/// Fills in status, length and `Content-Range` for `spec` and gives the bytes to send; for
/// 416, sends it and gives the status sent instead.
fn apply_range(
    ex: &Exchange<'_>,
    out: &mut SendQueue,
    h: &mut Head<'_>,
    spec: RangeSpec,
    len: u64,
) -> Result<(u64, u64), Status> {
    match spec {
        RangeSpec::Partial { first, last } => {
            h.status = Status::PartialContent;
            h.content_length = last.saturating_sub(first).saturating_add(1);
            h.content_range = Some(ContentRange::Bytes {
                first,
                last,
                total: len,
            });
            Ok((first, last.saturating_add(1)))
        }
        RangeSpec::Unsatisfiable => {
            let page = error_body(Status::RangeNotSatisfiable);
            h.status = Status::RangeNotSatisfiable;
            h.content_length = page.len() as u64;
            h.content_type = HTML;
            h.last_modified = None;
            h.etag = None;
            h.max_age = None;
            h.content_range = Some(ContentRange::Unsatisfied { total: len });
            Err(send(ex, out, h, Body::Static { data: page, pos: 0 }))
        }
        RangeSpec::Full => Ok((0, len)),
    }
}

/// A file's 200, 206 or 304 (with `Last-Modified`, `ETag` and, when `max_age` is above 0,
/// `Cache-Control`), or its 416.
fn serve_file(
    ex: &Exchange<'_>,
    out: &mut SendQueue,
    file: File,
    meta: &Meta,
    mime: &str,
    max_age: &Tunable,
) -> Status {
    let modified = format_http_date(meta.mtime);
    let etag = ETag::of_file(meta.mtime, meta.size, ex.now);
    let mut h = head(ex, Status::Ok, meta.size, mime);
    h.last_modified = Some(&modified);
    h.etag = Some(etag);
    h.max_age = u32::try_from(max_age.get()).ok().filter(|&secs| secs > 0);
    if precondition_fails(ex.req.if_match, ex.req.if_unmodified_since, &etag) {
        return error(ex, out, Status::PreconditionFailed);
    }
    if is_not_modified(ex.req.if_none_match, ex.req.if_modified_since, &etag) {
        h.status = Status::NotModified;
        return send(ex, out, &h, Body::None);
    }
    let spec = select_range(ex, meta.size, Some(&etag));
    let (pos, end) = match apply_range(ex, out, &mut h, spec, meta.size) {
        Ok(bytes) => bytes,
        Err(status) => return status,
    };
    send(ex, out, &h, Body::file(file, pos, end))
}

fn serve_listing(
    ex: &Exchange<'_>,
    out: &mut SendQueue,
    dir: &File,
    dotfiles: bool,
    budget: &Arc<BufferBudget>,
) -> Status {
    // Paid for before it is built: the most a listing can take.
    let Some(paid) = budget.reserve(LISTING_CAP) else {
        return error(ex, out, Status::ServiceUnavailable);
    };
    let page = match build_listing(ex.req.path, dir, dotfiles) {
        Ok(page) => page,
        Err(_) => return error(ex, out, Status::InternalServerError),
    };
    let len = page.len() as u64;
    let mut h = head(ex, Status::Ok, len, HTML);
    let spec = select_range(ex, len, None);
    let (first, end) = match apply_range(ex, out, &mut h, spec, len) {
        Ok(bytes) => bytes,
        Err(status) => return status,
    };
    let body = Body::Page {
        pos: usize::try_from(first).unwrap_or(usize::MAX),
        end: usize::try_from(end).unwrap_or(usize::MAX),
        data: page,
        _paid: paid,
    };
    send(ex, out, &h, body)
}

/// Generates the listing page of `dir` (entries in directory order, dotfiles left out unless
/// `dotfiles`), at most `LISTING_CAP` bytes in a buffer of exactly that capacity.
fn build_listing(path: &[u8], dir: &File, dotfiles: bool) -> Result<KVVec<u8>> {
    let mut page = KVVec::with_capacity(LISTING_CAP, GFP_KERNEL)?;
    let mut piece = [0u8; 1024];
    let n = listing::write_listing_head(path, &mut piece).ok_or(ENOMEM)?;
    page.extend_from_slice(piece.get(..n).unwrap_or_default(), GFP_KERNEL)?;
    let mut failed = false;
    dir.for_each_entry(&mut |name, is_dir| {
        if !dotfiles && is_hidden_name(name) {
            return true;
        }
        let Some(n) = listing::write_listing_entry(name, is_dir, &mut piece) else {
            // A name too long to show is skipped.
            return true;
        };
        // Room is kept for the tail, so the page never outgrows its capacity.
        if page.len() + n + TAIL_ROOM > LISTING_CAP
            || page
                .extend_from_slice(piece.get(..n).unwrap_or_default(), GFP_KERNEL)
                .is_err()
        {
            failed = true;
            return false;
        }
        true
    })?;
    if failed {
        return Err(ENOMEM);
    }
    let n = listing::write_listing_tail(&mut piece).ok_or(ENOMEM)?;
    page.extend_from_slice(piece.get(..n).unwrap_or_default(), GFP_KERNEL)?;
    Ok(page)
}
