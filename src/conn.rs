// SPDX-License-Identifier: GPL-2.0

//! The connection core shared by both modules: readiness-driven work items.
//!
//! Each accepted socket becomes a [`Conn`]: an `Arc` holding the stream, the protocol's
//! [`Session`] state and a work item. A wait-queue entry on the socket's own wait queue (the
//! one epoll is woken through) queues that work item on every readiness change: data, write
//! space, FIN, reset. The work item runs the session, which does non-blocking I/O until the
//! socket has nothing more (`Step::Wait`) or its budget is spent (`Step::Yield`). No work item
//! ever sleeps on a client, so a handful of kworkers serve any number of connections.
//!
//! Closing (by the session, a timeout, or unload) happens once: unhook the wait entry (after
//! `remove_wait_queue` returns no wake-up can run or start), shut the socket down, drop the
//! connection from the live table. The socket itself is released when the last `Arc` goes,
//! i.e. after any queued run of the work item has seen `closed` and returned.

use crate::{
    clock::{self, Deadline},
    net::Stream,
};
use core::{
    ffi::{c_int, c_uint, c_void},
    ptr::NonNull,
    sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
};
use kernel::{
    bindings, new_mutex,
    prelude::*,
    str::CStr,
    sync::{Arc, ArcBorrow, Mutex},
    types::Opaque,
    workqueue::{impl_has_work, new_work, Queue, Work, WorkItem},
};

extern "C" {
    fn ktcp_init_wait_entry(
        entry: *mut bindings::wait_queue_entry,
        func: bindings::wait_queue_func_t,
    );
}

/// What a session asks of the core after a run.
pub(crate) enum Step {
    /// Nothing more to do until the socket is ready again, or until the deadline passes.
    Wait(Deadline),
    /// The budget for this run is spent but there is more to do: run again soon.
    Yield,
    /// Close the connection.
    Close,
}

/// A protocol served on connections: kecho's echo, khttpd's HTTP.
pub(crate) trait Session: Sized + Send + 'static {
    /// State shared by every connection of a server: configuration and counters.
    type Shared: Send + Sync + 'static;

    /// State for a new connection; kept small, since idle connections hold only this.
    fn new(shared: &Self::Shared) -> Self;

    /// Makes progress with non-blocking I/O on `stream`.
    fn on_ready(&mut self, stream: &Stream, shared: &Self::Shared) -> Step;

    /// The deadline of the last `Step::Wait` passed: retry, or say goodbye and `Close`.
    fn on_timeout(&mut self, stream: &Stream, shared: &Self::Shared) -> Step;

    /// A client over `max_connections`: say so if the protocol can, before it is closed.
    fn refuse(stream: &Stream, shared: &Self::Shared);

    /// Lists the protocol's own counters, for the debugfs directory.
    fn counters<'a>(shared: &'a Self::Shared, add: &mut dyn FnMut(&'static CStr, &'a AtomicU64));
}

/// Connection counters; `accepted == closed + active` at every quiescent point.
#[derive(Default)]
pub(crate) struct Stats {
    /// Connections accepted.
    pub(crate) accepted: AtomicU64,
    /// Connections open now.
    pub(crate) active: AtomicU64,
    /// Connections closed (including refused ones).
    pub(crate) closed: AtomicU64,
    /// Connections refused at `max_connections` or for lack of memory.
    pub(crate) refused: AtomicU64,
    /// Connections closed by a timeout.
    pub(crate) timeouts: AtomicU64,
}

/// A workqueue pointer the core may queue on.
///
/// # Invariants
///
/// The workqueue outlives every [`Conn`]: the owner destroys it only after [`Core::close_all`],
/// and destroying drains the queued runs, after which no connection can queue again.
struct QueuePtr(NonNull<bindings::workqueue_struct>);

// SAFETY: queueing on a workqueue is thread-safe.
unsafe impl Send for QueuePtr {}
// SAFETY: queueing on a workqueue is thread-safe.
unsafe impl Sync for QueuePtr {}

/// A slot of the live-connection table.
enum Slot<S: Session> {
    Used(Arc<Conn<S>>),
    /// Free, with the index of the next free slot (`NONE` ends the list).
    Free(usize),
}

/// End of the free list.
const NONE: usize = usize::MAX;

/// The live connections of a server, each in a numbered slot for O(1) insert and removal.
struct Table<S: Session> {
    slots: KVVec<Slot<S>>,
    free_head: usize,
    live: usize,
    closing: bool,
}

impl<S: Session> Table<S> {
    fn insert(&mut self, conn: &Arc<Conn<S>>) -> Result<usize> {
        let index = self.free_head;
        if let Some(slot) = self.slots.get_mut(index) {
            if let Slot::Free(next) = *slot {
                self.free_head = next;
                *slot = Slot::Used(conn.clone());
                return Ok(index);
            }
        }
        let index = self.slots.len();
        self.slots.push(Slot::Used(conn.clone()), GFP_KERNEL)?;
        Ok(index)
    }

