// SPDX-License-Identifier: GPL-2.0

//! The configuration file, the certificate and key it names, and the binary's answers to
//! good and bad ones (`--check-config`: 0/1; daemon start with a bad one: 2, before any
//! netlink socket is opened).

mod common;

use std::path::Path;
use std::process::Command;

use common::TestPki;
use ktcp_tls_agent::config::{self, ConfigError};

fn write_config(pki: &TestPki, body: &str) -> std::path::PathBuf {
    pki.write("agent.toml", body)
}

fn load_err(path: &Path) -> String {
    match config::load(path) {
        Ok(cfg) => panic!("config unexpectedly loaded: {:?}", cfg.summary),
        Err(ConfigError(message)) => message,
    }
}

#[test]
fn good_config_loads_with_relative_paths_and_default_threads() {
    let pki = TestPki::new();
    let path = write_config(&pki, "cert = \"cert.pem\"\nkey = \"key.pem\"\n");
    let cfg = config::load(&path).expect("loads");
    assert_eq!(cfg.cert_path, pki.path("cert.pem"));
    assert_eq!(cfg.key_path, pki.path("key.pem"));
    assert_eq!(cfg.handshake_threads, config::default_threads());
    assert!(cfg.handshake_threads >= 16);
    assert_eq!(cfg.summary.chain_len, 1);
    assert_eq!(cfg.summary.leaf_sha256.len(), 64);
    assert_eq!(cfg.summary.key_format, "PKCS#8");
    assert_eq!(cfg.summary.key_algorithm, "ECDSA");
}

#[test]
fn handshake_threads_is_taken_and_bounded() {
    let pki = TestPki::new();
    let path = write_config(
        &pki,
        "cert = \"cert.pem\"\nkey = \"key.pem\"\nhandshake_threads = 5\n",
    );
    assert_eq!(config::load(&path).expect("loads").handshake_threads, 5);
    let path = write_config(
        &pki,
        "cert = \"cert.pem\"\nkey = \"key.pem\"\nhandshake_threads = 0\n",
    );
    assert!(load_err(&path).contains("handshake_threads = 0"));
}

#[test]
fn missing_config_file_is_named() {
    let pki = TestPki::new();
    let message = load_err(&pki.path("nope.toml"));
    assert!(
        message.contains("nope.toml") && message.contains("cannot read"),
        "{message}"
    );
}

#[test]
fn unknown_key_and_missing_field_are_errors() {
    let pki = TestPki::new();
    let path = write_config(
        &pki,
        "cert = \"cert.pem\"\nkey = \"key.pem\"\ncrt = \"x\"\n",
    );
    assert!(load_err(&path).contains("crt"));
    let path = write_config(&pki, "cert = \"cert.pem\"\n");
    assert!(load_err(&path).contains("key"));
    let path = write_config(&pki, "cert = [\n");
    assert!(load_err(&path).contains("agent.toml"));
}

#[test]
fn missing_certificate_file_is_named() {
    let pki = TestPki::new();
    let path = write_config(&pki, "cert = \"gone.pem\"\nkey = \"key.pem\"\n");
    let message = load_err(&path);
    assert!(
        message.starts_with("certificate ") && message.contains("gone.pem"),
        "{message}"
    );
}

#[test]
fn bad_pem_is_an_error() {
    let pki = TestPki::new();
    pki.write("junk.pem", "this is not PEM\n");
    let path = write_config(&pki, "cert = \"junk.pem\"\nkey = \"key.pem\"\n");
    let message = load_err(&path);
    assert!(
        message.contains("junk.pem") && message.contains("no PEM CERTIFICATE"),
        "{message}"
    );

    // A CERTIFICATE block whose base64 is broken.
    pki.write(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let path = write_config(&pki, "cert = \"broken.pem\"\nkey = \"key.pem\"\n");
    assert!(load_err(&path).contains("bad PEM"));

    // A key file that holds a certificate only.
    let path = write_config(&pki, "cert = \"cert.pem\"\nkey = \"cert.pem\"\n");
    let message = load_err(&path);
    assert!(
        message.starts_with("key ") && message.contains("no usable PEM private key"),
        "{message}"
    );
}

#[test]
fn key_not_matching_the_certificate_is_refused() {
    let pki = TestPki::new();
    let other = rcgen::KeyPair::generate().expect("second key");
    pki.write("other-key.pem", &other.serialize_pem());
    let path = write_config(&pki, "cert = \"cert.pem\"\nkey = \"other-key.pem\"\n");
    let message = load_err(&path);
    assert!(message.contains("does not match"), "{message}");
}

fn agent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ktcp-tls-agent"))
}

#[test]
fn check_config_exits_0_and_describes_a_good_pair() {
    let pki = TestPki::new();
    let path = write_config(
        &pki,
        "cert = \"cert.pem\"\nkey = \"key.pem\"\nhandshake_threads = 3\n",
    );
    let out = agent()
        .args(["--check-config", "--config"])
        .arg(&path)
        .output()
        .expect("run the agent");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 certificate(s)"), "{stdout}");
    assert!(stdout.contains("handshake_threads = 3"), "{stdout}");
    assert!(!stdout.contains("PRIVATE KEY"), "{stdout}");
}

#[test]
fn check_config_exits_1_on_a_mismatched_key() {
    let pki = TestPki::new();
    let other = rcgen::KeyPair::generate().expect("second key");
    pki.write("other-key.pem", &other.serialize_pem());
    let path = write_config(&pki, "cert = \"cert.pem\"\nkey = \"other-key.pem\"\n");
    let out = agent()
        .args(["--check-config", "--config"])
        .arg(&path)
        .output()
        .expect("run the agent");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not match"));
}

#[test]
fn daemon_with_a_bad_config_exits_2_with_a_clear_error() {
    let pki = TestPki::new();
    let out = agent()
        .arg("--config")
        .arg(pki.path("missing.toml"))
        .output()
        .expect("run the agent");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing.toml") && stderr.contains("cannot read"),
        "{stderr}"
    );
}
