//! `itest mkroot`: the document tree the khttpd suite runs against.
//!
//! The suite reads expected contents back from the tree, so only names and MIME types are
//! shared through this file.

use std::fs;
use std::io::{BufWriter, Write};
use std::os::unix::fs::symlink;
use std::path::Path;

use crate::pattern::pattern_bytes;

/// Each MIME fixture and the Content-Type values accepted for it.
pub const MIME_FILES: &[(&str, &[&str])] = &[
    ("m.html", &["text/html"]),
    ("m.css", &["text/css"]),
    ("m.js", &["text/javascript", "application/javascript"]),
    ("m.json", &["application/json"]),
    ("m.txt", &["text/plain"]),
    ("m.png", &["image/png"]),
    ("m.jpg", &["image/jpeg"]),
    ("m.gif", &["image/gif"]),
    ("m.svg", &["image/svg+xml"]),
    ("m.ico", &["image/x-icon", "image/vnd.microsoft.icon"]),
    ("m.wasm", &["application/wasm"]),
    ("m.pdf", &["application/pdf"]),
    ("m.zzq", &["application/octet-stream"]),
];

/// The file whose name needs HTML escaping and percent-encoding in a listing.
pub const SPECIAL_NAME: &str = "<b>&\"x'.txt";
/// Entries of `list/` (directories with a trailing slash).
pub const LIST_ENTRIES: &[&str] = &["one.txt", "two words.txt", SPECIAL_NAME, "deeper/", "z.bin"];
/// What `DIR2/secret.txt` holds; no response may ever contain it.
pub const SECRET: &str = "ktcp-itest-secret-4f1c9e0b";

fn mime_contents(name: &str) -> Vec<u8> {
    let text = |s: &str| s.as_bytes().to_vec();
    match name.rsplit('.').next().unwrap_or("") {
        "html" => text("<!doctype html><title>m</title><p>mime html</p>\n"),
        "css" => text("body { color: #123456; }\n"),
        "js" => text("console.log(\"mime js\");\n"),
        "json" => text("{\"mime\": \"json\"}\n"),
        "txt" => text("mime text\n"),
        "png" => b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake png \0\xff".to_vec(),
        "jpg" => b"\xff\xd8\xff\xe0\0\x10JFIF\0 fake jpeg \xff\xd9".to_vec(),
        "gif" => b"GIF89a\x01\0\x01\0\x80\0\0 fake gif \0;".to_vec(),
        "svg" => text("<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"),
        "ico" => b"\0\0\x01\0\x01\0 fake ico \0".to_vec(),
        "wasm" => b"\0asm\x01\0\0\0".to_vec(),
        "pdf" => text("%PDF-1.4\n% fake pdf\n%%EOF\n"),
        _ => b"unknown type \0\x01\x02".to_vec(),
    }
}

fn write(path: &Path, contents: &[u8]) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("write {}: {e}", path.display()))
}

fn mkdir(path: &Path) -> Result<(), String> {
    fs::create_dir_all(path).map_err(|e| format!("mkdir {}: {e}", path.display()))
}

/// Replaces whatever is at `link` with a symlink to `target`.
fn relink(target: &Path, link: &Path) -> Result<(), String> {
    if link.symlink_metadata().is_ok() {
        fs::remove_file(link).map_err(|e| format!("remove {}: {e}", link.display()))?;
    }
    symlink(target, link).map_err(|e| format!("symlink {}: {e}", link.display()))
}

fn write_big(path: &Path, mib: u64) -> Result<(), String> {
    let file = fs::File::create(path).map_err(|e| format!("create {}: {e}", path.display()))?;
    let mut out = BufWriter::new(file);
    const CHUNK: usize = 1 << 20;
    for i in 0..mib {
        out.write_all(&pattern_bytes(i * CHUNK as u64, CHUNK))
            .map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    out.flush()
        .map_err(|e| format!("write {}: {e}", path.display()))
}

/// Creates (or refreshes) the tree in `root` and the outside directory `outside`.
pub fn make_root(root: &Path, outside: &Path, big_mib: u64) -> Result<(), String> {
    mkdir(root)?;
    mkdir(outside)?;
    write(
        &root.join("index.html"),
        b"<!doctype html><title>itest root</title>\n",
    )?;
    write(&root.join("a.txt"), b"alpha: the a.txt fixture\n")?;
    write(
        &root.join("b.txt"),
        b"bravo: the b.txt fixture, a bit longer\n",
    )?;
    write(&root.join("c.txt"), b"charlie\n")?;
    write(
        &root.join("sp ace.txt"),
        b"a file with a space in its name\n",
    )?;
    let digits: String = (0..50).map(|i| format!("{i:02}")).collect();
    write(&root.join("range.txt"), digits.as_bytes())?;
    for (name, _) in MIME_FILES {
        write(&root.join(name), &mime_contents(name))?;
    }
    mkdir(&root.join("sub"))?;
    write(
        &root.join("sub/index.html"),
        b"<!doctype html><title>sub index</title>\n",
    )?;
    write(&root.join("sub/leaf.txt"), b"leaf\n")?;
    let list = root.join("list");
    mkdir(&list.join("deeper"))?;
    write(&list.join("deeper/inner.txt"), b"inner\n")?;
    for name in LIST_ENTRIES.iter().filter(|n| !n.ends_with('/')) {
        write(&list.join(name), format!("listed file {name}\n").as_bytes())?;
    }
    write_big(&root.join("big.bin"), big_mib)?;
    write(
        &outside.join("secret.txt"),
        format!("{SECRET}\n").as_bytes(),
    )?;
    let outside = outside
        .canonicalize()
        .map_err(|e| format!("canonicalize {}: {e}", outside.display()))?;
    relink(&outside.join("secret.txt"), &root.join("escape"))?;
    relink(&outside, &root.join("escdir"))
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A fresh fixture tree under the temp dir, unique per `tag`.
    pub fn temp_root(tag: &str) -> (PathBuf, PathBuf) {
        let base = std::env::temp_dir().join(format!("itest-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let (root, outside) = (base.join("www"), base.join("outside"));
        make_root(&root, &outside, 1).unwrap();
        (root, outside)
    }

    #[test]
    fn creates_every_fixture() {
        let (root, outside) = temp_root("fixtures");
        for (name, _) in MIME_FILES {
            assert!(root.join(name).is_file(), "{name}");
        }
        for entry in LIST_ENTRIES {
            assert!(root.join("list").join(entry).exists(), "{entry}");
        }
        assert!(root.join("sub/index.html").is_file());
        assert!(!root.join("list/index.html").exists());
        assert_eq!(fs::read(root.join("range.txt")).unwrap().len(), 100);
        let big = fs::read(root.join("big.bin")).unwrap();
        assert_eq!(big.len(), 1 << 20);
        assert!(big
            .iter()
            .enumerate()
            .all(|(i, &b)| b == crate::pattern::pattern(i as u64)));
        let secret = fs::read_to_string(root.join("escape")).unwrap();
        assert!(secret.contains(SECRET));
        assert_eq!(
            fs::read_link(root.join("escdir")).unwrap(),
            outside.canonicalize().unwrap()
        );
    }

    #[test]
    fn running_twice_is_fine() {
        let (root, outside) = temp_root("twice");
        make_root(&root, &outside, 1).unwrap();
    }
}
