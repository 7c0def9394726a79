// SPDX-License-Identifier: GPL-2.0

//! Time for deadlines (jiffies) and for HTTP dates (wall-clock seconds).

use crate::helpers::{ktcp_jiffies64, ktcp_jiffies_to_msecs, ktcp_msecs_to_jiffies};
use kernel::bindings;

/// A point in time in jiffies; `NEVER` is no deadline.
pub(crate) type Deadline = u64;

/// The deadline that never passes.
pub(crate) const NEVER: Deadline = u64::MAX;

/// The current time in jiffies.
pub(crate) fn now() -> Deadline {
    // SAFETY: reads the jiffies counter; no preconditions.
    unsafe { ktcp_jiffies64() }
}

/// `ms` milliseconds from now (`NEVER` for 0, meaning "no timeout").
pub(crate) fn after_ms(ms: u32) -> Deadline {
    if ms == 0 {
        return NEVER;
    }
    // SAFETY: pure conversion; no preconditions.
    let delta = unsafe { ktcp_msecs_to_jiffies(ms) };
    now().saturating_add(delta as u64)
}

/// Jiffies in `ms` milliseconds.
pub(crate) fn ms_to_jiffies(ms: u32) -> usize {
    // SAFETY: pure conversion; no preconditions.
    unsafe { ktcp_msecs_to_jiffies(ms) as usize }
}

/// Milliseconds in `jiffies`.
pub(crate) fn jiffies_to_ms(jiffies: u64) -> u64 {
    // SAFETY: pure conversion; no preconditions.
    u64::from(unsafe { ktcp_jiffies_to_msecs(jiffies as kernel::ffi::c_ulong) })
}

/// Seconds since the Unix epoch (wall clock).
#[allow(dead_code)] // Used by khttpd_rs only.
pub(crate) fn unix_secs() -> u64 {
    // SAFETY: reads the wall clock; no preconditions.
    let secs = unsafe { bindings::ktime_get_real_seconds() };
    u64::try_from(secs).unwrap_or(0)
}
