// SPDX-License-Identifier: GPL-2.0

//! A workqueue the module owns: allocated at load, drained and destroyed at unload.
//!
//! Connections queue work from wake functions (softirq) at any time, so the queue is shared
//! (`Arc`) and shut down explicitly: after [`OwnedQueue::shut_down`] starts, no enqueue gets
//! through (the check and the `queue_work` run under RCU, and the shutdown waits for a grace
//! period), then `destroy_workqueue` drains what was queued before.

use crate::helpers::{ktcp_rcu_read_lock, ktcp_rcu_read_unlock};
use core::{
    ptr::NonNull,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::c_str;
use kernel::{
    bindings,
    prelude::*,
    str::CStr,
    sync::Arc,
    workqueue::{Queue, RawWorkItem},
};

/// An owned CMWQ workqueue.
///
/// # Invariants
///
/// `ptr` came from `alloc_workqueue`. While `live` is true it has not been destroyed; it is
/// destroyed only by [`OwnedQueue::shut_down`], after `live` turned false and an RCU grace
/// period passed, so an enqueue that saw `live` under `rcu_read_lock` has finished.
pub(crate) struct OwnedQueue {
    ptr: NonNull<bindings::workqueue_struct>,
    live: AtomicBool,
}

// SAFETY: workqueues are thread-safe; the handle may be shared and shut down from any process
// context.
unsafe impl Send for OwnedQueue {}
// SAFETY: queueing through `&OwnedQueue` is thread-safe (see the type invariant).
unsafe impl Sync for OwnedQueue {}

/// An RCU read-side critical section, ended on drop.
struct RcuReadGuard;

impl RcuReadGuard {
    fn new() -> Self {
        // SAFETY: no preconditions; balanced by `Drop` on the same CPU context.
        unsafe { ktcp_rcu_read_lock() };
        Self
    }
}

impl Drop for RcuReadGuard {
    fn drop(&mut self) {
        // SAFETY: ends the section `new` began.
        unsafe { ktcp_rcu_read_unlock() };
    }
}

impl OwnedQueue {
    /// Allocates a workqueue named `name`: unbound, or per-CPU bound when `bound` (kecho's
    /// `bench=1`, which keeps a connection's work on the CPU that queued it); its workers at
    /// nice -20 when `highpri` (a woken worker then preempts the task it interrupts instead
    /// of waiting out that task's slice).
    pub(crate) fn new(name: &CStr, bound: bool, highpri: bool) -> Result<Arc<Self>> {
        let placement = if bound {
            0
        } else {
            bindings::wq_flags_WQ_UNBOUND
        };
        let flags = if highpri {
            placement | bindings::wq_flags_WQ_HIGHPRI
        } else {
            placement
        };
        // SAFETY: the format string is "%s" with one valid C string argument; `max_active` 0
        // selects the default.
        let ptr = unsafe {
            bindings::alloc_workqueue(c_str!("%s").as_char_ptr(), flags, 0, name.as_char_ptr())
        };
        let Some(ptr) = NonNull::new(ptr) else {
            return Err(ENOMEM);
        };
        // INVARIANT: a fresh workqueue, live until `shut_down`.
        let queue = Self {
            ptr,
            live: AtomicBool::new(true),
        };
        // On failure `queue` drops here and destroys the workqueue (no work was queued).
        Ok(Arc::new(queue, GFP_KERNEL)?)
    }

    /// Queues `item` unless the queue is shutting down; false if it was not queued (already
    /// queued, or shutting down).
    pub(crate) fn enqueue<W>(&self, item: W) -> bool
    where
        W: RawWorkItem<0, EnqueueOutput = core::result::Result<(), W>> + Send + 'static,
    {
        let _rcu = RcuReadGuard::new();
        if !self.live.load(Ordering::Acquire) {
            return false;
        }
        // SAFETY: `live` was true inside this RCU read section, so by the type invariant the
        // workqueue is not destroyed before the section ends.
        let queue = unsafe { Queue::from_raw(self.ptr.as_ptr()) };
        queue.enqueue(item).is_ok()
    }

    /// Stops all queueing, then drains and destroys the workqueue. Call it from process
    /// context, never from a work item of this queue. Later calls do nothing.
    pub(crate) fn shut_down(&self) {
        if !self.live.swap(false, Ordering::AcqRel) {
            return;
        }
        // SAFETY: no preconditions; waits until every enqueue that saw `live` has finished.
        unsafe { bindings::synchronize_rcu() };
        // SAFETY: no enqueue can start any more (type invariant); this drains every queued
        // item (each of which runs to completion, and whose own re-queueing fails) and frees
        // the workqueue, exactly once (`live` was true only for this caller).
        unsafe { bindings::destroy_workqueue(self.ptr.as_ptr()) };
    }
}

impl Drop for OwnedQueue {
    fn drop(&mut self) {
        // The owner shuts the queue down at unload; this only catches a setup failure.
        self.shut_down();
    }
}
