//! `itest hold`: idle and busy connections stay up until the module is unloaded, then
//! every one of them must see EOF or a reset.
//!
//! Idle clients connect and send nothing. Busy clients keep a request in flight and read
//! its answer slowly: an echo of a continuous stream, or `GET <target>` (a large file), so
//! that the server is mid-response when it goes away. `READY` is printed once everything is
//! connected; on SIGUSR1 (sent just before `rmmod`) the tool prints
//! `AT-RMMOD connected=C/T mid-request=M/B`, and the test fails if C < T or M < B.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::{Client, Proto};
use crate::http_client::parse_head;
use crate::net::{self, is_reset, is_timeout, Closed};
use crate::pattern::{pattern, pattern_bytes};
use crate::report::{test, Test, TestResult};

pub struct Hold {
    pub addr: SocketAddr,
    pub idle: usize,
    pub busy: usize,
    pub proto: Proto,
    pub secs: u64,
    /// What busy HTTP clients request (a large file keeps them mid-response).
    pub target: String,
}

pub fn suite(h: &Hold) -> Vec<Test<Hold>> {
    vec![test(h.proto.name(), h.secs + 120, run)]
}

/// When and how a connection ended, if it did.
type Ending = Option<(Instant, Closed)>;

/// Set by SIGUSR1: the caller is about to unload the module.
static RMMOD_SIGNALLED: AtomicBool = AtomicBool::new(false);

/// Set once an idle client saw its connection end: the server is gone, and the busy ones
/// read what it still sent at full speed (its FIN comes after that data) instead of slowly.
static SERVER_GONE: AtomicBool = AtomicBool::new(false);

/// The busy clients' pause between reads while the server is there.
fn pace() {
    if !SERVER_GONE.load(Ordering::SeqCst) {
        thread::sleep(STEP_PAUSE);
    }
}

extern "C" fn on_sigusr1(_: libc::c_int) {
    RMMOD_SIGNALLED.store(true, Ordering::SeqCst);
}

fn catch_sigusr1() -> Result<(), String> {
    let handler = on_sigusr1 as extern "C" fn(libc::c_int);
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe; it stays
    // valid for the life of the process.
    let old = unsafe { libc::signal(libc::SIGUSR1, handler as libc::sighandler_t) };
    if old == libc::SIG_ERR {
        return Err(format!("signal(SIGUSR1): {}", io::Error::last_os_error()));
    }
    Ok(())
}

/// What a busy client shows the main thread.
#[derive(Default)]
struct BusyState {
    open: AtomicBool,
    /// A request is sent and its answer not yet fully read.
    mid_request: AtomicBool,
    /// Echo clients: bytes written so far.
    sent: AtomicU64,
}

/// The counts at the moment of SIGUSR1.
#[derive(Clone, Copy)]
struct AtRmmod {
    connected: usize,
    mid_request: usize,
}

fn run(h: &Hold) -> TestResult {
    catch_sigusr1()?;
    net::raise_nofile((h.idle + h.busy) as u64 + 256)?;
    let mut idle = (0..h.idle)
        .map(|_| net::connect(h.addr))
        .collect::<Result<Vec<_>, _>>()?;
    for s in &idle {
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
    }
    let (ready_tx, ready_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let mut go_senders = Vec::new();
    let states: Vec<Arc<BusyState>> = (0..h.busy).map(|_| Arc::default()).collect();
    for (i, state) in states.iter().enumerate() {
        let (addr, proto, target) = (h.addr, h.proto, h.target.clone());
        let (ready, done, state) = (ready_tx.clone(), done_tx.clone(), Arc::clone(state));
        let (go, wait_go) = mpsc::channel::<Instant>();
        go_senders.push(go);
        thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let busy = Busy {
                    addr,
                    proto,
                    target,
                    index: i,
                    state,
                };
                busy.run(ready, wait_go, done)
            })
            .map_err(|e| format!("spawn: {e}"))?;
    }
    for _ in 0..h.busy {
        ready_rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| "busy clients not established within 30 s".to_string())??;
    }
    println!("READY");
    let deadline = Instant::now() + Duration::from_secs(h.secs);
    for go in go_senders {
        let _ = go.send(deadline);
    }
    let (idle_endings, at_rmmod) = watch_idle(&mut idle, &states, deadline);
    let busy_endings: Vec<Ending> = (0..h.busy)
        .map(|_| {
            let left = deadline.saturating_duration_since(Instant::now());
            done_rx
                .recv_timeout(left + Duration::from_secs(5))
                .unwrap_or(None)
        })
        .collect();
    summarize(&idle_endings, &busy_endings)?;
    check_at_rmmod(at_rmmod, h.idle + h.busy, h.busy)
}

