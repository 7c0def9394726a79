//! Tiny userspace servers that stand in for the kernel modules in unit tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

/// Starts `serve` on a thread per accepted connection; returns the listening address.
pub fn spawn(serve: fn(TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_nodelay(true);
            let _ = thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || serve(stream));
        }
    });
    addr
}

/// A correct echo server.
pub fn echo() -> SocketAddr {
    spawn(|mut s| {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n @ 1..) = s.read(&mut buf) {
            if s.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    })
}

/// An echo server that loses the byte at offset 1000.
pub fn lossy_echo() -> SocketAddr {
    spawn(|mut s| {
        let mut buf = [0u8; 16 * 1024];
        let mut offset = 0;
        while let Ok(n @ 1..) = s.read(&mut buf) {
            let mut out = buf[..n].to_vec();
            if (offset..offset + n).contains(&1000) {
                out.remove(1000 - offset);
            }
            offset += n;
            if s.write_all(&out).is_err() {
                return;
            }
        }
    })
}

/// A hello-mode HTTP server: every request gets a small 200; HTTP/1.0 closes.
pub fn hello_http() -> SocketAddr {
    spawn(|mut s| {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                buf.drain(..end + 4);
                let close = head.lines().next().is_some_and(|l| l.ends_with("HTTP/1.0"));
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nServer: fake\r\n\
                     Content-Type: text/plain\r\nContent-Length: 6\r\nConnection: {}\r\n\r\nhello\n",
                    if close { "close" } else { "keep-alive" }
                );
                if s.write_all(reply.as_bytes()).is_err() || close {
                    return;
                }
            }
            match s.read(&mut chunk) {
                Ok(n @ 1..) => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        }
    })
}
