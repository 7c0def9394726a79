//! `storm`: for a while, `concurrency` clients at a time, each picking one behaviour at random:
//! good requests (verified), pipelined requests, plain HTTP, garbage, a ClientHello cut short,
//! silence, a ClientHello and then a close, a forged record after the handshake, close_notify
//! in the middle of a request, a reset, a record cut short, a KeyUpdate (which 6.12's kTLS
//! receive side does not take: the connection must end). Then one good request.
//!
//! Fails when: plain HTTP on the TLS port gets an HTTP answer, a body differs from the file,
//! the server keeps a connection that sent a forged record, no good client got through, or
//! the request after the storm fails. Good clients that time out while hostile ones hold the
//! handshake queue are counted, not failed.

use crate::conn::{expected, Conn, Target};
use crate::load::Errors;
use crate::Common;
use anyhow::{bail, ensure, Context, Result};
use rustls::ClientConnection;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

/// splitmix64: small, seedable, and the same sequence for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

pub const KINDS: [&str; 12] = [
    "good",
    "pipelined",
    "plain-http",
    "garbage",
    "short-hello",
    "silent",
    "hello-then-close",
    "forged-record",
    "close-notify-mid-request",
    "reset",
    "short-record",
    "key-update",
];

/// How a client's behaviour ended.
enum End {
    Ok,
    /// A good client that could not get through (timeouts while the queue is full).
    Missed(anyhow::Error),
    /// The server did something it must never do.
    Wrong(anyhow::Error),
}

struct Shared {
    target: Target,
    path: String,
    body: Vec<u8>,
}

/// The ClientHello bytes rustls would send first.
fn client_hello(t: &Target) -> Result<Vec<u8>> {
    let mut c = ClientConnection::new(t.config.clone(), t.name.clone())?;
    let mut out = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut out)?;
    }
    Ok(out)
}

async fn verified_get(s: &Shared, conn: &mut Conn, close: bool) -> Result<End> {
    let r = match conn.get(&s.path, close).await {
        Ok(r) => r,
        // Part of a response and then the end: the server cut it short.
        Err(e) if conn.cut_short() => return Ok(End::Wrong(e.context("a response cut short"))),
        Err(e) => return Ok(End::Missed(e)),
    };
    if r.status != 200 || r.body != s.body || r.close != close {
        return Ok(End::Wrong(anyhow::anyhow!(
            "{}: status {}, Connection: close {} (asked {close}), {} body bytes, the file has {}",
            s.path,
            r.status,
            r.close,
            r.body.len(),
            s.body.len()
        )));
    }
    Ok(End::Ok)
}

/// A connection that completes its handshake, or `None` (counted as missed).
async fn connected(s: &Shared) -> Result<Conn, End> {
    s.target.connect().await.map_err(End::Missed)
}

/// `Ok` once the server ended the connection within a step, else `Wrong` (after `what`).
async fn must_end(c: &mut Conn, t: &Target, what: &str) -> End {
    if c.closed_within(t.step).await {
        End::Ok
    } else {
        End::Wrong(anyhow::anyhow!(
            "{what} did not end the connection within {:?}",
            t.step
        ))
    }
}

