// SPDX-License-Identifier: GPL-2.0

//! A directory listing as HTML, written in pieces: a head, one line per entry, a tail.
//!
//! Entry links are relative, so the listing must be served at a URL ending in `/`.

use super::lex::split_at;
use super::writer::Writer;

/// Writes the start of the page, titled `Index of <dir_path>` (HTML-escaped).
pub(crate) fn write_listing_head(dir_path: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut w = Writer::new(out);
    w.put(b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ")?;
    put_text(&mut w, dir_path)?;
    w.put(b"</title></head>\n<body><h1>Index of ")?;
    put_text(&mut w, dir_path)?;
    w.put(b"</h1>\n<ul>\n")?;
    Some(w.len())
}

/// Writes one list item linking to `name`; a directory gets a trailing `/`.
pub(crate) fn write_listing_entry(name: &[u8], is_dir: bool, out: &mut [u8]) -> Option<usize> {
    let mut w = Writer::new(out);
    w.put(b"<li><a href=\"")?;
    // One percent-encoded segment: a name can neither leave the attribute nor be taken
    // for a scheme (`javascript:`) or another segment.
    w.put_percent_encoded(name)?;
    let slash: &[u8] = if is_dir { b"/" } else { b"" };
    w.put(slash)?;
    w.put(b"\">")?;
    put_text(&mut w, name)?;
    w.put(slash)?;
    w.put(b"</a></li>\n")?;
    Some(w.len())
}

/// Writes the end of the page.
pub(crate) fn write_listing_tail(out: &mut [u8]) -> Option<usize> {
    let mut w = Writer::new(out);
    w.put(b"</ul>\n</body></html>\n")?;
    Some(w.len())
}

/// Writes `text` as HTML text: markup characters escaped, valid UTF-8 kept, invalid
/// bytes and control characters shown as U+FFFD.
fn put_text(w: &mut Writer<'_>, mut text: &[u8]) -> Option<()> {
    loop {
        match core::str::from_utf8(text) {
            Ok(valid) => return put_escaped(w, valid),
            Err(error) => {
                let (valid, rest) = split_at(text, error.valid_up_to())?;
                put_escaped(w, core::str::from_utf8(valid).ok()?)?;
                w.put(REPLACEMENT)?;
                let bad = error.error_len().unwrap_or(rest.len());
                text = rest.get(bad..).unwrap_or_default();
            }
        }
    }
}

/// U+FFFD REPLACEMENT CHARACTER in UTF-8.
const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();

/// Writes valid UTF-8 `text` with `&<>"'` escaped and controls replaced.
fn put_escaped(w: &mut Writer<'_>, text: &str) -> Option<()> {
    for c in text.chars() {
        let escaped: Option<&[u8]> = match c {
            '&' => Some(b"&amp;"),
            '<' => Some(b"&lt;"),
            '>' => Some(b"&gt;"),
            '"' => Some(b"&quot;"),
            '\'' => Some(b"&#39;"),
            c if c.is_control() => Some(REPLACEMENT),
            _ => None,
        };
        match escaped {
            Some(bytes) => w.put(bytes)?,
            None => w.put(c.encode_utf8(&mut [0u8; 4]).as_bytes())?,
        }
    }
    Some(())
}