fn check_at_rmmod(at: Option<AtRmmod>, total: usize, busy: usize) -> TestResult {
    let Some(at) = at else {
        println!("hold: no SIGUSR1, so no count at rmmod");
        return Ok(());
    };
    if at.connected < total || at.mid_request < busy {
        return Err(format!(
            "at rmmod only {}/{total} clients were connected and {}/{busy} mid-request",
            at.connected, at.mid_request
        ));
    }
    Ok(())
}

fn summarize(idle: &[Ending], busy: &[Ending]) -> TestResult {
    let all: Vec<(Instant, Closed)> = idle.iter().chain(busy).flatten().copied().collect();
    let closed = |v: &[Ending]| v.iter().filter(|e| e.is_some()).count();
    let resets = all.iter().filter(|(_, how)| *how == Closed::Reset).count();
    let spread = match (all.iter().map(|e| e.0).min(), all.iter().map(|e| e.0).max()) {
        (Some(first), Some(last)) => (last - first).as_millis(),
        _ => 0,
    };
    let total = idle.len() + busy.len();
    println!(
        "hold: closed {}/{total} (idle {}/{}, busy {}/{}), eof={} reset={resets}, \
         first-to-last close {spread} ms",
        all.len(),
        closed(idle),
        idle.len(),
        closed(busy),
        busy.len(),
        all.len() - resets,
    );
    if all.len() == total {
        Ok(())
    } else {
        Err(format!(
            "{} of {total} connections still open",
            total - all.len()
        ))
    }
}

/// Polls the idle sockets until each has closed or `deadline` passes; on SIGUSR1 prints
/// and returns the counts of that moment.
fn watch_idle(
    idle: &mut [TcpStream],
    busy: &[Arc<BusyState>],
    deadline: Instant,
) -> (Vec<Ending>, Option<AtRmmod>) {
    let mut endings: Vec<Ending> = vec![None; idle.len()];
    let mut at_rmmod = None;
    let mut buf = [0u8; 4096];
    loop {
        let busy_open = busy
            .iter()
            .filter(|b| b.open.load(Ordering::SeqCst))
            .count();
        let idle_done = endings.iter().all(Option::is_some);
        if Instant::now() >= deadline || (idle_done && (busy_open == 0 || at_rmmod.is_some())) {
            break;
        }
        let mut fds: Vec<libc::pollfd> = idle
            .iter()
            .map(|s| libc::pollfd {
                fd: s.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: `fds` is a live array of `fds.len()` pollfd entries for open sockets.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 50) };
        for (i, fd) in fds.iter().enumerate() {
            if endings[i].is_some() || fd.revents == 0 {
                continue;
            }
            // Data (e.g. a 408) is read and ignored; only the close counts.
            endings[i] = match idle[i].read(&mut buf) {
                Ok(0) => Some((Instant::now(), Closed::Eof)),
                Err(e) if is_reset(&e) => Some((Instant::now(), Closed::Reset)),
                _ => None,
            };
            if endings[i].is_some() {
                SERVER_GONE.store(true, Ordering::SeqCst);
            }
        }
        if at_rmmod.is_none() && RMMOD_SIGNALLED.load(Ordering::SeqCst) {
            let at = AtRmmod {
                connected: endings.iter().filter(|e| e.is_none()).count() + busy_open,
                mid_request: busy
                    .iter()
                    .filter(|b| b.open.load(Ordering::SeqCst))
                    .filter(|b| b.mid_request.load(Ordering::SeqCst))
                    .count(),
            };
            println!(
                "AT-RMMOD connected={}/{} mid-request={}/{}",
                at.connected,
                idle.len() + busy.len(),
                at.mid_request,
                busy.len()
            );
            at_rmmod = Some(at);
        }
    }
    (endings, at_rmmod)
}

