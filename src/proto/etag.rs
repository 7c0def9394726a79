// SPDX-License-Identifier: GPL-2.0

//! Entity-tags (RFC 9110 section 8.8.3): the `ETag` of a file in nginx's form, and the
//! `If-None-Match` condition with its precedence over `If-Modified-Since` (section 13.2.2).
//! The `If-Range` use of a tag is in [`super::range`].

use super::date::parse_http_date;
use super::lex::{is_ows, split_at, trim_ows};
use super::writer::Writer;

/// A file's entity-tag as nginx makes it: `"<mtime>-<size>"`, both in lowercase hex without
/// leading zeros. It is a strong tag, as nginx sends it, except for a file modified within
/// the last two seconds (see [`ETag::of_file`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ETag {
    /// Last modification, seconds since the epoch (the `Last-Modified` second).
    pub(crate) mtime: u64,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Sent as `W/"..."`: a weak tag, which `If-Range` never matches.
    pub(crate) weak: bool,
}

/// The longest opaque-tag: two quotes, a dash and two 16-digit numbers.
const ETAG_MAX: usize = 35;

impl ETag {
    /// The tag of a file modified at `mtime` with `size` bytes, served at `now` (seconds).
    /// Weak when `mtime` is within two seconds of `now` (as Apache does, and as the date
    /// form of `If-Range` requires of `Last-Modified`): two versions written within one
    /// second share the tag, and the file's status may be up to a second old (the open-file
    /// cache), so such a tag may name more than one content and must not select a range.
    pub(crate) fn of_file(mtime: u64, size: u64, now: u64) -> Self {
        Self {
            mtime,
            size,
            weak: mtime.saturating_add(2) > now,
        }
    }

    /// Appends the tag, `W/` and quotes included.
    pub(super) fn put(&self, w: &mut Writer<'_>) -> Option<()> {
        if self.weak {
            w.put_byte(b'W')?;
            w.put_byte(b'/')?;
        }
        self.put_opaque(w)
    }

    /// Appends the opaque-tag, quotes included.
    fn put_opaque(&self, w: &mut Writer<'_>) -> Option<()> {
        w.put_byte(b'"')?;
        w.put_hex_u64(self.mtime)?;
        w.put_byte(b'-')?;
        w.put_hex_u64(self.size)?;
        w.put_byte(b'"')
    }

    /// Writes the tag, quotes included, at the start of `out`; its length, or `None` if
    /// `out` is too small.
    pub(crate) fn write(&self, out: &mut [u8]) -> Option<usize> {
        let mut w = Writer::new(out);
        self.put(&mut w)?;
        Some(w.len())
    }

    /// Whether `opaque` (an opaque-tag, quotes included) is this tag's.
    fn is(&self, opaque: &[u8]) -> bool {
        let mut text = [0u8; ETAG_MAX];
        let mut w = Writer::new(&mut text);
        let n = self.put_opaque(&mut w).map(|()| w.len());
        n.and_then(|n| text.get(..n))
            .is_some_and(|own| own == opaque)
    }

    /// The weak comparison (RFC 9110 section 8.8.3.2): the opaque-tags are equal, whether
    /// or not `tag` is marked weak.
    fn weak_match(&self, tag: EntityTag<'_>) -> bool {
        self.is(tag.opaque)
    }

    /// The strong comparison: neither tag is weak and the opaque-tags are equal.
    fn strong_match(&self, tag: EntityTag<'_>) -> bool {
        !tag.weak && !self.weak && self.is(tag.opaque)
    }
}

/// One entity-tag of a request field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EntityTag<'b> {
    /// Marked `W/`.
    weak: bool,
    /// The opaque-tag, quotes included.
    opaque: &'b [u8],
}

/// Whether `b` may appear between the quotes of an opaque-tag (`etagc`).
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

/// The entity-tag at the start of `s`, and what follows it; `None` if there is none.
fn split_entity_tag(s: &[u8]) -> Option<(EntityTag<'_>, &[u8])> {
    let (weak, tag) = match s.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let inner = tag.strip_prefix(b"\"")?;
    let close = inner.iter().position(|&b| b == b'"')?;
    let (chars, _) = split_at(inner, close)?;
    if !chars.iter().all(|&b| is_etagc(b)) {
        return None;
    }
    // The opaque-tag is the two quotes and what lies between them.
    let (opaque, rest) = split_at(tag, close.checked_add(2)?)?;
    Some((EntityTag { weak, opaque }, rest))
}

/// `s` without its leading optional whitespace.
fn trim_ows_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_ows(b)).count();
    s.get(n..).unwrap_or_default()
}

