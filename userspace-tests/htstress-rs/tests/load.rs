//! Runs htstress-rs against a tiny HTTP server started inside the test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

/// Serves until the test process ends. Paths: /ok (Content-Length), /chunked (written in
/// small pieces), /eof (no length, closes), /missing (404), /flaky (closes every 3rd).
fn start_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream));
        }
    });
    format!("http://{addr}")
}

fn serve(mut stream: TcpStream) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut buf = Vec::new();
    let mut served = 0;
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let request = String::from_utf8_lossy(&buf[..end]).to_string();
            buf.drain(..end + 4);
            served += 1;
            if !respond(&mut stream, &request, served) {
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Writes one response; false when the connection is to be closed.
fn respond(stream: &mut TcpStream, request: &str, served: u32) -> bool {
    let path = request.split(' ').nth(1).unwrap_or("/");
    let lower = request.to_ascii_lowercase();
    let close = lower.contains("connection: close")
        || (request.contains("HTTP/1.0") && !lower.contains("connection: keep-alive"));
    let head_close = if close { "Connection: close\r\n" } else { "" };
    let ok = match path {
        "/ok" => write!(
            stream,
            "HTTP/1.1 200 OK\r\n{head_close}Content-Length: 5\r\n\r\nhello"
        )
        .is_ok(),
        "/missing" => write!(
            stream,
            "HTTP/1.1 404 Not Found\r\n{head_close}Content-Length: 0\r\n\r\n"
        )
        .is_ok(),
        "/eof" => {
            stream
                .write_all(b"HTTP/1.0 200 OK\r\n\r\nuntil the end")
                .ok();
            return false;
        }
        "/chunked" => {
            let pieces: [&[u8]; 5] = [
                b"HTTP/1.1 200 OK\r\nTransfer-",
                b"Encoding: chunked\r\n\r\n4\r\nab",
                b"cd\r\n3;ext=1\r\nxyz\r",
                b"\n0\r\n",
                b"\r\n",
            ];
            pieces.iter().all(|piece| {
                thread::sleep(Duration::from_micros(200));
                stream.write_all(piece).and_then(|_| stream.flush()).is_ok()
            })
        }
        "/flaky" => {
            let ok = write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").is_ok();
            return ok && !served.is_multiple_of(3) && !close;
        }
        _ => write!(stream, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n").is_ok(),
    };
    ok && !close
}

struct Run {
    code: i32,
    result: String,
}

impl Run {
    fn value(&self, key: &str) -> u64 {
        let prefix = format!("{key}=");
        let value = self
            .result
            .split(' ')
            .find_map(|kv| kv.strip_prefix(prefix.as_str()));
        value
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {}", self.result))
    }
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_htstress-rs"))
        .args(["--timeout-s", "10", "--max-time-s", "60"])
        .args(args)
        .output()
        .expect("run htstress-rs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_default();
    Run {
        code: out.status.code().unwrap_or(-1),
        result: result.to_string(),
    }
}

#[test]
fn new_connection_per_request() {
    let base = start_server();
    let r = run(&["-n", "200", "-c", "4", &format!("{base}/ok")]);
    assert_eq!(
        (r.value("requests"), r.value("errors"), r.value("s2xx")),
        (200, 0, 200),
        "{}",
        r.result
    );
    assert_eq!(r.code, 0);
}

#[test]
fn keepalive_pipelined() {
    let base = start_server();
    let r = run(&[
        "-k",
        "--pipeline",
        "8",
        "-n",
        "400",
        "-c",
        "3",
        &format!("{base}/ok"),
    ]);
    assert_eq!(
        (r.value("requests"), r.value("errors")),
        (400, 0),
        "{}",
        r.result
    );
}

#[test]
fn keepalive_chunked_responses_split_across_reads() {
    let base = start_server();
    let r = run(&["-k", "-n", "60", "-c", "2", &format!("{base}/chunked")]);
    assert_eq!(
        (r.value("requests"), r.value("errors")),
        (60, 0),
        "{}",
        r.result
    );
}

#[test]
fn http10_body_until_close() {
    let base = start_server();
    let r = run(&["--http10", "-n", "50", "-c", "2", &format!("{base}/eof")]);
    assert_eq!(
        (r.value("requests"), r.value("errors")),
        (50, 0),
        "{}",
        r.result
    );
}

#[test]
fn keepalive_reopens_when_the_server_closes() {
    let base = start_server();
    let r = run(&["-k", "-n", "90", "-c", "2", &format!("{base}/flaky")]);
    assert_eq!(
        (r.value("requests"), r.value("errors")),
        (90, 0),
        "{}",
        r.result
    );
    assert!(r.value("reconnects") > 0);
}

#[test]
fn client_errors_are_counted_and_fail_the_run() {
    let base = start_server();
    let r = run(&["-k", "-n", "20", "-c", "2", &format!("{base}/missing")]);
    assert_eq!(
        (r.value("s4xx"), r.value("errors")),
        (20, 20),
        "{}",
        r.result
    );
    assert_eq!(r.code, 1);
}

#[test]
fn refused_connections_are_counted() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = run(&["-n", "5", "-c", "1", &format!("http://127.0.0.1:{port}/")]);
    assert_eq!(
        (r.value("connect_errors"), r.value("requests")),
        (5, 0),
        "{}",
        r.result
    );
    assert_eq!(r.code, 1);
}

#[test]
fn duration_stops_the_run() {
    let base = start_server();
    let started = Instant::now();
    let r = run(&[
        "-k",
        "--duration",
        "1",
        "-n",
        "100000000",
        "-c",
        "2",
        &format!("{base}/ok"),
    ]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        r.value("requests") > 0 && r.value("errors") == 0,
        "{}",
        r.result
    );
}

#[test]
fn rejects_bad_arguments() {
    assert_eq!(run(&["https://127.0.0.1/"]).code, 2);
    assert_eq!(run(&["--pipeline", "4", "http://127.0.0.1/"]).code, 2);
}

/// Serves /ok for `life`, then closes its listener and every connection: a module unload.
fn start_server_that_goes_away(life: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    thread::spawn(move || {
        let end = Instant::now() + life;
        let mut open = Vec::new();
        while Instant::now() < end {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    let kept = stream.try_clone().unwrap();
                    thread::spawn(move || serve(stream));
                    open.push(kept);
                }
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
        drop(listener);
        for s in open {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    });
    format!("http://{addr}")
}

#[test]
fn until_refused_stops_when_the_server_goes_away() {
    let base = start_server_that_goes_away(Duration::from_millis(500));
    let started = Instant::now();
    let r = run(&[
        "-k",
        "--until-refused",
        "--duration",
        "20",
        "-n",
        "100000000",
        "-c",
        "4",
        &format!("{base}/ok"),
    ]);
    assert!(started.elapsed() < Duration::from_secs(5), "{}", r.result);
    assert_eq!(r.value("stopped_by_refusal"), 1, "{}", r.result);
    assert!(r.value("bytes") > 0, "{}", r.result);
    assert_eq!(r.code, 0, "{}", r.result);
}

#[test]
fn until_refused_fails_when_the_server_stays() {
    let base = start_server();
    let r = run(&[
        "-k",
        "--until-refused",
        "--duration",
        "1",
        "-c",
        "2",
        &format!("{base}/ok"),
    ]);
    assert_eq!(r.value("stopped_by_refusal"), 0, "{}", r.result);
    assert_eq!(r.code, 1);
}

#[test]
fn until_refused_fails_on_server_errors() {
    let base = start_server_that_goes_away(Duration::from_millis(300));
    let r = run(&[
        "-k",
        "--until-refused",
        "--duration",
        "20",
        "-c",
        "2",
        &format!("{base}/boom"),
    ]);
    assert_eq!(r.code, 1, "{}", r.result);
}
