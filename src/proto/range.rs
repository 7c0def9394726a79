// SPDX-License-Identifier: GPL-2.0

//! The `Range` request field (RFC 9110 section 14.2), for a single byte range, and the
//! `If-Range` condition on it (RFC 9110 section 13.1.5).

use super::date::parse_http_date;
use super::etag::{if_range_tag_matches, ETag};
use super::lex::{is_digits, list_items, split_at, trim_ows};

/// What to send for a `Range` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeSpec {
    /// The whole representation, 200: no usable range (malformed, several ranges or not
    /// in bytes), which RFC 9110 lets a server ignore.
    Full,
    /// Bytes `first..=last`, 206; `last` is below the length.
    Partial {
        /// First byte offset.
        first: u64,
        /// Last byte offset, inclusive.
        last: u64,
    },
    /// 416: the range lies beyond the end.
    Unsatisfiable,
}

/// Evaluates a `Range` value against a representation of `len` bytes. Only one
/// `bytes` range is honoured; a list of more asks for multipart, which is not supported.
pub(crate) fn parse_range(value: &[u8], len: u64) -> RangeSpec {
    let value = trim_ows(value);
    let Some(eq) = value.iter().position(|&b| b == b'=') else {
        return RangeSpec::Full;
    };
    let Some((unit, ranges)) = split_at(value, eq) else {
        return RangeSpec::Full;
    };
    // Range units are case-insensitive (RFC 9110 section 14.1).
    if !unit.eq_ignore_ascii_case(b"bytes") {
        return RangeSpec::Full;
    }
    let mut ranges = list_items(ranges.get(1..).unwrap_or_default());
    match (ranges.next(), ranges.next()) {
        (Some(range), None) => single_range(range, len),
        _ => RangeSpec::Full,
    }
}

/// Evaluates `first-last`, `first-` or `-suffix_length` (RFC 9110 section 14.1.1).
fn single_range(range: &[u8], len: u64) -> RangeSpec {
    let Some(dash) = range.iter().position(|&b| b == b'-') else {
        return RangeSpec::Full;
    };
    let Some((first, last)) = split_at(range, dash) else {
        return RangeSpec::Full;
    };
    let last = last.get(1..).unwrap_or_default();
    let Some(end) = len.checked_sub(1) else {
        // Nothing of an empty representation can be selected.
        return if is_range_syntax(first, last) {
            RangeSpec::Unsatisfiable
        } else {
            RangeSpec::Full
        };
    };
    match (first, last) {
        ([], suffix) if is_digits(suffix) => match digits_saturating(suffix) {
            0 => RangeSpec::Unsatisfiable,
            suffix => RangeSpec::Partial {
                first: len.saturating_sub(suffix),
                last: end,
            },
        },
        (first, []) if is_digits(first) => from(digits_saturating(first), end, end),
        (first, last) if is_digits(first) && is_digits(last) => {
            let (first, last) = (digits_saturating(first), digits_saturating(last));
            if last < first {
                RangeSpec::Full
            } else {
                from(first, last.min(end), end)
            }
        }
        _ => RangeSpec::Full,
    }
}

/// `first..=last` when `first` is within the representation ending at `end`.
fn from(first: u64, last: u64, end: u64) -> RangeSpec {
    if first > end {
        RangeSpec::Unsatisfiable
    } else {
        RangeSpec::Partial { first, last }
    }
}

/// Whether the two sides of a dash form a well-formed range.
fn is_range_syntax(first: &[u8], last: &[u8]) -> bool {
    match (first, last) {
        ([], suffix) => is_digits(suffix),
        (first, []) => is_digits(first),
        (first, last) => {
            is_digits(first)
                && is_digits(last)
                && digits_saturating(first) <= digits_saturating(last)
        }
    }
}

/// The value of a run of digits, `u64::MAX` if larger: an offset that large lies beyond
/// any file, and a suffix that large selects all of it.
fn digits_saturating(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(10)
            .saturating_add(u64::from(b.wrapping_sub(b'0')))
    })
}

/// Whether a `Range` may be honoured under the request's `If-Range` value (RFC 9110
/// section 13.1.5), at `now` (Unix seconds), for a representation with the validators
/// `file` (none for a generated listing): yes without `If-Range`; with one, only if it is
/// the file's own strong entity-tag (a weak or another tag does not match), or an
/// HTTP-date naming exactly its `Last-Modified` second when that second is at least one
/// second before `now` (a date is a strong validator only then: two writes within its
/// second would look the same). A malformed value matches nothing, nor does anything match
/// without validators. When this is false the whole representation is sent with 200.
pub(crate) fn if_range_allows(if_range: Option<&[u8]>, file: Option<&ETag>, now: u64) -> bool {
    let Some(value) = if_range else {
        return true;
    };
    let Some(file) = file else {
        return false;
    };
    match if_range_tag_matches(value, file) {
        Some(matches) => matches,
        None => {
            parse_http_date(trim_ows(value)) == Some(file.mtime)
                && file.mtime.saturating_add(1) < now
        }
    }
}
