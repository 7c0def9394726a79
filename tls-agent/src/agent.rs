// SPDX-License-Identifier: GPL-2.0

//! The daemon: resolve the `handshake` family, join `tlshd`, and on every READY accept
//! requests until none is pending, each one a job on the [`Pool`]. A stop request
//! (SIGTERM, SIGINT) ends the accepting; queued and running handshakes get
//! [`Settings::shutdown_grace`] to finish.

use std::cell::RefCell;
use std::io;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rustls::ServerConfig;

use crate::codec::{DoneRequest, FAMILY_NAME, GROUP_TLSHD};
use crate::genl::{Accepted, EventSocket, GenlSocket};
use crate::ktls::{Installer, KernelTls};
use crate::pool::{Job, Pool, Reporter};
use crate::sys;

/// How the agent runs.
pub struct Settings {
    pub tls: Arc<ServerConfig>,
    /// Handshakes that may run at once (threads).
    pub threads: usize,
    pub installer: Arc<dyn Installer>,
    /// How long queued and running handshakes may still take after a stop request.
    pub shutdown_grace: Duration,
    /// How often the main loop looks at the stop flag.
    pub poll_interval: Duration,
}

impl Settings {
    /// The daemon's settings: real kTLS, 10 s of grace, the stop flag seen within 250 ms.
    pub fn new(tls: Arc<ServerConfig>, threads: usize) -> Settings {
        Settings {
            tls,
            threads,
            installer: Arc::new(KernelTls),
            shutdown_grace: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
        }
    }
}

/// Runs until `stop` is set. Errors: the kernel has no `handshake` family or `tlshd` group,
/// or netlink keeps failing.
pub fn run(settings: Settings, stop: &AtomicBool) -> Result<()> {
    let family = GenlSocket::open(0)
        .and_then(|mut sock| sock.resolve(FAMILY_NAME))
        .map_err(|err| {
            anyhow!(
                "resolving the '{FAMILY_NAME}' generic netlink family: {err} \
                 (the kernel needs CONFIG_NET_HANDSHAKE)"
            )
        })?;
    let group = family
        .group(GROUP_TLSHD)
        .ok_or_else(|| anyhow!("the '{FAMILY_NAME}' family has no '{GROUP_TLSHD}' group"))?;
    let mut commands = GenlSocket::open(family.id).context("opening the request socket")?;
    let events = EventSocket::join(family.id, group, settings.poll_interval)
        .context("joining the tlshd multicast group")?;
    let reporter = Arc::new(NetlinkReporter {
        family_id: family.id,
    });
    let pool = Pool::start(
        settings.threads,
        Arc::clone(&settings.tls),
        Arc::clone(&settings.installer),
        reporter,
    )
    .context("starting the handshake threads")?;
    log::info!(
        "listening for handshake requests (family {} id {}, group {GROUP_TLSHD} id {group}, \
         {} threads)",
        family.name,
        family.id,
        settings.threads.max(1)
    );

    // The notifications are read by a thread of their own, always at once: while this one
    // waits for a free handshake thread, an unread READY per request would fill the group
    // socket, and the kernel refuses a request whose READY it cannot deliver (ESRCH, as if
    // no agent were running).
    let (ready_tx, ready_rx) = mpsc::sync_channel::<()>(1);
    let stop_events = Arc::new(AtomicBool::new(false));
    let listener = thread::Builder::new()
        .name("ktcp-tls-events".into())
        .spawn({
            let stop = Arc::clone(&stop_events);
            move || listen(events, &ready_tx, &stop)
        })
        .context("starting the notification thread")?;
    // Requests queued before the group was joined sent their READY to nobody.
    accept_pending(&mut commands, &pool, stop);
    loop {
        if stop.load(Ordering::Relaxed) {
            stop_events.store(true, Ordering::Relaxed);
            let _ = listener.join();
            break;
        }
        match ready_rx.recv_timeout(settings.poll_interval) {
            Ok(()) => accept_pending(&mut commands, &pool, stop),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return match listener.join() {
                    Ok(Err(err)) => Err(err),
                    _ => Err(anyhow!("the notification thread ended")),
                };
            }
        }
    }
    log::info!("stopping: no new handshakes; waiting for the running ones");
    let busy = pool.finish(settings.shutdown_grace);
    if busy > 0 {
        log::warn!(
            "{busy} handshake thread(s) still busy after {:?}; exiting anyway",
            settings.shutdown_grace
        );
    }
    Ok(())
}

