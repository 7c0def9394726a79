//! Static files: path decoding and confinement, MIME types, directories.

use std::path::PathBuf;

use super::Http;
use crate::fixtures::{LIST_ENTRIES, MIME_FILES, SECRET};
use crate::http_client::Response;
use crate::report::{ensure, test, Test, TestResult};

pub fn tests() -> Vec<Test<Http>> {
    let mut tests: Vec<Test<Http>> = vec![
        test("percent_decoding", 15, |c: &Http| {
            c.expect_file("/sp%20ace.txt", "sp ace.txt").map(|_| ())
        }),
        test("traversal_dotdot", 15, |c: &Http| {
            confined(c, &dotdot(c, "../")?)
        }),
        test("traversal_encoded_dots", 15, |c: &Http| {
            confined(c, &dotdot(c, "%2e%2e/")?)
        }),
        test("traversal_encoded_slash_after_dots", 15, |c: &Http| {
            confined(c, &dotdot(c, "..%2f")?.replacen('/', "/a/", 1))
        }),
        test("traversal_encoded_absolute", 15, |c: &Http| {
            confined(c, &format!("/{}", secret_path(c)?.replace('/', "%2F")))
        }),
        test("traversal_etc_passwd", 15, |c: &Http| {
            confined(c, &format!("/{}etc/passwd", "../".repeat(16)))
        }),
        test("nul_in_target_4xx", 15, |c: &Http| {
            confined(c, "/a.txt%00.html")
        }),
        test("nul_before_dotdot_4xx", 15, |c: &Http| {
            confined(c, &dotdot(c, "..%00/")?)
        }),
        test("symlink_to_outside_file", 15, |c: &Http| {
            confined(c, "/escape")
        }),
        test("symlink_to_outside_dir", 15, |c: &Http| {
            confined(c, "/escdir/secret.txt")
        }),
        test("directory_index_html", 15, dir_index),
        test("directory_listing", 15, dir_listing),
        test("directory_redirect_301", 15, dir_redirect),
    ];
    for (name, types) in MIME_FILES {
        let ext = name.rsplit('.').next().unwrap_or(name);
        tests.push(test(format!("mime_{ext}"), 15, move |c| {
            mime(c, name, types)
        }));
    }
    tests
}

/// The absolute path of the outside secret, without its leading slash.
fn secret_path(c: &Http) -> Result<String, String> {
    let link = c.root.join("escdir");
    let outside: PathBuf =
        std::fs::read_link(&link).map_err(|e| format!("readlink {}: {e}", link.display()))?;
    let path = outside.join("secret.txt");
    Ok(path.to_string_lossy().trim_start_matches('/').to_string())
}

/// A target climbing out of the root with enough `step`s, then down to the secret.
fn dotdot(c: &Http, step: &str) -> Result<String, String> {
    let root = c.root.canonicalize().unwrap_or_else(|_| c.root.clone());
    let depth = root.components().count() + 2;
    Ok(format!("/{}{}", step.repeat(depth), secret_path(c)?))
}

/// The server must answer `target` with a 4xx and never with outside content.
fn confined(c: &Http, target: &str) -> TestResult {
    let r = c.fetch(&c.get(target))?;
    let body = String::from_utf8_lossy(&r.body);
    ensure(
        !body.contains(SECRET) && !body.contains("root:x:0:0"),
        || format!("{target} served content from outside the root"),
    )?;
    ensure((400..500).contains(&r.head.status), || {
        format!("{target} answered {} (want 4xx)", r.head.status)
    })
}

fn mime(c: &Http, name: &str, types: &[&str]) -> TestResult {
    let r = c.expect_file(&format!("/{name}"), name)?;
    let got = r.head.media_type().unwrap_or_default();
    ensure(types.contains(&got.as_str()), || {
        format!("{name}: Content-Type {got:?}, want one of {types:?}")
    })
}

fn expect_html(r: &Response) -> TestResult {
    ensure(r.head.media_type().as_deref() == Some("text/html"), || {
        format!("Content-Type {:?}", r.head.header("content-type"))
    })
}

fn dir_index(c: &Http) -> TestResult {
    expect_html(&c.expect_file("/sub/", "sub/index.html")?)?;
    expect_html(&c.expect_file("/", "index.html")?)
}

fn dir_listing(c: &Http) -> TestResult {
    let r = c.fetch(&c.get("/list/"))?;
    r.expect_status(200)?;
    expect_html(&r)?;
    let body = String::from_utf8_lossy(&r.body).into_owned();
    let lower = body.to_ascii_lowercase();
    for entry in LIST_ENTRIES {
        let plain = entry.trim_end_matches('/');
        if plain.contains(['<', '&', ' ']) {
            continue;
        }
        ensure(body.contains(plain), || format!("listing lacks {plain:?}"))?;
    }
    ensure(lower.contains("two%20words.txt"), || {
        "listing has no percent-encoded link two%20words.txt".into()
    })?;
    ensure(body.contains("two words.txt"), || {
        "listing lacks \"two words.txt\"".into()
    })?;
    ensure(!body.contains("<b>&"), || {
        "special name is not HTML-escaped".into()
    })?;
    ensure(body.contains("&lt;b&gt;&amp;"), || {
        "listing lacks the escaped name &lt;b&gt;&amp;...".into()
    })?;
    ensure(lower.contains("%3cb%3e"), || {
        "listing has no percent-encoded link %3Cb%3E...".into()
    })
}

fn dir_redirect(c: &Http) -> TestResult {
    for dir in ["sub", "list"] {
        let r = c.fetch(&c.get(&format!("/{dir}")))?;
        r.expect_status(301)?;
        let location = r.head.header("location").unwrap_or("");
        let want = format!("/{dir}/");
        let absolute = format!("http://{}/{dir}/", c.host());
        ensure(location == want || location == absolute, || {
            format!("Location {location:?}, want {want:?}")
        })?;
    }
    Ok(())
}
