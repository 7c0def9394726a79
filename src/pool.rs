// SPDX-License-Identifier: GPL-2.0

//! A bounded pool of buffers, so that a connection that turns busy again neither allocates nor
//! zeroes.
//!
//! A connection that goes idle gives its buffers back; the next connection with work takes
//! them as they are. The pool holds at most its capacity, fixed when it is made; what does
//! not fit is freed. Everything it holds is freed when the pool drops, with the server's
//! shared state, after the last connection.

use kernel::{
    new_spinlock,
    prelude::*,
    sync::{Arc, SpinLock},
};

/// The slots and how many of them are full.
struct Stack<T> {
    /// `slots[..len]` are `Some`, the rest `None`.
    // INVARIANT: `len <= slots.len()`, and `slots.len()` never changes after `Pool::new`.
    slots: KVec<Option<T>>,
    len: usize,
}

/// Up to a fixed number of idle `T` (owners of heap buffers: taking and giving one back moves
/// a pointer, never the buffer).
#[pin_data]
pub(crate) struct Pool<T: Send> {
    #[pin]
    stack: SpinLock<Stack<T>>,
}

impl<T: Send> Pool<T> {
    /// A pool that keeps at most `capacity` items (its slots are allocated now).
    pub(crate) fn new(capacity: usize) -> Result<Arc<Self>> {
        let mut slots = KVec::with_capacity(capacity, GFP_KERNEL)?;
        for _ in 0..capacity {
            slots.push(None, GFP_KERNEL)?;
        }
        Arc::pin_init(
            pin_init!(Self {
                stack <- new_spinlock!(Stack { slots, len: 0 }, "ktcp buffer pool"),
            }),
            GFP_KERNEL,
        )
    }

    /// An idle item, if the pool has one.
    pub(crate) fn take(&self) -> Option<T> {
        let mut stack = self.stack.lock();
        let top = stack.len.checked_sub(1)?;
        let taken = stack.slots.get_mut(top)?.take();
        stack.len = top;
        taken
    }

    /// Keeps `item` for the next [`Pool::take`]; frees it (outside the lock) when full.
    pub(crate) fn put(&self, item: T) {
        let mut rejected = Some(item);
        {
            let mut stack = self.stack.lock();
            let len = stack.len;
            if let Some(slot) = stack.slots.get_mut(len) {
                *slot = rejected.take();
                stack.len = len + 1;
            }
        }
        drop(rejected);
    }
}