async fn behave(s: &Shared, kind: usize, rng_seed: u64) -> Result<End> {
    let mut rng = Rng(rng_seed);
    let t = &s.target;
    match KINDS[kind] {
        "good" => match connected(s).await {
            Ok(mut c) => verified_get(s, &mut c, rng.below(2) == 0).await,
            Err(end) => Ok(end),
        },
        "pipelined" => {
            let mut c = match connected(s).await {
                Ok(c) => c,
                Err(end) => return Ok(end),
            };
            let n = 2 + rng.below(4) as usize;
            let mut reqs = String::new();
            for i in 0..n {
                let close = if i + 1 == n {
                    "Connection: close\r\n"
                } else {
                    ""
                };
                reqs += &format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{close}\r\n", s.path);
            }
            if let Err(e) = c.send(reqs.as_bytes()).await {
                return Ok(End::Missed(e));
            }
            for i in 0..n {
                match c.response().await {
                    Ok(r) if r.status == 200 && r.body == s.body => {}
                    Ok(r) => {
                        return Ok(End::Wrong(anyhow::anyhow!(
                            "pipelined: status {}",
                            r.status
                        )))
                    }
                    // One response answered in part, or one missing after others came.
                    Err(e) if c.cut_short() || i > 0 => {
                        return Ok(End::Wrong(e.context("pipelined responses cut short")))
                    }
                    Err(e) => return Ok(End::Missed(e)),
                }
            }
            Ok(End::Ok)
        }
        "plain-http" => {
            let mut tcp = t.tcp().await?;
            tcp.write_all(format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", s.path).as_bytes())
                .await?;
            let mut got = Vec::new();
            let _ = timeout(Duration::from_secs(3), tcp.read_to_end(&mut got)).await;
            if got.windows(5).any(|w| w == b"HTTP/") {
                return Ok(End::Wrong(anyhow::anyhow!(
                    "plain HTTP on the TLS port got an HTTP answer"
                )));
            }
            Ok(End::Ok)
        }
        "garbage" => {
            let mut tcp = t.tcp().await?;
            let n = 1 + rng.below(4000) as usize;
            let junk = rng.bytes(n);
            let _ = tcp.write_all(&junk).await;
            sleep(Duration::from_millis(rng.below(300))).await;
            Ok(End::Ok)
        }
        "short-hello" => {
            let hello = client_hello(t)?;
            let mut tcp = t.tcp().await?;
            let cut = 1 + rng.below(hello.len() as u64 - 1) as usize;
            tcp.write_all(&hello[..cut]).await?;
            sleep(Duration::from_millis(rng.below(1500))).await;
            Ok(End::Ok)
        }
        "silent" => {
            let _tcp = t.tcp().await?;
            sleep(Duration::from_millis(rng.below(1500))).await;
            Ok(End::Ok)
        }
        "hello-then-close" => {
            let hello = client_hello(t)?;
            let mut tcp = t.tcp().await?;
            tcp.write_all(&hello).await?;
            let mut buf = [0u8; 512];
            let _ = timeout(Duration::from_millis(rng.below(1000)), tcp.read(&mut buf)).await;
            Ok(End::Ok)
        }
        "forged-record" | "short-record" => {
            let mut c = match connected(s).await {
                Ok(c) => c,
                Err(end) => return Ok(end),
            };
            let len = 32 + rng.below(2000) as usize;
            let mut rec = vec![0x17, 0x03, 0x03, (len >> 8) as u8, len as u8];
            rec.extend(rng.bytes(len));
            if KINDS[kind] == "short-record" {
                rec.truncate(5 + rng.below(len as u64) as usize);
            }
            // Raw bytes under the TLS layer: the kernel's record layer must reject them.
            let (tcp, _) = c.tls.get_mut();
            tcp.write_all(&rec).await?;
            if KINDS[kind] == "short-record" {
                return Ok(End::Ok);
            }
            Ok(must_end(&mut c, t, "a forged record").await)
        }
        "close-notify-mid-request" => {
            let mut c = match connected(s).await {
                Ok(c) => c,
                Err(end) => return Ok(end),
            };
            c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n").await?;
            c.tls.shutdown().await?;
            Ok(must_end(&mut c, t, "close_notify").await)
        }
        "reset" => {
            let mut c = match connected(s).await {
                Ok(c) => c,
                Err(end) => return Ok(end),
            };
            c.send(format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", s.path).as_bytes())
                .await?;
            // Linger 0: the close sends a reset.
            socket2::SockRef::from(c.tls.get_ref().0).set_linger(Some(Duration::ZERO))?;
            Ok(End::Ok)
        }
        "key-update" => {
            let mut c = match connected(s).await {
                Ok(c) => c,
                Err(end) => return Ok(end),
            };
            // A KeyUpdate record, then a request: the server must end the connection (a
            // response under keys it never switched to would be a bug too).
            c.tls.get_mut().1.refresh_traffic_keys()?;
            c.send(format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", s.path).as_bytes())
                .await?;
            match c.response().await {
                Ok(r) => Ok(End::Wrong(anyhow::anyhow!(
                    "answered (status {}) after a KeyUpdate kTLS cannot follow",
                    r.status
                ))),
                // Closed (EOF, an alert, a reset): what must happen.
                Err(e) if !e.to_string().contains("timed out") => Ok(End::Ok),
                Err(e) => Ok(End::Wrong(e.context("not closed after a KeyUpdate"))),
            }
        }
        other => bail!("no behaviour {other}"),
    }
}

pub async fn run(
    c: &Common,
    path: &str,
    secs: Duration,
    concurrency: usize,
    seed: Option<u64>,
    only: &[String],
) -> Result<bool> {
    let mut kinds: Vec<usize> = (0..KINDS.len()).collect();
    if !only.is_empty() {
        for k in only {
            ensure!(
                KINDS.contains(&k.as_str()),
                "no behaviour {k}; there are: {}",
                KINDS.join(" ")
            );
        }
        kinds.retain(|&k| only.iter().any(|o| o == KINDS[k]));
    }
    let kinds = Arc::new(kinds);
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    println!(
        "tls-client storm: seed {seed} ({} s, {concurrency} at once)",
        secs.as_secs()
    );
    let shared = Arc::new(Shared {
        target: Target::new(c.addr, &c.cafile, c.step())?,
        path: path.to_string(),
        body: expected(&c.www, path)?,
    });
    let counts: Arc<Vec<[AtomicU64; 3]>> = Arc::new(
        (0..KINDS.len())
            .map(|_| [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)])
            .collect(),
    );
    let missed = Arc::new(Mutex::new(Errors::default()));
    let wrong = Arc::new(Mutex::new(Errors::default()));
    let errors = Arc::new(Mutex::new(Errors::default()));
    let end = Instant::now() + secs;
    let mut set = JoinSet::new();
    for w in 0..concurrency {
        let (shared, counts) = (shared.clone(), counts.clone());
        let (missed, wrong, errors) = (missed.clone(), wrong.clone(), errors.clone());
        let kinds = kinds.clone();
        let mut rng = Rng(seed ^ (w as u64).wrapping_mul(0xa076_1d64_78bd_642f));
        set.spawn(async move {
            while Instant::now() < end {
                // Good clients are a third of the mix (when they are in it); the rest is
                // spread over the others.
                let kind = if kinds[0] == 0 && (kinds.len() == 1 || rng.below(3) == 0) {
                    0
                } else {
                    let first = usize::from(kinds[0] == 0);
                    kinds[first + rng.below((kinds.len() - first) as u64) as usize]
                };
                let r = behave(&shared, kind, rng.next()).await;
                let slot = match r {
                    Ok(End::Ok) => 0,
                    Ok(End::Missed(e)) => {
                        missed.lock().unwrap().add(&e.context(KINDS[kind]));
                        1
                    }
                    Ok(End::Wrong(e)) => {
                        wrong.lock().unwrap().add(&e.context(KINDS[kind]));
                        2
                    }
                    // The client's own trouble (a connect refused, a write to a closed
                    // socket): counted as missed, it says nothing about the server.
                    Err(e) => {
                        errors.lock().unwrap().add(&e.context(KINDS[kind]));
                        1
                    }
                };
                counts[kind][slot].fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r?;
    }
    for (k, name) in KINDS.iter().enumerate() {
        let [ok, miss, bad] = &counts[k];
        println!(
            "  {name:<26} {:>6} ok {:>5} missed {:>3} wrong",
            ok.load(Ordering::Relaxed),
            miss.load(Ordering::Relaxed),
            bad.load(Ordering::Relaxed)
        );
    }
    missed.lock().unwrap().print("tls-client storm: missed");
    errors
        .lock()
        .unwrap()
        .print("tls-client storm: client error");
    let wrong_total = {
        let wrong = wrong.lock().unwrap();
        wrong.print("tls-client storm: WRONG");
        wrong.total()
    };
    let good_ok = counts[0][0].load(Ordering::Relaxed);
    // After the storm, one good client must get the file.
    let after = async {
        let mut conn = shared.target.connect().await?;
        match verified_get(&shared, &mut conn, true).await? {
            End::Ok => Ok(()),
            End::Missed(e) | End::Wrong(e) => Err(e),
        }
    }
    .await
    .context("the request after the storm");
    let after_ok = after.is_ok();
    if let Err(e) = &after {
        eprintln!("tls-client storm: {e:#}");
    }
    println!(
        "tls-client storm: {good_ok} good clients served, {} wrong, after the storm: {}",
        wrong_total,
        if after_ok { "served" } else { "FAILED" }
    );
    // Without good clients in the mix: no wrong answer, and at least one client ran to its end.
    let with_good = kinds[0] == 0;
    let done: u64 = kinds
        .iter()
        .map(|&k| counts[k][0].load(Ordering::Relaxed))
        .sum();
    if with_good && good_ok == 0 {
        eprintln!("tls-client storm: no good client got through the storm");
    }
    Ok(wrong_total == 0 && after_ok && if with_good { good_ok > 0 } else { done > 0 })
}
