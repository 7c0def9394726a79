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

/// The hardening root (`itest hardening mkroot`): names a server must refuse or hide, and
/// files large or old enough for the range tests. Kept apart from `make_root`'s tree, whose
/// `/` serves an `index.html`, because the hardening tests need `/` to be a listing.
pub mod hard {
    /// A FIFO: opening it for reading blocks until a writer comes.
    pub const FIFO: &str = "fifo";
    /// A character device node, 1:3 (`/dev/null`'s numbers).
    pub const NULL_DEV: &str = "null";
    /// A character device node of a major no driver registers (240, local/experimental use):
    /// opening it fails with ENXIO, so a status other than 403 shows the open was tried.
    pub const NODEV: &str = "nodev";
    /// Mode 0600, owned by root.
    pub const SECRET_FILE: &str = "secret.txt";
    /// What `secret.txt` holds.
    pub const SECRET_TEXT: &str = "ktcp-hardening-0600-secret-7d2a";
    /// Mode 0700 directory holding `inside.txt` (0644).
    pub const PRIVATE_DIR: &str = "private";
    /// What `private/inside.txt` holds.
    pub const INSIDE_TEXT: &str = "ktcp-hardening-inside-0700-dir-93be";
    /// Dotfiles: `.git/config` and `.htpasswd`, with these contents.
    pub const GIT_CONFIG_TEXT: &str = "[core]\n\tktcp = hardening-git-config\n";
    pub const HTPASSWD_TEXT: &str = "admin:$apr1$ktcp$hardeninghtpasswd\n";
    /// A directory whose name looks like a host, without index.html.
    pub const EVIL_DIR: &str = "evil.example";
    /// A directory with a space in its name.
    pub const SPACE_DIR: &str = "a b";
    /// 5 GiB, sparse, with `HUGE_MARKER` at `HUGE_MARK_AT`; zeros elsewhere.
    pub const HUGE_FILE: &str = "huge.bin";
    pub const HUGE_LEN: u64 = 5 << 30;
    pub const HUGE_MARK_AT: u64 = (4 << 30) + 4096;
    pub const HUGE_MARKER: &[u8; 16] = b"ktcp-huge-marker";
    /// 4 MiB of `pattern_bytes(0, ..)`.
    pub const BODY4M_FILE: &str = "body4m.bin";
    pub const BODY4M_LEN: usize = 4 << 20;
    /// Small text files; `a.txt`'s mtime is `OLD_MTIME` (for If-Range, which needs a
    /// Last-Modified at least a second before the response's Date to be a strong validator).
    pub const SMALL_FILES: &[(&str, &str)] = &[
        ("a.txt", "alpha: hardening a.txt\n"),
        ("b.txt", "bravo: the hardening b.txt, a little longer\n"),
        ("c.txt", "charlie\n"),
    ];
    /// 2020-01-01T00:00:00Z.
    pub const OLD_MTIME: u64 = 1_577_836_800;
}

fn c_path(path: &Path) -> Result<std::ffi::CString, String> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("NUL in {}", path.display()))
}

/// Removes whatever is at `path` (not a directory), so a node can be made anew.
fn remove_node(path: &Path) -> Result<(), String> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("remove {}: {e}", path.display())),
    }
}