/// Whether any tag of `list`, a `#entity-tag` list (RFC 9110 section 5.6.1: elements
/// separated by commas, empty elements allowed), satisfies `test`. A malformed list
/// satisfies nothing, whatever its well-formed elements are.
fn any_tag(list: &[u8], mut test: impl FnMut(EntityTag<'_>) -> bool) -> bool {
    let mut rest = list;
    let mut found = false;
    loop {
        // Empty elements and the whitespace around elements are skipped.
        let n = rest.iter().take_while(|&&b| b == b',' || is_ows(b)).count();
        rest = rest.get(n..).unwrap_or_default();
        if rest.is_empty() {
            return found;
        }
        let Some((tag, after)) = split_entity_tag(rest) else {
            return false;
        };
        found |= test(tag);
        rest = trim_ows_start(after);
        match rest.split_first() {
            None => return found,
            Some((b',', after_comma)) => rest = after_comma,
            Some(_) => return false,
        }
    }
}

/// What a request's `If-None-Match` fields say (and its `If-Match` fields, which have the same
/// three states).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum IfNoneMatch<'b> {
    /// Not sent: `If-Modified-Since` decides.
    #[default]
    Absent,
    /// Sent on one line, with this value.
    One(&'b [u8]),
    /// Sent on several lines. RFC 9110 section 5.3 would join them into one list; the
    /// parser keeps no copy to join them in, so the condition is taken as matching no
    /// tag: the full response, which is always a correct answer. It is still present, so
    /// `If-Modified-Since` is still ignored.
    Repeated,
}

/// Whether the `If-None-Match` value `value` matches a file tagged `etag`: `*`, or a list
/// naming the tag, weak or not (the weak comparison, RFC 9110 section 13.1.2). A malformed
/// value matches nothing.
pub(crate) fn none_match_matches(value: &[u8], etag: &ETag) -> bool {
    let value = trim_ows(value);
    value == b"*" || any_tag(value, |tag| etag.weak_match(tag))
}

/// Whether a GET or HEAD of a file tagged `etag` is answered `304 Not Modified`
/// (RFC 9110 section 13.2.2, steps 3 and 4): by `If-None-Match` when it was sent, and only
/// without it by `If-Modified-Since` (a file not modified after the given date).
pub(crate) fn is_not_modified(
    if_none_match: IfNoneMatch<'_>,
    if_modified_since: Option<&[u8]>,
    etag: &ETag,
) -> bool {
    match if_none_match {
        IfNoneMatch::One(value) => none_match_matches(value, etag),
        IfNoneMatch::Repeated => false,
        IfNoneMatch::Absent => if_modified_since
            .and_then(parse_http_date)
            .is_some_and(|since| etag.mtime <= since),
    }
}

/// Whether a GET or HEAD of a file tagged `etag` fails its preconditions and is answered
/// `412 Precondition Failed` (RFC 9110 section 13.2.2, steps 1 and 2): `If-Match` names none
/// of the file's tags by the strong comparison (`*` matches any file; a weak tag, ours or
/// the client's, never matches), or, without `If-Match`, `If-Unmodified-Since` gives a date
/// before the file's modification. A malformed `If-Match`, or one sent on several lines
/// (which cannot be joined, see [`IfNoneMatch::Repeated`]), fails: a client resuming a
/// download must never get bytes of another version. An unparseable date is ignored
/// (section 13.1.4).
pub(crate) fn precondition_fails(
    if_match: IfNoneMatch<'_>,
    if_unmodified_since: Option<&[u8]>,
    etag: &ETag,
) -> bool {
    match if_match {
        IfNoneMatch::One(value) => {
            let value = trim_ows(value);
            !(value == b"*" || any_tag(value, |tag| etag.strong_match(tag)))
        }
        IfNoneMatch::Repeated => true,
        IfNoneMatch::Absent => if_unmodified_since
            .and_then(parse_http_date)
            .is_some_and(|since| etag.mtime > since),
    }
}

/// What an `If-Range` value says of a file tagged `etag` if it is an entity-tag: whether it
/// matches by the strong comparison (RFC 9110 section 13.1.5), so a weak tag never does.
/// `None` if the value is not an entity-tag (it may be a date).
pub(crate) fn if_range_tag_matches(value: &[u8], etag: &ETag) -> Option<bool> {
    let value = trim_ows(value);
    if !(value.starts_with(b"\"") || value.starts_with(b"W/\"")) {
        return None;
    }
    // A value that starts like a tag but is not exactly one matches nothing.
    Some(matches!(split_entity_tag(value), Some((tag, []))
        if etag.strong_match(tag)))
}