    fn remove(&mut self, index: usize, conn: &Arc<Conn<S>>) -> Option<Arc<Conn<S>>> {
        let slot = self.slots.get_mut(index)?;
        match slot {
            Slot::Used(c) if Arc::ptr_eq(c, conn) => {}
            _ => return None,
        }
        let Slot::Used(removed) = core::mem::replace(slot, Slot::Free(self.free_head)) else {
            return None;
        };
        self.free_head = index;
        Some(removed)
    }
}

/// What is shared by a server's accept thread and all its connections.
#[pin_data]
pub(crate) struct Core<S: Session> {
    queue: QueuePtr,
    #[pin]
    table: Mutex<Table<S>>,
    max_connections: usize,
    /// Connection counters.
    pub(crate) stats: Stats,
    /// The protocol's shared state.
    pub(crate) shared: S::Shared,
}

impl<S: Session> Core<S> {
    /// The core of a server queueing on `queue`, which must outlive it as [`QueuePtr`] says.
    pub(crate) fn new(
        queue: NonNull<bindings::workqueue_struct>,
        max_connections: usize,
        shared: S::Shared,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            queue: QueuePtr(queue),
            table <- new_mutex!(Table { slots: KVVec::new(), free_head: NONE, live: 0, closing: false }),
            max_connections,
            stats: Stats::default(),
            shared,
        })
    }

    fn queue(&self) -> &Queue {
        // SAFETY: by the `QueuePtr` invariant the workqueue is alive while connections are.
        unsafe { Queue::from_raw(self.queue.0.as_ptr()) }
    }

    /// Takes a freshly accepted stream: registers it and starts its work item, or refuses it.
    pub(crate) fn admit(self: &Arc<Self>, stream: Stream) {
        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
        let conn = match Arc::pin_init(Conn::new(stream, self.clone()), GFP_KERNEL) {
            Ok(conn) => conn,
            Err(_) => {
                // The stream was dropped (released) with the failed initialiser.
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                self.stats.closed.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        if self.insert(&conn).is_err() {
            S::refuse(&conn.stream, &self.shared);
            conn.stream.shutdown();
            self.stats.refused.fetch_add(1, Ordering::Relaxed);
            self.stats.closed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.stats.active.fetch_add(1, Ordering::Relaxed);
        conn.hook();
        conn.schedule();
    }

    fn insert(&self, conn: &Arc<Conn<S>>) -> Result {
        let mut table = self.table.lock();
        if table.closing || table.live >= self.max_connections {
            return Err(EBUSY);
        }
        let index = table.insert(conn)?;
        conn.slot.store(index, Ordering::Relaxed);
        table.live += 1;
        Ok(())
    }

    fn remove(&self, conn: &Arc<Conn<S>>) {
        let mut table = self.table.lock();
        let removed = table.remove(conn.slot.load(Ordering::Relaxed), conn);
        if removed.is_some() {
            table.live = table.live.saturating_sub(1);
        }
        drop(table);
        // The table's reference goes after the lock: it is never the last (the caller has one).
        drop(removed);
    }

    /// Queues a timeout run for every connection whose deadline has passed.
    pub(crate) fn sweep(&self) {
        let now = clock::now();
        let table = self.table.lock();
        for slot in table.slots.iter() {
            let Slot::Used(conn) = slot else { continue };
            if conn.deadline.load(Ordering::Relaxed) <= now {
                conn.timed_out.store(true, Ordering::Relaxed);
                conn.schedule();
            }
        }
    }

    /// Refuses new connections and closes every live one. Their queued runs, if any, finish
    /// when the owner destroys the workqueue.
    pub(crate) fn close_all(&self) {
        let slots = {
            let mut table = self.table.lock();
            table.closing = true;
            table.live = 0;
            table.free_head = NONE;
            core::mem::replace(&mut table.slots, KVVec::new())
        };
        for slot in slots {
            if let Slot::Used(conn) = slot {
                conn.close();
            }
        }
    }
}

/// One client connection.
#[pin_data]
pub(crate) struct Conn<S: Session> {
    #[pin]
    work: Work<Conn<S>>,
    #[pin]
    hook: Opaque<bindings::wait_queue_entry>,
    #[pin]
    session: Mutex<S>,
    stream: Stream,
    core: Arc<Core<S>>,
    slot: AtomicUsize,
    hooked: AtomicBool,
    closed: AtomicBool,
    timed_out: AtomicBool,
    deadline: AtomicU64,
}

// SAFETY: the wait entry is only touched by `add_wait_queue`/`remove_wait_queue` and the wake
// function, all under the socket wait-queue lock; every other field is `Send` and `Sync`
// (atomics, a mutex, a socket whose operations the socket layer serialises).
unsafe impl<S: Session> Send for Conn<S> {}
// SAFETY: see `Send` above.
unsafe impl<S: Session> Sync for Conn<S> {}

impl_has_work! {
    impl{S: Session} HasWork<Conn<S>> for Conn<S> { self.work }
}

impl<S: Session> Conn<S> {
    fn new(stream: Stream, core: Arc<Core<S>>) -> impl PinInit<Self, Error> {
        let session = S::new(&core.shared);
        try_pin_init!(Self {
            work <- new_work!("ktcp::Conn::work"),
            // SAFETY: `ktcp_init_wait_entry` fully initialises the entry it is given.
            hook <- Opaque::ffi_init(|entry| unsafe { ktcp_init_wait_entry(entry, Some(wake::<S>)) }),
            session <- new_mutex!(session),
            stream,
            core,
            slot: AtomicUsize::new(0),
            hooked: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            timed_out: AtomicBool::new(false),
            deadline: AtomicU64::new(clock::NEVER),
        })
    }

    /// Registers the wait entry on the socket; the registration owns one reference.
    fn hook(self: &Arc<Self>) {
        // `unhook` rebuilds this reference from `&**self`, the same pointer.
        let _registration = Arc::into_raw(self.clone());
        // SAFETY: the entry is initialised and pinned inside the `Arc`, which the registration
        // reference keeps alive until `unhook` removes the entry; the wait head belongs to our
        // stream, which lives as long.
        unsafe { bindings::add_wait_queue(self.stream.wait_head(), self.hook.get()) };
        self.hooked.store(true, Ordering::Release);
    }

    /// Removes the wait entry; afterwards no wake-up runs or starts for this connection.
    fn unhook(self: &Arc<Self>) {
        if !self.hooked.swap(false, Ordering::AcqRel) {
            return;
        }
        // SAFETY: the entry was added by `hook` to this stream's wait head.
        unsafe { bindings::remove_wait_queue(self.stream.wait_head(), self.hook.get()) };
        // SAFETY: `hook` leaked exactly this reference with `Arc::into_raw`; with the entry off
        // the queue nothing uses it any more. The caller still holds another reference.
        drop(unsafe { Arc::from_raw(&**self as *const Self) });
    }

    /// Queues a run of the work item (a no-op if one is already queued).
    fn schedule(self: &Arc<Self>) {
        // An `Err` only hands back our extra reference: a run is already queued.
        let _ = self.core.queue().enqueue(self.clone());
    }

    /// Closes the connection once; later calls do nothing.
    fn close(self: &Arc<Self>) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.unhook();
        self.stream.shutdown();
        self.core.remove(self);
        self.core.stats.active.fetch_sub(1, Ordering::Relaxed);
        self.core.stats.closed.fetch_add(1, Ordering::Relaxed);
    }
}

impl<S: Session> WorkItem for Conn<S> {
    type Pointer = Arc<Conn<S>>;

    fn run(this: Arc<Conn<S>>) {
        if this.closed.load(Ordering::Acquire) {
            return;
        }
        let shared = &this.core.shared;
        let step = {
            let mut session = this.session.lock();
            let expired = this.deadline.load(Ordering::Relaxed) <= clock::now();
            if this.timed_out.swap(false, Ordering::Relaxed) && expired {
                let step = session.on_timeout(&this.stream, shared);
                if matches!(step, Step::Close) {
                    this.core.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                }
                step
            } else {
                session.on_ready(&this.stream, shared)
            }
        };
        match step {
            Step::Wait(deadline) => this.deadline.store(deadline, Ordering::Relaxed),
            Step::Yield => this.schedule(),
            Step::Close => this.close(),
        }
    }
}

/// The wake function of a connection's wait entry: runs under the socket's wait-queue lock,
/// possibly in softirq context, on every readiness change. It only queues the work item.
unsafe extern "C" fn wake<S: Session>(
    entry: *mut bindings::wait_queue_entry,
    _mode: c_uint,
    _flags: c_int,
    _key: *mut c_void,
) -> c_int {
    // SAFETY: `entry` is the `hook` field of a `Conn<S>` (`Opaque` is transparent), registered
    // by `hook`, whose leaked reference keeps the `Arc` alive until `unhook` removes the entry;
    // `remove_wait_queue` takes the lock we are called under, so that cannot happen meanwhile.
    let conn = unsafe { ArcBorrow::from_raw(kernel::container_of!(entry, Conn<S>, hook)) };
    Arc::from(conn).schedule();
    0
}
