// SPDX-License-Identifier: GPL-2.0

//! The connection core shared by both modules: readiness-driven work items.
//!
//! Each accepted socket becomes a [`Conn`]: an `Arc` holding the stream, the protocol's
//! [`Session`] state and a work item. A [`WatchedStream`] entry on the socket's own wait queue (the
//! one epoll is woken through) queues that work item on every readiness change: data, write
//! space, FIN, reset. The work item runs the session, which does non-blocking I/O until the
//! socket has nothing more (`Step::Wait`) or its budget is spent (`Step::Yield`). No work item
//! ever sleeps on a client, so a handful of kworkers serve any number of connections.
//!
//! A session that has queued its last response asks for `Step::Linger`: the core shuts the
//! sending side down and reads and discards what the client still sends, for a bounded time
//! and amount, so that closing with unread input does not reset the connection before the
//! client has read the response (nginx's `lingering_close`). On a TLS connection whose
//! records kTLS still holds (TCP's send buffer was full), the shutdown waits until TCP has
//! taken them all: a shutdown before would lose the response's tail.
//!
//! Closing (by the session, a timeout, or unload) happens once: unregister the waiter (after
//! which no wake-up runs or starts), shut the socket down, drop the connection from the live
//! table. The socket itself is released when the last `Arc` goes, i.e. after any queued run of
//! the work item has seen `closed` and returned.

use crate::{
    clock::{self, Deadline, NEVER},
    latency::{Latency, Metric},
    net::{Stream, Wake, WatchedStream},
    params::Tunable,
    queue::OwnedQueue,
    tls::TlsCounters,
    trace,
};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::{
    new_mutex,
    prelude::*,
    str::CStr,
    sync::{Arc, ArcBorrow, Mutex},
    workqueue::{impl_has_work, new_work, Work, WorkItem},
};

/// How long a lingering close reads what the client still sends.
const LINGER_MS: u32 = 5000;
/// How long a TLS connection's lingering close waits for kTLS to hand TCP the records it still
/// holds (a slow reader's tail), before its sending side is shut down.
const FLUSH_MS: u32 = 30_000;
/// How often a flushing close looks again without being woken.
const FLUSH_POLL_MS: u32 = 200;
/// How much a lingering close reads at most before it gives up and closes.
const LINGER_BYTES: usize = 4 << 20;
/// Bytes discarded per run of a lingering connection before it yields to others.
const LINGER_RUN_BYTES: usize = 256 * 1024;
/// Refused clients (over `max_connections`) that may linger at once; more are closed at once.
const REFUSED_LINGERING_MAX: usize = 256;

/// What a session asks of the core after a run.
pub(crate) enum Step {
    /// Nothing more to do until the socket is ready again, or until the deadline passes.
    Wait(Deadline),
    /// The budget for this run is spent but there is more to do: run again soon.
    Yield,
    /// Close the connection now.
    Close,
    /// The last response is queued: close gracefully (lingering close, see the module docs).
    #[allow(dead_code)] // Echo never asks for it.
    Linger,
}

/// A protocol served on connections: kecho's echo, khttpd's HTTP.
pub(crate) trait Session: Sized + Send + 'static {
    /// State shared by every connection of a server: configuration and counters.
    type Shared: Send + Sync + 'static;

    /// State for a new connection; kept small, since idle connections hold only this.
    fn new(shared: &Self::Shared) -> Self;

    /// Makes progress with non-blocking I/O on `stream`; records its latencies in `lat`.
    fn on_ready(&mut self, stream: &Stream, shared: &Self::Shared, lat: &Latency) -> Step;

    /// The deadline of the last `Step::Wait` passed: retry, or give up with `Close` or
    /// `Linger` (which the core counts as a timeout).
    fn on_timeout(&mut self, stream: &Stream, shared: &Self::Shared, lat: &Latency) -> Step;

    /// The session is done (its connection closes, or lingers without it): give whatever
    /// buffers it holds back to the shared pool, so that the next connection takes them
    /// instead of allocating and zeroing its own.
    fn release_buffers(&mut self, _shared: &Self::Shared) {}

    /// A client over `max_connections`: say so if the protocol can (one non-blocking send),
    /// before the core closes it gracefully.
    fn refuse(stream: &Stream, shared: &Self::Shared);

    /// Lists the protocol's own counters, for the debugfs directory.
    fn counters<'a>(shared: &'a Self::Shared, add: &mut dyn FnMut(&'static CStr, &'a AtomicU64));

    /// Housekeeping of the shared state, from the accept thread every sweep (500 ms).
    fn sweep_shared(_shared: &Self::Shared) {}

    /// The HTTPS counters, for a protocol served over TLS too (`tls_port`); `None` otherwise.
    fn tls_counters(_shared: &Self::Shared) -> Option<&TlsCounters> {
        None
    }
}