/// Bytes a busy client reads per step, and the pause between steps: slow enough that 20
/// of them leave an emulated guest the CPU the unload itself needs.
const STEP_BYTES: usize = 4096;
const STEP_PAUSE: Duration = Duration::from_millis(20);
/// Bytes in flight per echo client.
const ECHO_STREAM: usize = 256 * 1024;
/// How long a busy client may take to get its request going before `READY`.
const START_WITHIN: Duration = Duration::from_secs(30);

/// One busy client: a request always in flight, its answer read slowly.
struct Busy {
    addr: SocketAddr,
    proto: Proto,
    target: String,
    index: usize,
    state: Arc<BusyState>,
}

/// A busy client between `READY` and the end: what it needs to go on.
enum Flowing {
    /// The echo stream: its writer thread, the stop flag for it, bytes read back so far.
    Echo {
        writer: thread::JoinHandle<()>,
        stop: Arc<AtomicBool>,
        received: u64,
    },
    /// An HTTP response with this many body bytes still to read.
    Http { body_left: usize },
}

impl Busy {
    /// Connects, checks one exchange, gets a request in flight (so the client is
    /// mid-request before `READY`), then reads on slowly until the server goes away.
    fn run(
        self,
        ready: mpsc::Sender<Result<(), String>>,
        go: mpsc::Receiver<Instant>,
        done: mpsc::Sender<Ending>,
    ) {
        let started = Client::open(self.proto, self.addr).and_then(|mut c| {
            net::set_timeouts(c.stream(), Duration::from_secs(1))?;
            c.exchange(4096)?;
            let flowing = self.start(c.stream())?;
            Ok((c, flowing))
        });
        let (mut client, flowing) = match started {
            Ok(started) => started,
            Err(e) => {
                let _ = ready.send(Err(format!("busy client {}: {e}", self.index)));
                return;
            }
        };
        self.state.open.store(true, Ordering::SeqCst);
        let _ = ready.send(Ok(()));
        let Ok(deadline) = go.recv() else { return };
        let (ending, writer) = match flowing {
            Flowing::Echo {
                writer,
                stop,
                received,
            } => {
                let ending = self.echo_until_closed(client.stream(), received, deadline);
                stop.store(true, Ordering::SeqCst);
                (ending, Some(writer))
            }
            Flowing::Http { body_left } => (
                self.http_until_closed(client.stream(), body_left, deadline),
                None,
            ),
        };
        self.state.open.store(false, Ordering::SeqCst);
        let _ = done.send(ending);
        if let Some(w) = writer {
            let _ = w.join();
        }
    }

    /// Puts a request in flight: the echo stream flowing (its first bytes back), or the
    /// head of the answer to `GET <target>` read.
    fn start(&self, stream: &mut TcpStream) -> Result<Flowing, String> {
        let until = Instant::now() + START_WITHIN;
        match self.proto {
            Proto::Echo => {
                let stop = Arc::new(AtomicBool::new(false));
                let writer = self.spawn_echo_writer(stream, Arc::clone(&stop))?;
                let mut buf = [0u8; STEP_BYTES];
                let n = loop {
                    match stream.read(&mut buf) {
                        Ok(0) => return Err("closed before the echo stream started".into()),
                        Ok(n) => break n,
                        Err(e) if is_timeout(&e) && Instant::now() < until => {}
                        Err(e) => return Err(format!("echo stream: {e}")),
                    }
                };
                if let Some(i) = (0..n).find(|&i| buf[i] != echo_byte(i as u64)) {
                    return Err(format!("wrong echo at byte {i}"));
                }
                self.note_echo_progress(n as u64);
                Ok(Flowing::Echo {
                    writer,
                    stop,
                    received: n as u64,
                })
            }
            Proto::Http => {
                self.send_get(stream)?;
                let body_left = read_head(stream, until)
                    .map_err(|e| format!("GET {}: {}", self.target, ending_text(e)))?;
                self.state
                    .mid_request
                    .store(body_left > 0, Ordering::SeqCst);
                Ok(Flowing::Http { body_left })
            }
        }
    }

