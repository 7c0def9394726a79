//! `itest storm`: hostile clients for a while, then one well-formed exchange must work.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::{Client, Proto};
use crate::fixtures::{FORBIDDEN_PATHS, FORBIDDEN_TEXTS};
use crate::net::{self, is_reset};
use crate::prng::Prng;
use crate::report::{test, Test, TestResult};

pub struct Storm {
    pub addr: SocketAddr,
    pub proto: Proto,
    pub secs: u64,
    pub clients: usize,
    pub seed: u64,
    /// Fresh connections the valid exchange after the storm may take (1 unless allocation
    /// failures are being injected, when a single connection may legitimately be dropped).
    pub final_tries: u32,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    connect_errors: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
    resets: AtomicU64,
    /// Reads that completed the text of a file that must never be served, and 2xx answers to
    /// a plain request for one (`FORBIDDEN_PATHS`).
    leaks: AtomicU64,
}

pub fn suite(s: &Storm) -> Vec<Test<Storm>> {
    vec![test(s.proto.name(), s.secs + 60, run)]
}

/// The seed given, or a new one from the clock and the process id (printed by the run, so
/// that a failing run can be replayed with `--seed`).
pub fn seed(given: Option<u64>) -> u64 {
    given.unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut mix = Prng::new(nanos ^ (u64::from(std::process::id()) << 32));
        // Small enough to retype; 0 is avoided so that "no seed" is never ambiguous.
        mix.next_u64() % 1_000_000_000 + 1
    })
}

fn run(s: &Storm) -> TestResult {
    println!(
        "storm: seed {} (replay: --seed {0}, or SEED={0} for the make targets)",
        s.seed
    );
    storm(s).map_err(|e| format!("{e} (seed {}; replay with SEED={0})", s.seed))
}

fn storm(s: &Storm) -> TestResult {
    let counters = Arc::new(Counters::default());
    let deadline = Instant::now() + Duration::from_secs(s.secs);
    let threads: Vec<_> = (0..s.clients)
        .map(|i| {
            let (addr, proto, counters) = (s.addr, s.proto, Arc::clone(&counters));
            let seed = s.seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
            thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || hostile_client(addr, proto, seed, deadline, &counters))
        })
        .collect::<Result<_, _>>()
        .map_err(|e| format!("spawn: {e}"))?;
    for t in threads {
        let _ = t.join();
    }
    println!(
        "storm: connections={} connect_errors={} bytes_sent={} bytes_received={} resets={} leaks={}",
        counters.connections.load(Relaxed),
        counters.connect_errors.load(Relaxed),
        counters.sent.load(Relaxed),
        counters.received.load(Relaxed),
        counters.resets.load(Relaxed),
        counters.leaks.load(Relaxed),
    );
    let leaks = counters.leaks.load(Relaxed);
    if leaks > 0 {
        return Err(format!(
            "{leaks} times a name that must never be served (FIFO, device, 0600 file, 0700 dir, \
             dotfile) was answered 2xx or its contents came back"
        ));
    }
    final_exchange(s.addr, s.proto, s.final_tries)
}

/// A valid exchange must complete within 10 s after the storm, on the first connection or
/// one of the first `tries`.
fn final_exchange(addr: SocketAddr, proto: Proto, tries: u32) -> TestResult {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut outcome = Err("no try".to_string());
        for _ in 0..tries.max(1) {
            outcome = Client::open(proto, addr).and_then(|mut c| c.exchange(64));
            if outcome.is_ok() {
                break;
            }
        }
        let _ = tx.send(outcome);
    });
    rx.recv_timeout(Duration::from_secs(10))
        .map_err(|_| "no answer within 10 s after the storm".to_string())?
        .map_err(|e| format!("valid request after the storm ({tries} tries): {e}"))
}

const TEMPLATES: &[&str] = &[
    "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    // Fixtures that must never be served as plain files (see `itest mkroot`).
    "GET /fifo HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /null HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /.git/config HTTP/1.1\r\nHost: h\r\n\r\n",
    "HEAD /.htpasswd HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /.htpasswd HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /nodev HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /secret.txt HTTP/1.1\r\nHost: h\r\nRange: bytes=0-\r\n\r\n",
    "GET /private/inside.txt HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: h\r\nRange: bytes=0-3\r\n\r\n",
    "HEAD /sub HTTP/1.0\r\n\r\n",
    "GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
    "GET /list/ HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    "GET /%2e%2e/x?y=1 HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: x\r\n\r\n",
];

/// A plausible request (http) or payload (echo).
fn template(proto: Proto, rng: &mut Prng) -> Vec<u8> {
    match proto {
        Proto::Http => TEMPLATES[rng.below(TEMPLATES.len())].as_bytes().to_vec(),
        Proto::Echo => {
            let len = rng.between(1, 2048);
            rng.bytes(len)
        }
    }
}

