//! The PASS/FAIL runner: a plan line, one line per test, a summary line, and an exit status.
//!
//! A suite prints `PLAN <suite> <n>` before its first test, so that a caller can tell a
//! suite that died early from one that ran everything. Tests run on their own threads with
//! a deadline, so a hung socket can fail a test but never hang the suite; up to `jobs` of
//! them run at once (a test marked [`Test::alone`] runs with nothing beside it), and their
//! lines are printed in the suite's order. With `ITEST_LOCK=FILE` in the environment, every
//! test holds the lanes' lock ([`LaneLock`]) shared and an `alone` test exclusive, so that it
//! also runs with nothing of the other lane of the guest run beside it.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use crate::lanelock::LaneLock;

pub type TestResult = Result<(), String>;

type TestFn<C> = Box<dyn Fn(&C) -> TestResult + Send + Sync>;

pub struct Test<C> {
    pub name: String,
    pub timeout: Duration,
    /// Timing-sensitive or heavy: runs with no other test of the suite beside it.
    pub alone: bool,
    /// Takes 9 s or more in the debug guest: `make check` leaves it to `make soak`
    /// ([`Selection::no_long`]).
    pub long: bool,
    run: TestFn<C>,
}

impl<C> Test<C> {
    /// Runs this test with no other test of the suite beside it.
    pub fn alone(mut self) -> Self {
        self.alone = true;
        self
    }

    /// Marks this test as long: left out (and named on a `MOVED` line) with `--no-long`.
    pub fn long(mut self) -> Self {
        self.long = true;
        self
    }
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
        alone: false,
        long: false,
        run: Box::new(run),
    }
}

/// Which tests to run, how many at once, and whether to only list them.
pub struct Selection {
    /// Only tests whose full name contains this, or (comma-separated) any of these.
    pub filter: Option<String>,
    /// Leaves out tests whose full name contains any of these.
    pub skip: Vec<String>,
    pub list: bool,
    /// Tests running at once (at least 1).
    pub jobs: usize,
    /// Leaves out the tests marked long, each named on a `MOVED <suite>/<name>` line before
    /// the plan, so that a caller sees what runs elsewhere (`make soak`) instead.
    pub no_long: bool,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            filter: None,
            skip: Vec::new(),
            list: false,
            jobs: 1,
            no_long: false,
        }
    }
}

impl Selection {
    fn wants(&self, name: &str) -> bool {
        self.filter
            .as_deref()
            .is_none_or(|f| f.split(',').any(|f| name.contains(f)))
            && !self.skip.iter().any(|s| name.contains(s.as_str()))
    }
}

/// What one finished test reports.
struct Outcome {
    index: usize,
    result: TestResult,
    elapsed: Timing,
}

/// How long a test ran, and how long it waited for the lanes' lock before that.
#[derive(Clone, Copy, Default)]
struct Timing {
    ran: Duration,
    waited: Duration,
}

impl std::fmt::Display for Timing {
    /// `N ms`, and the wait for the lanes' lock when it was a second or more.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ms", self.ran.as_millis())?;
        if self.waited >= Duration::from_secs(1) {
            write!(
                f,
                ", after {} ms waiting for the lanes' lock",
                self.waited.as_millis()
            )?;
        }
        Ok(())
    }
}

/// Runs the selected tests of `suite` and returns the process exit status.
pub fn run_suite<C: Send + Sync + 'static>(
    suite: &str,
    ctx: C,
    tests: Vec<Test<C>>,
    selection: &Selection,
) -> i32 {
    // A filter entry that names no test would shrink the plan without a word: a renamed test
    // (or one registered only with an option the caller forgot) would vanish from the run.
    let unmatched: Vec<&str> = selection
        .filter
        .as_deref()
        .into_iter()
        .flat_map(|f| f.split(','))
        .filter(|f| {
            !tests
                .iter()
                .any(|t| format!("{suite}/{}", t.name).contains(f))
        })
        .collect();
    if !unmatched.is_empty() {
        println!("PLAN {suite} 1");
        println!(
            "FAIL {suite}/filter: --filter {} names no test of this suite",
            unmatched.join(",")
        );
        return 1;
    }
    let selected: Vec<(String, Test<C>)> = tests
        .into_iter()
        .map(|t| (format!("{suite}/{}", t.name), t))
        .filter(|(full_name, _)| selection.wants(full_name))
        .filter(|(full_name, t)| {
            let moved = selection.no_long && t.long;
            if moved && !selection.list {
                println!("MOVED {full_name} (long: make soak runs it)");
            }
            !moved
        })
        .collect();
    if selection.list {
        for (full_name, _) in &selected {
            println!("{full_name}");
        }
        return 0;
    }
    println!("PLAN {suite} {}", selected.len());
    let names: Vec<String> = selected.iter().map(|(n, _)| n.clone()).collect();
    let mut printer = Printer::new(names);
    let ctx = Arc::new(ctx);
    let (tx, rx) = mpsc::channel::<Outcome>();
    let jobs = selection.jobs.max(1);
    let mut running = 0;
    for (index, (_, t)) in selected.into_iter().enumerate() {
        let limit = if t.alone { 1 } else { jobs };
        // An `alone` test waits for every running one; later tests wait for it.
        while running >= limit || (t.alone && running > 0) {
            running -= 1;
            printer.record(rx.recv());
        }
        let alone = t.alone;
        start(index, t, Arc::clone(&ctx), tx.clone());
        running += 1;
        if alone {
            running -= 1;
            printer.record(rx.recv());
        }
    }
    for _ in 0..running {
        printer.record(rx.recv());
    }
    printer.finish()
}