    fn spawn_echo_writer(
        &self,
        stream: &TcpStream,
        stop: Arc<AtomicBool>,
    ) -> Result<thread::JoinHandle<()>, String> {
        let mut writer = stream.try_clone().map_err(|e| format!("try_clone: {e}"))?;
        let state = Arc::clone(&self.state);
        thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let data = pattern_bytes(0, ECHO_STREAM);
                let mut offset = 0;
                while !stop.load(Ordering::SeqCst) {
                    match writer.write(&data[offset..]) {
                        Ok(0) => return,
                        Ok(n) => {
                            offset = (offset + n) % ECHO_STREAM;
                            state.sent.fetch_add(n as u64, Ordering::SeqCst);
                            state.mid_request.store(true, Ordering::SeqCst);
                        }
                        Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return,
                    }
                }
            })
            .map_err(|e| format!("spawn: {e}"))
    }

    fn note_echo_progress(&self, received: u64) {
        let sent = self.state.sent.load(Ordering::SeqCst);
        self.state
            .mid_request
            .store(sent > received, Ordering::SeqCst);
    }

    /// Reads the echo stream back slowly, checking every byte, until the server goes away.
    fn echo_until_closed(
        &self,
        stream: &mut TcpStream,
        mut received: u64,
        deadline: Instant,
    ) -> Ending {
        let mut buf = [0u8; STEP_BYTES];
        loop {
            if Instant::now() >= deadline {
                return None;
            }
            match stream.read(&mut buf) {
                Ok(0) => return Some((Instant::now(), Closed::Eof)),
                Ok(n) => {
                    let wrong = (0..n).find(|&i| buf[i] != echo_byte(received + i as u64));
                    if let Some(i) = wrong {
                        let at = received + i as u64;
                        println!("hold: busy client {}: wrong echo at byte {at}", self.index);
                        return None;
                    }
                    received += n as u64;
                    self.note_echo_progress(received);
                    if let Some(gone) = peer_gone(stream) {
                        return Some(gone);
                    }
                    pace();
                }
                Err(e) if is_reset(&e) => return Some((Instant::now(), Closed::Reset)),
                Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Some((Instant::now(), Closed::Reset)),
            }
        }
    }

    fn send_get(&self, stream: &mut TcpStream) -> Result<(), String> {
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
            self.target, self.addr
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("send: {e}"))
    }

    /// Reads the body in flight slowly, then `GET <target>` again and again.
    fn http_until_closed(
        &self,
        stream: &mut TcpStream,
        mut body_left: usize,
        deadline: Instant,
    ) -> Ending {
        loop {
            if let Err(ending) = read_body_slowly(stream, body_left, deadline) {
                return ending;
            }
            self.state.mid_request.store(false, Ordering::SeqCst);
            if self.send_get(stream).is_err() {
                return wait_for_close(stream, deadline);
            }
            self.state.mid_request.store(true, Ordering::SeqCst);
            body_left = match read_head(stream, deadline) {
                Ok(left) => left,
                Err(ending) => return ending,
            };
        }
    }
}

/// The byte at `offset` of the endless echo stream.
fn echo_byte(offset: u64) -> u8 {
    pattern(offset % ECHO_STREAM as u64)
}

fn ending_text(e: Ending) -> &'static str {
    match e {
        Some((_, Closed::Eof)) => "closed",
        Some((_, Closed::Reset)) => "reset",
        None => "no good answer in time",
    }
}

