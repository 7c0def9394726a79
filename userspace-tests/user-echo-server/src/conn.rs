//! One echo connection: read until EAGAIN, write back, keep what the socket would not take.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};

/// Reads handled per readiness event before other connections get their turn.
const READ_BUDGET: usize = 16;

/// What the worker should do with the connection after an event.
#[derive(Debug, PartialEq)]
pub enum Status {
    /// Waiting for the next edge (EPOLLIN or EPOLLOUT).
    Waiting,
    /// Still readable: handle it again after the other ready connections.
    Again,
    /// Finished or failed: drop it.
    Done,
}

pub struct Conn {
    stream: TcpStream,
    /// Bytes read but not yet written back; while non-empty nothing more is read.
    pending: Vec<u8>,
    sent: usize,
    peer_closed: bool,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            pending: Vec::new(),
            sent: 0,
            peer_closed: false,
        }
    }

    /// Handles readiness, using `scratch` as the read buffer.
    pub fn on_ready(&mut self, scratch: &mut [u8]) -> Status {
        self.pump(scratch).unwrap_or(Status::Done)
    }

    fn pump(&mut self, scratch: &mut [u8]) -> io::Result<Status> {
        for _ in 0..READ_BUDGET {
            if !self.flush()? {
                return Ok(Status::Waiting);
            }
            if self.peer_closed {
                // Everything the peer sent has been echoed: finish our side too.
                self.stream.shutdown(Shutdown::Write)?;
                return Ok(Status::Done);
            }
            match self.stream.read(scratch) {
                Ok(0) => self.peer_closed = true,
                Ok(n) => self.echo(scratch.get(..n).unwrap_or_default())?,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Status::Waiting),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Status::Again)
    }

    /// Writes `data` back; what does not fit now is kept for the next EPOLLOUT.
    fn echo(&mut self, data: &[u8]) -> io::Result<()> {
        let written = match self.stream.write(data) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => 0,
            Err(e) => return Err(e),
        };
        if let Some(rest) = data.get(written..).filter(|rest| !rest.is_empty()) {
            self.pending.extend_from_slice(rest);
        }
        Ok(())
    }

    /// Writes pending bytes; false when the socket is full and some remain.
    fn flush(&mut self) -> io::Result<bool> {
        while let Some(rest) = self
            .pending
            .get(self.sent..)
            .filter(|rest| !rest.is_empty())
        {
            match self.stream.write(rest) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pending.clear();
        self.sent = 0;
        Ok(true)
    }
}