/// Runs test `index` on a supervising thread that reports its outcome on `tx`.
fn start<C: Send + Sync + 'static>(
    index: usize,
    t: Test<C>,
    ctx: Arc<C>,
    tx: mpsc::Sender<Outcome>,
) {
    let report = tx.clone();
    let spawned = thread::Builder::new()
        .name(format!("run {}", t.name))
        .spawn(move || {
            let (result, elapsed) = run_one(t, ctx);
            let _ = tx.send(Outcome {
                index,
                result,
                elapsed,
            });
        });
    if let Err(e) = spawned {
        let _ = report.send(Outcome {
            index,
            result: Err(format!("cannot spawn test thread: {e}")),
            elapsed: Timing::default(),
        });
    }
}

/// Prints results in suite order as soon as every earlier one is known; counts them.
struct Printer {
    names: Vec<String>,
    results: Vec<Option<(TestResult, Timing)>>,
    next: usize,
    passed: usize,
    failed: usize,
}

impl Printer {
    fn new(names: Vec<String>) -> Printer {
        let results = names.iter().map(|_| None).collect();
        Printer {
            names,
            results,
            next: 0,
            passed: 0,
            failed: 0,
        }
    }

    fn record(&mut self, outcome: Result<Outcome, mpsc::RecvError>) {
        // Every started test sends exactly once and the runner holds a sender, so a
        // closed channel cannot happen; if it did, the missing tests fail in `finish`.
        let Ok(o) = outcome else { return };
        if let Some(slot) = self.results.get_mut(o.index) {
            *slot = Some((o.result, o.elapsed));
        }
        while let Some(Some((result, elapsed))) = self.results.get_mut(self.next).map(Option::take)
        {
            self.print(self.next, result, elapsed);
            self.next += 1;
        }
    }

    fn print(&mut self, index: usize, result: TestResult, elapsed: Timing) {
        let name = self.names.get(index).map_or("?", String::as_str);
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("PASS {name} ({elapsed})");
            }
            Err(why) => {
                self.failed += 1;
                println!("FAIL {name}: {}", one_line(&why));
            }
        }
    }

    fn finish(mut self) -> i32 {
        while self.next < self.names.len() {
            let result = self.results[self.next]
                .take()
                .unwrap_or((Err("no result (runner lost it)".into()), Timing::default()));
            self.print(self.next, result.0, result.1);
            self.next += 1;
        }
        println!("{} passed, {} failed", self.passed, self.failed);
        i32::from(self.failed != 0)
    }
}

/// Runs one test under the lanes' lock; its outcome, how long it ran and how long it waited
/// for the lock.
fn run_one<C: Send + Sync + 'static>(t: Test<C>, ctx: Arc<C>) -> (TestResult, Timing) {
    let asked = Instant::now();
    // Released when dropped (the file closes), after the test's outcome is known.
    let _lock = match LaneLock::from_env(t.alone) {
        Ok(lock) => lock,
        Err(e) => return (Err(e), Timing::default()),
    };
    let started = Instant::now();
    let result = run_locked(t, ctx);
    let timing = Timing {
        ran: started.elapsed(),
        waited: started - asked,
    };
    (result, timing)
}

