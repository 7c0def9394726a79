// SPDX-License-Identifier: GPL-2.0

//! From rustls's extracted TLS 1.3 traffic secrets to the kernel's `tls12_crypto_info_*`
//! structures (`include/uapi/linux/tls.h`), and the installer that programs them on a
//! socket. The installer is a trait so that host tests run the whole handshake and stop
//! short of kTLS (installing it would load `tls.ko` into the host kernel).

use std::fmt;
use std::io;
use std::os::fd::BorrowedFd;

use rustls::{ConnectionTrafficSecrets, ExtractedSecrets};
use zeroize::{Zeroize, Zeroizing};

use crate::sys;

/// `TLS_1_3_VERSION` (major 3, minor 4).
pub const TLS_1_3_VERSION: u16 = 0x0304;
/// `TLS_CIPHER_*`.
pub const TLS_CIPHER_AES_GCM_128: u16 = 51;
pub const TLS_CIPHER_AES_GCM_256: u16 = 52;
pub const TLS_CIPHER_CHACHA20_POLY1305: u16 = 54;

/// The AEADs of the three TLS 1.3 suites the agent offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cipher {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20Poly1305,
}

impl Cipher {
    /// The kernel's `cipher_type`.
    pub fn kernel_id(self) -> u16 {
        match self {
            Cipher::Aes128Gcm => TLS_CIPHER_AES_GCM_128,
            Cipher::Aes256Gcm => TLS_CIPHER_AES_GCM_256,
            Cipher::Chacha20Poly1305 => TLS_CIPHER_CHACHA20_POLY1305,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Gcm => 16,
            Cipher::Aes256Gcm | Cipher::Chacha20Poly1305 => 32,
        }
    }

    /// Bytes of the 12-byte TLS 1.3 IV that go to `salt` (the rest go to `iv`): the kernel
    /// splits AES-GCM's nonce as 4 bytes of salt and 8 of iv, ChaCha20's not at all.
    fn salt_len(self) -> usize {
        match self {
            Cipher::Aes128Gcm | Cipher::Aes256Gcm => 4,
            Cipher::Chacha20Poly1305 => 0,
        }
    }
}

/// One direction's keys: the record sequence number to continue from, the AEAD key and the
/// 12-byte IV. Zeroed when dropped; `Debug` shows no secret.
pub struct DirectionKeys {
    pub seq: u64,
    key: Zeroizing<Vec<u8>>,
    iv: Zeroizing<[u8; 12]>,
}

impl DirectionKeys {
    /// The AEAD key (16 or 32 bytes).
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The 12-byte TLS 1.3 IV (the per-record nonce is it XOR the sequence number).
    pub fn iv(&self) -> &[u8; 12] {
        &self.iv
    }
}

impl fmt::Debug for DirectionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectionKeys")
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// Both directions of an established TLS 1.3 session, ready for kTLS.
#[derive(Debug)]
pub struct SessionKeys {
    pub cipher: Cipher,
    pub tx: DirectionKeys,
    pub rx: DirectionKeys,
}

impl SessionKeys {
    /// Takes rustls's extracted secrets. Fails if the two directions disagree on the AEAD
    /// or a key or IV has a length the kernel does not take.
    pub fn from_rustls(secrets: ExtractedSecrets) -> Result<SessionKeys, String> {
        let (tx_seq, tx) = secrets.tx;
        let (rx_seq, rx) = secrets.rx;
        let (tx_cipher, tx) = direction(tx_seq, tx)?;
        let (rx_cipher, rx) = direction(rx_seq, rx)?;
        if tx_cipher != rx_cipher {
            return Err(format!("tx uses {tx_cipher:?} but rx uses {rx_cipher:?}"));
        }
        Ok(SessionKeys {
            cipher: tx_cipher,
            tx,
            rx,
        })
    }
}

fn direction(
    seq: u64,
    secrets: ConnectionTrafficSecrets,
) -> Result<(Cipher, DirectionKeys), String> {
    let (cipher, key, iv) = match secrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (Cipher::Aes128Gcm, key, iv),
        ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (Cipher::Aes256Gcm, key, iv),
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
            (Cipher::Chacha20Poly1305, key, iv)
        }
        _ => return Err("an AEAD kTLS does not take".into()),
    };
    let key = Zeroizing::new(key.as_ref().to_vec());
    if key.len() != cipher.key_len() {
        return Err(format!("{cipher:?} key of {} bytes", key.len()));
    }
    let iv = Zeroizing::new(
        <[u8; 12]>::try_from(iv.as_ref())
            .map_err(|_| format!("{cipher:?} iv of {} bytes", iv.as_ref().len()))?,
    );
    Ok((cipher, DirectionKeys { seq, key, iv }))
}

