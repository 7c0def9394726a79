// SPDX-License-Identifier: GPL-2.0

//! Turns a request path into a relative file name that cannot leave the served directory.

use super::status::Status;
use super::writer::Writer;

/// Why a path cannot be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathError {
    /// Not starting with `/`, a bad `%` escape, or a NUL byte.
    BadRequest,
    /// A `..` segment, or a `/` or `\` inside a segment (as `%2F`, `%5C` or a raw `\`).
    Forbidden,
    /// The result does not fit the output buffer.
    TooLong,
}

impl PathError {
    /// The status to answer with: 400, 403 or 414.
    pub(crate) fn status(self) -> Status {
        match self {
            PathError::BadRequest => Status::BadRequest,
            PathError::Forbidden => Status::Forbidden,
            PathError::TooLong => Status::UriTooLong,
        }
    }
}

/// A resolved path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// Bytes written to the output: the relative name, empty for the root directory.
    pub(crate) len: usize,
    /// Whether the path named a directory explicitly: its last segment was empty or `.`.
    pub(crate) trailing_slash: bool,
    /// Whether a segment of the name is hidden (see [`is_hidden_name`]), such as `.git`
    /// in `/.git/config` or `/%2Egit/`.
    pub(crate) hidden: bool,
}

/// Whether a file name is hidden by the Unix convention: it starts with `.`. Such files
/// (`.git`, `.htpasswd`, `.env`) are often private, so they are not served or listed.
pub(crate) fn is_hidden_name(name: &[u8]) -> bool {
    name.first() == Some(&b'.')
}

/// Percent-decodes the raw request `path` into `out` as a relative name: segments joined
/// by `/`, empty and `.` segments dropped, no leading `/`. Every segment is checked before
/// anything is written, so a refusal does not depend on the size of `out`.
pub(crate) fn resolve(path: &[u8], out: &mut [u8]) -> Result<Resolved, PathError> {
    let segments = path.strip_prefix(b"/").ok_or(PathError::BadRequest)?;
    let mut trailing_slash = false;
    let mut hidden = false;
    for raw in segments.split(|&b| b == b'/') {
        let segment = check_segment(raw)?;
        trailing_slash = segment == Segment::Skip;
        hidden |= segment == Segment::Keep { hidden: true };
    }
    let mut len = 0usize;
    for raw in segments.split(|&b| b == b'/') {
        if check_segment(raw)? == Segment::Skip {
            continue;
        }
        if len > 0 {
            put(out, &mut len, b'/')?;
        }
        for byte in (Decode { raw }) {
            put(out, &mut len, byte?)?;
        }
    }
    Ok(Resolved {
        len,
        trailing_slash,
        hidden,
    })
}

/// Writes the `Location` that redirects to the directory whose relative name is `name`
/// (as [`resolve`] wrote it): `/`, each segment percent-encoded and followed by `/`; the
/// number of bytes written, or `None` if `out` is too small. Empty segments are left
/// out, so the result never starts with `//`, which a browser would read as another host
/// (a request for `//evil.example` resolves to `evil.example`, redirected to
/// `/evil.example/`). An empty name, the root, gives `/`.
pub(crate) fn write_dir_location(name: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut w = Writer::new(out);
    w.put_byte(b'/')?;
    for segment in name.split(|&b| b == b'/').filter(|s| !s.is_empty()) {
        w.put_percent_encoded(segment)?;
        w.put_byte(b'/')?;
    }
    Some(w.len())
}

/// Appends `byte` to `out` at `*len`.
fn put(out: &mut [u8], len: &mut usize, byte: u8) -> Result<(), PathError> {
    *out.get_mut(*len).ok_or(PathError::TooLong)? = byte;
    *len = len.saturating_add(1);
    Ok(())
}

/// What to do with a segment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Segment {
    /// Copy it.
    Keep {
        /// Whether the decoded segment is a hidden name.
        hidden: bool,
    },
    /// Drop it: empty or `.`.
    Skip,
}

/// Classifies one raw segment after decoding it.
fn check_segment(raw: &[u8]) -> Result<Segment, PathError> {
    let mut decoded_len = 0usize;
    let mut all_dots = true;
    let mut first = None;
    for byte in (Decode { raw }) {
        let byte = byte?;
        first = first.or(Some(byte));
        match byte {
            0 => return Err(PathError::BadRequest),
            b'/' | b'\\' => return Err(PathError::Forbidden),
            b'.' => {}
            _ => all_dots = false,
        }
        decoded_len = decoded_len.saturating_add(1);
    }
    match (all_dots, decoded_len) {
        (true, 0 | 1) => Ok(Segment::Skip),
        (true, 2) => Err(PathError::Forbidden),
        _ => Ok(Segment::Keep {
            hidden: first.is_some_and(|b| is_hidden_name(&[b])),
        }),
    }
}

/// The percent-decoded bytes of a segment; a bad escape is an error.
struct Decode<'a> {
    /// The bytes not decoded yet.
    raw: &'a [u8],
}

impl Iterator for Decode<'_> {
    type Item = Result<u8, PathError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&first, rest) = self.raw.split_first()?;
        if first != b'%' {
            self.raw = rest;
            return Some(Ok(first));
        }
        let byte = match rest {
            [high, low, ..] => hex(*high).zip(hex(*low)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        self.raw = rest.get(2..).unwrap_or_default();
        Some(byte.ok_or(PathError::BadRequest))
    }
}

/// The value of a hex digit.
fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}
