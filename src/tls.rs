// SPDX-License-Identifier: GPL-2.0

//! The HTTPS listener (`tls_port`): a thread accepts, hands each socket to the TLS agent
//! (`handshake.rs`) and, once the agent reports success, admits it into the connection core,
//! where the session runs over the kernel's TLS layer as over plain TCP. Until then the
//! connection has no wait entry and no work item: a handshake that takes too long (or finds
//! no agent) is canceled at its deadline.

use crate::{
    clock::{self, Deadline},
    conn::{bump, Core, Session},
    handshake::{self, HandshakeOwner, Pending, Started},
    net::{AddrText, ListenAddr, Listener, Stream},
    thread::{KThread, ThreadContext, ThreadMain},
};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::{c_str, prelude::*, sync::Arc};

/// How long one `kernel_accept` waits before the thread looks at deadlines and `should_stop`.
const ACCEPT_POLL_MS: u32 = 200;
/// Back-off after an accept error other than a timeout.
const ACCEPT_BACKOFF_MS: u32 = 10;
/// The most handshakes this server keeps pending; past it a new client is closed at once.
const MAX_PENDING: usize = 4096;
/// How often a client that found `net/handshake`'s queue full (its limit per network
/// namespace: `EAGAIN`) is submitted again. Meanwhile no one else is accepted: later clients
/// wait in the listen backlog, in their order of arrival, and their handshake's time starts
/// only when they are submitted.
const BUSY_RETRY_MS: u32 = 20;

/// The HTTPS counters (in the module's debugfs directory when `tls_port` is set).
#[derive(Default)]
pub(crate) struct TlsCounters {
    /// Handshakes the agent completed: the connection went to the session.
    pub(crate) handshakes: AtomicU64,
    /// Handshakes the agent reported failed (bad client, alert, no certificate).
    pub(crate) failed: AtomicU64,
    /// Handshakes canceled at their deadline (a stalled client, or no agent running).
    pub(crate) timeouts: AtomicU64,
    /// Clients closed before any handshake: no agent running, too many pending, no memory.
    pub(crate) refused: AtomicU64,
    /// Closes that waited for kTLS to hand TCP the records it still held (a slow reader).
    pub(crate) flushes: AtomicU64,
    /// Of those, closes that reached their deadline first: the response's tail was lost.
    pub(crate) flush_timeouts: AtomicU64,
}

/// The HTTPS listener's settings (`tls_port`, `handshake_timeout`).
pub(crate) struct TlsConfig {
    /// Where to listen (the `bind` address, `tls_port`).
    pub(crate) addr: ListenAddr,
    /// The handshake's time limit (the agent's, and the deadline of its cancel here).
    pub(crate) timeout_ms: u32,
}

/// The HTTPS listener and its thread. Dropping it shuts the listener down and joins the
/// thread, which cancels every pending handshake (or waits for the outcome being delivered)
/// before it returns: afterwards no handshake outcome reaches the core.
pub(crate) struct TlsAcceptor<S: Session> {
    _thread: KThread<TlsLoop<S>>,
    listener: Arc<Listener>,
}

impl<S: Session> TlsAcceptor<S> {
    /// Starts accepting on `listener` (bound as `config` says), admitting secured connections
    /// into `core`. `EINVAL` if the session has no TLS counters (its protocol does not run
    /// over TLS).
    pub(crate) fn start(
        config: &TlsConfig,
        listener: Listener,
        core: Arc<Core<S>>,
    ) -> Result<Self> {
        if S::tls_counters(&core.shared).is_none() {
            return Err(EINVAL);
        }
        let listener = Arc::new(listener, GFP_KERNEL)?;
        let owner = Arc::new(
            TlsOwner {
                core,
                no_agent_said: AtomicBool::new(false),
            },
            GFP_KERNEL,
        )?;
        let main = TlsLoop {
            listener: listener.clone(),
            owner,
            timeout_ms: config.timeout_ms,
        };
        let thread = KThread::spawn(c_str!("ktcp-tls"), main)?;
        Ok(Self {
            _thread: thread,
            listener,
        })
    }
}

impl<S: Session> TlsAcceptor<S> {
    /// Where it listens.
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn addr(&self) -> &AddrText {
        self.listener.addr()
    }
}

impl<S: Session> Drop for TlsAcceptor<S> {
    fn drop(&mut self) {
        self.listener.shutdown();
        // Then `_thread` drops: kthread_stop() joins it, once it has settled every handshake.
    }
}

/// Receives the agent's outcomes.
struct TlsOwner<S: Session> {
    core: Arc<Core<S>>,
    /// The "no TLS agent" warning was logged, and no handshake succeeded since.
    no_agent_said: AtomicBool,
}

impl<S: Session> TlsOwner<S> {
    fn counters(&self) -> Option<&TlsCounters> {
        S::tls_counters(&self.core.shared)
    }
}

impl<S: Session> HandshakeOwner for TlsOwner<S> {
    fn secured(&self, stream: Stream) {
        if let Some(c) = self.counters() {
            bump(&c.handshakes);
        }
        self.no_agent_said.store(false, Ordering::Relaxed);
        self.core.admit(stream);
    }

    fn failed(&self, status: i32) {
        if let Some(c) = self.counters() {
            bump(if status == -(kernel::bindings::ETIMEDOUT as i32) {
                &c.timeouts
            } else {
                &c.failed
            });
        }
    }
}

