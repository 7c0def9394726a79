//! The PASS/FAIL runner: one line per test, a summary line, and an exit status.
//!
//! Every test runs on its own thread with a deadline, so a hung socket can fail a
//! test but never hang the suite.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

pub type TestResult = Result<(), String>;

type TestFn<C> = Box<dyn Fn(&C) -> TestResult + Send + Sync>;

pub struct Test<C> {
    pub name: String,
    pub timeout: Duration,
    run: TestFn<C>,
}

/// A test named `name` that fails if it has not finished after `timeout_secs`.
pub fn test<C>(
    name: impl Into<String>,
    timeout_secs: u64,
    run: impl Fn(&C) -> TestResult + Send + Sync + 'static,
) -> Test<C> {
    Test {
        name: name.into(),
        timeout: Duration::from_secs(timeout_secs),
        run: Box::new(run),
    }
}

/// Which tests to run and whether to only list them.
#[derive(Default)]
pub struct Selection {
    pub filter: Option<String>,
    pub list: bool,
}

impl Selection {
    fn wants(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }
}

/// Runs the selected tests of `suite` in order and returns the process exit status.
pub fn run_suite<C: Send + Sync + 'static>(
    suite: &str,
    ctx: C,
    tests: Vec<Test<C>>,
    selection: &Selection,
) -> i32 {
    let ctx = Arc::new(ctx);
    let (mut passed, mut failed) = (0, 0);
    for t in tests {
        let full_name = format!("{suite}/{}", t.name);
        if !selection.wants(&full_name) {
            continue;
        }
        if selection.list {
            println!("{full_name}");
            continue;
        }
        let started = Instant::now();
        match run_one(t, Arc::clone(&ctx)) {
            Ok(()) => {
                passed += 1;
                println!("PASS {full_name} ({} ms)", started.elapsed().as_millis());
            }
            Err(why) => {
                failed += 1;
                println!("FAIL {full_name}: {}", one_line(&why));
            }
        }
    }
    if selection.list {
        return 0;
    }
    println!("{passed} passed, {failed} failed");
    i32::from(failed != 0)
}

fn run_one<C: Send + Sync + 'static>(t: Test<C>, ctx: Arc<C>) -> TestResult {
    let (tx, rx) = mpsc::channel();
    let timeout = t.timeout;
    let spawned = thread::Builder::new().name(t.name.clone()).spawn(move || {
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| (t.run)(&ctx)));
        let result = outcome.unwrap_or_else(|p| Err(format!("panicked: {}", panic_text(&p))));
        // The runner may have given up on us; nobody to tell then.
        let _ = tx.send(result);
    });
    if let Err(e) = spawned {
        return Err(format!("cannot spawn test thread: {e}"));
    }
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        // The thread is abandoned; its sockets carry I/O timeouts, so it ends on its own.
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(format!("timed out after {} s", timeout.as_secs()))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("test thread vanished".into()),
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic".into()
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// `Err(why)` unless `cond`.
pub fn ensure(cond: bool, why: impl FnOnce() -> String) -> TestResult {
    if cond {
        Ok(())
    } else {
        Err(why())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite() -> Vec<Test<()>> {
        vec![
            test("ok", 5, |_| Ok(())),
            test("fails", 5, |_| Err("line1\nline2".into())),
            test("panics", 5, |_| panic!("boom")),
            test("hangs", 1, |_| {
                thread::sleep(Duration::from_secs(3));
                Ok(())
            }),
        ]
    }

    #[test]
    fn failures_give_nonzero_status() {
        assert_eq!(run_suite("t", (), suite(), &Selection::default()), 1);
    }

    #[test]
    fn filter_selects_subset() {
        let sel = Selection {
            filter: Some("t/ok".into()),
            list: false,
        };
        assert_eq!(run_suite("t", (), suite(), &sel), 0);
    }

    #[test]
    fn timeout_and_panic_are_failures() {
        let mut tests = suite().into_iter();
        let _ = tests.next();
        let fails = tests.next().map(|t| run_one(t, Arc::new(())));
        assert_eq!(fails, Some(Err("line1\nline2".into())));
        let panics = tests.next().map(|t| run_one(t, Arc::new(())));
        assert!(matches!(panics, Some(Err(ref e)) if e.contains("boom")));
        let hangs = tests.next().map(|t| run_one(t, Arc::new(())));
        assert!(matches!(hangs, Some(Err(ref e)) if e.contains("timed out")));
    }
}
