// SPDX-License-Identifier: GPL-2.0

//! Content types by file-name extension.

/// Extensions (lower case) and their content types; text types say `charset=utf-8`.
const TYPES: [(&[u8], &str); 19] = [
    (b"html", "text/html; charset=utf-8"),
    (b"htm", "text/html; charset=utf-8"),
    (b"css", "text/css; charset=utf-8"),
    (b"js", "text/javascript; charset=utf-8"),
    (b"mjs", "text/javascript; charset=utf-8"),
    (b"json", "application/json"),
    (b"txt", "text/plain; charset=utf-8"),
    (b"png", "image/png"),
    (b"jpg", "image/jpeg"),
    (b"jpeg", "image/jpeg"),
    (b"gif", "image/gif"),
    (b"svg", "image/svg+xml"),
    (b"ico", "image/x-icon"),
    (b"wasm", "application/wasm"),
    (b"pdf", "application/pdf"),
    (b"xml", "application/xml"),
    (b"mp4", "video/mp4"),
    (b"webp", "image/webp"),
    (b"woff2", "font/woff2"),
];

/// The type of anything not in the table.
const FALLBACK: &str = "application/octet-stream";

/// The content type for a file `name` (or path), by its extension, case-insensitively.
pub(crate) fn mime_for(name: &[u8]) -> &'static str {
    let base = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
    let mut parts = base.rsplitn(2, |&b| b == b'.');
    let (Some(extension), Some(stem)) = (parts.next(), parts.next()) else {
        return FALLBACK;
    };
    if stem.is_empty() {
        // A dot file such as `.htaccess` has no extension.
        return FALLBACK;
    }
    TYPES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(extension))
        .map_or(FALLBACK, |&(_, mime)| mime)
}