/// Connection counters; `accepted == closed + active` at every quiescent point.
#[derive(Default)]
pub(crate) struct Stats {
    /// Connections accepted.
    pub(crate) accepted: AtomicU64,
    /// Connections open now (refused ones included while they linger).
    pub(crate) active: AtomicU64,
    /// Connections closed (including refused ones).
    pub(crate) closed: AtomicU64,
    /// Connections refused at `max_connections` or for lack of memory.
    pub(crate) refused: AtomicU64,
    /// Connections closed by a timeout.
    pub(crate) timeouts: AtomicU64,
    /// Connection objects in memory: 0 once every closed connection has been freed.
    pub(crate) objects: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A slot of the live-connection table.
enum Slot<S: Session> {
    Used(Arc<Conn<S>>),
    /// Free, with the index of the next free slot, if any.
    Free(Option<usize>),
}

/// How a connection was let in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// Served: counts towards `max_connections`.
    Served,
    /// Over `max_connections`: told so, then closed gracefully.
    Refused,
}

/// The live connections of a server, each in a numbered slot for O(1) insert and removal.
struct Table<S: Session> {
    slots: KVVec<Slot<S>>,
    /// The first free slot, if any.
    free_head: Option<usize>,
    /// Connections being served.
    served: usize,
    /// Refused connections still lingering.
    refused: usize,
    /// Set at unload: nothing is let in any more.
    closing: bool,
}

impl<S: Session> Table<S> {
    fn insert(&mut self, conn: &Arc<Conn<S>>) -> Result<u32> {
        if let Some(index) = self.free_head {
            let short = u32::try_from(index).map_err(|_| EBUSY)?;
            if let Some(slot) = self.slots.get_mut(index) {
                if let Slot::Free(next) = *slot {
                    self.free_head = next;
                    *slot = Slot::Used(conn.clone());
                    return Ok(short);
                }
            }
        }
        let index = u32::try_from(self.slots.len()).map_err(|_| EBUSY)?;
        self.slots.push(Slot::Used(conn.clone()), GFP_KERNEL)?;
        Ok(index)
    }

    fn remove(&mut self, index: u32, conn: &Arc<Conn<S>>) -> Option<Arc<Conn<S>>> {
        let index = usize::try_from(index).ok()?;
        let slot = self.slots.get_mut(index)?;
        match slot {
            Slot::Used(c) if Arc::ptr_eq(c, conn) => {}
            _ => return None,
        }
        let Slot::Used(removed) = core::mem::replace(slot, Slot::Free(self.free_head)) else {
            return None;
        };
        self.free_head = Some(index);
        Some(removed)
    }
}

/// What is shared by a server's accept thread and all its connections.
#[pin_data]
pub(crate) struct Core<S: Session> {
    queue: Arc<OwnedQueue>,
    #[pin]
    table: Mutex<Table<S>>,
    max_connections: Tunable,
    /// Connection counters.
    pub(crate) stats: Stats,
    /// Latency histograms.
    pub(crate) latency: Latency,
    /// The protocol's shared state.
    pub(crate) shared: S::Shared,
    /// Set by [`Core::close_all`] before it closes anything: from then on a run returns at
    /// once (one already past its check finishes its budget), so the connections not closed
    /// yet stop competing with the unload for the CPUs.
    stopping: AtomicBool,
}

