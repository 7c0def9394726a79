// SPDX-License-Identifier: GPL-2.0

//! Time for deadlines (jiffies), for latencies (nanoseconds of this CPU's clock) and for HTTP
//! dates (wall-clock seconds); and which CPU this is, for per-CPU statistics.

use crate::helpers::{
    ktcp_cpu_id, ktcp_jiffies64, ktcp_jiffies_to_msecs, ktcp_local_clock, ktcp_msecs_to_jiffies,
    ktcp_nr_cpu_ids,
};
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

/// Nanoseconds of `local_clock()`: fast, comparable across CPUs within a few microseconds;
/// never 0 once the system is up (0 means "no time taken" to callers).
pub(crate) fn ns() -> u64 {
    // SAFETY: reads the scheduler clock; no preconditions.
    unsafe { ktcp_local_clock() }.max(1)
}

/// The CPU running the caller (may change right after, unless preemption is off).
pub(crate) fn this_cpu() -> usize {
    // SAFETY: reads the current CPU number; no preconditions.
    unsafe { ktcp_cpu_id() as usize }
}

/// How many CPU numbers there can be (`nr_cpu_ids`).
pub(crate) fn possible_cpus() -> usize {
    // SAFETY: reads a variable fixed at boot; no preconditions.
    unsafe { ktcp_nr_cpu_ids() as usize }
}

/// Seconds since the Unix epoch (wall clock).
#[allow(dead_code)] // Used by khttpd_rs only.
pub(crate) fn unix_secs() -> u64 {
    // SAFETY: reads the wall clock; no preconditions.
    let secs = unsafe { bindings::ktime_get_real_seconds() };
    u64::try_from(secs).unwrap_or(0)
}