/// The `tls12_crypto_info_*` structure for `cipher` and one direction, as the bytes
/// `setsockopt(SOL_TLS, TLS_TX/TLS_RX)` takes: `{ u16 version; u16 cipher_type; }` in host
/// order, then `iv`, `key`, `salt`, `rec_seq` (big-endian record sequence number). Every
/// field is a byte array after a 4-byte header, so the C structures have no padding: 40
/// bytes for AES-128-GCM, 56 for AES-256-GCM and ChaCha20-Poly1305.
pub fn crypto_info(cipher: Cipher, keys: &DirectionKeys) -> Zeroizing<Vec<u8>> {
    let salt_len = cipher.salt_len();
    let (salt, iv) = keys.iv.split_at(salt_len);
    let mut info = Zeroizing::new(Vec::with_capacity(56));
    info.extend_from_slice(&TLS_1_3_VERSION.to_ne_bytes());
    info.extend_from_slice(&cipher.kernel_id().to_ne_bytes());
    info.extend_from_slice(iv);
    info.extend_from_slice(&keys.key);
    info.extend_from_slice(salt);
    info.extend_from_slice(&keys.seq.to_be_bytes());
    info
}

/// What to do with the keys once the handshake is done.
pub trait Installer: Send + Sync {
    /// Programs `keys` on `sock`. Called once, after the client's Finished and before the
    /// agent reports DONE; an error fails the handshake with EIO.
    fn install(&self, sock: BorrowedFd<'_>, keys: SessionKeys) -> io::Result<()>;
}

/// The real installer: `TCP_ULP "tls"`, then `TLS_TX` and `TLS_RX`.
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelTls;

impl Installer for KernelTls {
    fn install(&self, sock: BorrowedFd<'_>, keys: SessionKeys) -> io::Result<()> {
        sys::set_tcp_ulp_tls(sock)?;
        let tx = crypto_info(keys.cipher, &keys.tx);
        sys::set_tls_crypto_info(sock, sys::TLS_TX, &tx)?;
        let rx = crypto_info(keys.cipher, &keys.rx);
        sys::set_tls_crypto_info(sock, sys::TLS_RX, &rx)?;
        Ok(())
    }
}

impl Drop for SessionKeys {
    fn drop(&mut self) {
        // The fields zero themselves (`Zeroizing`); the sequence numbers are no secret,
        // but leave nothing of the session behind either.
        self.tx.seq.zeroize();
        self.rx.seq.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(cipher: Cipher, seq: u64) -> DirectionKeys {
        let key = (0..cipher.key_len()).map(|i| 0x10 + i as u8).collect();
        let iv: [u8; 12] = core::array::from_fn(|i| 0xa0 + i as u8);
        DirectionKeys {
            seq,
            key: Zeroizing::new(key),
            iv: Zeroizing::new(iv),
        }
    }

    #[test]
    fn aes_128_gcm_layout_matches_tls12_crypto_info_aes_gcm_128() {
        let info = crypto_info(Cipher::Aes128Gcm, &keys(Cipher::Aes128Gcm, 1));
        assert_eq!(info.len(), 4 + 8 + 16 + 4 + 8);
        assert_eq!(&info[0..2], &0x0304u16.to_ne_bytes());
        assert_eq!(&info[2..4], &51u16.to_ne_bytes());
        // iv = the last 8 bytes of the 12-byte IV, salt = its first 4.
        assert_eq!(
            &info[4..12],
            &[0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab]
        );
        assert_eq!(info[12], 0x10);
        assert_eq!(info[27], 0x1f);
        assert_eq!(&info[28..32], &[0xa0, 0xa1, 0xa2, 0xa3]);
        assert_eq!(&info[32..40], &[0, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn aes_256_gcm_layout_matches_tls12_crypto_info_aes_gcm_256() {
        let info = crypto_info(Cipher::Aes256Gcm, &keys(Cipher::Aes256Gcm, 0x0102));
        assert_eq!(info.len(), 4 + 8 + 32 + 4 + 8);
        assert_eq!(&info[2..4], &52u16.to_ne_bytes());
        assert_eq!(
            &info[4..12],
            &[0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab]
        );
        assert_eq!(info[12], 0x10);
        assert_eq!(info[43], 0x2f);
        assert_eq!(&info[44..48], &[0xa0, 0xa1, 0xa2, 0xa3]);
        assert_eq!(&info[48..56], &[0, 0, 0, 0, 0, 0, 1, 2]);
    }

    #[test]
    fn chacha20_layout_takes_the_whole_iv_and_no_salt() {
        let info = crypto_info(Cipher::Chacha20Poly1305, &keys(Cipher::Chacha20Poly1305, 7));
        // header, iv (all 12 bytes), key, no salt, rec_seq
        assert_eq!(info.len(), 4 + 12 + 32 + 8);
        assert_eq!(&info[2..4], &54u16.to_ne_bytes());
        let iv: Vec<u8> = (0..12).map(|i| 0xa0 + i).collect();
        assert_eq!(&info[4..16], iv.as_slice());
        assert_eq!(info[16], 0x10);
        assert_eq!(info[47], 0x2f);
        assert_eq!(&info[48..56], &[0, 0, 0, 0, 0, 0, 0, 7]);
    }

    #[test]
    fn debug_shows_no_key_material() {
        let text = format!("{:?}", keys(Cipher::Aes128Gcm, 3));
        assert!(text.contains("seq: 3"), "{text}");
        assert!(!text.contains("16") && !text.contains("160"), "{text}");
    }
}
