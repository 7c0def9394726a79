// SPDX-License-Identifier: GPL-2.0

//! The server side of a TLS 1.3 handshake on a socket the kernel handed over, with rustls,
//! then kTLS through an [`Installer`]. The socket is read one record at a time, so the
//! bytes the client sends after its Finished (the HTTP request) stay in the socket for
//! kTLS RX.

use std::fmt;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::crypto::{ring, CryptoProvider};
use rustls::server::NoServerSessionStorage;
use rustls::sign::CertifiedKey;
use rustls::{ServerConfig, ServerConnection};

use crate::ktls::{Installer, SessionKeys};
use crate::record::{self, Deadline, IoFailure};

/// ALPN protocols offered: khttpd_rs speaks HTTP/1.1 only.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// How long a failing handshake may spend sending its alert to the peer.
const ALERT_GRACE: Duration = Duration::from_millis(200);

/// The rustls server configuration the agent uses: ring, TLS 1.3 only, AES-128-GCM,
/// AES-256-GCM and ChaCha20-Poly1305, ALPN `http/1.1`, no session tickets and no session
/// cache (nothing to resume), secrets extractable for kTLS.
pub fn server_config(key: Arc<CertifiedKey>) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = CryptoProvider {
        cipher_suites: vec![
            ring::cipher_suite::TLS13_AES_128_GCM_SHA256,
            ring::cipher_suite::TLS13_AES_256_GCM_SHA384,
            ring::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        ],
        ..ring::default_provider()
    };
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(key)));
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.max_early_data_size = 0;
    config.enable_secret_extraction = true;
    Ok(Arc::new(config))
}

/// A handshake that ended well.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Established {
    /// The suite's IANA name, e.g. `TLS13_AES_128_GCM_SHA256`.
    pub suite: String,
    pub alpn: Option<String>,
    /// The SNI host name the client sent.
    pub server_name: Option<String>,
    pub elapsed: Duration,
}

/// A handshake that failed, with the errno DONE reports for it.
#[derive(Debug)]
pub enum Failure {
    /// The peer is no TLS 1.3 client we can agree with: bad records, a TLS alert, an
    /// unacceptable offer (TLS 1.2 only, no common suite or ALPN), or it went away.
    Refused(String),
    /// The deadline passed.
    TimedOut,
    /// A local fault: a socket error, or kTLS could not be installed.
    Local(String),
}

impl Failure {
    /// The positive errno for DONE.
    pub fn errno(&self) -> u32 {
        let errno = match self {
            Failure::Refused(_) => libc::EACCES,
            Failure::TimedOut => libc::ETIMEDOUT,
            Failure::Local(_) => libc::EIO,
        };
        errno.unsigned_abs()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused(why) => write!(f, "refused: {why}"),
            Failure::TimedOut => f.write_str("timed out"),
            Failure::Local(why) => write!(f, "local error: {why}"),
        }
    }
}

impl std::error::Error for Failure {}

impl From<IoFailure> for Failure {
    fn from(err: IoFailure) -> Self {
        match err {
            IoFailure::TimedOut => Failure::TimedOut,
            IoFailure::PeerGone(why) | IoFailure::NotTls(why) => Failure::Refused(why),
            IoFailure::Io(err) => Failure::Local(format!("socket: {err}")),
        }
    }
}

/// Runs the server handshake on `sock` within `timeout`, then hands the session keys to
/// `installer`. On failure, the alert rustls has for the peer is sent (briefly) first.
pub fn serve(
    sock: impl AsFd,
    config: Arc<ServerConfig>,
    timeout: Duration,
    installer: &dyn Installer,
) -> Result<Established, Failure> {
    let sock = sock.as_fd();
    let started = Instant::now();
    let deadline = Deadline::after(timeout);
    let mut conn =
        ServerConnection::new(config).map_err(|err| Failure::Local(format!("rustls: {err}")))?;
    match drive(sock, &mut conn, deadline) {
        Ok(()) => {}
        Err(failure) => {
            send_pending(sock, &mut conn, Deadline::after(ALERT_GRACE));
            return Err(failure);
        }
    }
    // Acknowledge the client's Finished now, not after the delayed-ACK timer (40 ms): a
    // client that writes its request as a second small segment (Nagle, as OpenSSL's clients
    // do) holds it until that ACK. A server that sends session tickets carries it on them;
    // this one sends none. Best effort.
    let _ = rustix::net::sockopt::set_tcp_quickack(sock, true);
    let established = Established {
        suite: conn
            .negotiated_cipher_suite()
            .and_then(|suite| suite.suite().as_str())
            .unwrap_or("unknown")
            .to_owned(),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        server_name: conn.server_name().map(str::to_owned),
        elapsed: Duration::ZERO,
    };
    let secrets = conn
        .dangerous_extract_secrets()
        .map_err(|err| Failure::Local(format!("extracting secrets: {err}")))?;
    let keys = SessionKeys::from_rustls(secrets).map_err(Failure::Local)?;
    installer
        .install(sock, keys)
        .map_err(|err| Failure::Local(format!("installing kTLS: {err}")))?;
    Ok(Established {
        elapsed: started.elapsed(),
        ..established
    })
}

/// Feeds records to rustls and sends its flights until the handshake is complete.
fn drive(
    sock: std::os::fd::BorrowedFd<'_>,
    conn: &mut ServerConnection,
    deadline: Deadline,
) -> Result<(), Failure> {
    let mut record = Vec::with_capacity(record::HEADER_LEN + record::MAX_RECORD_PAYLOAD);
    loop {
        flush(sock, conn, deadline)?;
        if !conn.is_handshaking() {
            return Ok(());
        }
        record::read_record(sock, &mut record, deadline)?;
        let mut unread = record.as_slice();
        while !unread.is_empty() {
            let taken = conn
                .read_tls(&mut unread)
                .map_err(|err| Failure::Local(format!("rustls buffer: {err}")))?;
            if taken == 0 {
                return Err(Failure::Local("rustls took no bytes of a record".into()));
            }
            conn.process_new_packets()
                .map_err(|err| Failure::Refused(format!("TLS: {err}")))?;
        }
    }
}

fn flush(
    sock: std::os::fd::BorrowedFd<'_>,
    conn: &mut ServerConnection,
    deadline: Deadline,
) -> Result<(), Failure> {
    let mut out = Vec::new();
    while conn.wants_write() {
        out.clear();
        conn.write_tls(&mut out)
            .map_err(|err| Failure::Local(format!("rustls output: {err}")))?;
        record::write_all(sock, &out, deadline)?;
    }
    Ok(())
}

/// Best effort: the alert a failed handshake leaves queued.
fn send_pending(
    sock: std::os::fd::BorrowedFd<'_>,
    conn: &mut ServerConnection,
    deadline: Deadline,
) {
    if let Err(err) = flush(sock, conn, deadline) {
        log::debug!("alert not sent: {err}");
    }
}
