// SPDX-License-Identifier: GPL-2.0

//! Generic-netlink sockets to the kernel's `handshake` family: resolving it, listening to
//! its `tlshd` group, ACCEPT and DONE. The bytes are made and read by [`crate::codec`]; this
//! module only moves them, matches answers to requests by sequence number, and believes
//! only datagrams from the kernel (netlink port 0).
//!
//! Opening one of these sockets talks to the running kernel's netlink: the agent does it
//! at run time only; no host test does.

use std::io;
use std::time::Duration;

use netlink_sys::{protocols::NETLINK_GENERIC, Socket};

use crate::codec::{
    self, AcceptReply, CodecError, DoneRequest, FamilyInfo, Message, Received, HANDLER_CLASS_TLSHD,
};

/// Receive buffer for one datagram: the kernel's handshake and nlctrl messages are a few
/// hundred bytes (GENLMSG_DEFAULT_SIZE at most).
const DATAGRAM_MAX: usize = 32 * 1024;

/// How long a request waits for the kernel's answer before it is given up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// A socket for requests (GETFAMILY, ACCEPT, DONE) and their answers.
pub struct GenlSocket {
    sock: Socket,
    family_id: u16,
    seq: u32,
    buf: Vec<u8>,
    /// ACCEPT replies that came after their request had given up waiting: each carries a
    /// socket the kernel installed, so [`GenlSocket::accept`] hands them out first.
    late_requests: Vec<AcceptReply>,
}

/// What one ACCEPT brought.
#[derive(Debug)]
pub enum Accepted {
    Request(AcceptReply),
    /// Nothing pending (EAGAIN or ENOENT, or a reply without a socket).
    Nothing,
    /// A reply that could not be decoded; if it named a socket, that descriptor is ours and
    /// must be answered (DONE) and closed.
    Garbled(CodecError),
}

fn open_socket(read_timeout: Duration) -> io::Result<Socket> {
    let mut sock = Socket::new(NETLINK_GENERIC)?;
    sock.bind_auto()?;
    rustix::net::sockopt::set_socket_timeout(
        &sock,
        rustix::net::sockopt::Timeout::Recv,
        Some(read_timeout),
    )?;
    Ok(sock)
}

/// Receives one datagram from the kernel into `buf` (replacing its contents). Datagrams from
/// another process, and truncated ones, are dropped.
fn recv_from_kernel(sock: &Socket, buf: &mut Vec<u8>) -> io::Result<()> {
    loop {
        buf.clear();
        let (len, from) = sock.recv_from(buf, libc::MSG_TRUNC)?;
        if from.port_number() != 0 {
            log::warn!("netlink datagram from port {} ignored", from.port_number());
            continue;
        }
        if len > buf.len() {
            log::warn!("netlink datagram of {len} bytes truncated, ignored");
            continue;
        }
        return Ok(());
    }
}

