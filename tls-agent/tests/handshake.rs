// SPDX-License-Identifier: GPL-2.0

//! The whole server handshake over TCP loopback, against a rustls client, stopping short of
//! kTLS: the installer records the keys, and the test proves them by decrypting the request
//! the client sent right behind its Finished, which must still be unread in the socket.

mod common;

use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{
    client_handshake, client_handshake_then_read, client_hello_bytes, loopback_pair, NoKtls,
    Recorder, TestPki,
};
use ktcp_tls_agent::handshake::{self, Failure};
use ktcp_tls_agent::ktls::{self, Cipher};
use ring::aead;
use rustls::crypto::ring::{cipher_suite, default_provider};
use rustls::SupportedCipherSuite;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";
const LONG: Duration = Duration::from_secs(10);

/// Peeks (without consuming) one whole TLS record at the head of the socket.
fn peek_record(sock: &TcpStream) -> Vec<u8> {
    sock.set_nonblocking(false).expect("blocking");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let mut buf = vec![0u8; 20_000];
    let started = Instant::now();
    loop {
        let n = sock.peek(&mut buf).expect("peek");
        if n >= 5 {
            let want = 5 + usize::from(u16::from_be_bytes([buf[3], buf[4]]));
            if n >= want {
                buf.truncate(want);
                return buf;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "record never completed"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// The AEAD key and the nonce of the record at `rec_seq`, read back from a
/// `tls12_crypto_info_*` as kTLS reads it: `{version, cipher_type}`, `iv`, `key`, `salt`,
/// big-endian `rec_seq`; the nonce is salt || iv, its last 8 bytes XOR the sequence number.
fn ktls_key_and_nonce(crypto_info: &[u8]) -> (aead::LessSafeKey, aead::Nonce) {
    assert_eq!(
        &crypto_info[0..2],
        &0x0304u16.to_ne_bytes(),
        "TLS_1_3_VERSION"
    );
    let cipher_type = u16::from_ne_bytes([crypto_info[2], crypto_info[3]]);
    // (algorithm, iv, key, salt) sizes from include/uapi/linux/tls.h
    let (algorithm, iv_len, key_len, salt_len) = match cipher_type {
        51 => (&aead::AES_128_GCM, 8, 16, 4),
        52 => (&aead::AES_256_GCM, 8, 32, 4),
        54 => (&aead::CHACHA20_POLY1305, 12, 32, 0),
        other => panic!("cipher_type {other}"),
    };
    assert_eq!(crypto_info.len(), 4 + iv_len + key_len + salt_len + 8);
    let (iv, rest) = crypto_info[4..].split_at(iv_len);
    let (key, rest) = rest.split_at(key_len);
    let (salt, rec_seq) = rest.split_at(salt_len);
    let mut nonce = [0u8; 12];
    nonce[..salt_len].copy_from_slice(salt);
    nonce[salt_len..].copy_from_slice(iv);
    for (n, s) in nonce[4..].iter_mut().zip(rec_seq) {
        *n ^= s;
    }
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(algorithm, key).expect("key"));
    (key, aead::Nonce::assume_unique_for_key(nonce))
}

/// Decrypts a TLS 1.3 application-data record the way kTLS would with `crypto_info`, the
/// bytes given to `setsockopt(SOL_TLS, TLS_RX)`. Returns the inner plaintext (content, then
/// its real content type).
fn open_like_ktls(crypto_info: &[u8], record: &[u8]) -> Vec<u8> {
    let (key, nonce) = ktls_key_and_nonce(crypto_info);
    let (header, body) = record.split_at(5);
    let mut body = body.to_vec();
    let plain = key
        .open_in_place(nonce, aead::Aad::from(header), &mut body)
        .expect("the crypto_info made for TLS_RX decrypts the client's record");
    plain.to_vec()
}

/// Encrypts `content` as one TLS 1.3 application-data record the way kTLS would with
/// `crypto_info`, the bytes given to `setsockopt(SOL_TLS, TLS_TX)`.
fn seal_like_ktls(crypto_info: &[u8], content: &[u8]) -> Vec<u8> {
    let (key, nonce) = ktls_key_and_nonce(crypto_info);
    let mut body = content.to_vec();
    body.push(23); // TLSInnerPlaintext content type
    let len = u16::try_from(body.len() + 16).expect("small record");
    let mut record = vec![23, 3, 3];
    record.extend_from_slice(&len.to_be_bytes());
    key.seal_in_place_append_tag(nonce, aead::Aad::from(&record[..5]), &mut body)
        .expect("seal");
    record.extend_from_slice(&body);
    record
}

fn handshake_with(suite: SupportedCipherSuite, cipher: Cipher, name: &str, nonblocking: bool) {
    let pki = TestPki::new();
    let (client_tcp, server_tcp) = loopback_pair();
    let (hold, held) = mpsc::channel();
    let client_config = pki.client_config(suite, &[b"http/1.1"]);
    let client =
        thread::spawn(move || client_handshake_then_read(client_config, client_tcp, REQUEST, held));

    server_tcp
        .set_nonblocking(nonblocking)
        .expect("socket mode");
    let recorder = Recorder::default();
    let established = handshake::serve(&server_tcp, pki.server_config(), LONG, &recorder)
        .expect("the handshake completes");
    assert_eq!(established.suite, name);
    assert_eq!(established.alpn.as_deref(), Some("http/1.1"));
    assert_eq!(established.server_name.as_deref(), Some("localhost"));

    let keys = recorder
        .keys
        .lock()
        .expect("lock")
        .take()
        .expect("the installer got the keys");
    assert_eq!(keys.cipher, cipher);
    assert_eq!(
        (keys.tx.seq, keys.rx.seq),
        (0, 0),
        "no record after Finished yet"
    );

    // The request the client sent in the same write as its Finished is still unread, and
    // the TLS_RX crypto_info made from the extracted keys opens it.
    let record = peek_record(&server_tcp);
    assert_eq!(record[0], 23, "application_data record");
    let mut expected = REQUEST.to_vec();
    expected.push(23); // TLSInnerPlaintext content type
    let rx_info = ktls::crypto_info(keys.cipher, &keys.rx);
    assert_eq!(open_like_ktls(&rx_info, &record), expected);

    // And what kTLS would send with the TLS_TX crypto_info, the client reads.
    let tx_info = ktls::crypto_info(keys.cipher, &keys.tx);
    (&server_tcp)
        .write_all(&seal_like_ktls(&tx_info, RESPONSE))
        .expect("server writes");

    hold.send(()).expect("client waits");
    let client = client
        .join()
        .expect("client thread")
        .expect("client handshake");
    assert_eq!(client.alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(client.suite, Some(suite.suite()));
    assert_eq!(client.reply, RESPONSE);
}

#[test]
fn aes_128_gcm_handshake_leaves_the_request_in_the_socket() {
    handshake_with(
        cipher_suite::TLS13_AES_128_GCM_SHA256,
        Cipher::Aes128Gcm,
        "TLS13_AES_128_GCM_SHA256",
        false,
    );
}

#[test]
fn aes_256_gcm_handshake_leaves_the_request_in_the_socket() {
    handshake_with(
        cipher_suite::TLS13_AES_256_GCM_SHA384,
        Cipher::Aes256Gcm,
        "TLS13_AES_256_GCM_SHA384",
        false,
    );
}

#[test]
fn chacha20_handshake_leaves_the_request_in_the_socket() {
    handshake_with(
        cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        Cipher::Chacha20Poly1305,
        "TLS13_CHACHA20_POLY1305_SHA256",
        false,
    );
}

#[test]
fn handshake_works_on_a_non_blocking_socket() {
    handshake_with(
        cipher_suite::TLS13_AES_128_GCM_SHA256,
        Cipher::Aes128Gcm,
        "TLS13_AES_128_GCM_SHA256",
        true,
    );
}

/// Runs the server side against a client that `act`s on its socket; returns the failure
/// and how long it took.
fn serve_expecting_failure(
    timeout: Duration,
    act: impl FnOnce(TcpStream) + Send + 'static,
) -> (Failure, Duration) {
    let pki = TestPki::new();
    let (client_tcp, server_tcp) = loopback_pair();
    let client = thread::spawn(move || act(client_tcp));
    let started = Instant::now();
    let result = handshake::serve(
        &server_tcp,
        pki.server_config(),
        timeout,
        &Recorder::default(),
    );
    let elapsed = started.elapsed();
    drop(server_tcp);
    client.join().expect("client thread");
    match result {
        Ok(est) => panic!("handshake unexpectedly succeeded: {est:?}"),
        Err(failure) => (failure, elapsed),
    }
}

/// A handshake that failed with ETIMEDOUT no sooner than `timeout`, and not much later.
fn assert_timed_out(failure: &Failure, elapsed: Duration, timeout: Duration) {
    assert!(matches!(failure, Failure::TimedOut), "{failure}");
    assert_eq!(failure.errno(), libc::ETIMEDOUT as u32);
    assert!(elapsed >= timeout, "gave up early: {elapsed:?}");
    assert!(
        elapsed < timeout + Duration::from_secs(1),
        "took {elapsed:?}"
    );
}

#[test]
fn plain_http_is_refused_with_eacces_at_once() {
    let (failure, elapsed) = serve_expecting_failure(LONG, |mut tcp| {
        tcp.write_all(REQUEST).expect("write");
        common::read_until_close(&mut tcp);
    });
    assert!(matches!(failure, Failure::Refused(_)), "{failure}");
    assert_eq!(failure.errno(), libc::EACCES as u32);
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[test]
fn garbage_in_a_handshake_record_is_refused_with_an_alert() {
    let (tx, rx) = mpsc::channel();
    let (failure, _) = serve_expecting_failure(LONG, move |mut tcp| {
        // A handshake record holding a whole ClientHello (type 1, 4 bytes) of garbage.
        tcp.write_all(b"\x16\x03\x01\x00\x08\x01\x00\x00\x04\xde\xad\xbe\xef")
            .expect("write");
        tx.send(common::read_until_close(&mut tcp)).expect("send");
    });
    assert!(matches!(failure, Failure::Refused(_)), "{failure}");
    assert!(
        failure.to_string().contains("TLS"),
        "rustls refused it: {failure}"
    );
    assert_eq!(failure.errno(), libc::EACCES as u32);
    let answer = rx.recv().expect("client saw the answer");
    assert_eq!(answer.first(), Some(&21), "an alert record: {answer:?}");
}

#[test]
fn truncated_client_hello_then_close_is_refused() {
    let pki = TestPki::new();
    let hello = client_hello_bytes(
        pki.client_config(cipher_suite::TLS13_AES_128_GCM_SHA256, &[b"http/1.1"]),
    );
    let (failure, elapsed) = serve_expecting_failure(LONG, move |mut tcp| {
        tcp.write_all(&hello[..hello.len() / 2]).expect("write");
        tcp.shutdown(Shutdown::Write).expect("shutdown");
        common::read_until_close(&mut tcp);
    });
    assert!(matches!(failure, Failure::Refused(_)), "{failure}");
    assert_eq!(failure.errno(), libc::EACCES as u32);
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[test]
fn truncated_client_hello_then_stall_times_out() {
    let pki = TestPki::new();
    let hello = client_hello_bytes(
        pki.client_config(cipher_suite::TLS13_AES_128_GCM_SHA256, &[b"http/1.1"]),
    );
    let timeout = Duration::from_millis(300);
    let (failure, elapsed) = serve_expecting_failure(timeout, move |mut tcp| {
        tcp.write_all(&hello[..hello.len() - 1]).expect("write");
        common::read_until_close(&mut tcp);
    });
    assert_timed_out(&failure, elapsed, timeout);
}

#[test]
fn silent_client_times_out_within_the_timeout() {
    let timeout = Duration::from_millis(300);
    let (failure, elapsed) = serve_expecting_failure(timeout, |mut tcp| {
        common::read_until_close(&mut tcp);
    });
    assert_timed_out(&failure, elapsed, timeout);
}

#[test]
fn tls12_only_client_is_refused() {
    let pki = TestPki::new();
    let client_config = pki.client_config_with(
        default_provider(),
        &[&rustls::version::TLS12],
        &[b"http/1.1"],
    );
    let (tx, rx) = mpsc::channel();
    let (failure, _) = serve_expecting_failure(LONG, move |tcp| {
        let (_hold, held) = mpsc::channel();
        tx.send(client_handshake(client_config, tcp, REQUEST, held).map(|_| ()))
            .expect("send");
    });
    assert!(matches!(failure, Failure::Refused(_)), "{failure}");
    assert_eq!(failure.errno(), libc::EACCES as u32);
    let client = rx.recv().expect("client result");
    assert!(client.is_err(), "a TLS 1.2 client must not get a session");
}

#[test]
fn client_without_http11_alpn_is_refused() {
    let pki = TestPki::new();
    let client_config = pki.client_config(cipher_suite::TLS13_AES_128_GCM_SHA256, &[b"h2"]);
    let (failure, _) = serve_expecting_failure(LONG, move |tcp| {
        let (_hold, held) = mpsc::channel();
        let _ = client_handshake(client_config, tcp, REQUEST, held);
    });
    assert_eq!(failure.errno(), libc::EACCES as u32, "{failure}");
}

#[test]
fn client_offering_no_alpn_is_served() {
    let pki = TestPki::new();
    let (client_tcp, server_tcp) = loopback_pair();
    let client_config = pki.client_config(cipher_suite::TLS13_AES_256_GCM_SHA384, &[]);
    let (hold, held) = mpsc::channel();
    let client = thread::spawn(move || client_handshake(client_config, client_tcp, REQUEST, held));
    let established =
        handshake::serve(&server_tcp, pki.server_config(), LONG, &Recorder::default())
            .expect("handshake");
    assert_eq!(established.alpn, None);
    hold.send(()).expect("client waits");
    client.join().expect("client thread").expect("client");
}

#[test]
fn failing_ktls_installer_fails_with_eio() {
    let pki = TestPki::new();
    let (client_tcp, server_tcp) = loopback_pair();
    let client_config = pki.client_config(cipher_suite::TLS13_AES_128_GCM_SHA256, &[b"http/1.1"]);
    let (hold, held) = mpsc::channel();
    let client = thread::spawn(move || client_handshake(client_config, client_tcp, REQUEST, held));
    let failure = handshake::serve(&server_tcp, pki.server_config(), LONG, &NoKtls)
        .expect_err("kTLS failed, so the handshake must fail");
    assert!(matches!(failure, Failure::Local(_)), "{failure}");
    assert_eq!(failure.errno(), libc::EIO as u32);
    hold.send(()).expect("client waits");
    let _ = client.join();
}
