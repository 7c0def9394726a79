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
