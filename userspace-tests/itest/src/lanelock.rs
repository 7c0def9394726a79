//! The lock that the test lanes of one guest run share (`ITEST_LOCK=FILE`), so that a
//! timing-sensitive test runs with nothing of the other lane beside it.
//!
//! Ordinary tests hold it shared, timing-sensitive ones exclusive. `flock(2)` alone would let
//! a lane whose tests overlap keep the lock shared for as long as it has tests, and an
//! exclusive taker wait until that lane is done; so takers first pass a gate (`FILE.gate`):
//! an exclusive taker holds the gate while it waits and runs, a shared taker only passes it.
//! Nobody waits on the gate while holding the lock, so the two cannot deadlock.
//!
//! `itest lockd FILE` serves the same lock to the guest's shell scripts: one line per request
//! on its standard input (`shared`, `exclusive`, `release`), one line back once it is done
//! (`locked`, `released`); end of input releases it.

use std::fs::File;
use std::io::{self, BufRead, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// A held lane lock; dropping it releases it.
pub struct LaneLock {
    // Declared (and dropped) first: the lock, then the gate an exclusive holder kept.
    _lock: File,
    _gate: Option<File>,
}

fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: the fd belongs to `file`, which stays open for the call; flock takes no
        // pointer.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn open(path: &Path) -> io::Result<File> {
    File::options().create(true).append(true).open(path)
}

fn gate_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".gate");
    PathBuf::from(p)
}

impl LaneLock {
    /// Waits for the lock at `path`, exclusive or shared.
    pub fn take(path: &Path, exclusive: bool) -> io::Result<LaneLock> {
        let gate = open(&gate_path(path))?;
        let lock = open(path)?;
        if exclusive {
            flock(&gate, libc::LOCK_EX)?;
            flock(&lock, libc::LOCK_EX)?;
            Ok(LaneLock {
                _lock: lock,
                _gate: Some(gate),
            })
        } else {
            // Passing the gate: blocked while an exclusive taker waits or runs.
            flock(&gate, libc::LOCK_SH)?;
            flock(&lock, libc::LOCK_SH)?;
            drop(gate);
            Ok(LaneLock {
                _lock: lock,
                _gate: None,
            })
        }
    }

    /// The lock named by `ITEST_LOCK`, if set and not empty.
    pub fn from_env(exclusive: bool) -> Result<Option<LaneLock>, String> {
        match std::env::var_os("ITEST_LOCK") {
            Some(p) if !p.is_empty() => LaneLock::take(Path::new(&p), exclusive)
                .map(Some)
                .map_err(|e| format!("ITEST_LOCK {}: {e}", p.to_string_lossy())),
            _ => Ok(None),
        }
    }
}

/// `itest lockd FILE`: serves the lock over standard input and output until end of input.
pub fn serve(path: &Path, input: impl BufRead, mut output: impl Write) -> Result<i32, String> {
    let mut held: Option<LaneLock> = None;
    for line in input.lines() {
        let line = line.map_err(|e| format!("lockd: reading a request: {e}"))?;
        let reply = match line.trim() {
            req @ ("shared" | "exclusive") => {
                // A new request replaces what is held: release first, then wait.
                drop(held.take());
                held = Some(
                    LaneLock::take(path, req == "exclusive")
                        .map_err(|e| format!("lockd {}: {e}", path.display()))?,
                );
                "locked"
            }
            "release" => {
                held = None;
                "released"
            }
            other => return Err(format!("lockd: unknown request {other:?}")),
        };
        writeln!(output, "{reply}")
            .and_then(|()| output.flush())
            .map_err(|e| format!("lockd: replying: {e}"))?;
    }
    drop(held);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    /// A lock path of its own per test; its files are removed when the test ends.
    struct TempLock(PathBuf);

    impl Drop for TempLock {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
            let _ = std::fs::remove_file(gate_path(&self.0));
        }
    }

    fn temp_lock(name: &str) -> TempLock {
        let p = std::env::temp_dir().join(format!("itest-lanelock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        TempLock(p)
    }

    #[test]
    fn shared_holders_overlap_exclusive_does_not() {
        let tmp = temp_lock("overlap");
        let path = tmp.0.clone();
        let a = LaneLock::take(&path, false).unwrap();
        let b = LaneLock::take(&path, false).unwrap();
        let got = Arc::new(AtomicBool::new(false));
        let (p, g) = (path.clone(), Arc::clone(&got));
        let t = thread::spawn(move || {
            let _x = LaneLock::take(&p, true).unwrap();
            g.store(true, Ordering::SeqCst);
        });
        thread::sleep(Duration::from_millis(100));
        assert!(
            !got.load(Ordering::SeqCst),
            "exclusive taken beside shared holders"
        );
        drop(a);
        drop(b);
        t.join().unwrap();
        assert!(got.load(Ordering::SeqCst));
    }

    /// Shared takers that keep overlapping (a lane running several tests at once) do not
    /// keep a waiting exclusive taker out: new shared takers wait behind it.
    #[test]
    fn exclusive_is_not_starved_by_overlapping_shared_takers() {
        let tmp = temp_lock("starve");
        let path = tmp.0.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let inside = Arc::new(AtomicUsize::new(0));
        let mut lane = Vec::new();
        for _ in 0..3 {
            let (p, s, n) = (path.clone(), Arc::clone(&stop), Arc::clone(&inside));
            lane.push(thread::spawn(move || {
                while !s.load(Ordering::SeqCst) {
                    let _l = LaneLock::take(&p, false).unwrap();
                    n.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(30));
                    n.fetch_sub(1, Ordering::SeqCst);
                }
            }));
        }
        thread::sleep(Duration::from_millis(100));
        let t0 = Instant::now();
        let x = LaneLock::take(&path, true).unwrap();
        let waited = t0.elapsed();
        assert_eq!(
            inside.load(Ordering::SeqCst),
            0,
            "a shared holder beside the exclusive one"
        );
        thread::sleep(Duration::from_millis(100));
        assert_eq!(
            inside.load(Ordering::SeqCst),
            0,
            "a shared taker got in while exclusive held"
        );
        drop(x);
        stop.store(true, Ordering::SeqCst);
        for t in lane {
            t.join().unwrap();
        }
        assert!(
            waited < Duration::from_secs(2),
            "exclusive waited {waited:?}"
        );
    }

    #[test]
    fn lockd_answers_each_request_and_refuses_unknown_ones() {
        let tmp = temp_lock("lockd");
        let path = tmp.0.clone();
        let mut out = Vec::new();
        let input = io::Cursor::new("shared\nexclusive\nrelease\n");
        assert_eq!(serve(&path, input, &mut out), Ok(0));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "locked\nlocked\nreleased\n"
        );
        let err = serve(&path, io::Cursor::new("lock\n"), Vec::new()).unwrap_err();
        assert!(err.contains("unknown request"), "{err}");
        // Nothing is left held: an exclusive taker gets it at once.
        drop(LaneLock::take(&path, true).unwrap());
    }
}