/// Flips, cuts, repeats and splices control bytes into `bytes`.
pub fn mutate(mut bytes: Vec<u8>, rng: &mut Prng) -> Vec<u8> {
    const SPLICES: &[&[u8]] = &[b"\r", b"\n", b"\0", b"\r\n", b" ", b":", b"\r\n\r\n"];
    for _ in 0..rng.between(1, 4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 if at < bytes.len() => bytes[at] = rng.next_u64() as u8,
            1 => bytes.truncate(at),
            2 => {
                let end = (at + rng.between(1, 16)).min(bytes.len());
                let piece = bytes[at..end].to_vec();
                for _ in 0..rng.between(1, 50) {
                    bytes.splice(at..at, piece.iter().copied());
                }
            }
            _ => {
                let s = SPLICES[rng.below(SPLICES.len())];
                bytes.splice(at..at, s.iter().copied());
            }
        }
    }
    bytes
}

fn hostile_client(addr: SocketAddr, proto: Proto, seed: u64, deadline: Instant, c: &Counters) {
    let mut rng = Prng::new(seed);
    while Instant::now() < deadline {
        c.connections.fetch_add(1, Relaxed);
        let stream = match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(s) => s,
            Err(_) => {
                c.connect_errors.fetch_add(1, Relaxed);
                thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let mut h = Hostile {
            stream,
            c,
            tail: Vec::new(),
        };
        if net::set_timeouts(&h.stream, Duration::from_millis(300)).is_err() {
            continue;
        }
        let result = h.act(proto, &mut rng);
        if matches!(result, Err(ref e) if is_reset(e)) {
            c.resets.fetch_add(1, Relaxed);
        }
    }
}

struct Hostile<'a> {
    stream: TcpStream,
    c: &'a Counters,
    /// The end of what was received, so that a forbidden text split across reads is found.
    tail: Vec<u8>,
}

