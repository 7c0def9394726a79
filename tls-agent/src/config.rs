// SPDX-License-Identifier: GPL-2.0

//! The agent's configuration: a small TOML file naming the PEM certificate chain and the
//! PEM private key, and how many handshakes may run at once.
//!
//! ```toml
//! cert = "/etc/ktcp-rs/tls/fullchain.pem"
//! key = "/etc/ktcp-rs/tls/privkey.pem"
//! handshake_threads = 4   # optional; default: 8 per CPU, at least 16
//! ```

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use serde::Deserialize;

/// Where the systemd unit points `--config`.
pub const DEFAULT_PATH: &str = "/etc/ktcp-tls-agent.toml";

/// Most handshake threads a configuration may ask for.
pub const MAX_THREADS: usize = 256;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    cert: PathBuf,
    key: PathBuf,
    handshake_threads: Option<usize>,
}

/// A configuration whose certificate and key were read, parsed and found to match.
#[derive(Debug)]
pub struct Config {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub handshake_threads: usize,
    pub certified_key: Arc<CertifiedKey>,
    /// What was found, for `--check-config` and the start-up log line.
    pub summary: Summary,
}

/// A description of the loaded certificate and key (nothing secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub chain_len: usize,
    /// SHA-256 of the end-entity certificate's DER, hex.
    pub leaf_sha256: String,
    /// The key's algorithm as rustls names it (`ECDSA`, `RSA`, `ED25519`).
    pub key_algorithm: String,
    /// The key's PEM kind: `PKCS#8`, `PKCS#1` or `SEC1`.
    pub key_format: &'static str,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} certificate(s), leaf sha256 {}; {} key ({}), matches the certificate",
            self.chain_len, self.leaf_sha256, self.key_algorithm, self.key_format
        )
    }
}

/// Why a configuration is unusable; the message names the file and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn fail<T>(message: String) -> Result<T, ConfigError> {
    Err(ConfigError(message))
}

/// The default number of handshake threads: 8 per CPU, at least 16. A thread spends most
/// of a handshake waiting for its client, and a silent client holds one until the timeout:
/// with a thread per CPU, two silent clients would stall every other handshake.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
        .saturating_mul(8)
        .clamp(16, MAX_THREADS)
}

/// Reads and checks the configuration at `path`. Relative `cert`/`key` paths are taken
/// relative to the configuration file's directory.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => return fail(format!("config {}: cannot read: {err}", path.display())),
    };
    let file: File = match toml::from_str(&text) {
        Ok(file) => file,
        Err(err) => return fail(format!("config {}: {}", path.display(), err.message())),
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let cert_path = base.join(&file.cert);
    let key_path = base.join(&file.key);
    let handshake_threads = match file.handshake_threads {
        None => default_threads(),
        Some(n) if (1..=MAX_THREADS).contains(&n) => n,
        Some(n) => {
            return fail(format!(
                "config {}: handshake_threads = {n}: must be 1 to {MAX_THREADS}",
                path.display()
            ))
        }
    };
    let (certified_key, summary) = load_pair(&cert_path, &key_path)?;
    Ok(Config {
        cert_path,
        key_path,
        handshake_threads,
        certified_key,
        summary,
    })
}

/// Loads a PEM certificate chain and a PEM private key and checks that the key belongs to
/// the chain's first certificate.
pub fn load_pair(
    cert_path: &Path,
    key_path: &Path,
) -> Result<(Arc<CertifiedKey>, Summary), ConfigError> {
    let chain = load_chain(cert_path)?;
    let key = load_key(key_path)?;
    let key_format = match &key {
        PrivateKeyDer::Pkcs1(_) => "PKCS#1",
        PrivateKeyDer::Sec1(_) => "SEC1",
        _ => "PKCS#8",
    };
    let provider = ring::default_provider();
    let signing_key = match provider.key_provider.load_private_key(key) {
        Ok(k) => k,
        Err(err) => {
            return fail(format!(
                "key {}: not a usable private key: {err}",
                key_path.display()
            ))
        }
    };
    let key_algorithm = format!("{:?}", signing_key.algorithm());
    let leaf_sha256 = chain.first().map(|c| sha256_hex(c)).unwrap_or_default();
    let certified = CertifiedKey::new(chain, signing_key);
    if let Err(err) = certified.keys_match() {
        return fail(format!(
            "key {} does not match certificate {}: {err}",
            key_path.display(),
            cert_path.display()
        ));
    }
    let summary = Summary {
        chain_len: certified.cert.len(),
        leaf_sha256,
        key_algorithm,
        key_format,
    };
    Ok((Arc::new(certified), summary))
}

fn load_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let pem = read(path, "certificate")?;
    let chain: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&pem).collect();
    match chain {
        Ok(chain) if chain.is_empty() => fail(format!(
            "certificate {}: no PEM CERTIFICATE block",
            path.display()
        )),
        Ok(chain) => Ok(chain),
        Err(err) => fail(format!("certificate {}: bad PEM: {err}", path.display())),
    }
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, ConfigError> {
    let pem = read(path, "key")?;
    PrivateKeyDer::from_pem_slice(&pem).or_else(|err| {
        fail(format!(
            "key {}: no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {err}",
            path.display()
        ))
    })
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, ConfigError> {
    fs::read(path).or_else(|err| fail(format!("{what} {}: cannot read: {err}", path.display())))
}

fn sha256_hex(der: &[u8]) -> String {
    use std::fmt::Write;
    let digest = ::ring::digest::digest(&::ring::digest::SHA256, der);
    digest.as_ref().iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}
