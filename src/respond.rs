// SPDX-License-Identifier: GPL-2.0

//! Turning a parsed request into a response: hello mode, files, directories, errors.
//!
//! All HTTP syntax comes from `proto/`; this file only decides what to answer and wires the
//! file system (`fs.rs`) to the output buffer (`http_out.rs`).

use crate::{
    clock,
    fs::{File, Meta, Root},
    http_out::{Body, Out},
    proto::{
        date::{format_http_date, parse_http_date},
        http::{Method, Request},
        listing, mime,
        path::{self, PathError},
        range::{parse_range, RangeSpec},
        response::{error_body, write_continue, write_head, ContentRange, Head},
        status::Status,
    },
};
use kernel::{bindings, prelude::*, str::CStr};

/// The body of every hello-mode response (the C khttpd's behaviour).
pub(crate) const HELLO: &[u8] = b"Hello World!\n";
/// Longest name looked up below the root, including the NUL.
pub(crate) const NAME_CAP: usize = 4096;
/// Largest directory listing generated.
const LISTING_CAP: usize = 1 << 20;
const INDEX: &[u8] = b"index.html";

/// How a request was answered.
pub(crate) struct Answer {
    /// The status sent.
    pub(crate) status: Status,
    /// Close the connection after this response.
    pub(crate) close: bool,
}

/// Per-request context: what the response head needs besides status and body.
struct Ctx<'r> {
    req: &'r Request<'r>,
    date: [u8; 29],
    head_only: bool,
}

/// Answers `req`, writing the head (and a small body) into `out` and attaching any larger body.
pub(crate) fn respond(
    req: &Request<'_>,
    root: Option<&Root>,
    out: &mut Out,
    name: &mut [u8],
) -> Answer {
    let ctx = Ctx {
        req,
        date: format_http_date(clock::unix_secs()),
        head_only: req.method == Method::Head,
    };
    if req.expect_continue && req.content_length > 0 {
        if let Some(n) = write_continue(out.tail()) {
            out.commit(n);
        }
    }
    let status = if !req.method.allowed() {
        error(&ctx, out, Status::MethodNotAllowed)
    } else if let Some(root) = root {
        serve_path(&ctx, root, out, name)
    } else {
        hello(&ctx, out)
    };
    Answer {
        status,
        close: !req.keep_alive,
    }
}

/// Writes an error response for a request that could not be parsed; the connection closes.
pub(crate) fn reject(status: Status, out: &mut Out) {
    out.clear();
    if let Some(n) = write_closing_error(status, out.tail()) {
        out.commit(n);
    }
}

/// Writes a complete `Connection: close` error response (head and body) into `buf`.
pub(crate) fn write_closing_error(status: Status, buf: &mut [u8]) -> Option<usize> {
    let date = format_http_date(clock::unix_secs());
    let body = error_body(status);
    let head = Head {
        status,
        content_length: body.len() as u64,
        content_type: "text/html; charset=utf-8",
        keep_alive: false,
        date: &date,
        last_modified: None,
        content_range: None,
        location: None,
        allow: false,
    };
    let n = write_head(&head, buf)?;
    buf.get_mut(n..n + body.len())?.copy_from_slice(body);
    Some(n + body.len())
}

fn head<'a>(ctx: &'a Ctx<'_>, status: Status, len: u64, content_type: &'a str) -> Head<'a> {
    Head {
        status,
        content_length: len,
        content_type,
        keep_alive: ctx.req.keep_alive,
        date: &ctx.date,
        last_modified: None,
        content_range: None,
        location: None,
        allow: false,
    }
}

/// Writes `head` and, unless HEAD, `body`; falls back to 500 if the head does not fit.
fn send(ctx: &Ctx<'_>, out: &mut Out, head: &Head<'_>, body: Body) -> Status {
    let Some(n) = write_head(head, out.tail()) else {
        return error(ctx, out, Status::InternalServerError);
    };
    out.commit(n);
    if !ctx.head_only {
        out.set_body(body);
    }
    head.status
}

fn hello(ctx: &Ctx<'_>, out: &mut Out) -> Status {
    let h = head(
        ctx,
        Status::Ok,
        HELLO.len() as u64,
        "text/plain; charset=utf-8",
    );
    let Some(n) = write_head(&h, out.tail()) else {
        return Status::InternalServerError;
    };
    out.commit(n);
    if !ctx.head_only {
        out.push(HELLO);
    }
    Status::Ok
}

fn error(ctx: &Ctx<'_>, out: &mut Out, status: Status) -> Status {
    let body = error_body(status);
    let mut h = head(ctx, status, body.len() as u64, "text/html; charset=utf-8");
    h.allow = status == Status::MethodNotAllowed;
    let Some(n) = write_head(&h, out.tail()) else {
        return status;
    };
    out.commit(n);
    if !ctx.head_only {
        out.push(body);
    }
    status
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

/// Resolves the request path into `name` as a NUL-terminated relative name.
fn resolve<'n>(ctx: &Ctx<'_>, name: &'n mut [u8]) -> Result<(&'n CStr, usize, bool), PathError> {
    let cap = name.len().saturating_sub(INDEX.len() + 2);
    let room = name.get_mut(..cap).ok_or(PathError::TooLong)?;
    let resolved = path::resolve(ctx.req.path, room)?;
    let mut len = resolved.len;
    if len == 0 {
        // The root itself.
        *name.first_mut().ok_or(PathError::TooLong)? = b'.';
        len = 1;
    }
    *name.get_mut(len).ok_or(PathError::TooLong)? = 0;
    let cstr = CStr::from_bytes_with_nul(name.get(..=len).ok_or(PathError::TooLong)?)
        .map_err(|_| PathError::BadRequest)?;
    Ok((cstr, len, resolved.trailing_slash))
}

