//! One worker thread: its own SO_REUSEPORT listener and epoll instance, edge-triggered.

use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};

use crate::conn::{Conn, Status};
use crate::sys::{accept_nonblocking, Epoll};

const STOP: u64 = u64::MAX;
const LISTENER: u64 = u64::MAX - 1;
const SCRATCH_BYTES: usize = 64 * 1024;
const MAX_EVENTS: usize = 256;
/// How long to wait before accepting again after running out of descriptors.
const ACCEPT_RETRY_MS: i32 = 10;

pub struct Worker {
    epoll: Epoll,
    listener: TcpListener,
    conns: HashMap<u64, Conn>,
    /// Connections that used their read budget and are still readable.
    again: Vec<u64>,
    accept_blocked: bool,
    fd_warning_shown: bool,
}

impl Worker {
    pub fn new(listener: TcpListener, stop_fd: RawFd) -> io::Result<Worker> {
        let epoll = Epoll::new()?;
        epoll.add(stop_fd, libc::EPOLLIN as u32, STOP)?;
        epoll.add(
            listener.as_raw_fd(),
            (libc::EPOLLIN | libc::EPOLLET) as u32,
            LISTENER,
        )?;
        Ok(Worker {
            epoll,
            listener,
            conns: HashMap::new(),
            again: Vec::new(),
            accept_blocked: false,
            fd_warning_shown: false,
        })
    }

    /// Serves until the stop event fires.
    pub fn run(mut self) -> io::Result<()> {
        let mut scratch = vec![0u8; SCRATCH_BYTES];
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; MAX_EVENTS];
        loop {
            let timeout = if !self.again.is_empty() {
                0
            } else if self.accept_blocked {
                ACCEPT_RETRY_MS
            } else {
                -1
            };
            let ready = self.epoll.wait(&mut events, timeout)?;
            if self.accept_blocked {
                self.accept_all()?;
            }
            for token in std::mem::take(&mut self.again) {
                self.serve(token, &mut scratch);
            }
            for event in events.iter().take(ready) {
                match event.u64 {
                    STOP => return Ok(()),
                    LISTENER => self.accept_all()?,
                    token => self.serve(token, &mut scratch),
                }
            }
        }
    }

    fn serve(&mut self, token: u64, scratch: &mut [u8]) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        match conn.on_ready(scratch) {
            Status::Waiting => {}
            Status::Again => self.again.push(token),
            Status::Done => {
                // Dropping the stream closes it, which also removes it from epoll.
                self.conns.remove(&token);
            }
        }
    }

    fn accept_all(&mut self) -> io::Result<()> {
        self.accept_blocked = false;
        loop {
            let stream = match accept_nonblocking(&self.listener) {
                Ok(stream) => stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if is_transient(&e) => continue,
                Err(e) if is_out_of_resources(&e) => {
                    self.warn_once(&e);
                    self.accept_blocked = true;
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            // Latency matters more than packet count for an echo.
            stream.set_nodelay(true)?;
            let fd = stream.as_raw_fd();
            let token = u64::try_from(fd).map_err(|_| io::Error::from(ErrorKind::InvalidData))?;
            let interest = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET;
            self.epoll.add(fd, interest as u32, token)?;
            self.conns.insert(token, Conn::new(stream));
        }
    }

    fn warn_once(&mut self, error: &io::Error) {
        if !self.fd_warning_shown {
            eprintln!("user-echo-server: accept: {error} (raise the open-file limit); retrying");
            self.fd_warning_shown = true;
        }
    }
}

fn is_transient(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EINTR | libc::ECONNABORTED | libc::EPROTO | libc::EPERM)
    )
}

fn is_out_of_resources(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
