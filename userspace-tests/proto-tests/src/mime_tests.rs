// SPDX-License-Identifier: GPL-2.0

//! The MIME table.

use crate::proto::mime::mime_for;

#[test]
fn mime_table() {
    for (name, want) in [
        ("index.html", "text/html; charset=utf-8"),
        ("INDEX.HTM", "text/html; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("mod.MJS", "text/javascript; charset=utf-8"),
        ("data.json", "application/json"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.JPEG", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.svg", "image/svg+xml"),
        ("favicon.ico", "image/x-icon"),
        ("a.wasm", "application/wasm"),
        ("a.pdf", "application/pdf"),
        ("feed.xml", "application/xml"),
        ("v.mp4", "video/mp4"),
        ("a.webp", "image/webp"),
        ("font.woff2", "font/woff2"),
        ("archive.tar.gz", "application/octet-stream"),
        ("Makefile", "application/octet-stream"),
        (".html", "application/octet-stream"),
        ("trailing.", "application/octet-stream"),
        ("", "application/octet-stream"),
        ("dir.html/file", "application/octet-stream"),
        ("dir/page.html", "text/html; charset=utf-8"),
        ("a.html\u{e9}", "application/octet-stream"),
    ] {
        assert_eq!(mime_for(name.as_bytes()), want, "{name}");
    }
}