fn serve_path(ctx: &Ctx<'_>, root: &Root, out: &mut Out, name: &mut [u8]) -> Status {
    let (trailing_slash, len, file) = match resolve(ctx, name) {
        Ok((cname, len, slash)) => (slash, len, root.open(cname)),
        Err(e) => return error(ctx, out, e.status()),
    };
    let file = match file {
        Ok(file) => file,
        Err(e) => return error(ctx, out, lookup_status(e)),
    };
    let meta = match file.stat() {
        Ok(meta) => meta,
        Err(_) => return error(ctx, out, Status::InternalServerError),
    };
    if meta.is_file {
        if trailing_slash {
            return error(ctx, out, Status::NotFound);
        }
        let shown = name.get(..len).unwrap_or_default();
        return serve_file(ctx, out, file, &meta, mime::mime_for(shown));
    }
    if !meta.is_dir {
        return error(ctx, out, Status::Forbidden);
    }
    if !trailing_slash && !ctx.req.path.ends_with(b"/") {
        return redirect(ctx, out);
    }
    // `name` is "dir" (or "."): try "dir/index.html".
    if let Some(index) = index_name(name, len) {
        if let Ok(index_file) = root.open(index) {
            if let Ok(index_meta) = index_file.stat() {
                if index_meta.is_file {
                    return serve_file(
                        ctx,
                        out,
                        index_file,
                        &index_meta,
                        "text/html; charset=utf-8",
                    );
                }
            }
        }
    }
    serve_listing(ctx, out, &file)
}

/// Builds "NAME/index.html\0" in place after the resolved name.
fn index_name(name: &mut [u8], len: usize) -> Option<&CStr> {
    let end = len + 1 + INDEX.len();
    *name.get_mut(len)? = b'/';
    name.get_mut(len + 1..end)?.copy_from_slice(INDEX);
    *name.get_mut(end)? = 0;
    CStr::from_bytes_with_nul(name.get(..=end)?).ok()
}

fn redirect(ctx: &Ctx<'_>, out: &mut Out) -> Status {
    let mut location = [0u8; 512];
    let path = ctx.req.path;
    let Some(dst) = location.get_mut(..path.len()) else {
        return error(ctx, out, Status::UriTooLong);
    };
    dst.copy_from_slice(path);
    let Some(slash) = location.get_mut(path.len()) else {
        return error(ctx, out, Status::UriTooLong);
    };
    *slash = b'/';
    let body = error_body(Status::MovedPermanently);
    let mut h = head(
        ctx,
        Status::MovedPermanently,
        body.len() as u64,
        "text/html; charset=utf-8",
    );
    h.location = location.get(..=path.len());
    let Some(n) = write_head(&h, out.tail()) else {
        return error(ctx, out, Status::InternalServerError);
    };
    out.commit(n);
    if !ctx.head_only {
        out.push(body);
    }
    Status::MovedPermanently
}

fn serve_file(ctx: &Ctx<'_>, out: &mut Out, file: File, meta: &Meta, content_type: &str) -> Status {
    let modified = format_http_date(meta.mtime);
    let mut h = head(ctx, Status::Ok, meta.size, content_type);
    h.last_modified = Some(&modified);
    if let Some(since) = ctx.req.if_modified_since.and_then(parse_http_date) {
        if meta.mtime <= since {
            h.status = Status::NotModified;
            return send(ctx, out, &h, Body::None);
        }
    }
    let (first, end) = match ctx.req.range.map(|r| parse_range(r, meta.size)) {
        Some(RangeSpec::Partial { first, last }) => {
            h.status = Status::PartialContent;
            h.content_length = last.saturating_sub(first).saturating_add(1);
            h.content_range = Some(ContentRange::Bytes {
                first,
                last,
                total: meta.size,
            });
            (first, last.saturating_add(1))
        }
        Some(RangeSpec::Unsatisfiable) => {
            let body = error_body(Status::RangeNotSatisfiable);
            h.status = Status::RangeNotSatisfiable;
            h.content_length = body.len() as u64;
            h.content_type = "text/html; charset=utf-8";
            h.content_range = Some(ContentRange::Unsatisfied { total: meta.size });
            let status = send(ctx, out, &h, Body::None);
            if !ctx.head_only {
                out.push(body);
            }
            return status;
        }
        Some(RangeSpec::Full) | None => (0, meta.size),
    };
    send(
        ctx,
        out,
        &h,
        Body::File {
            file,
            pos: first,
            end,
        },
    )
}

fn serve_listing(ctx: &Ctx<'_>, out: &mut Out, dir: &File) -> Status {
    let page = match build_listing(ctx.req.path, dir) {
        Ok(page) => page,
        Err(_) => return error(ctx, out, Status::InternalServerError),
    };
    let h = head(
        ctx,
        Status::Ok,
        page.len() as u64,
        "text/html; charset=utf-8",
    );
    send(ctx, out, &h, Body::Mem { data: page, pos: 0 })
}

/// Generates the listing page of `dir` (entries in directory order).
fn build_listing(path: &[u8], dir: &File) -> Result<KVec<u8>> {
    let mut page = KVec::new();
    let mut piece = [0u8; 1024];
    let n = listing::write_listing_head(path, &mut piece).ok_or(ENOMEM)?;
    page.extend_from_slice(piece.get(..n).unwrap_or_default(), GFP_KERNEL)?;
    let mut failed = false;
    dir.for_each_entry(&mut |name, is_dir| {
        let Some(n) = listing::write_listing_entry(name, is_dir, &mut piece) else {
            // A name too long to show is skipped.
            return true;
        };
        if page.len() + n > LISTING_CAP
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