fn run_locked<C: Send + Sync + 'static>(t: Test<C>, ctx: Arc<C>) -> TestResult {
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
    use std::sync::atomic::{AtomicUsize, Ordering};

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
            ..Selection::default()
        };
        assert_eq!(run_suite("t", (), suite(), &sel), 0);
    }

    #[test]
    fn filter_naming_no_test_fails() {
        // `t/ok` alone would pass: the entry that names nothing fails the run.
        let sel = Selection {
            filter: Some("t/ok,t/renamed".into()),
            ..Selection::default()
        };
        assert_eq!(run_suite("t", (), suite(), &sel), 1);
    }

    #[test]
    fn no_long_leaves_out_only_long_tests() {
        let mut tests = suite();
        for t in tests.iter_mut().filter(|t| t.name != "ok") {
            t.long = true;
        }
        let sel = Selection {
            no_long: true,
            ..Selection::default()
        };
        // Only `ok` runs: the failing, panicking and hanging tests are long and left out.
        assert_eq!(run_suite("t", (), tests, &sel), 0);
        let mut tests = suite();
        tests[1].long = true;
        assert_eq!(run_suite("t", (), tests, &Selection::default()), 1);
    }

    #[test]
    fn filter_takes_alternatives() {
        let sel = Selection {
            filter: Some("t/ok,t/hangs".into()),
            ..Selection::default()
        };
        assert!(sel.wants("t/ok") && sel.wants("t/hangs") && !sel.wants("t/fails"));
        // The hanging test is in: the run fails on its timeout.
        assert_eq!(run_suite("t", (), suite(), &sel), 1);
    }

    #[test]
    fn skip_leaves_tests_out() {
        let sel = Selection {
            skip: vec!["fails".into(), "panics".into(), "hangs".into()],
            ..Selection::default()
        };
        assert_eq!(run_suite("t", (), suite(), &sel), 0);
    }

    #[test]
    fn timeout_and_panic_are_failures() {
        let mut tests = suite().into_iter();
        let _ = tests.next();
        let fails = tests.next().map(|t| run_one(t, Arc::new(())).0);
        assert_eq!(fails, Some(Err("line1\nline2".into())));
        let panics = tests.next().map(|t| run_one(t, Arc::new(())).0);
        assert!(matches!(panics, Some(Err(ref e)) if e.contains("boom")));
        let hangs = tests.next().map(|t| run_one(t, Arc::new(())).0);
        assert!(matches!(hangs, Some(Err(ref e)) if e.contains("timed out")));
    }

    /// Counts how many tests run at once; the most seen is kept in `peak`.
    #[derive(Default)]
    struct Gauge {
        now: AtomicUsize,
        peak: AtomicUsize,
    }

    type Shared = Arc<Gauge>;

    fn gauged(name: &str, ms: u64) -> Test<Shared> {
        test(name, 5, move |g: &Shared| {
            let n = g.now.fetch_add(1, Ordering::SeqCst) + 1;
            g.peak.fetch_max(n, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(ms));
            g.now.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
    }

    fn jobs(n: usize) -> Selection {
        Selection {
            jobs: n,
            ..Selection::default()
        }
    }

    #[test]
    fn parallel_tests_overlap_up_to_jobs() {
        let tests: Vec<_> = (0..6).map(|i| gauged(&format!("p{i}"), 300)).collect();
        let g = Shared::default();
        let started = Instant::now();
        assert_eq!(run_suite("t", Arc::clone(&g), tests, &jobs(3)), 0);
        assert_eq!(g.peak.load(Ordering::SeqCst), 3);
        assert!(started.elapsed() < Duration::from_millis(1500));
    }

    #[test]
    fn alone_test_runs_by_itself() {
        let beside = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&beside);
        let solo = test("solo", 5, move |g: &Shared| {
            for _ in 0..10 {
                seen.fetch_max(g.now.load(Ordering::SeqCst), Ordering::SeqCst);
                thread::sleep(Duration::from_millis(20));
            }
            Ok(())
        })
        .alone();
        let tests = vec![gauged("a", 200), gauged("b", 200), solo, gauged("c", 200)];
        let g = Shared::default();
        assert_eq!(run_suite("t", Arc::clone(&g), tests, &jobs(4)), 0);
        assert_eq!(beside.load(Ordering::SeqCst), 0);
        assert_eq!(g.peak.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_wait_for_the_lanes_lock_is_shown_beside_the_time() {
        let t = |ran, waited| Timing {
            ran: Duration::from_millis(ran),
            waited: Duration::from_millis(waited),
        };
        assert_eq!(t(12, 300).to_string(), "12 ms");
        assert_eq!(
            t(12, 10_000).to_string(),
            "12 ms, after 10000 ms waiting for the lanes' lock"
        );
    }

    #[test]
    fn outcomes_are_printed_in_suite_order() {
        let mut p = Printer::new(vec!["t/a".into(), "t/b".into(), "t/c".into()]);
        let outcome = |index, result| {
            Ok(Outcome {
                index,
                result,
                elapsed: Timing::default(),
            })
        };
        p.record(outcome(2, Ok(())));
        p.record(outcome(1, Err("x".into())));
        assert_eq!(p.next, 0);
        p.record(outcome(0, Ok(())));
        assert_eq!((p.next, p.passed, p.failed), (3, 2, 1));
        assert_eq!(p.finish(), 1);
    }

    #[test]
    fn a_lost_result_is_a_failure() {
        let p = Printer::new(vec!["t/a".into()]);
        assert_eq!(p.finish(), 1);
    }
}
