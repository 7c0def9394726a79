//! The open-file cache: a file replaced, made unreadable or removed under its name is seen
//! within the cache's validity (1 s; the test allows 2.5 s), never served stale for good.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::thread;
use std::time::{Duration, Instant};

use super::Http;
use crate::report::{test, Test, TestResult};

/// Longer than the module's 1 s validity, with room for a slow emulated guest.
const SEEN_WITHIN: Duration = Duration::from_millis(2500);

pub fn tests() -> Vec<Test<Http>> {
    vec![test(
        "file_cache_sees_replace_chmod_remove",
        30,
        changes_seen,
    )]
}

/// GET `target` until `ok` accepts the answer (status, body), or SEEN_WITHIN passes.
fn until(c: &Http, target: &str, what: &str, ok: impl Fn(u16, &[u8]) -> bool) -> TestResult {
    let start = Instant::now();
    loop {
        let r = c.fetch(&c.get(target))?;
        if ok(r.head.status, &r.body) {
            return Ok(());
        }
        if start.elapsed() > SEEN_WITHIN {
            return Err(format!(
                "{what}: still {} ({} bytes) {} ms later",
                r.head.status,
                r.body.len(),
                start.elapsed().as_millis()
            ));
        }
        thread::sleep(Duration::from_millis(200));
    }
}

fn changes_seen(c: &Http) -> TestResult {
    let name = format!("cached-{}.txt", std::process::id());
    let path = c.root.join(&name);
    let target = format!("/{name}");
    let write = |text: &str| {
        let tmp = c.root.join(format!(".{name}.new"));
        fs::write(&tmp, text)
            .and_then(|_| fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)))
            .and_then(|_| fs::rename(&tmp, &path))
            .map_err(|e| format!("replace {name}: {e}"))
    };
    let result = (|| {
        write("first version\n")?;
        until(c, &target, "the first version", |s, b| {
            s == 200 && b == b"first version\n"
        })?;
        // Once more: now from the cache.
        until(c, &target, "cached", |s, b| {
            s == 200 && b == b"first version\n"
        })?;
        write("second version, longer\n")?;
        until(c, &target, "the replaced file", |s, b| {
            s == 200 && b == b"second version, longer\n"
        })?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("chmod {name}: {e}"))?;
        until(c, &target, "the file made unreadable", |s, _| s == 403)?;
        fs::remove_file(&path).map_err(|e| format!("remove {name}: {e}"))?;
        until(c, &target, "the removed file", |s, _| s == 404)
    })();
    let _ = fs::remove_file(&path);
    result
}
