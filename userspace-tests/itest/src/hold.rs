//! `itest hold`: idle and busy connections stay up until the module is unloaded, then
//! every one of them must see EOF or a reset.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::client::{Client, Proto};
use crate::net::{self, is_reset, is_timeout, Closed};
use crate::report::{test, Test, TestResult};

pub struct Hold {
    pub addr: SocketAddr,
    pub idle: usize,
    pub busy: usize,
    pub proto: Proto,
    pub secs: u64,
}

pub fn suite(h: &Hold) -> Vec<Test<Hold>> {
    vec![test(h.proto.name(), h.secs + 120, run)]
}

/// When and how a connection ended, if it did.
type Ending = Option<(Instant, Closed)>;

fn run(h: &Hold) -> TestResult {
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
    for i in 0..h.busy {
        let (addr, proto) = (h.addr, h.proto);
        let (ready, done) = (ready_tx.clone(), done_tx.clone());
        let (go, wait_go) = mpsc::channel::<Instant>();
        go_senders.push(go);
        thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || busy_client(addr, proto, i, ready, wait_go, done))
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
    let idle_endings = watch_idle(&mut idle, deadline);
    let busy_endings: Vec<Ending> = (0..h.busy)
        .map(|_| {
            let left = deadline.saturating_duration_since(Instant::now());
            done_rx
                .recv_timeout(left + Duration::from_secs(5))
                .unwrap_or(None)
        })
        .collect();
    summarize(&idle_endings, &busy_endings)
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

/// Polls the idle sockets until each has closed or `deadline` passes.
fn watch_idle(idle: &mut [TcpStream], deadline: Instant) -> Vec<Ending> {
    let mut endings: Vec<Ending> = vec![None; idle.len()];
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && endings.iter().any(Option::is_none) {
        let mut fds: Vec<libc::pollfd> = idle
            .iter()
            .map(|s| libc::pollfd {
                fd: s.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: `fds` is a live array of `fds.len()` pollfd entries for open sockets.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
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
        }
    }
    endings
}

/// Exchanges continuously until the server goes away; reports how the connection ended.
fn busy_client(
    addr: SocketAddr,
    proto: Proto,
    index: usize,
    ready: mpsc::Sender<Result<(), String>>,
    go: mpsc::Receiver<Instant>,
    done: mpsc::Sender<Ending>,
) {
    let opened = Client::open(proto, addr).and_then(|mut c| {
        net::set_timeouts(c.stream(), Duration::from_secs(1))?;
        c.exchange(4096).map(|_| c)
    });
    let mut client = match opened {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(format!("busy client {index}: {e}")));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let Ok(deadline) = go.recv() else { return };
    // Paced, so that 20 busy clients keep every connection mid-stream without starving a
    // small (emulated) guest of the CPU the unload itself needs.
    while Instant::now() < deadline && client.exchange(4096).is_ok() {
        thread::sleep(Duration::from_millis(5));
    }
    let _ = done.send(wait_for_close(client.stream(), deadline));
}

/// After a failed exchange: EOF or reset before `deadline`, or still open.
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