impl Hostile<'_> {
    fn act(&mut self, proto: Proto, rng: &mut Prng) -> std::io::Result<()> {
        match rng.below(9) {
            0 => {
                let len = rng.between(1, 4096);
                self.send(&rng.bytes(len))?;
                self.drain(Duration::from_millis(200))
            }
            1 | 2 => {
                let mut raw = Vec::new();
                for _ in 0..rng.between(1, 3) {
                    raw.extend(mutate(template(proto, rng), rng));
                }
                self.send(&raw)?;
                self.drain(Duration::from_millis(300))
            }
            3 => {
                let mut raw = b"GET / HTTP/1.1\r\nHost: h\r\nX-Long: ".to_vec();
                raw.extend(std::iter::repeat_n(b'a', 20_000));
                raw.extend_from_slice(b"\r\n\r\n");
                self.send(&raw)?;
                self.drain(Duration::from_millis(300))
            }
            4 => {
                let raw = template(proto, rng);
                for b in raw.iter().take(64) {
                    self.send(&[*b])?;
                    thread::sleep(Duration::from_millis(rng.between(1, 5) as u64));
                }
                self.drain(Duration::from_millis(200))
            }
            5 => {
                self.send(&template(proto, rng))?;
                self.stream.shutdown(Shutdown::Write)?;
                self.drain(Duration::from_secs(1))
            }
            6 => self.send(&self.big_request(proto)),
            8 if matches!(proto, Proto::Http) => self.ask_forbidden(rng),
            7 => {
                self.send(&self.big_request(proto))?;
                let mut some = [0u8; 512];
                let n = self.stream.read(&mut some)?;
                self.received(&some[..n]);
                net::set_linger_zero(&self.stream).map_err(std::io::Error::other)
            }
            _ => Ok(()),
        }
    }

    /// A request that makes the server send a lot.
    fn big_request(&self, proto: Proto) -> Vec<u8> {
        match proto {
            Proto::Http => b"GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
            Proto::Echo => vec![b'e'; 256 * 1024],
        }
    }

    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut off = 0;
        while off < bytes.len() {
            let n = self.stream.write(&bytes[off..])?;
            self.c.sent.fetch_add(n as u64, Relaxed);
            off += n;
        }
        Ok(())
    }

    /// Asks, as a plain request, for a name that must be refused, and reads the whole answer
    /// (up to 3 s): a 2xx status is a leak, even with an empty body (a device node, a FIFO).
    fn ask_forbidden(&mut self, rng: &mut Prng) -> std::io::Result<()> {
        let path = FORBIDDEN_PATHS[rng.below(FORBIDDEN_PATHS.len())];
        let req = format!("GET {path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        self.send(req.as_bytes())?;
        let end = Instant::now() + Duration::from_secs(3);
        let mut first = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < end {
            match self.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if first.len() < 12 {
                        first.extend_from_slice(&buf[..n.min(12)]);
                    }
                    self.received(&buf[..n]);
                }
                Err(e) if net::is_timeout(&e) => {}
                Err(e) => return Err(e),
            }
        }
        if first.starts_with(b"HTTP/1.1 2") || first.starts_with(b"HTTP/1.0 2") {
            self.c.leaks.fetch_add(1, Relaxed);
        }
        Ok(())
    }

    /// Counts what came, and a leak if it completes a forbidden text.
    fn received(&mut self, bytes: &[u8]) {
        self.c.received.fetch_add(bytes.len() as u64, Relaxed);
        if scan(&mut self.tail, bytes) {
            self.c.leaks.fetch_add(1, Relaxed);
        }
    }

    /// Reads whatever comes for up to `within`; stops at EOF or after 100 ms of silence.
    fn drain(&mut self, within: Duration) -> std::io::Result<()> {
        self.stream
            .set_read_timeout(Some(Duration::from_millis(100)))?;
        let end = Instant::now() + within;
        let mut buf = [0u8; 16 * 1024];
        while Instant::now() < end {
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => self.received(&buf[..n]),
                Err(e) if net::is_timeout(&e) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Enough bytes to hold any forbidden text but its last byte.
const FORBIDDEN_TAIL: usize = 64;
const _: () = {
    let mut i = 0;
    while i < FORBIDDEN_TEXTS.len() {
        assert!(FORBIDDEN_TEXTS[i].len() <= FORBIDDEN_TAIL);
        i += 1;
    }
};

/// Appends `bytes` to `tail` (the end of what the connection received before): true if that
/// completes a forbidden text. Keeps only the last `FORBIDDEN_TAIL` bytes in `tail`.
fn scan(tail: &mut Vec<u8>, bytes: &[u8]) -> bool {
    tail.extend_from_slice(bytes);
    let found = FORBIDDEN_TEXTS
        .iter()
        .any(|t| tail.windows(t.len()).any(|w| w == t.as_bytes()));
    if found {
        tail.clear();
    }
    let keep = FORBIDDEN_TAIL.min(tail.len());
    tail.drain(..tail.len() - keep);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_servers;

    #[test]
    fn mutations_are_deterministic_and_bounded() {
        let a = mutate(TEMPLATES[0].as_bytes().to_vec(), &mut Prng::new(9));
        let b = mutate(TEMPLATES[0].as_bytes().to_vec(), &mut Prng::new(9));
        assert_eq!(a, b);
        let mut rng = Prng::new(3);
        for _ in 0..1000 {
            assert!(mutate(TEMPLATES[1].as_bytes().to_vec(), &mut rng).len() < 4096);
        }
    }

    #[test]
    fn forbidden_text_is_found_when_split_across_reads() {
        let text = crate::fixtures::hard::SECRET_TEXT.as_bytes();
        let mut tail = Vec::new();
        assert!(!scan(&mut tail, b"HTTP/1.1 200 OK\r\n\r\n"));
        assert!(!scan(&mut tail, &text[..7]));
        assert!(scan(&mut tail, &text[7..]));
        // Found once: the same bytes do not count again.
        assert!(!scan(&mut tail, b"more"));
        assert!(tail.len() <= FORBIDDEN_TAIL);
    }

    #[test]
    fn storm_against_a_server_that_serves_a_0600_file_fails() {
        let addr = fake_servers::spawn(|mut s| {
            let mut buf = [0u8; 4096];
            if let Ok(1..) = s.read(&mut buf) {
                let body = crate::fixtures::hard::SECRET_TEXT;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let err = run(&short_storm(addr, Proto::Http)).unwrap_err();
        assert!(err.contains("must never be served"), "{err}");
    }

    /// A server that answers every request 200 (as one that opened `/null` or the FIFO would).
    #[test]
    fn storm_against_a_server_that_answers_200_to_the_fifo_fails() {
        let err = run(&short_storm(fake_servers::hello_http(), Proto::Http)).unwrap_err();
        assert!(err.contains("must never be served"), "{err}");
    }

    /// Two seconds of four clients with a fixed seed.
    fn short_storm(addr: SocketAddr, proto: Proto) -> Storm {
        Storm {
            addr,
            proto,
            secs: 2,
            clients: 4,
            seed: 1,
            final_tries: 1,
        }
    }

    #[test]
    fn storm_against_echo_passes() {
        assert_eq!(run(&short_storm(fake_servers::echo(), Proto::Echo)), Ok(()));
    }
}