impl GenlSocket {
    /// A request socket for the family with id `family_id` (0 to resolve it first).
    pub fn open(family_id: u16) -> io::Result<GenlSocket> {
        Ok(GenlSocket {
            sock: open_socket(REPLY_TIMEOUT)?,
            family_id,
            seq: 0,
            buf: Vec::with_capacity(DATAGRAM_MAX),
            late_requests: Vec::new(),
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends `request` and returns the first answer carrying its sequence number (an
    /// `NLMSG_ERROR` or the reply); answers to older requests are skipped.
    fn call(&mut self, seq: u32, request: &[u8]) -> io::Result<Result<Received, CodecError>> {
        self.sock.send(request, 0)?;
        loop {
            recv_from_kernel(&self.sock, &mut self.buf)?;
            for decoded in codec::decode_datagram(&self.buf, self.family_id) {
                match decoded {
                    Ok(received) if received.seq == seq => return Ok(Ok(received)),
                    Ok(Received {
                        message: Message::Accept(Some(late)),
                        ..
                    }) => self.late_requests.push(late),
                    Ok(_) => {}
                    // A garbled answer to this request still ends the wait.
                    Err(err) => return Ok(Err(err)),
                }
            }
        }
    }

    /// CTRL_CMD_GETFAMILY: the family's id and multicast groups.
    pub fn resolve(&mut self, name: &str) -> io::Result<FamilyInfo> {
        let seq = self.next_seq();
        let request = codec::encode_get_family(seq, name);
        match self.call(seq, &request)? {
            Ok(Received {
                message: Message::Family(info),
                ..
            }) => Ok(info),
            Ok(Received {
                message: Message::Error(errno),
                ..
            }) => Err(io::Error::from_raw_os_error(errno)),
            Ok(other) => Err(io::Error::other(format!(
                "unexpected answer to GETFAMILY: {other:?}"
            ))),
            Err(err) => Err(io::Error::other(format!("GETFAMILY answer: {err}"))),
        }
    }

    /// HANDSHAKE_CMD_ACCEPT for the `tlshd` class.
    pub fn accept(&mut self) -> io::Result<Accepted> {
        if let Some(late) = self.late_requests.pop() {
            return Ok(Accepted::Request(late));
        }
        let seq = self.next_seq();
        let request = codec::encode_accept(self.family_id, seq);
        match self.call(seq, &request)? {
            Ok(Received {
                message: Message::Accept(Some(reply)),
                ..
            }) => Ok(Accepted::Request(reply)),
            Ok(Received {
                message: Message::Accept(None),
                ..
            }) => Ok(Accepted::Nothing),
            Ok(Received {
                message: Message::Error(errno),
                ..
            }) if errno == libc::EAGAIN || errno == libc::ENOENT => Ok(Accepted::Nothing),
            Ok(Received {
                message: Message::Error(errno),
                ..
            }) => Err(io::Error::from_raw_os_error(errno)),
            Ok(other) => Err(io::Error::other(format!(
                "unexpected answer to ACCEPT: {other:?}"
            ))),
            Err(err) => Ok(Accepted::Garbled(err)),
        }
    }

    /// HANDSHAKE_CMD_DONE; returns once the kernel acknowledged it.
    pub fn done(&mut self, done: &DoneRequest) -> io::Result<()> {
        let seq = self.next_seq();
        let request = codec::encode_done(self.family_id, seq, done);
        match self.call(seq, &request)? {
            Ok(Received {
                message: Message::Ack,
                ..
            }) => Ok(()),
            Ok(Received {
                message: Message::Error(errno),
                ..
            }) => Err(io::Error::from_raw_os_error(errno)),
            Ok(other) => Err(io::Error::other(format!(
                "unexpected answer to DONE: {other:?}"
            ))),
            Err(err) => Err(io::Error::other(format!("DONE answer: {err}"))),
        }
    }
}

/// A socket that has joined the `tlshd` group and hears READY notifications.
pub struct EventSocket {
    sock: Socket,
    family_id: u16,
    buf: Vec<u8>,
}

impl EventSocket {
    /// Joins multicast group `group` of the family `family_id`. `poll_interval` bounds each
    /// [`EventSocket::wait`], so the caller sees a stop request that soon.
    pub fn join(family_id: u16, group: u32, poll_interval: Duration) -> io::Result<EventSocket> {
        let sock = open_socket(poll_interval)?;
        sock.add_membership(group)?;
        Ok(EventSocket {
            sock,
            family_id,
            buf: Vec::with_capacity(DATAGRAM_MAX),
        })
    }

    /// Waits up to the poll interval; true when there may be requests to ACCEPT: a READY for
    /// the `tlshd` class came, or notifications were lost (ENOBUFS).
    pub fn wait(&mut self) -> io::Result<bool> {
        match recv_from_kernel(&self.sock, &mut self.buf) {
            Ok(()) => {}
            Err(err) if err.raw_os_error() == Some(libc::ENOBUFS) => return Ok(true),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(false)
            }
            Err(err) => return Err(err),
        }
        let mut ready = false;
        for decoded in codec::decode_datagram(&self.buf, self.family_id) {
            match decoded {
                Ok(Received {
                    message: Message::Ready { handler_class },
                    ..
                }) => ready |= handler_class.is_none_or(|c| c == HANDLER_CLASS_TLSHD),
                Ok(_) => {}
                Err(err) => log::warn!("undecodable notification: {err}"),
            }
        }
        Ok(ready)
    }
}
