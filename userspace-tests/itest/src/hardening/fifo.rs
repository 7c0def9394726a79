//! A FIFO under the root: opening it for reading blocks until a writer comes, so a server
//! that opens before checking the type parks a kworker per request.

use std::collections::BTreeMap;
use std::thread;
use std::time::{Duration, Instant};

use super::Hard;
use crate::fixtures::hard::FIFO;
use crate::net;
use crate::report::{ensure, test, Test, TestResult};

const CLIENTS: usize = 300;
/// How long each FIFO request may take to be answered.
const PROMPT: Duration = Duration::from_secs(10);

pub fn tests() -> Vec<Test<Hard>> {
    vec![
        test("fifo_300_concurrent_403", 90, fifo_storm).long(),
        test("fifo_then_file_under_3s", 15, file_after).alone(),
    ]
}

fn fifo_storm(c: &Hard) -> TestResult {
    net::raise_nofile(CLIENTS as u64 + 256)?;
    let raw = c.get(&format!("/{FIFO}"));
    let outcomes: Vec<String> = thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let raw = &raw;
                s.spawn(move || {
                    let mut conn = c.conn()?;
                    net::set_timeouts(&conn.stream, PROMPT)?;
                    conn.send(raw)?;
                    conn.response().map(|r| r.head.status.to_string())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(Ok(status)) => status,
                Ok(Err(e)) if e.contains("timed out") || e.contains("Resource temporarily") => {
                    "no answer".into()
                }
                Ok(Err(e)) => e,
                Err(_) => "client panicked".into(),
            })
            .collect()
    });
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &outcomes {
        *counts.entry(o.as_str()).or_default() += 1;
    }
    ensure(counts.get("403") == Some(&CLIENTS), || {
        format!(
            "{CLIENTS} GETs of /{FIFO}, want 403 within {} s each, got {counts:?}",
            PROMPT.as_secs()
        )
    })
}

fn file_after(c: &Hard) -> TestResult {
    let t0 = Instant::now();
    let mut conn = c.conn()?;
    net::set_timeouts(&conn.stream, Duration::from_secs(3))?;
    conn.send(&c.get("/a.txt"))?;
    let r = conn
        .response()
        .map_err(|e| format!("after the FIFO requests, GET /a.txt: {e}"))?;
    r.expect_status(200)?.expect_body(&c.file("a.txt")?)?;
    let took = t0.elapsed();
    ensure(took < Duration::from_secs(3), || {
        format!("GET /a.txt took {} ms", took.as_millis())
    })
}
