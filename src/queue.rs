// SPDX-License-Identifier: GPL-2.0

//! A workqueue the module owns: allocated at load, drained and destroyed on drop.

use core::ptr::NonNull;
use kernel::c_str;
use kernel::{bindings, prelude::*, str::CStr};

/// An owned CMWQ workqueue.
///
/// # Invariants
///
/// `ptr` came from `alloc_workqueue` and is destroyed only by `Drop`.
pub(crate) struct OwnedQueue {
    ptr: NonNull<bindings::workqueue_struct>,
}

// SAFETY: workqueues are thread-safe; the handle may be dropped from any process context.
unsafe impl Send for OwnedQueue {}
// SAFETY: queueing work through `&OwnedQueue` is thread-safe.
unsafe impl Sync for OwnedQueue {}

impl OwnedQueue {
    /// Allocates a workqueue named `name`: unbound, or per-CPU bound when `bound` (kecho's
    /// `bench=1`, which keeps a connection's work on the CPU that queued it).
    pub(crate) fn new(name: &CStr, bound: bool) -> Result<Self> {
        let flags = if bound {
            0
        } else {
            bindings::wq_flags_WQ_UNBOUND
        };
        // SAFETY: the format string is "%s" with one valid C string argument; `max_active` 0
        // selects the default.
        let ptr = unsafe {
            bindings::alloc_workqueue(c_str!("%s").as_char_ptr(), flags, 0, name.as_char_ptr())
        };
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
        })
    }

    /// The raw pointer, for a core that queues on it while it lives.
    pub(crate) fn as_raw(&self) -> NonNull<bindings::workqueue_struct> {
        self.ptr
    }
}

impl Drop for OwnedQueue {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own the workqueue; this drains every queued item
        // (each of which then runs to completion) before freeing it.
        unsafe { bindings::destroy_workqueue(self.ptr.as_ptr()) };
    }
}
