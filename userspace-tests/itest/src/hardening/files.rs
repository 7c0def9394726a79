//! What may be opened and shown: file types, credentials, dotfiles, redirects.

use super::{text, Hard};
use crate::fixtures::hard::*;
use crate::report::{ensure, test, Test, TestResult};

pub fn tests() -> Vec<Test<Hard>> {
    vec![
        test("char_device_403", 15, |c: &Hard| forbidden(c, "/null", &[])),
        test("char_device_no_driver_403", 15, |c: &Hard| {
            forbidden(c, &format!("/{NODEV}"), &[])
        }),
        test("mode_0600_file_403", 15, |c: &Hard| {
            forbidden(c, "/secret.txt", &[SECRET_TEXT])
        }),
        test("mode_0700_dir_403", 15, |c: &Hard| {
            forbidden(c, "/private/", &["inside.txt"])
        }),
        test("file_in_0700_dir_403", 15, |c: &Hard| {
            forbidden(c, "/private/inside.txt", &[INSIDE_TEXT])
        }),
        test("dotfiles_not_listed", 15, dotfiles_not_listed),
        test("dotfiles_404", 15, dotfiles_404),
        test("redirect_double_slash_not_open", 15, redirect_double_slash),
        test("redirect_keeps_percent_encoding", 15, redirect_space),
    ]
}

/// With `dotfiles=1`.
pub fn dotfiles_on_tests() -> Vec<Test<Hard>> {
    vec![
        test("dotfiles_on_listed", 15, |c: &Hard| {
            let body = listing_of_root(c)?;
            for name in [".git", ".htpasswd"] {
                ensure(body.contains(name), || {
                    format!("dotfiles=1 but the listing of / lacks {name}")
                })?;
            }
            Ok(())
        }),
        test("dotfiles_on_served", 15, |c: &Hard| {
            c.expect_file("/.git/config", ".git/config")?;
            c.expect_file("/.htpasswd", ".htpasswd").map(|_| ())
        }),
    ]
}

/// GET `target` must answer 403 and show none of `hidden`.
fn forbidden(c: &Hard, target: &str, hidden: &[&str]) -> TestResult {
    let r = c.fetch(&c.get(target))?;
    let body = text(&r);
    for h in hidden {
        ensure(!body.contains(h), || {
            format!("{target} answered {} showing {h:?}", r.head.status)
        })?;
    }
    r.expect_status(403)
        .map(|_| ())
        .map_err(|e| format!("GET {target}: {e}"))
}

/// The listing of `/` (the hardening root has no index.html).
fn listing_of_root(c: &Hard) -> Result<String, String> {
    let r = c.fetch(&c.get("/"))?;
    r.expect_status(200)?;
    let body = text(&r);
    ensure(body.contains(HUGE_FILE) && body.contains(EVIL_DIR), || {
        format!("GET / is not the listing of the hardening root: {body:.200}")
    })?;
    Ok(body)
}

fn dotfiles_not_listed(c: &Hard) -> TestResult {
    let body = listing_of_root(c)?;
    for name in [".git", ".htpasswd"] {
        ensure(!body.contains(name), || {
            format!("the listing of / shows {name}")
        })?;
    }
    Ok(())
}

fn dotfiles_404(c: &Hard) -> TestResult {
    for (target, secret) in [
        ("/.git/config", GIT_CONFIG_TEXT),
        ("/.htpasswd", HTPASSWD_TEXT),
        ("/.git/", "config"),
    ] {
        let r = c.fetch(&c.get(target))?;
        ensure(!text(&r).contains(secret.trim()), || {
            format!("{target} answered {} with its contents", r.head.status)
        })?;
        r.expect_status(404)
            .map_err(|e| format!("GET {target}: {e}"))?;
    }
    Ok(())
}

/// A 301 for `target` whose Location is exactly `want`.
fn redirect(c: &Hard, target: &str, want: &str) -> TestResult {
    let r = c.fetch(&c.get(target))?;
    r.expect_status(301)
        .map_err(|e| format!("GET {target}: {e}"))?;
    let location = r.head.header("location").unwrap_or("");
    ensure(location == want, || {
        format!("GET {target}: Location {location:?}, want {want:?}")
    })
}

fn redirect_double_slash(c: &Hard) -> TestResult {
    // `//evil.example/` in a Location is a network-path reference: another host.
    redirect(c, "//evil.example", "/evil.example/")
}

fn redirect_space(c: &Hard) -> TestResult {
    redirect(c, "/a%20b", "/a%20b/")?;
    let r = c.fetch(&c.get("/a%20b/"))?;
    r.expect_status(200)?;
    ensure(text(&r).contains("y.txt"), || {
        "the listing of /a%20b/ lacks y.txt".into()
    })
}
