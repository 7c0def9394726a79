// SPDX-License-Identifier: GPL-2.0

//! The handshake threads, with DONE going to a list instead of the kernel: handshakes run
//! side by side (a stalled client does not hold up another), every job ends in exactly one
//! DONE, and a stop waits for running handshakes only up to its grace.

mod common;

use std::io;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{client_handshake, loopback_pair, Recorder, TestPki};
use ktcp_tls_agent::codec::{AcceptReply, AuthMode, DoneRequest, MsgType};
use ktcp_tls_agent::pool::{Job, Pool, Reporter};
use rustls::crypto::ring::cipher_suite;

#[derive(Default)]
struct Reports {
    dones: Mutex<Vec<(Instant, DoneRequest)>>,
}

impl Reporter for Reports {
    fn report(&self, done: &DoneRequest) -> io::Result<()> {
        self.dones
            .lock()
            .expect("lock")
            .push((Instant::now(), done.clone()));
        Ok(())
    }
}

impl Reports {
    fn wait_for(&self, count: usize, limit: Duration) -> Vec<(Instant, DoneRequest)> {
        let started = Instant::now();
        loop {
            let dones = self.dones.lock().expect("lock").clone();
            if dones.len() >= count || started.elapsed() > limit {
                return dones;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

fn request(sockfd: i32, timeout_ms: u32) -> AcceptReply {
    AcceptReply {
        sockfd,
        message_type: MsgType::ServerHello,
        timeout_ms: Some(timeout_ms),
        auth_mode: AuthMode::X509,
        peer_identities: Vec::new(),
        certificates: Vec::new(),
        peername: None,
    }
}

/// A pool of `threads` serving the test certificate, reporting DONE into a list.
fn start(threads: usize) -> (TestPki, Arc<Reports>, Pool) {
    let pki = TestPki::new();
    let reports = Arc::new(Reports::default());
    let pool = Pool::start(
        threads,
        pki.server_config(),
        Arc::new(Recorder::default()),
        reports.clone(),
    )
    .expect("pool");
    (pki, reports, pool)
}

#[test]
fn a_stalled_client_does_not_hold_up_the_next_handshake() {
    let (pki, reports, pool) = start(2);

    // Job 1: a client that never speaks (1.5 s timeout).
    let (_silent, stalled) = loopback_pair();
    let started = Instant::now();
    assert!(pool
        .submit(Job {
            request: request(101, 1500),
            sock: stalled,
        })
        .is_ok());

    // Job 2: a real client, served while job 1 waits.
    let (client_tcp, server_tcp) = loopback_pair();
    let config = pki.client_config(cipher_suite::TLS13_AES_128_GCM_SHA256, &[b"http/1.1"]);
    let (hold, held) = mpsc::channel();
    let client = thread::spawn(move || client_handshake(config, client_tcp, b"GET /", held));
    assert!(pool
        .submit(Job {
            request: request(102, 10_000),
            sock: server_tcp,
        })
        .is_ok());

    let first = reports.wait_for(1, Duration::from_secs(5));
    assert_eq!(first.len(), 1, "the good handshake reported");
    assert_eq!((first[0].1.sockfd, first[0].1.status), (102, 0));
    assert!(
        first[0].0.duration_since(started) < Duration::from_millis(1500),
        "served while the stalled one still waited"
    );
    hold.send(()).expect("client waits");
    client.join().expect("client thread").expect("client");

    assert_eq!(
        pool.finish(Duration::from_secs(5)),
        0,
        "every thread finished"
    );
    let all = reports.wait_for(2, Duration::ZERO);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].1.sockfd, 101);
    assert_eq!(all[1].1.status, libc::ETIMEDOUT as u32);
}

#[test]
fn finish_gives_running_handshakes_only_the_grace() {
    let (_pki, reports, pool) = start(1);
    let (_silent, stalled) = loopback_pair();
    assert!(pool
        .submit(Job {
            request: request(7, 20_000),
            sock: stalled,
        })
        .is_ok());
    thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    let busy = pool.finish(Duration::from_millis(300));
    let waited = started.elapsed();
    assert_eq!(busy, 1);
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    assert!(reports.dones.lock().expect("lock").is_empty());
}

#[test]
fn queued_jobs_still_run_after_finish_is_called() {
    let (_pki, reports, pool) = start(1);
    // Two short stalls on one thread: the second waits in the queue.
    let (_a, first) = loopback_pair();
    let (_b, second) = loopback_pair();
    for (fd, sock) in [(1, first), (2, second)] {
        assert!(pool
            .submit(Job {
                request: request(fd, 200),
                sock,
            })
            .is_ok());
    }
    assert_eq!(pool.finish(Duration::from_secs(5)), 0);
    let dones: Vec<i32> = reports
        .dones
        .lock()
        .expect("lock")
        .iter()
        .map(|(_, d)| d.sockfd)
        .collect();
    assert_eq!(dones, vec![1, 2]);
}
