//! Starts the server on an ephemeral loopback port and checks what it echoes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// The running server; killed on drop if a test failed before stopping it.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_user-echo-server"))
            .args(["--port", "0", "--threads", "2"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start server");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read banner");
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected banner {line:?}"));
        Server { child, addr }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Sends `payload` from another thread, half-closes, and returns everything read until EOF.
fn echo_all(server: &Server, payload: Vec<u8>) -> Vec<u8> {
    let mut stream = server.connect();
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        writer.write_all(&payload).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut echoed = Vec::new();
    stream.read_to_end(&mut echoed).expect("read until EOF");
    sender.join().unwrap();
    echoed
}

#[test]
fn small_round_trips() {
    let server = Server::start();
    let mut stream = server.connect();
    for round in 0..50u8 {
        let message = [round; 17];
        stream.write_all(&message).unwrap();
        let mut reply = [0u8; 17];
        stream.read_exact(&mut reply).unwrap();
        assert_eq!(reply, message);
    }
}

#[test]
fn all_byte_values() {
    let server = Server::start();
    let payload: Vec<u8> = (0..=255u8).rev().chain(0..=255u8).collect();
    assert_eq!(echo_all(&server, payload.clone()), payload);
}

/// 8 MiB is far more than the socket buffers: the server must hold partial writes and
/// wait for EPOLLOUT without losing or reordering bytes, then flush before its FIN.
#[test]
fn large_payload_then_half_close_gets_everything_then_eof() {
    let server = Server::start();
    let payload: Vec<u8> = (0..8 * 1024 * 1024u32)
        .map(|i| (i % 251) as u8 ^ (i >> 16) as u8)
        .collect();
    let echoed = echo_all(&server, payload.clone());
    assert_eq!(echoed.len(), payload.len());
    assert!(echoed == payload, "echoed bytes differ");
}

#[test]
fn two_hundred_concurrent_clients() {
    let server = Server::start();
    let clients: Vec<_> = (0..200u32)
        .map(|id| {
            let mut stream = server.connect();
            thread::spawn(move || {
                for round in 0..5u32 {
                    let message: Vec<u8> = (0..100u32)
                        .map(|i| (id * 7 + round * 13 + i) as u8)
                        .collect();
                    stream.write_all(&message).unwrap();
                    let mut reply = vec![0u8; message.len()];
                    stream.read_exact(&mut reply).unwrap();
                    assert_eq!(reply, message, "client {id} round {round}");
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client failed");
    }
}

#[test]
fn sigterm_stops_cleanly() {
    let mut server = Server::start();
    let _idle = server.connect();
    // SAFETY: sends a signal to the child process this test started.
    let ret = unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(ret, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        thread::sleep(Duration::from_millis(20));
    }
}
