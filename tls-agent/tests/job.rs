// SPDX-License-Identifier: GPL-2.0

//! One request from the kernel, as the agent's handshake threads run it: what is declined
//! (and left untouched), the request's own timeout, and the DONE it leads to.

mod common;

use std::io::Write;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{client_handshake, loopback_pair, Recorder, TestPki};
use ktcp_tls_agent::codec::{AcceptReply, AuthMode, DoneRequest, MsgType, X509Keys};
use ktcp_tls_agent::job::{self, Outcome};
use rustls::crypto::ring::cipher_suite;

fn request(message_type: MsgType, auth_mode: AuthMode, timeout_ms: Option<u32>) -> AcceptReply {
    AcceptReply {
        sockfd: 42,
        message_type,
        timeout_ms,
        auth_mode,
        peer_identities: Vec::new(),
        certificates: Vec::new(),
        peername: None,
    }
}

/// Runs `request` on a loopback socket whose client has already sent `sent`; returns the
/// outcome and what is still unread in the server socket.
fn run_declined(request: &AcceptReply, sent: &[u8]) -> (Outcome, Vec<u8>) {
    let pki = TestPki::new();
    let (mut client, server) = loopback_pair();
    client.write_all(sent).expect("client writes");
    thread::sleep(Duration::from_millis(20));
    let outcome = job::run(request, &server, &pki.server_config(), &Recorder::default());
    server.set_nonblocking(true).expect("non-blocking");
    let mut buf = [0u8; 64];
    let n = server.peek(&mut buf).unwrap_or(0);
    (outcome, buf[..n].to_vec())
}

#[test]
fn client_hello_requests_get_eopnotsupp_and_the_socket_is_untouched() {
    let req = request(MsgType::ClientHello, AuthMode::X509, None);
    let (outcome, unread) = run_declined(&req, b"\x16\x03\x01");
    assert!(matches!(outcome, Outcome::Unsupported(_)), "{outcome}");
    assert_eq!(outcome.status(), libc::EOPNOTSUPP as u32);
    assert_eq!(unread, b"\x16\x03\x01");
    assert_eq!(
        outcome.done(42),
        DoneRequest {
            status: libc::EOPNOTSUPP as u32,
            sockfd: 42,
            remote_auth: Vec::new(),
        }
    );
}

#[test]
fn psk_and_unknown_auth_modes_get_eopnotsupp() {
    for auth in [AuthMode::Psk, AuthMode::Other(0), AuthMode::Other(9)] {
        let req = request(MsgType::ServerHello, auth, None);
        let (outcome, unread) = run_declined(&req, b"x");
        assert_eq!(
            outcome.status(),
            libc::EOPNOTSUPP as u32,
            "{auth:?}: {outcome}"
        );
        assert_eq!(unread, b"x");
    }
    let req = request(MsgType::Other(0), AuthMode::X509, None);
    assert_eq!(run_declined(&req, b"x").0.status(), libc::EOPNOTSUPP as u32);
}

#[test]
fn the_requests_timeout_bounds_the_handshake() {
    let req = request(MsgType::ServerHello, AuthMode::X509, Some(250));
    let pki = TestPki::new();
    let (_client, server) = loopback_pair();
    let started = Instant::now();
    let outcome = job::run(&req, &server, &pki.server_config(), &Recorder::default());
    let elapsed = started.elapsed();
    assert_eq!(outcome.status(), libc::ETIMEDOUT as u32, "{outcome}");
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(
        elapsed < job::DEFAULT_TIMEOUT,
        "the request's 250 ms were ignored"
    );
    assert!(outcome.to_string().contains("ETIMEDOUT"), "{outcome}");
}

#[test]
fn x509_and_unauth_server_requests_are_served_with_status_0() {
    for auth in [AuthMode::X509, AuthMode::Unauth] {
        let mut req = request(MsgType::ServerHello, auth, Some(10_000));
        // The consumer's keyring serials are carried but the configured pair is used.
        req.certificates = vec![X509Keys {
            cert: 11,
            privkey: 12,
        }];
        let pki = TestPki::new();
        let (client_tcp, server) = loopback_pair();
        let client_config =
            pki.client_config(cipher_suite::TLS13_AES_128_GCM_SHA256, &[b"http/1.1"]);
        let (hold, held) = mpsc::channel();
        let client =
            thread::spawn(move || client_handshake(client_config, client_tcp, b"GET /", held));
        let recorder = Recorder::default();
        let outcome = job::run(&req, &server, &pki.server_config(), &recorder);
        assert_eq!(outcome.status(), 0, "{auth:?}: {outcome}");
        assert!(recorder.keys.lock().expect("lock").is_some());
        let line = outcome.to_string();
        assert!(
            line.contains("cipher=TLS13_AES_128_GCM_SHA256") && line.contains("alpn=http/1.1"),
            "{line}"
        );
        hold.send(()).expect("client waits");
        client.join().expect("client thread").expect("client");
    }
}
