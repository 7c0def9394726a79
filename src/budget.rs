// SPDX-License-Identifier: GPL-2.0

//! A global budget for the memory connections hold while a request is in flight.
//!
//! Each buffer is paid for with a [`Reservation`] taken before it is allocated and returned
//! when the reservation drops, so the total held by all connections never exceeds the limit:
//! past it a request is refused (`503`), never an allocation failure or an OOM.

use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::{prelude::*, sync::Arc};

/// The budget: bytes reserved now, and the limit.
pub(crate) struct BufferBudget {
    used: AtomicUsize,
    limit: usize,
}

impl BufferBudget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: usize) -> Result<Arc<Self>> {
        Ok(Arc::new(
            Self {
                used: AtomicUsize::new(0),
                limit,
            },
            GFP_KERNEL,
        )?)
    }

    /// Reserves `bytes`, or `None` if that would exceed the limit.
    pub(crate) fn reserve(self: &Arc<Self>, bytes: usize) -> Option<Reservation> {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .ok()?;
        Some(Reservation {
            budget: self.clone(),
            bytes,
        })
    }
}

/// Bytes taken from a [`BufferBudget`], given back on drop.
pub(crate) struct Reservation {
    budget: Arc<BufferBudget>,
    bytes: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}