/// Reads the group's notifications until `stop`, passing on that requests may be pending
/// (coalesced: one token at most waits). Fails after ten errors in a row.
fn listen(mut events: EventSocket, ready: &SyncSender<()>, stop: &AtomicBool) -> Result<()> {
    let mut failures = 0u32;
    while !stop.load(Ordering::Relaxed) {
        match events.wait() {
            Ok(true) => {
                failures = 0;
                match ready.try_send(()) {
                    Ok(()) | Err(TrySendError::Full(())) => {}
                    Err(TrySendError::Disconnected(())) => return Ok(()),
                }
            }
            Ok(false) => failures = 0,
            Err(err) => {
                failures += 1;
                log::error!("reading handshake notifications: {err}");
                if failures >= 10 {
                    bail!("netlink notifications keep failing: {err}");
                }
                thread::sleep(Duration::from_millis(200));
            }
        }
    }
    Ok(())
}

/// ACCEPT until the kernel has nothing pending (or a stop is requested).
fn accept_pending(commands: &mut GenlSocket, pool: &Pool, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match commands.accept() {
            Ok(Accepted::Request(request)) => match sys::adopt_kernel_socket(request.sockfd) {
                Ok(fd) => {
                    let job = Job {
                        request,
                        sock: TcpStream::from(fd),
                    };
                    if let Err(job) = pool.submit(job) {
                        let fd = job.request.sockfd;
                        log::error!("sockfd {fd}: no handshake thread left");
                        report_failure(commands, fd);
                    }
                }
                Err(err) => {
                    log::error!("sockfd {}: not a usable TCP socket: {err}", request.sockfd);
                    report_failure(commands, request.sockfd);
                }
            },
            Ok(Accepted::Nothing) => return,
            Ok(Accepted::Garbled(err)) => {
                log::error!("undecodable ACCEPT reply: {err}");
                let Some(fd) = err.sockfd else { return };
                // The kernel did install the descriptor: answer for it, then close it.
                let adopted = sys::adopt_kernel_socket(fd);
                report_failure(commands, fd);
                drop(adopted);
            }
            Err(err) => {
                log::error!("ACCEPT failed: {err}");
                return;
            }
        }
    }
}

/// DONE with EIO for a request the agent could not take on.
fn report_failure(commands: &mut GenlSocket, sockfd: i32) {
    let done = DoneRequest {
        status: libc::EIO.unsigned_abs(),
        sockfd,
        remote_auth: Vec::new(),
    };
    if let Err(err) = commands.done(&done) {
        log::error!("sockfd {sockfd}: DONE refused: {err}");
    }
}

/// Sends DONE to the kernel, on a socket of the calling handshake thread's own.
struct NetlinkReporter {
    family_id: u16,
}

thread_local! {
    /// The handshake thread's DONE socket, opened at its first DONE.
    static DONE_SOCKET: RefCell<Option<GenlSocket>> = const { RefCell::new(None) };
}

impl Reporter for NetlinkReporter {
    fn report(&self, done: &DoneRequest) -> io::Result<()> {
        DONE_SOCKET.with(|cell| {
            let mut slot = cell.borrow_mut();
            let sock = match slot.as_mut() {
                Some(sock) => sock,
                None => slot.insert(GenlSocket::open(self.family_id)?),
            };
            let result = sock.done(done);
            if result.is_err() {
                // A fresh socket for the next DONE, in case this one is what failed.
                *slot = None;
            }
            result
        })
    }
}
