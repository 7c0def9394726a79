// SPDX-License-Identifier: GPL-2.0

//! Shared by the host tests: certificates made with rcgen, configuration files in a
//! temporary directory, TCP loopback pairs, a rustls client, and an installer that records
//! the keys instead of installing kTLS (which would load tls.ko into the host kernel).

#![allow(dead_code)] // each test file uses a different part

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::BorrowedFd;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use ktcp_tls_agent::config;
use ktcp_tls_agent::ktls::{Installer, SessionKeys};
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, SupportedCipherSuite};

/// A self-signed certificate for `localhost` and its key, as PEM, in a temporary directory.
pub struct TestPki {
    pub dir: tempfile::TempDir,
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: CertificateDer<'static>,
}

impl TestPki {
    pub fn new() -> TestPki {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .expect("rcgen makes a certificate");
        let dir = tempfile::tempdir().expect("temporary directory");
        let pki = TestPki {
            dir,
            cert_pem: made.cert.pem(),
            key_pem: made.signing_key.serialize_pem(),
            cert_der: made.cert.der().clone(),
        };
        pki.write("cert.pem", &pki.cert_pem);
        pki.write("key.pem", &pki.key_pem);
        pki
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    /// The agent's rustls configuration, loaded the way the daemon loads it.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        let (key, _) = config::load_pair(&self.path("cert.pem"), &self.path("key.pem"))
            .expect("the test certificate and key load");
        ktcp_tls_agent::handshake::server_config(key).expect("server config")
    }

    /// A client that trusts this certificate, offers only `suite` (TLS 1.3) and ALPN
    /// `alpn`.
    pub fn client_config(&self, suite: SupportedCipherSuite, alpn: &[&[u8]]) -> ClientConfig {
        let provider = CryptoProvider {
            cipher_suites: vec![suite],
            ..ring::default_provider()
        };
        self.client_config_with(provider, &[&rustls::version::TLS13], alpn)
    }

    pub fn client_config_with(
        &self,
        provider: CryptoProvider,
        versions: &[&'static rustls::SupportedProtocolVersion],
        alpn: &[&[u8]],
    ) -> ClientConfig {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert_der.clone()).expect("add root");
        let mut config = ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(versions)
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        config
    }
}

/// A connected TCP loopback pair: (client, server side as accepted).
pub fn loopback_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let client = TcpStream::connect(addr).expect("connect loopback");
    let (server, _) = listener.accept().expect("accept");
    (client, server)
}

/// Records the cipher and a copy of the keys instead of installing kTLS.
#[derive(Default)]
pub struct Recorder {
    pub keys: Mutex<Option<SessionKeys>>,
}

impl Installer for Recorder {
    fn install(&self, _sock: BorrowedFd<'_>, keys: SessionKeys) -> io::Result<()> {
        *self.keys.lock().expect("recorder lock") = Some(keys);
        Ok(())
    }
}

/// Fails like a kernel without kTLS would.
pub struct NoKtls;

impl Installer for NoKtls {
    fn install(&self, _sock: BorrowedFd<'_>, _keys: SessionKeys) -> io::Result<()> {
        Err(io::Error::from_raw_os_error(libc::ENOENT))
    }
}

/// What the client side of a test did.
#[derive(Debug)]
pub struct ClientResult {
    pub alpn: Option<Vec<u8>>,
    pub suite: Option<rustls::CipherSuite>,
    /// Application data the server sent after the handshake (see
    /// [`client_handshake_then_read`]).
    pub reply: Vec<u8>,
}

/// Runs a rustls client handshake on `tcp`. Its Finished is not sent alone: the client
/// queues `then_send` as application data first, and both go out in one `write`, so the
/// server socket holds the request right behind the Finished record. The socket is kept
/// open until `hold` says so.
pub fn client_handshake(
    config: ClientConfig,
    tcp: TcpStream,
    then_send: &[u8],
    hold: mpsc::Receiver<()>,
) -> Result<ClientResult, rustls::Error> {
    client_session(config, tcp, then_send, hold, false)
}

/// As [`client_handshake`], then reads the application data the server sends (until some
/// arrived, the server closed, or 10 s passed).
pub fn client_handshake_then_read(
    config: ClientConfig,
    tcp: TcpStream,
    then_send: &[u8],
    hold: mpsc::Receiver<()>,
) -> Result<ClientResult, rustls::Error> {
    client_session(config, tcp, then_send, hold, true)
}

fn client_session(
    config: ClientConfig,
    mut tcp: TcpStream,
    then_send: &[u8],
    hold: mpsc::Receiver<()>,
    read_reply: bool,
) -> Result<ClientResult, rustls::Error> {
    let name = ServerName::try_from("localhost").expect("server name");
    let mut conn = ClientConnection::new(Arc::new(config), name)?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("client read timeout");
    while conn.is_handshaking() {
        while conn.wants_write() && conn.is_handshaking() {
            conn.write_tls(&mut tcp).map_err(io_err)?;
        }
        if !conn.is_handshaking() {
            break;
        }
        if conn.read_tls(&mut tcp).map_err(io_err)? == 0 {
            return Err(rustls::Error::General("server closed".into()));
        }
        conn.process_new_packets()?;
    }
    conn.writer().write_all(then_send).map_err(io_err)?;
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).map_err(io_err)?;
    }
    tcp.write_all(&out).map_err(io_err)?;
    let mut result = ClientResult {
        alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
        suite: conn.negotiated_cipher_suite().map(|s| s.suite()),
        reply: Vec::new(),
    };
    let _ = hold.recv_timeout(Duration::from_secs(10));
    while read_reply && result.reply.is_empty() {
        if conn.read_tls(&mut tcp).map_err(io_err)? == 0 {
            break;
        }
        conn.process_new_packets()?;
        let _ = conn.reader().read_to_end(&mut result.reply);
    }
    Ok(result)
}

fn io_err(err: io::Error) -> rustls::Error {
    rustls::Error::General(err.to_string())
}

/// The bytes of a ClientHello the given client configuration would send.
pub fn client_hello_bytes(config: ClientConfig) -> Vec<u8> {
    let name = ServerName::try_from("localhost").expect("server name");
    let mut conn = ClientConnection::new(Arc::new(config), name).expect("client");
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).expect("write to a Vec");
    }
    out
}

/// Reads what the peer sends until it closes (or 2 s pass), for tests that expect an alert.
pub fn read_until_close(tcp: &mut TcpStream) -> Vec<u8> {
    tcp.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("read timeout");
    let mut all = Vec::new();
    let _ = tcp.read_to_end(&mut all);
    all
}