impl<S: Session> Core<S> {
    /// The core of a server queueing on `queue`.
    pub(crate) fn new(
        queue: Arc<OwnedQueue>,
        max_connections: Tunable,
        shared: S::Shared,
        latency: Latency,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            queue,
            table <- new_mutex!(Table {
                slots: KVVec::new(),
                free_head: None,
                served: 0,
                refused: 0,
                closing: false,
            }),
            max_connections,
            stats: Stats::default(),
            latency,
            shared,
            stopping: AtomicBool::new(false),
        })
    }

    /// Takes a freshly accepted stream: registers it and starts its work item, or refuses it.
    pub(crate) fn admit(self: &Arc<Self>, stream: Stream) {
        // The connection's id in the trace events: its number since the module was loaded.
        let id = self
            .stats
            .accepted
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        let conn = match Arc::pin_init(Conn::new(stream, CoreRef::new(self), id), GFP_KERNEL) {
            Ok(conn) => conn,
            Err(_) => {
                // The stream was dropped (released) with the failed initialiser.
                bump(&self.stats.refused);
                bump(&self.stats.closed);
                return;
            }
        };
        let admission = self.insert(&conn);
        trace::conn_open(
            id,
            conn.stream(),
            !matches!(admission, Ok(Admission::Served)),
        );
        match admission {
            Ok(Admission::Served) => {}
            Ok(Admission::Refused) => {
                bump(&self.stats.refused);
                S::refuse(conn.stream(), &self.shared);
                conn.state.lock().begin_linger(conn.stream(), self);
            }
            Err(_) => {
                // Unloading, or too many refused clients lingering already: close at once.
                S::refuse(conn.stream(), &self.shared);
                conn.closed.store(true, Ordering::Relaxed);
                trace::conn_close(
                    id,
                    conn.stream(),
                    clock::ns().saturating_sub(conn.opened_at),
                );
                conn.stream().shutdown();
                bump(&self.stats.refused);
                bump(&self.stats.closed);
                return;
            }
        }
        bump(&self.stats.active);
        if conn.socket.watch(conn.clone()).is_err() {
            // Closed meanwhile (unload): nothing is left to do.
            conn.close();
            return;
        }
        conn.schedule();
    }

    fn insert(&self, conn: &Arc<Conn<S>>) -> Result<Admission> {
        let mut table = self.table.lock();
        if table.closing {
            return Err(EBUSY);
        }
        let max = usize::try_from(self.max_connections.get()).unwrap_or(0);
        let admission = if table.served < max {
            Admission::Served
        } else if table.refused < REFUSED_LINGERING_MAX {
            Admission::Refused
        } else {
            return Err(EBUSY);
        };
        let index = table.insert(conn)?;
        conn.slot.store(index, Ordering::Relaxed);
        conn.refused
            .store(admission == Admission::Refused, Ordering::Relaxed);
        match admission {
            Admission::Served => table.served += 1,
            Admission::Refused => table.refused += 1,
        }
        Ok(admission)
    }

    fn remove(&self, conn: &Arc<Conn<S>>) {
        let mut table = self.table.lock();
        let removed = table.remove(conn.slot.load(Ordering::Relaxed), conn);
        if removed.is_some() {
            if conn.refused.load(Ordering::Relaxed) {
                table.refused = table.refused.saturating_sub(1);
            } else {
                table.served = table.served.saturating_sub(1);
            }
        }
        drop(table);
        // The table's reference goes after the lock: it is never the last (the caller has one).
        drop(removed);
    }

    /// Queues a timeout run for every connection whose deadline has passed.
    pub(crate) fn sweep(&self) {
        let now = clock::now();
        let table = self.table.lock();
        let started = clock::ns();
        for slot in table.slots.iter() {
            let Slot::Used(conn) = slot else { continue };
            if conn.deadline.load(Ordering::Relaxed) <= now {
                conn.timed_out.store(true, Ordering::Relaxed);
                conn.schedule();
            }
        }
        drop(table);
        self.latency.record_since(Metric::Sweep, started);
        S::sweep_shared(&self.shared);
    }

    /// Refuses new connections and closes every live one; returns how many it closed (not
    /// counting any its own run closed meanwhile). Their queued runs, if any, finish when the
    /// owner destroys the workqueue.
    pub(crate) fn close_all(&self) -> usize {
        self.stopping.store(true, Ordering::Release);
        let slots = {
            let mut table = self.table.lock();
            table.closing = true;
            table.served = 0;
            table.refused = 0;
            table.free_head = None;
            core::mem::replace(&mut table.slots, KVVec::new())
        };
        let mut closed = 0;
        for slot in slots {
            if let Slot::Used(conn) = slot {
                closed += usize::from(conn.close());
            }
        }
        closed
    }
}

