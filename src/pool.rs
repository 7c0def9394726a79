// SPDX-License-Identifier: GPL-2.0

//! A bounded pool of boxed buffers, so that a keep-alive request neither allocates nor zeroes.
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
    slots: KVec<Option<KBox<T>>>,
    len: usize,
}

/// Up to a fixed number of idle `KBox<T>`.
#[pin_data]
pub(crate) struct Pool<T: Send> {
    #[pin]
    stack: SpinLock<Stack<T>>,
}

impl<T: Send> Pool<T> {
    /// A pool that keeps at most `capacity` boxes (its slots are allocated now).
    pub(crate) fn new(capacity: usize) -> Result<Arc<Self>> {
        let mut slots = KVec::with_capacity(capacity, GFP_KERNEL)?;
        for _ in 0..capacity {
            slots.push(None, GFP_KERNEL)?;
        }
        Arc::pin_init(
            pin_init!(Self {
                stack <- new_spinlock!(Stack { slots, len: 0 }, "khttpd_rs buffer pool"),
            }),
            GFP_KERNEL,
        )
    }

    /// An idle box, if the pool has one.
    pub(crate) fn take(&self) -> Option<KBox<T>> {
        let mut stack = self.stack.lock();
        let top = stack.len.checked_sub(1)?;
        let taken = stack.slots.get_mut(top)?.take();
        stack.len = top;
        taken
    }

    /// Keeps `item` for the next [`Pool::take`]; frees it (outside the lock) when full.
    pub(crate) fn put(&self, item: KBox<T>) {
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