/// Makes a FIFO (`dev == None`) or a character device at `path`, replacing what was there.
fn make_node(path: &Path, dev: Option<(u32, u32)>) -> Result<(), String> {
    remove_node(path)?;
    let name = c_path(path)?;
    // SAFETY: `name` is a valid NUL-terminated path that lives across the call.
    let rc = unsafe {
        match dev {
            None => libc::mkfifo(name.as_ptr(), 0o644),
            Some((major, minor)) => libc::mknod(
                name.as_ptr(),
                libc::S_IFCHR | 0o666,
                libc::makedev(major, minor),
            ),
        }
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!(
            "mknod {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ))
    }
}

fn chmod(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

/// A file with exactly `contents` and `mode`.
fn write_mode(path: &Path, contents: &[u8], mode: u32) -> Result<(), String> {
    write(path, contents)?;
    chmod(path, mode)
}

fn dir_mode(path: &Path, mode: u32) -> Result<(), String> {
    mkdir(path)?;
    chmod(path, mode)
}

/// The sparse 5 GiB file: length set, one marker written past 4 GiB.
fn write_huge(path: &Path) -> Result<(), String> {
    use std::io::{Seek, SeekFrom};
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut f = fs::File::create(path).map_err(err)?;
    f.set_len(hard::HUGE_LEN).map_err(err)?;
    f.seek(SeekFrom::Start(hard::HUGE_MARK_AT)).map_err(err)?;
    f.write_all(hard::HUGE_MARKER).map_err(err)?;
    drop(f);
    chmod(path, 0o644)
}

/// The names in `root` a server must never open or serve (run as root: mknod, root-owned
/// 0600): a FIFO, device nodes, a 0600 file, a 0700 directory, dotfiles. `itest mkroot` adds
/// them to its tree too, so that the storms ask for them (their `TEMPLATES`).
pub fn make_forbidden(root: &Path) -> Result<(), String> {
    use hard::*;
    make_node(&root.join(FIFO), None)?;
    make_node(&root.join(NULL_DEV), Some((1, 3)))?;
    make_node(&root.join(NODEV), Some((240, 7)))?;
    write_mode(&root.join(SECRET_FILE), SECRET_TEXT.as_bytes(), 0o600)?;
    // The directory's mode is set last, so refreshing the tree can still write into it.
    let private = root.join(PRIVATE_DIR);
    dir_mode(&private, 0o755)?;
    write_mode(&private.join("inside.txt"), INSIDE_TEXT.as_bytes(), 0o644)?;
    chmod(&private, 0o700)?;
    dir_mode(&root.join(".git"), 0o755)?;
    write_mode(&root.join(".git/config"), GIT_CONFIG_TEXT.as_bytes(), 0o644)?;
    write_mode(&root.join(".htpasswd"), HTPASSWD_TEXT.as_bytes(), 0o644)
}

/// The paths (under the root) of what `make_forbidden` makes, as a client asks for them: each
/// must be answered 403 or 404, never 2xx.
pub const FORBIDDEN_PATHS: &[&str] = &[
    "/fifo",
    "/null",
    "/nodev",
    "/secret.txt",
    "/private/",
    "/private/inside.txt",
    "/.git/config",
    "/.htpasswd",
];

/// What the files `make_forbidden` makes hold: none may ever reach a client.
pub const FORBIDDEN_TEXTS: &[&str] = &[
    hard::SECRET_TEXT,
    hard::INSIDE_TEXT,
    "hardening-git-config",
    "hardeninghtpasswd",
];

/// Creates (or refreshes) the hardening tree in `root`; run as root (mknod, root-owned 0600).
pub fn make_hardening_root(root: &Path) -> Result<(), String> {
    use hard::*;
    dir_mode(root, 0o755)?;
    for (name, text) in SMALL_FILES {
        write_mode(&root.join(name), text.as_bytes(), 0o644)?;
    }
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(OLD_MTIME);
    fs::File::options()
        .write(true)
        .open(root.join("a.txt"))
        .and_then(|f| f.set_modified(old))
        .map_err(|e| format!("set mtime of a.txt: {e}"))?;
    make_forbidden(root)?;
    dir_mode(&root.join(EVIL_DIR), 0o755)?;
    write_mode(&root.join(EVIL_DIR).join("x.txt"), b"x\n", 0o644)?;
    dir_mode(&root.join(SPACE_DIR), 0o755)?;
    write_mode(&root.join(SPACE_DIR).join("y.txt"), b"y\n", 0o644)?;
    let body = pattern_bytes(0, BODY4M_LEN);
    write_mode(&root.join(BODY4M_FILE), &body, 0o644)?;
    write_huge(&root.join(HUGE_FILE))
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
    fn creates_the_hardening_tree() {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let base = std::env::temp_dir().join(format!("itest-hard-{}", std::process::id()));
        let root = base.join("hard");
        let made = make_hardening_root(&root).and_then(|_| make_hardening_root(&root));
        if let Err(e) = &made {
            // mknod needs CAP_MKNOD; without it only that part can be checked.
            // SAFETY: geteuid has no preconditions.
            let euid = unsafe { libc::geteuid() };
            assert!(e.contains("mknod") && euid != 0, "{e}");
            return;
        }
        let meta = |rel: &str| fs::symlink_metadata(root.join(rel)).unwrap();
        assert!(meta(hard::FIFO).file_type().is_fifo());
        assert!(meta(hard::NULL_DEV).file_type().is_char_device());
        assert_eq!(meta(hard::NULL_DEV).rdev(), libc::makedev(1, 3));
        assert_eq!(meta(hard::NODEV).rdev(), libc::makedev(240, 7));
        assert_eq!(meta(hard::SECRET_FILE).mode() & 0o777, 0o600);
        assert_eq!(meta(hard::PRIVATE_DIR).mode() & 0o777, 0o700);
        assert_eq!(
            meta(".git/config").len(),
            hard::GIT_CONFIG_TEXT.len() as u64
        );
        assert!(meta(hard::EVIL_DIR).is_dir() && meta(hard::SPACE_DIR).is_dir());
        assert!(!root.join("index.html").exists());
        assert_eq!(meta(hard::HUGE_FILE).len(), hard::HUGE_LEN);
        assert!(
            meta(hard::HUGE_FILE).blocks() < 1024,
            "huge.bin is not sparse"
        );
        let mut f = fs::File::open(root.join(hard::HUGE_FILE)).unwrap();
        use std::io::{Read, Seek, SeekFrom};
        let mut got = [0u8; 16];
        f.seek(SeekFrom::Start(hard::HUGE_MARK_AT)).unwrap();
        f.read_exact(&mut got).unwrap();
        assert_eq!(&got, hard::HUGE_MARKER);
        let mtime = meta("a.txt").mtime();
        assert_eq!(mtime as u64, hard::OLD_MTIME);
        let body = fs::read(root.join(hard::BODY4M_FILE)).unwrap();
        assert_eq!(body, pattern_bytes(0, hard::BODY4M_LEN));
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn running_twice_is_fine() {
        let (root, outside) = temp_root("twice");
        make_root(&root, &outside, 1).unwrap();
    }
}
