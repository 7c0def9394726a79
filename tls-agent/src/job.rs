// SPDX-License-Identifier: GPL-2.0

//! One accepted handshake request: decide whether the agent serves it, run it, and say
//! what DONE reports and what the log line says.

use std::fmt;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;

use crate::codec::{AcceptReply, AuthMode, DoneRequest, MsgType};
use crate::handshake::{self, Established, Failure};
use crate::ktls::Installer;

/// Used when the kernel sent no timeout with the request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How a request ended.
#[derive(Debug)]
pub enum Outcome {
    Established(Established),
    /// A request this agent does not serve (client side, PSK): EOPNOTSUPP.
    Unsupported(String),
    Failed(Failure),
}

impl Outcome {
    /// DONE's status: 0 or a positive errno.
    pub fn status(&self) -> u32 {
        match self {
            Outcome::Established(_) => 0,
            Outcome::Unsupported(_) => libc::EOPNOTSUPP.unsigned_abs(),
            Outcome::Failed(failure) => failure.errno(),
        }
    }

    /// The DONE request for this outcome on socket `sockfd`. The agent authenticates no
    /// client, so there is never a remote identity to report.
    pub fn done(&self, sockfd: i32) -> DoneRequest {
        DoneRequest {
            status: self.status(),
            sockfd,
            remote_auth: Vec::new(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Established(e) => write!(
                f,
                "established cipher={} alpn={} sni={}",
                e.suite,
                e.alpn.as_deref().unwrap_or("-"),
                e.server_name.as_deref().unwrap_or("-"),
            ),
            Outcome::Unsupported(why) => write!(f, "unsupported ({why}) status=EOPNOTSUPP"),
            Outcome::Failed(failure) => write!(
                f,
                "failed ({failure}) status={}",
                errno_name(failure.errno())
            ),
        }
    }
}

fn errno_name(errno: u32) -> String {
    let name = match i32::try_from(errno).unwrap_or(0) {
        libc::EACCES => "EACCES",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EIO => "EIO",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        _ => return errno.to_string(),
    };
    name.to_owned()
}

/// Why the agent declines a request without touching the socket, if it does.
pub fn unsupported(request: &AcceptReply) -> Option<String> {
    match request.message_type {
        MsgType::ServerHello => {}
        MsgType::ClientHello => return Some("client handshake".into()),
        MsgType::Other(n) => return Some(format!("message type {n}")),
    }
    match request.auth_mode {
        AuthMode::X509 | AuthMode::Unauth => None,
        AuthMode::Psk => Some("PSK authentication".into()),
        AuthMode::Other(n) => Some(format!("auth mode {n}")),
    }
}

/// Serves `request` on `sock`, the socket it handed over.
pub fn run(
    request: &AcceptReply,
    sock: &TcpStream,
    tls: &Arc<ServerConfig>,
    installer: &dyn Installer,
) -> Outcome {
    if let Some(why) = unsupported(request) {
        return Outcome::Unsupported(why);
    }
    if !request.certificates.is_empty() {
        log::debug!(
            "sockfd {}: the consumer's keyring certificate {:?} is not used; \
             the configured certificate is",
            request.sockfd,
            request.certificates
        );
    }
    let timeout = request
        .timeout_ms
        .map(|ms| Duration::from_millis(u64::from(ms)))
        .unwrap_or(DEFAULT_TIMEOUT);
    match handshake::serve(sock, Arc::clone(tls), timeout, installer) {
        Ok(established) => Outcome::Established(established),
        Err(failure) => Outcome::Failed(failure),
    }
}
