// SPDX-License-Identifier: GPL-2.0

//! Byte-level lexing shared by the header and range parsers (RFC 9110 section 5.6).

/// Whether `b` may appear in a token (RFC 9110 section 5.6.2).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `s` is a token: one or more `tchar`s.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Whether `b` is optional whitespace: SP or HTAB.
pub(crate) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `s` without leading and trailing optional whitespace.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let Some((&first, rest)) = s.split_first() {
        if !is_ows(first) {
            break;
        }
        s = rest;
    }
    while let Some((&last, rest)) = s.split_last() {
        if !is_ows(last) {
            break;
        }
        s = rest;
    }
    s
}

/// Whether `s` is one or more ASCII digits.
pub(crate) fn is_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// The value of a run of decimal digits; `None` if it is empty, holds a non-digit or does
/// not fit in a `u64`.
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if !is_digits(s) {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        acc.checked_mul(10)?
            .checked_add(u64::from(b.wrapping_sub(b'0')))
    })
}

/// The non-empty elements of a comma-separated list, trimmed of optional whitespace
/// (RFC 9110 section 5.6.1: empty elements are skipped).
pub(crate) fn list_items(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    s.split(|&b| b == b',')
        .map(trim_ows)
        .filter(|item| !item.is_empty())
}

/// `v` split at `mid`, or `None` past its end (`<[u8]>::split_at_checked`, which the
/// kernel's minimum Rust version predates).
pub(crate) fn split_at(v: &[u8], mid: usize) -> Option<(&[u8], &[u8])> {
    Some((v.get(..mid)?, v.get(mid..)?))
}
