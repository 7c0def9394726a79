// SPDX-License-Identifier: GPL-2.0

//! A running server: listener, accept kthread, owned workqueue and connection core.
//!
//! The accept thread blocks in `kernel_accept` (with a short timeout, so that it also sweeps
//! timeouts) and hands each stream to [`Core::admit`]. A [`Server`]'s fields are its parts in
//! teardown order, so dropping it stops the server the only safe way (see [`Server`]).

use crate::{
    clock::{self, Deadline},
    conn::{Core, Session},
    latency::Latency,
    net::{AddrText, ListenAddr, Listener},
    params::Tunable,
    queue::OwnedQueue,
    stats::StatsDir,
    thread::{KThread, ThreadContext, ThreadMain},
    tls::{self, TlsAcceptor, TlsConfig},
};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use kernel::{bindings, prelude::*, str::CStr, sync::Arc};

/// How long one `kernel_accept` waits before the thread looks at timeouts and `should_stop`.
const ACCEPT_POLL_MS: u32 = 200;
/// How often connection deadlines are checked.
const SWEEP_MS: u32 = 500;
/// Back-off after an accept error other than a timeout (no memory, no file handles).
const ACCEPT_BACKOFF_MS: u32 = 10;

/// What a server is started with.
pub(crate) struct Config {
    /// Module name: names the thread, the workqueue and the debugfs directory.
    pub(crate) name: &'static CStr,
    /// The address and port to listen on (the `bind` and `port` parameters).
    pub(crate) addr: ListenAddr,
    /// Listen backlog.
    pub(crate) backlog: i32,
    /// Per-CPU bound workqueue (`bench=1`) instead of unbound.
    pub(crate) bound: bool,
    /// Workers at high priority (`highpri=1`, `WQ_HIGHPRI`).
    pub(crate) highpri: bool,
    /// Live connections above which a client is refused (writable at run time).
    pub(crate) max_connections: Tunable,
    /// Seconds a new connection waits in the kernel for its first bytes before it is
    /// accepted (`TCP_DEFER_ACCEPT`; 0: accepted at once).
    pub(crate) defer_accept_s: u32,
    /// The HTTPS listener, if any (`tls_port`).
    pub(crate) tls: Option<TlsConfig>,
}

/// Binds a listener on `addr`; `::` falls back to `0.0.0.0` where IPv6 is off
/// (`EAFNOSUPPORT`), as the modules did before `bind` existed.
fn listen_on(addr: &ListenAddr, backlog: i32, timeout: usize, defer_s: u32) -> Result<Listener> {
    match Listener::bind(addr, backlog, timeout, defer_s) {
        Err(e) if e.to_errno() == -(bindings::EAFNOSUPPORT as i32) => match addr.ipv4_fallback() {
            Some(v4) => {
                pr_warn!(
                    "no IPv6 on this kernel: listening on {} instead of {}\n",
                    v4,
                    addr
                );
                Listener::bind(&v4, backlog, timeout, defer_s)
            }
            None => Err(e),
        },
        other => other,
    }
}

/// A running server; dropping it stops it.
///
/// Fields drop in declaration order, which is the teardown order: the counters' files go,
/// the listener stops and the accept thread is joined (no new connection, no sweep), every
/// connection is closed (no wake-up queues work any more), then the workqueue is destroyed,
/// which drains the runs still queued. The report, last, logs what the teardown took.
pub(crate) struct Server<S: Session> {
    _stats: StatsDir<S>,
    _acceptor: Acceptor<S>,
    _tls: Option<TlsAcceptor<S>>,
    _connections: Connections<S>,
    _queue: QueueShutdown,
    report: UnloadReport<S>,
}

impl<S: Session> Server<S> {
    /// Binds the port and starts accepting.
    pub(crate) fn start(config: &Config, shared: S::Shared) -> Result<Self> {
        let queue = OwnedQueue::new(config.name, config.bound, config.highpri)?;
        let teardown = Arc::new(Teardown::default(), GFP_KERNEL)?;
        let core = Arc::pin_init(
            Core::new(
                queue.clone(),
                config.max_connections,
                shared,
                Latency::new()?,
            ),
            GFP_KERNEL,
        )?;
        let listener = listen_on(
            &config.addr,
            config.backlog,
            clock::ms_to_jiffies(ACCEPT_POLL_MS),
            config.defer_accept_s,
        )
        .inspect_err(|e| {
            if e.to_errno() == -(bindings::EADDRINUSE as i32) {
                pr_err!(
                    "port {} is already in use ({})\n",
                    config.addr.port(),
                    config.addr
                );
            } else {
                pr_err!("cannot listen on {}: error {}\n", config.addr, e.to_errno());
            }
        })?;
        let tls_listener = match &config.tls {
            Some(tls) => Some(
                listen_on(
                    &tls.addr,
                    config.backlog,
                    tls::accept_timeout(),
                    config.defer_accept_s,
                )
                .inspect_err(|e| {
                    pr_err!(
                        "cannot listen on {} (tls_port): error {}\n",
                        tls.addr,
                        e.to_errno()
                    )
                })?,
            ),
            None => None,
        };
        let listener = Arc::new(listener, GFP_KERNEL)?;
        let accept = AcceptLoop {
            listener: listener.clone(),
            core: core.clone(),
        };
        // Spawning is the last step that can fail: once the thread runs, connections may be
        // admitted, and only a `Server`'s teardown closes them.
        let thread = KThread::spawn(config.name, accept)?;
        let mut server = Self {
            _stats: StatsDir::new(config.name, core.clone()),
            _acceptor: Acceptor {
                _thread: thread,
                listener,
            },
            _tls: None,
            _connections: Connections {
                core: core.clone(),
                teardown: teardown.clone(),
            },
            _queue: QueueShutdown { queue },
            report: UnloadReport {
                core: core.clone(),
                teardown,
            },
        };
        // The HTTPS thread last: if it cannot start, `server` drops and its teardown closes
        // what the HTTP thread admitted meanwhile.
        if let (Some(tls), Some(listener)) = (&config.tls, tls_listener) {
            server._tls = Some(TlsAcceptor::start(tls, listener, core)?);
        }
        Ok(server)
    }
}