/// A connection's reference to its core, counting the connection in `stats.objects` for as
/// long as the connection is in memory (a connection whose wait entry stayed registered would
/// never be freed, and show there).
struct CoreRef<S: Session>(Arc<Core<S>>);

impl<S: Session> CoreRef<S> {
    fn new(core: &Arc<Core<S>>) -> Self {
        bump(&core.stats.objects);
        Self(core.clone())
    }
}

impl<S: Session> core::ops::Deref for CoreRef<S> {
    type Target = Core<S>;

    fn deref(&self) -> &Core<S> {
        &self.0
    }
}

impl<S: Session> Drop for CoreRef<S> {
    fn drop(&mut self) {
        self.0.stats.objects.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A lingering close in progress: what is left of its time and byte allowance.
struct Linger {
    until: Deadline,
    bytes_left: usize,
    /// kTLS still holds records that TCP has not taken (the client reads slowly), or its
    /// close_notify found no room: the sending side is shut down once both went to TCP, or at
    /// `until` (the tail is lost then).
    flushing: bool,
    /// The client ended its side (a FIN, or a TLS alert such as its close_notify) while the
    /// records were flushing.
    eof: bool,
}

impl Linger {
    /// Starts a lingering close; flushing first (counted in `tls` when given) if kTLS holds
    /// records or its close_notify has to wait.
    fn new(stream: &Stream, tls: Option<&TlsCounters>) -> Self {
        let flushing = Self::unsent(stream);
        if flushing {
            if let Some(c) = tls {
                bump(&c.flushes);
            }
        } else {
            stream.shutdown_write();
        }
        Self {
            until: clock::after_ms(if flushing { FLUSH_MS } else { LINGER_MS }),
            bytes_left: LINGER_BYTES,
            flushing,
            eof: false,
        }
    }

    /// Whether the shutdown must wait: the close_notify (queued behind what kTLS holds, and
    /// closing any open record) found no room, or kTLS holds records TCP has not taken.
    /// Either way room appearing wakes the socket's waiters.
    fn unsent(stream: &Stream) -> bool {
        !stream.close_notify() || stream.tls_tx_pending()
    }

    /// Reads and discards what the client sends; `Close` at EOF, on error, or once the time
    /// or byte allowance is spent.
    fn drain(&mut self, stream: &Stream, timed_out: bool, tls: Option<&TlsCounters>) -> Step {
        if timed_out || clock::now() >= self.until {
            if self.flushing {
                if let Some(c) = tls {
                    bump(&c.flush_timeouts);
                }
            }
            return Step::Close;
        }
        if self.flushing {
            if Self::unsent(stream) {
                // Woken when TCP has room; polled too, since that wake-up comes only once a
                // third of the send buffer drained (and none under memory pressure).
                let poll = clock::after_ms(FLUSH_POLL_MS).min(self.until);
                return if self.eof {
                    Step::Wait(poll)
                } else {
                    match self.discard(stream) {
                        Step::Wait(_) => Step::Wait(poll),
                        step => step,
                    }
                };
            }
            self.flushing = false;
            stream.shutdown_write();
            if self.eof {
                return Step::Close;
            }
            self.until = clock::after_ms(LINGER_MS);
        }
        self.discard(stream)
    }

    fn discard(&mut self, stream: &Stream) -> Step {
        let mut scratch = [0u8; 512];
        let mut budget = LINGER_RUN_BYTES;
        loop {
            match stream.recv(&mut scratch) {
                Err(e) if e == EAGAIN => return Step::Wait(self.until),
                Ok(0) | Err(_) if self.flushing => {
                    // The client is done sending (a FIN, or a TLS alert: kTLS answers EIO
                    // from then on), but kTLS still has the tail to send: wait for that.
                    self.eof = true;
                    return Step::Wait(self.until);
                }
                Ok(0) => return Step::Close,
                Ok(n) => {
                    self.bytes_left = self.bytes_left.saturating_sub(n);
                    budget = budget.saturating_sub(n);
                    if self.bytes_left == 0 {
                        return Step::Close;
                    }
                    if budget == 0 {
                        return Step::Yield;
                    }
                }
                Err(_) => return Step::Close,
            }
        }
    }
}

/// The per-connection state a run works on, under one lock.
enum ConnState<S: Session> {
    /// The protocol's session runs.
    Open(S),
    /// Closing gracefully: the session is over (its buffers given back) and dropped.
    Closing(Linger),
}

impl<S: Session> ConnState<S> {
    /// Shuts the sending side down and starts discarding input.
    fn begin_linger(&mut self, stream: &Stream, core: &Core<S>) {
        if let Self::Open(session) = self {
            session.release_buffers(&core.shared);
            *self = Self::Closing(Linger::new(stream, S::tls_counters(&core.shared)));
        }
    }

    /// One run: the session's step, or the lingering close's. Never returns `Linger`.
    fn step(&mut self, stream: &Stream, core: &Core<S>, timed_out: bool) -> Step {
        let session = match self {
            Self::Closing(linger) => {
                return linger.drain(stream, timed_out, S::tls_counters(&core.shared))
            }
            Self::Open(session) => session,
        };
        let step = if timed_out {
            let step = session.on_timeout(stream, &core.shared, &core.latency);
            if matches!(step, Step::Close | Step::Linger) {
                bump(&core.stats.timeouts);
            }
            step
        } else {
            match session.on_ready(stream, &core.shared, &core.latency) {
                // A close after a complete response (not a stalled client's timeout) while kTLS
                // still holds records, or its close_notify found no room: let them go first,
                // as a lingering close does.
                Step::Close if Linger::unsent(stream) => Step::Linger,
                step => step,
            }
        };
        if !matches!(step, Step::Linger) {
            if matches!(step, Step::Close) {
                session.release_buffers(&core.shared);
            }
            return step;
        }
        self.begin_linger(stream, core);
        match self {
            Self::Closing(linger) => linger.drain(stream, false, S::tls_counters(&core.shared)),
            Self::Open(_) => Step::Close,
        }
    }
}

/// One client connection.
#[pin_data]
pub(crate) struct Conn<S: Session> {
    #[pin]
    work: Work<Conn<S>>,
    /// The socket, and the entry on its wait queue that queues `work`.
    #[pin]
    socket: WatchedStream<Conn<S>>,
    #[pin]
    state: Mutex<ConnState<S>>,
    core: CoreRef<S>,
    /// Its index in the live table (`u32`: with the flags below it fills one word).
    slot: AtomicU32,
    refused: AtomicBool,
    closed: AtomicBool,
    timed_out: AtomicBool,
    deadline: AtomicU64,
    /// When the pending run was queued ([`clock::ns`]; 0: none pending), for the queue delay.
    queued_at: AtomicU64,
    /// The connection's number since the module was loaded, for the trace events.
    id: u64,
    /// When it was accepted ([`clock::ns`]), for the `conn_close` event.
    opened_at: u64,
}

impl_has_work! {
    impl{S: Session} HasWork<Conn<S>> for Conn<S> { self.work }
}

impl<S: Session> Conn<S> {
    /// An idle connection costs its socket and this, no more: checked at build time for each
    /// session type. Its state (the session, or the lingering close it turns into) takes at
    /// most 32 bytes: the buffers and the exchange in flight live in pooled buffers. Where
    /// locks carry no debugging state (the perf kernel), the allocation (the `Arc`'s count, a
    /// `refcount_t` padded to the alignment, and the connection) fits one 256-byte kmalloc
    /// object.
    const SMALL: () = {
        assert!(core::mem::size_of::<ConnState<S>>() <= 32);
        #[cfg(not(any(
            CONFIG_LOCKDEP,
            CONFIG_DEBUG_LOCK_ALLOC,
            CONFIG_DEBUG_MUTEXES,
            CONFIG_DEBUG_SPINLOCK
        )))]
        assert!(core::mem::size_of::<Self>() + core::mem::align_of::<Self>() <= 256);
    };

    fn new(stream: Stream, core: CoreRef<S>, id: u64) -> impl PinInit<Self, Error> {
        // Evaluated (at build time) for every session type that makes connections.
        let () = Self::SMALL;
        let session = S::new(&core.shared);
        try_pin_init!(Self {
            work <- new_work!("ktcp::Conn::work"),
            socket <- WatchedStream::new(stream),
            state <- new_mutex!(ConnState::Open(session)),
            core,
            slot: AtomicU32::new(0),
            refused: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            timed_out: AtomicBool::new(false),
            deadline: AtomicU64::new(NEVER),
            queued_at: AtomicU64::new(0),
            id,
            opened_at: clock::ns(),
        })
    }

    fn stream(&self) -> &Stream {
        self.socket.stream()
    }

    /// Queues a run of the work item (a no-op if one is already queued, or at unload).
    fn schedule(self: &Arc<Self>) {
        // The first of the wake-ups before a run starts sets the time; the run takes it.
        if self.queued_at.load(Ordering::Relaxed) == 0 {
            let _ = self.queued_at.compare_exchange(
                0,
                clock::ns(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        self.core.queue.enqueue(self.clone());
    }

    /// Closes the connection once; later calls do nothing. Whether this call closed it.
    fn close(self: &Arc<Self>) -> bool {
        if self.closed.swap(true, Ordering::AcqRel) {
            return false;
        }
        // The registration's reference goes here; the caller still holds one.
        drop(self.socket.unwatch());
        // Before the shutdown, while the peer's address can still be read.
        trace::conn_close(
            self.id,
            self.stream(),
            clock::ns().saturating_sub(self.opened_at),
        );
        self.stream().shutdown();
        self.core.remove(self);
        self.core.stats.active.fetch_sub(1, Ordering::Relaxed);
        bump(&self.core.stats.closed);
        true
    }
}

impl<S: Session> Wake for Conn<S> {
    fn wake(this: ArcBorrow<'_, Self>) {
        Arc::from(this).schedule();
    }
}

impl<S: Session> WorkItem for Conn<S> {
    type Pointer = Arc<Conn<S>>;

    fn run(this: Arc<Conn<S>>) {
        // At unload every connection is about to be closed: serving more only slows the
        // closing down (each run would feed clients that keep the CPUs busy).
        if this.closed.load(Ordering::Acquire) || this.core.stopping.load(Ordering::Acquire) {
            return;
        }
        this.core.latency.record_since(
            Metric::QueueDelay,
            this.queued_at.swap(0, Ordering::Relaxed),
        );
        let step = {
            let mut state = this.state.lock();
            let timed_out = this.timed_out.swap(false, Ordering::Relaxed)
                && this.deadline.load(Ordering::Relaxed) <= clock::now();
            state.step(this.stream(), &this.core, timed_out)
        };
        match step {
            Step::Wait(deadline) => this.deadline.store(deadline, Ordering::Relaxed),
            Step::Yield => {
                // Progress was made: no deadline runs while there is more to do at once.
                this.deadline.store(NEVER, Ordering::Relaxed);
                this.schedule();
            }
            Step::Close | Step::Linger => {
                this.close();
            }
        }
    }
}
