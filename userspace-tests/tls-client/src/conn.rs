//! One TLS 1.3 client connection: connect, handshake (ALPN `http/1.1` required), and HTTP/1.1
//! requests whose responses are parsed with `httparse` and read to their `Content-Length`.

use anyhow::{bail, ensure, Context, Result};
use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
use rustls::{ClientConfig, ProtocolVersion, RootCertStore};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// What every connection needs: the client configuration and the server to reach.
#[derive(Clone)]
pub struct Target {
    pub connector: TlsConnector,
    pub config: Arc<ClientConfig>,
    pub addr: SocketAddr,
    pub name: ServerName<'static>,
    /// Bound on each step (connect, handshake, one response).
    pub step: Duration,
    /// SO_RCVBUF before connecting (a small one makes a slow reader's server wait sooner).
    pub rcvbuf: Option<u32>,
    /// A pause before each read of a response (a slow reader).
    pub read_pause: Duration,
}

impl Target {
    /// TLS 1.3 only, ALPN `http/1.1`, trusting only the certificate(s) in `cafile`.
    pub fn new(addr: SocketAddr, cafile: &Path, step: Duration) -> Result<Self> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(cafile)
            .with_context(|| format!("reading {}", cafile.display()))?
        {
            roots.add(cert.with_context(|| format!("parsing {}", cafile.display()))?)?;
        }
        ensure!(!roots.is_empty(), "no certificate in {}", cafile.display());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        // No resumption: every connection is a full handshake, as the server offers no tickets.
        config.resumption = rustls::client::Resumption::disabled();
        let config = Arc::new(config);
        Ok(Self {
            connector: TlsConnector::from(config.clone()),
            config,
            addr,
            name: ServerName::IpAddress(addr.ip().into()),
            step,
            rcvbuf: None,
            read_pause: Duration::ZERO,
        })
    }

    pub async fn tcp(&self) -> Result<TcpStream> {
        let socket = if self.addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        if let Some(bytes) = self.rcvbuf {
            socket.set_recv_buffer_size(bytes)?;
        }
        let s = timeout(self.step, socket.connect(self.addr))
            .await
            .context("connect timed out")?
            .context("connect")?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    /// A verified TLS 1.3 connection with ALPN `http/1.1`.
    pub async fn connect(&self) -> Result<Conn> {
        let tcp = self.tcp().await?;
        let tls = timeout(self.step, self.connector.connect(self.name.clone(), tcp))
            .await
            .context("handshake timed out")?
            .context("handshake")?;
        let (_, state) = tls.get_ref();
        ensure!(
            state.protocol_version() == Some(ProtocolVersion::TLSv1_3),
            "negotiated {:?}, not TLS 1.3",
            state.protocol_version()
        );
        ensure!(
            state.alpn_protocol() == Some(b"http/1.1"),
            "ALPN {:?}, not http/1.1",
            state.alpn_protocol().map(String::from_utf8_lossy)
        );
        Ok(Conn {
            tls,
            buf: Vec::new(),
            step: self.step,
            pause: self.read_pause,
        })
    }
}

/// A response: status and body.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    pub close: bool,
}

pub struct Conn {
    pub tls: TlsStream<TcpStream>,
    /// Bytes read past the last response (pipelining).
    buf: Vec<u8>,
    step: Duration,
    pause: Duration,
}

impl Conn {
    pub async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        timeout(self.step, self.tls.write_all(bytes))
            .await
            .context("write timed out")?
            .context("write")?;
        timeout(self.step, self.tls.flush())
            .await
            .context("flush timed out")?
            .context("flush")
    }

    /// `GET path` on this keep-alive connection, its response read whole.
    pub async fn get(&mut self, path: &str, close: bool) -> Result<Response> {
        self.send_get(path, close).await?;
        self.response().await
    }

    pub async fn send_get(&mut self, path: &str, close: bool) -> Result<()> {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}\r\n",
            if close { "Connection: close\r\n" } else { "" }
        );
        self.send(req.as_bytes()).await
    }

    async fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; 16384];
        if !self.pause.is_zero() {
            tokio::time::sleep(self.pause).await;
        }
        let n = timeout(self.step, self.tls.read(&mut chunk))
            .await
            .context("read timed out")?
            .context("read")?;
        if n == 0 {
            bail!(
                "closed by the server after {} bytes of a response",
                self.buf.len()
            );
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Whether bytes of a response were read but not the whole of it (after a failed
    /// [`Conn::response`]: the server cut it short, as opposed to never answering).
    pub fn cut_short(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Reads one response (head, then `Content-Length` bytes of body).
    pub async fn response(&mut self) -> Result<Response> {
        let (status, len, close, head) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed.parse(&self.buf).context("bad response head")? {
                httparse::Status::Complete(head) => {
                    let mut len = None;
                    let mut close = false;
                    for h in parsed.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            len = Some(std::str::from_utf8(h.value)?.trim().parse::<usize>()?);
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            close = h.value.eq_ignore_ascii_case(b"close");
                        }
                    }
                    let status = parsed.code.unwrap_or(0);
                    break (status, len.context("no Content-Length")?, close, head);
                }
                httparse::Status::Partial => self.fill().await?,
            }
        };
        while self.buf.len() < head + len {
            self.fill().await?;
        }
        let rest = self.buf.split_off(head + len);
        let body = self.buf.split_off(head);
        self.buf = rest;
        Ok(Response {
            status,
            body,
            close,
        })
    }

    /// Waits until the server ends the connection (EOF, close_notify or an error), or `limit`.
    /// Returns false at the limit.
    pub async fn closed_within(&mut self, limit: Duration) -> bool {
        self.end_within(limit).await.is_some()
    }

    /// How the server ended the connection within `limit`: `Some(true)` with a close_notify
    /// (rustls reports a clean end of stream), `Some(false)` without one (a bare FIN, a reset,
    /// an error), `None` if still open at the limit.
    pub async fn end_within(&mut self, limit: Duration) -> Option<bool> {
        let mut chunk = [0u8; 4096];
        let wait = async {
            loop {
                match self.tls.read(&mut chunk).await {
                    Ok(0) => return true,
                    Err(_) => return false,
                    Ok(_) => {}
                }
            }
        };
        timeout(limit, wait).await.ok()
    }
}

/// The bytes of `path` under `www`, to compare bodies with.
pub fn expected(www: &Path, path: &str) -> Result<Vec<u8>> {
    let p = www.join(path.trim_start_matches('/'));
    std::fs::read(&p).with_context(|| format!("reading {}", p.display()))
}