impl<S: Session> Server<S> {
    /// Where it listens (`0.0.0.0` for a `::` that fell back).
    pub(crate) fn addr(&self) -> &AddrText {
        self._acceptor.listener.addr()
    }

    /// Where the HTTPS listener listens, if there is one.
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn tls_addr(&self) -> Option<&AddrText> {
        self._tls.as_ref().map(|t| t.addr())
    }
}

impl<S: Session> Drop for Server<S> {
    fn drop(&mut self) {
        // Runs before the fields are dropped: the start of the teardown.
        self.report
            .teardown
            .started
            .store(clock::now(), Ordering::Relaxed);
    }
}

/// The listener and the thread accepting on it. Dropping it shuts the listener down, which
/// wakes the thread from `kernel_accept`, then stops and joins the thread.
struct Acceptor<S: Session> {
    _thread: KThread<AcceptLoop<S>>,
    listener: Arc<Listener>,
}

impl<S: Session> Drop for Acceptor<S> {
    fn drop(&mut self) {
        self.listener.shutdown();
        // Then `_thread` drops: kthread_stop() joins it.
    }
}

/// When each part of the teardown ended, and how many connections it closed: the figures of
/// the unload report.
#[derive(Default)]
struct Teardown {
    /// The teardown began (the `Server` started to drop).
    started: AtomicU64,
    /// The accept thread was joined (and the counters' files removed).
    acceptor_stopped: AtomicU64,
    /// Every connection was closed.
    connections_closed: AtomicU64,
    /// How many connections were open at unload.
    closed: AtomicUsize,
}

/// Closes every connection of the core when dropped, and lets no new one in.
struct Connections<S: Session> {
    core: Arc<Core<S>>,
    teardown: Arc<Teardown>,
}

impl<S: Session> Drop for Connections<S> {
    fn drop(&mut self) {
        let t = &self.teardown;
        t.acceptor_stopped.store(clock::now(), Ordering::Relaxed);
        t.closed.store(self.core.close_all(), Ordering::Relaxed);
        t.connections_closed.store(clock::now(), Ordering::Relaxed);
    }
}

/// Shuts the workqueue down when dropped: no more queueing, then a drain of what is queued.
struct QueueShutdown {
    queue: Arc<OwnedQueue>,
}

impl Drop for QueueShutdown {
    fn drop(&mut self) {
        self.queue.shut_down();
    }
}

/// Logs, when dropped last, how long the teardown and each of its parts took, and the final
/// counters.
struct UnloadReport<S: Session> {
    core: Arc<Core<S>>,
    teardown: Arc<Teardown>,
}

impl<S: Session> Drop for UnloadReport<S> {
    fn drop(&mut self) {
        let t = &self.teardown;
        let started: Deadline = t.started.load(Ordering::Relaxed);
        let acceptor_stopped: Deadline = t.acceptor_stopped.load(Ordering::Relaxed);
        let connections_closed: Deadline = t.connections_closed.load(Ordering::Relaxed);
        let now = clock::now();
        let ms = |from: Deadline, to: Deadline| clock::jiffies_to_ms(to.saturating_sub(from));
        let stats = &self.core.stats;
        // Every connection is closed and every run drained: none may still be in memory.
        pr_info!(
            "stopped in {} ms ({} connections closed at unload; accept thread {} ms, closing {} ms, queue drain {} ms): {} accepted, {} closed, {} refused, {} timed out, {} connection objects left\n",
            ms(started, now),
            t.closed.load(Ordering::Relaxed),
            ms(started, acceptor_stopped),
            ms(acceptor_stopped, connections_closed),
            ms(connections_closed, now),
            stats.accepted.load(Ordering::Relaxed),
            stats.closed.load(Ordering::Relaxed),
            stats.refused.load(Ordering::Relaxed),
            stats.timeouts.load(Ordering::Relaxed),
            stats.objects.load(Ordering::Relaxed),
        );
    }
}

/// The accept thread's body.
struct AcceptLoop<S: Session> {
    listener: Arc<Listener>,
    core: Arc<Core<S>>,
}

impl<S: Session> ThreadMain for AcceptLoop<S> {
    fn run(self, thread: &ThreadContext) {
        let mut next_sweep = clock::after_ms(SWEEP_MS);
        while !thread.should_stop() {
            match self.listener.accept() {
                Ok(stream) => self.core.admit(stream),
                Err(e) if e == EAGAIN => {}
                Err(_) if thread.should_stop() => break,
                // Out of memory or file handles, or shut down: back off briefly.
                Err(_) => thread.sleep_ms(ACCEPT_BACKOFF_MS),
            }
            if clock::now() >= next_sweep {
                self.core.sweep();
                next_sweep = clock::after_ms(SWEEP_MS);
            }
        }
    }
}
