//! `get` and `hold`: verified keep-alive clients and held connections.

use crate::conn::{expected, Conn, Target};
use crate::Common;
use anyhow::{bail, ensure, Result};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

/// Up to five distinct error messages with their counts.
#[derive(Default)]
pub struct Errors(BTreeMap<String, usize>);

impl Errors {
    pub fn add(&mut self, e: &anyhow::Error) {
        *self.0.entry(format!("{e:#}")).or_default() += 1;
    }
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }
    /// The five most frequent.
    pub fn print(&self, tool: &str) {
        let mut all: Vec<_> = self.0.iter().collect();
        all.sort_by(|a, b| b.1.cmp(a.1));
        for (msg, n) in all.into_iter().take(5) {
            eprintln!("{tool}: {n} x {msg}");
        }
    }
}

/// p50, p99 and max of `v` (milliseconds), for the summary line.
fn percentiles(mut v: Vec<u128>) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.sort_unstable();
    let at = |q: usize| v[(v.len() - 1) * q / 100];
    format!("p50 {} p99 {} max {}", at(50), at(99), v[v.len() - 1])
}

struct Outcome {
    handshake_ms: u128,
}

/// How each client asks.
#[derive(Clone, Copy)]
pub struct Asking {
    /// `Connection: close` on each client's last request.
    pub close_last: bool,
    /// A pause between sending a request and reading its response (a slow reader).
    pub read_delay: Duration,
    /// SO_RCVBUF of each client's socket.
    pub rcvbuf: Option<u32>,
    /// A pause before each read.
    pub read_pause: Duration,
}

/// One verified GET on a keep-alive connection (`close`: the last, with `Connection: close`,
/// after which the server must close).
async fn request(
    conn: &mut Conn,
    (path, body): &(String, Arc<Vec<u8>>),
    close: bool,
    read_delay: Duration,
) -> Result<()> {
    conn.send_get(path, close).await?;
    tokio::time::sleep(read_delay).await;
    let r = conn.response().await?;
    ensure!(r.status == 200, "{path}: status {}", r.status);
    ensure!(
        r.body == **body,
        "{path}: body differs ({} bytes, the file has {})",
        r.body.len(),
        body.len()
    );
    if close {
        ensure!(r.close, "{path}: no Connection: close in the response");
        match conn.end_within(Duration::from_secs(10)).await {
            Some(true) => {}
            Some(false) => bail!("{path}: closed after Connection: close without a close_notify"),
            None => bail!("{path}: not closed after Connection: close"),
        }
    }
    Ok(())
}

pub async fn get(
    c: &Common,
    paths: &[String],
    clients: usize,
    requests: usize,
    all_open: bool,
    asking: Asking,
) -> Result<bool> {
    ensure!(
        clients > 0 && requests > 0,
        "--clients and --requests must be at least 1"
    );
    let mut target = Target::new(c.addr, &c.cafile, c.step())?;
    target.rcvbuf = asking.rcvbuf;
    target.read_pause = asking.read_pause;
    let mut bodies = Vec::new();
    for p in paths {
        bodies.push((p.clone(), Arc::new(expected(&c.www, p)?)));
    }
    let bodies = Arc::new(bodies);
    let barrier = all_open.then(|| Arc::new(Barrier::new(clients)));
    // Clients past their first response: with --all-open, nobody closes before the barrier,
    // so when it opens this is how many were open at once.
    let connected = Arc::new(AtomicUsize::new(0));
    let verified = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..clients {
        let (target, bodies, barrier) = (target.clone(), bodies.clone(), barrier.clone());
        let (connected, verified) = (connected.clone(), verified.clone());
        set.spawn(async move {
            let t0 = Instant::now();
            let first = async {
                let mut conn = target.connect().await?;
                let handshake_ms = t0.elapsed().as_millis();
                let close = asking.close_last && requests == 1;
                request(
                    &mut conn,
                    &bodies[i % bodies.len()],
                    close,
                    asking.read_delay,
                )
                .await?;
                anyhow::Ok((conn, handshake_ms))
            }
            .await;
            if first.is_ok() {
                connected.fetch_add(1, Ordering::SeqCst);
                verified.fetch_add(1, Ordering::SeqCst);
            }
            // Every task waits here once, whatever its first request did.
            if let Some(b) = barrier {
                b.wait().await;
            }
            let (mut conn, handshake_ms) = first?;
            for k in 1..requests {
                let close = asking.close_last && k + 1 == requests;
                let body = &bodies[(i + k) % bodies.len()];
                request(&mut conn, body, close, asking.read_delay).await?;
                verified.fetch_add(1, Ordering::SeqCst);
            }
            anyhow::Ok(Outcome { handshake_ms })
        });
    }
    let (mut hs, mut errors) = (Vec::new(), Errors::default());
    while let Some(r) = set.join_next().await {
        match r? {
            Ok(o) => hs.push(o.handshake_ms),
            Err(e) => errors.add(&e),
        }
    }
    let verified = verified.load(Ordering::SeqCst);
    let at_once = connected.load(Ordering::SeqCst);
    let failed = errors.total();
    errors.print("tls-client get");
    let open_note = if all_open {
        format!(" ({at_once} open at once)")
    } else {
        String::new()
    };
    println!(
        "tls-client get: {clients} clients{open_note}, {verified} responses verified, {failed} failed; \
         connect+handshake ms {}; {} ms",
        percentiles(hs),
        started.elapsed().as_millis()
    );
    let all_at_once = !all_open || at_once == clients;
    Ok(failed == 0 && verified == clients * requests && all_at_once)
}

pub async fn hold(c: &Common, path: &str, clients: usize, close_within: Duration) -> Result<bool> {
    let target = Target::new(c.addr, &c.cafile, c.step())?;
    let body = Arc::new(expected(&c.www, path)?);
    let mut set = JoinSet::new();
    for i in 0..clients {
        let (target, body, path) = (target.clone(), body.clone(), path.to_string());
        set.spawn(async move {
            let mut conn = target.connect().await?;
            let r = conn.get(&path, false).await?;
            ensure!(r.status == 200 && r.body == *body, "{path}: wrong response");
            // Every other connection is left in the middle of its next request's head.
            let mid = i % 2 == 1;
            if mid {
                conn.send(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n").as_bytes())
                    .await?;
            }
            anyhow::Ok((conn, mid))
        });
    }
    let (mut held, mut errors) = (Vec::new(), Errors::default());
    while let Some(r) = set.join_next().await {
        match r? {
            Ok(c) => held.push(c),
            Err(e) => errors.add(&e),
        }
    }
    errors.print("tls-client hold");
    let mid = held.iter().filter(|(_, m)| *m).count();
    println!("held {} of {clients} ({mid} mid-request)", held.len());
    if held.len() != clients {
        return Ok(false);
    }
    // Now the caller unloads the module: every connection must end.
    let t0 = Instant::now();
    let mut set = JoinSet::new();
    for (mut conn, _) in held {
        set.spawn(async move { conn.closed_within(close_within).await.then(|| t0.elapsed()) });
    }
    let (mut closed, mut last) = (0, Duration::ZERO);
    while let Some(r) = set.join_next().await {
        if let Some(at) = r? {
            closed += 1;
            last = last.max(at);
        }
    }
    println!(
        "tls-client hold: {closed} of {clients} closed by the server, the last {} ms after held",
        last.as_millis()
    );
    Ok(closed == clients)
}