/// A client with the agent, and when it is given up.
struct InFlight<S: Session> {
    pending: Pending<TlsOwner<S>>,
    deadline: Deadline,
}

/// A client waiting for room in `net/handshake`'s queue, and when it is given up.
struct Waiting {
    stream: Stream,
    deadline: Deadline,
}

/// The HTTPS accept thread's body.
struct TlsLoop<S: Session> {
    listener: Arc<Listener>,
    owner: Arc<TlsOwner<S>>,
    timeout_ms: u32,
}

impl<S: Session> TlsLoop<S> {
    /// The time a client may take from its submission (or its arrival, while it waits for
    /// room): the agent's own limit, then a second for its answer to arrive.
    fn deadline(&self) -> Deadline {
        clock::after_ms(self.timeout_ms.saturating_add(1000))
    }

    /// Hands a client to the agent, or closes it (counted) when that cannot be done. Returns
    /// it if `net/handshake` has no room for it now.
    fn start(
        &self,
        stream: Stream,
        deadline: Deadline,
        slots: &mut KVec<Option<InFlight<S>>>,
    ) -> Option<Waiting> {
        let free = slots.iter().position(|s| s.is_none());
        if free.is_none() && slots.len() >= MAX_PENDING {
            self.refuse();
            return None;
        }
        let pending = match Pending::start(stream, self.owner.clone(), self.timeout_ms) {
            Ok(Started::Pending(p)) => p,
            Ok(Started::Busy(stream)) => return Some(Waiting { stream, deadline }),
            Err(e) => {
                // ESRCH: nobody listens on the handshake family's group. Said once per
                // absence (a handshake that succeeds re-arms it), not per client.
                if e.to_errno() == -(kernel::bindings::ESRCH as i32)
                    && !self.owner.no_agent_said.swap(true, Ordering::Relaxed)
                {
                    pr_warn!(
                        "HTTPS clients are refused: no TLS agent is running (ktcp-tls-agent)\n"
                    );
                }
                self.refuse();
                return None;
            }
        };
        let flight = InFlight {
            pending,
            deadline: self.deadline(),
        };
        match free {
            Some(i) => slots[i] = Some(flight),
            // On failure the handshake is canceled (or waited for) as it drops.
            None => {
                if slots.push(Some(flight), GFP_KERNEL).is_err() {
                    self.refuse();
                }
            }
        }
        None
    }

    /// Submits a waiting client again, or closes it (counted) at its deadline.
    fn retry(&self, w: Waiting, slots: &mut KVec<Option<InFlight<S>>>) -> Option<Waiting> {
        if clock::now() >= w.deadline {
            self.close_waiting(w);
            return None;
        }
        self.start(w.stream, w.deadline, slots)
    }

    fn close_waiting(&self, w: Waiting) {
        w.stream.shutdown();
        self.refuse();
    }

    fn refuse(&self) {
        if let Some(c) = self.owner.counters() {
            bump(&c.refused);
        }
    }

    /// Forgets the finished handshakes and cancels those past their deadline (all of them
    /// with `all`, unloading).
    fn sweep(&self, slots: &mut KVec<Option<InFlight<S>>>, all: bool) {
        let now = clock::now();
        for slot in slots.iter_mut() {
            let Some(f) = slot.take() else { continue };
            let p = f.pending;
            // Unloading (`all`), the `Pending` cancels as it drops below.
            if !all && now >= f.deadline && !p.finished() && p.cancel() {
                if let Some(c) = self.owner.counters() {
                    bump(&c.timeouts);
                }
            }
            // An outcome being delivered finishes as the `Pending` drops.
            *slot = (!p.finished() && !all).then_some(InFlight {
                pending: p,
                deadline: f.deadline,
            });
        }
    }
}

impl<S: Session> ThreadMain for TlsLoop<S> {
    fn run(self, thread: &ThreadContext) {
        let mut slots: KVec<Option<InFlight<S>>> = KVec::new();
        let mut waiting: Option<Waiting> = None;
        while !thread.should_stop() {
            if let Some(w) = waiting.take() {
                thread.sleep_ms(BUSY_RETRY_MS);
                waiting = if thread.should_stop() {
                    Some(w)
                } else {
                    self.retry(w, &mut slots)
                };
            } else {
                match self.listener.accept() {
                    Ok(stream) => waiting = self.start(stream, self.deadline(), &mut slots),
                    Err(e) if e == EAGAIN => {}
                    Err(_) if thread.should_stop() => break,
                    Err(_) => thread.sleep_ms(ACCEPT_BACKOFF_MS),
                }
            }
            self.sweep(&mut slots, false);
        }
        // Unloading: close the waiting client, cancel what is pending; outcomes being
        // delivered finish as the slots drop.
        if let Some(w) = waiting {
            self.close_waiting(w);
        }
        self.sweep(&mut slots, true);
        drop(slots);
        // No callback may still be returning into this module once the thread is joined.
        handshake::callbacks_barrier();
    }
}

/// How long (jiffies) one `kernel_accept` of the HTTPS listener waits.
pub(crate) fn accept_timeout() -> usize {
    clock::ms_to_jiffies(ACCEPT_POLL_MS)
}
