//! Socket helpers shared by every suite: bounded connect/read, resets, limits.

use std::io::{self, Read, Write};
use std::mem;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::thread;
use std::time::{Duration, Instant};

/// Default read/write timeout: no blocking call in a test waits longer than this.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects with a 10 s deadline (room for SYN retries) and sets [`IO_TIMEOUT`] on both directions.
pub fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    set_timeouts(&stream, IO_TIMEOUT)?;
    Ok(stream)
}

pub fn set_timeouts(stream: &TcpStream, t: Duration) -> Result<(), String> {
    stream
        .set_read_timeout(Some(t))
        .and_then(|_| stream.set_write_timeout(Some(t)))
        .map_err(|e| format!("set timeouts: {e}"))
}

/// Makes the next close send a RST instead of a FIN.
pub fn set_linger_zero(stream: &TcpStream) -> Result<(), String> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is owned by `stream` and open for the duration of the call; the option
    // value points to a live `linger` whose exact size is passed.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("SO_LINGER: {}", io::Error::last_os_error()))
    }
}

/// Sets `TCP_CORK`: what is written waits for more (or a FIN, which then leaves in the same
/// segment as the last bytes: `shutdown(Write)` sends the FIN on the unsent tail).
pub fn set_cork(stream: &TcpStream, on: bool) -> Result<(), String> {
    set_int_option(
        stream,
        libc::IPPROTO_TCP,
        libc::TCP_CORK,
        on.into(),
        "TCP_CORK",
    )
}

/// Shrinks the receive buffer, so a client that does not read stalls the server sooner.
pub fn set_rcvbuf(stream: &TcpStream, bytes: i32) -> Result<(), String> {
    set_int_option(
        stream,
        libc::SOL_SOCKET,
        libc::SO_RCVBUF,
        bytes,
        "SO_RCVBUF",
    )
}

/// `setsockopt(level, name)` with an `int` value; `what` names it in the error.
fn set_int_option(
    stream: &TcpStream,
    level: i32,
    name: i32,
    value: i32,
    what: &str,
) -> Result<(), String> {
    // SAFETY: as in `set_linger_zero`; the value is a live `c_int`.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("{what}: {}", io::Error::last_os_error()))
    }
}

/// Raises the soft (and if allowed the hard) RLIMIT_NOFILE to at least `want`.
pub fn raise_nofile(want: u64) -> Result<(), String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a live, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(format!("getrlimit: {}", io::Error::last_os_error()));
    }
    if lim.rlim_cur >= want {
        return Ok(());
    }
    let raised = libc::rlimit {
        rlim_cur: want,
        rlim_max: lim.rlim_max.max(want),
    };
    // SAFETY: `raised` is a live rlimit; the kernel only reads it.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        return Ok(());
    }
    Err(format!(
        "RLIMIT_NOFILE is {}/{} and cannot be raised to {want}: {}",
        lim.rlim_cur,
        lim.rlim_max,
        io::Error::last_os_error()
    ))
}

pub fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// How the peer ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Eof,
    Reset,
}

/// Reads until EOF or reset, for at most `within`. Returns what arrived before the close.
pub fn read_to_close(
    stream: &mut TcpStream,
    within: Duration,
) -> Result<(Vec<u8>, Closed), String> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "connection still open after {} ms ({} bytes received)",
                within.as_millis(),
                got.len()
            ));
        }
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .map_err(|e| format!("set_read_timeout: {e}"))?;
        match stream.read(&mut chunk) {
            Ok(0) => return Ok((got, Closed::Eof)),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if is_reset(&e) => return Ok((got, Closed::Reset)),
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

/// Fails unless the peer closes within `within` without sending anything more.
pub fn expect_closed_silently(stream: &mut TcpStream, within: Duration) -> Result<Closed, String> {
    let (extra, how) = read_to_close(stream, within)?;
    if extra.is_empty() {
        Ok(how)
    } else {
        Err(format!(
            "{} unexpected bytes before close: {}",
            extra.len(),
            preview(&extra)
        ))
    }
}

/// Reads exactly `len` bytes and compares them with `expected(offset)` as they arrive.
pub fn read_and_verify(
    stream: &mut TcpStream,
    len: usize,
    expected: impl Fn(usize) -> u8,
) -> Result<(), String> {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut offset = 0;
    while offset < len {
        let want = chunk.len().min(len - offset);
        let n = match stream.read(&mut chunk[..want]) {
            Ok(0) => return Err(format!("EOF after {offset} of {len} bytes")),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("read after {offset} of {len} bytes: {e}")),
        };
        for (i, &b) in chunk[..n].iter().enumerate() {
            let want_b = expected(offset + i);
            if b != want_b {
                return Err(format!(
                    "byte {} is {b:#04x}, want {want_b:#04x}",
                    offset + i
                ));
            }
        }
        offset += n;
    }
    Ok(())
}

/// Sends `data` from a helper thread while reading the echo on this one, so neither side's
/// buffers can deadlock, then checks every byte.
pub fn echo_roundtrip(stream: &mut TcpStream, data: &[u8]) -> Result<(), String> {
    let mut writer = stream.try_clone().map_err(|e| format!("try_clone: {e}"))?;
    thread::scope(|s| {
        let sender = s.spawn(move || writer.write_all(data).map_err(|e| format!("write: {e}")));
        let read = read_and_verify(stream, data.len(), |i| data[i]);
        let sent = sender
            .join()
            .unwrap_or_else(|_| Err("writer panicked".into()));
        read.and(sent)
    })
}

/// A short printable view of some bytes for failure messages.
pub fn preview(bytes: &[u8]) -> String {
    let shown: String = bytes
        .iter()
        .take(80)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    if bytes.len() > 80 {
        format!("\"{shown}\"...")
    } else {
        format!("\"{shown}\"")
    }
}