/// Whether the server has closed or reset the connection, seen without reading what it sent
/// before (a slow reader may have megabytes of an answer still buffered).
fn peer_gone(stream: &TcpStream) -> Ending {
    let mut fd = libc::pollfd {
        fd: stream.as_raw_fd(),
        events: libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: `fd` is one live pollfd for a socket `stream` keeps open; timeout 0.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    if ready <= 0 {
        None
    } else if fd.revents & libc::POLLERR != 0 {
        Some((Instant::now(), Closed::Reset))
    } else if fd.revents & (libc::POLLRDHUP | libc::POLLHUP) != 0 {
        Some((Instant::now(), Closed::Eof))
    } else {
        None
    }
}

/// One read step: `Ok(n)` bytes (0 after a read timeout), or how the connection ended.
fn read_step(stream: &mut TcpStream, buf: &mut [u8]) -> Result<usize, Ending> {
    match stream.read(buf) {
        Ok(0) => Err(Some((Instant::now(), Closed::Eof))),
        Ok(n) => Ok(n),
        Err(e) if is_reset(&e) => Err(Some((Instant::now(), Closed::Reset))),
        Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(_) => Err(Some((Instant::now(), Closed::Reset))),
    }
}

/// Reads a `200` response head; returns the body bytes still unread. `Err` with how the
/// connection ended, or `None` past `deadline` or on a malformed or non-200 answer.
fn read_head(stream: &mut TcpStream, deadline: Instant) -> Result<usize, Ending> {
    let mut head = Vec::new();
    let mut buf = [0u8; STEP_BYTES];
    loop {
        if Instant::now() >= deadline {
            return Err(None);
        }
        let n = read_step(stream, &mut buf)?;
        head.extend_from_slice(&buf[..n]);
        match parse_head(&head) {
            Ok(Some((h, used))) => {
                if h.status != 200 {
                    println!("hold: busy client got {} instead of 200", h.status);
                    return Err(None);
                }
                let len = h.content_length().ok().flatten().unwrap_or(0);
                return Ok(len.saturating_sub(head.len() - used));
            }
            Ok(None) => {}
            Err(e) => {
                println!("hold: busy client: {e}");
                return Err(None);
            }
        }
    }
}

/// Reads `left` body bytes at the busy pace.
fn read_body_slowly(
    stream: &mut TcpStream,
    mut left: usize,
    deadline: Instant,
) -> Result<(), Ending> {
    let mut buf = [0u8; STEP_BYTES];
    while left > 0 {
        if Instant::now() >= deadline {
            return Err(None);
        }
        let want = left.min(STEP_BYTES);
        let n = read_step(stream, &mut buf[..want])?;
        left -= n;
        if let Some(gone) = peer_gone(stream) {
            return Err(Some(gone));
        }
        pace();
    }
    Ok(())
}

/// After a failed send: EOF or reset before `deadline`, or still open.
fn wait_for_close(stream: &mut TcpStream, deadline: Instant) -> Ending {
    let mut buf = [0u8; 64 * 1024];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return Some((Instant::now(), Closed::Eof)),
            Err(e) if is_reset(&e) => return Some((Instant::now(), Closed::Reset)),
            Ok(_) => {}
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Some((Instant::now(), Closed::Reset)),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_rmmod_counts_must_match_what_was_asked() {
        let at = |connected, mid_request| {
            Some(AtRmmod {
                connected,
                mid_request,
            })
        };
        assert_eq!(check_at_rmmod(at(120, 20), 120, 20), Ok(()));
        assert!(check_at_rmmod(at(119, 20), 120, 20).is_err());
        assert!(check_at_rmmod(at(120, 19), 120, 20).is_err());
        assert_eq!(check_at_rmmod(None, 120, 20), Ok(()));
    }

    #[test]
    fn a_close_is_seen_before_the_buffered_answer_is_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(&[b'x'; 100_000]).unwrap();
        });
        let c = TcpStream::connect(addr).unwrap();
        assert!(peer_gone(&c).is_none() || server.is_finished());
        server.join().unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        while peer_gone(&c).is_none() && Instant::now() < until {
            thread::sleep(Duration::from_millis(10));
        }
        assert!(matches!(peer_gone(&c), Some((_, Closed::Eof))));
    }

    #[test]
    fn slow_reader_sees_a_whole_response_then_the_close() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let body = vec![b'x'; 10_000];
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&body).unwrap();
            thread::sleep(Duration::from_millis(200));
        });
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let left = read_head(&mut c, deadline).unwrap();
        assert!(left <= 10_000);
        assert_eq!(read_body_slowly(&mut c, left, deadline), Ok(()));
        let ended = read_head(&mut c, deadline);
        assert!(matches!(ended, Err(Some((_, Closed::Eof)))));
    }
}
