// SPDX-License-Identifier: GPL-2.0

//! A running server: listener, accept kthread, owned workqueue and connection core.
//!
//! The accept thread blocks in `kernel_accept` (with a short timeout, so that it also sweeps
//! timeouts) and hands each stream to [`Core::admit`]. Dropping the server tears down in the
//! only safe order: stop accepting, stop the thread, close every connection, then destroy the
//! workqueue, which drains whatever runs were still queued.

use crate::{
    clock,
    conn::{Core, Session},
    net::Listener,
    queue::OwnedQueue,
    stats::StatsDir,
    thread::{self, KThread, ThreadMain},
};
use core::sync::atomic::Ordering;
use kernel::{bindings, prelude::*, str::CStr, sync::Arc};

/// How long one `kernel_accept` waits before the thread looks at timeouts and `should_stop`.
const ACCEPT_POLL_MS: u32 = 200;
/// How often connection deadlines are checked.
const SWEEP_MS: u32 = 500;

/// What a server is started with.
pub(crate) struct Config {
    /// Module name: names the thread, the workqueue and the debugfs directory.
    pub(crate) name: &'static CStr,
    /// TCP port on 0.0.0.0.
    pub(crate) port: u16,
    /// Listen backlog.
    pub(crate) backlog: i32,
    /// Per-CPU bound workqueue (`bench=1`) instead of unbound.
    pub(crate) bound: bool,
    /// Live connections above which a client is refused.
    pub(crate) max_connections: usize,
}

/// A running server; dropping it stops it.
pub(crate) struct Server<S: Session> {
    stats: Option<StatsDir<S>>,
    thread: Option<KThread<AcceptLoop<S>>>,
    listener: Arc<Listener>,
    core: Arc<Core<S>>,
    /// Destroyed last (in `drop`), draining the connections' queued runs.
    queue: Option<OwnedQueue>,
}

impl<S: Session> Server<S> {
    /// Binds the port and starts accepting.
    pub(crate) fn start(config: &Config, shared: S::Shared) -> Result<Self> {
        let queue = OwnedQueue::new(config.name, config.bound)?;
        let core = Arc::pin_init(
            Core::new(queue.as_raw(), config.max_connections, shared),
            GFP_KERNEL,
        )?;
        let listener = Listener::bind(
            config.port,
            config.backlog,
            clock::ms_to_jiffies(ACCEPT_POLL_MS),
        )
        .inspect_err(|e| {
            if e.to_errno() == -(bindings::EADDRINUSE as i32) {
                pr_err!("port {} is already in use\n", config.port);
            } else {
                pr_err!(
                    "cannot listen on port {}: error {}\n",
                    config.port,
                    e.to_errno()
                );
            }
        })?;
        let listener = Arc::new(listener, GFP_KERNEL)?;
        let accept = AcceptLoop {
            listener: listener.clone(),
            core: core.clone(),
        };
        let thread = KThread::spawn(config.name, accept)?;
        let stats = StatsDir::new(config.name, core.clone());
        Ok(Self {
            stats: Some(stats),
            thread: Some(thread),
            listener,
            core,
            queue: Some(queue),
        })
    }
}

impl<S: Session> Drop for Server<S> {
    fn drop(&mut self) {
        let started = clock::now();
        drop(self.stats.take());
        self.listener.shutdown();
        drop(self.thread.take());
        let live = self.core.stats.active.load(Ordering::Relaxed);
        self.core.close_all();
        drop(self.queue.take());
        let stats = &self.core.stats;
        pr_info!(
            "stopped in {} ms ({} connections closed at unload): {} accepted, {} closed, {} refused, {} timed out\n",
            clock::jiffies_to_ms(clock::now().saturating_sub(started)),
            live,
            stats.accepted.load(Ordering::Relaxed),
            stats.closed.load(Ordering::Relaxed),
            stats.refused.load(Ordering::Relaxed),
            stats.timeouts.load(Ordering::Relaxed),
        );
    }
}

/// The accept thread's body.
struct AcceptLoop<S: Session> {
    listener: Arc<Listener>,
    core: Arc<Core<S>>,
}

impl<S: Session> ThreadMain for AcceptLoop<S> {
    fn run(self) {
        let mut next_sweep = clock::after_ms(SWEEP_MS);
        while !thread::should_stop() {
            match self.listener.accept() {
                Ok(stream) => self.core.admit(stream),
                Err(e) if e == EAGAIN => {}
                Err(_) if thread::should_stop() => break,
                Err(_) => {
                    // Out of memory or file handles, or shut down: back off briefly.
                    // SAFETY: plain sleep in process context.
                    unsafe { bindings::msleep(10) };
                }
            }
            if clock::now() >= next_sweep {
                self.core.sweep();
                next_sweep = clock::after_ms(SWEEP_MS);
            }
        }
    }
}
