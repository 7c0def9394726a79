// SPDX-License-Identifier: GPL-2.0

//! Socket I/O for the handshake, bounded by a deadline: read exactly one TLS record (its
//! 5-byte header, then exactly the length it announces) so that nothing after the client's
//! Finished leaves the socket, and write all of a buffer. Works on blocking and non-blocking
//! sockets alike: every call waits in `poll` with what is left of the deadline, then does
//! one `MSG_DONTWAIT` system call.

use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::net::{recv, send, RecvFlags, SendFlags};

/// TLS record header: type, legacy version (2), length (2).
pub const HEADER_LEN: usize = 5;
/// Largest record a TLS 1.3 peer may send: 2^14 + 256 bytes of ciphertext (RFC 8446 5.2).
/// TLS 1.2's 2^14 + 2048 is refused as well: this agent speaks TLS 1.3 only, and a larger
/// record has to be refused before buffering it.
pub const MAX_RECORD_PAYLOAD: usize = (1 << 14) + 256;

/// Why record I/O stopped.
#[derive(Debug)]
pub enum IoFailure {
    /// The deadline passed.
    TimedOut,
    /// The peer closed or reset the connection (EOF, ECONNRESET, EPIPE).
    PeerGone(String),
    /// The first bytes are not a TLS record header (plain HTTP, garbage, SSLv2).
    NotTls(String),
    /// Any other socket error.
    Io(io::Error),
}

/// A point in time that bounds every wait.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(timeout: Duration) -> Deadline {
        let now = Instant::now();
        // A timeout past what Instant can hold (u32 milliseconds never is) becomes a day.
        let day = Duration::from_secs(86_400);
        Deadline(
            now.checked_add(timeout)
                .or_else(|| now.checked_add(day))
                .unwrap_or(now),
        )
    }

    fn remaining(self) -> Option<Duration> {
        self.0
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }
}

/// Checks a record header and returns the length of the record's body.
pub fn parse_header(header: &[u8; HEADER_LEN]) -> Result<usize, String> {
    let [content_type, major, _minor, len_hi, len_lo] = *header;
    // change_cipher_spec, alert, handshake, application_data
    if !(20..=23).contains(&content_type) || major != 3 {
        return Err(format!(
            "not a TLS record (first bytes {:02x} {:02x})",
            content_type, major
        ));
    }
    let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if len > MAX_RECORD_PAYLOAD {
        return Err(format!(
            "TLS record of {len} bytes (at most {MAX_RECORD_PAYLOAD})"
        ));
    }
    Ok(len)
}

/// Reads one whole TLS record (header included) into `record`, which is cleared first.
pub fn read_record(
    sock: impl AsFd,
    record: &mut Vec<u8>,
    deadline: Deadline,
) -> Result<(), IoFailure> {
    let sock = sock.as_fd();
    let mut header = [0u8; HEADER_LEN];
    read_exact(sock, &mut header, deadline)?;
    let len = parse_header(&header).map_err(IoFailure::NotTls)?;
    record.clear();
    record.extend_from_slice(&header);
    record.resize(HEADER_LEN + len, 0);
    read_exact(sock, &mut record[HEADER_LEN..], deadline)
}

fn read_exact(sock: impl AsFd, mut buf: &mut [u8], deadline: Deadline) -> Result<(), IoFailure> {
    let sock = sock.as_fd();
    while !buf.is_empty() {
        wait(sock, PollFlags::IN, deadline)?;
        match recv(sock, &mut *buf, RecvFlags::DONTWAIT) {
            Ok((0, _)) => return Err(IoFailure::PeerGone("connection closed by peer".into())),
            Ok((n, _)) => buf = buf.get_mut(n..).unwrap_or_default(),
            Err(err) => check_retry(err)?,
        }
    }
    Ok(())
}

/// Writes all of `buf`.
pub fn write_all(sock: impl AsFd, mut buf: &[u8], deadline: Deadline) -> Result<(), IoFailure> {
    let sock = sock.as_fd();
    while !buf.is_empty() {
        wait(sock, PollFlags::OUT, deadline)?;
        match send(sock, buf, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
            Ok(n) => buf = buf.get(n..).unwrap_or_default(),
            Err(err) => check_retry(err)?,
        }
    }
    Ok(())
}

/// EAGAIN and EINTR mean "wait again"; anything else ends the handshake.
fn check_retry(err: rustix::io::Errno) -> Result<(), IoFailure> {
    use rustix::io::Errno;
    match err {
        Errno::AGAIN | Errno::INTR => Ok(()),
        Errno::CONNRESET | Errno::PIPE => {
            Err(IoFailure::PeerGone(io::Error::from(err).to_string()))
        }
        other => Err(IoFailure::Io(other.into())),
    }
}

/// Waits until `sock` is ready for `events` (or has an error or hang-up to report, which the
/// next read or write then returns), or until the deadline.
fn wait(sock: impl AsFd, events: PollFlags, deadline: Deadline) -> Result<(), IoFailure> {
    loop {
        let left = deadline.remaining().ok_or(IoFailure::TimedOut)?;
        let timeout = Timespec {
            tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        let mut fds = [PollFd::new(&sock, events)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => continue, // the loop re-checks the deadline
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(IoFailure::Io(err.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_of_a_client_hello_is_accepted() {
        assert_eq!(parse_header(&[22, 3, 1, 0x01, 0x00]), Ok(256));
    }

    #[test]
    fn plain_http_is_not_a_record() {
        assert!(parse_header(b"GET /").is_err());
    }

    #[test]
    fn oversized_record_is_refused_before_reading_it() {
        assert!(parse_header(&[23, 3, 3, 0x41, 0x01]).is_err());
        assert_eq!(
            parse_header(&[23, 3, 3, 0x41, 0x00]),
            Ok(MAX_RECORD_PAYLOAD)
        );
    }

    #[test]
    fn sslv2_hello_is_not_a_record() {
        assert!(parse_header(&[0x80, 0x2e, 0x01, 0x03, 0x01]).is_err());
    }
}
