// SPDX-License-Identifier: GPL-2.0

//! The echo protocol: every byte received is sent back, in order, until the peer closes or
//! stays silent for `idle_timeout`.

use crate::{
    clock::{self, Deadline, NEVER},
    conn::{Session, Step},
    net::Stream,
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::c_str;
use kernel::{prelude::*, str::CStr};

/// Bytes read per `recv`; the buffer exists only while the connection has data in flight.
const BUF_SIZE: usize = 16 * 1024;
/// Bytes echoed per run before the work item yields to other connections.
const BUDGET: usize = 256 * 1024;
/// A blocked send is retried this often even without a write-space wake-up: when the send
/// failed for lack of memory with nothing in flight, no ACK will ever announce space. A
/// buffer that could not be allocated is retried as often.
const RETRY_MS: u32 = 1000;

/// What all echo connections share: the idle timeout and the counters.
pub(crate) struct EchoShared {
    /// A connection that moves no byte for this long is closed (0: never).
    idle_ms: u32,
    /// Bytes echoed back.
    bytes: AtomicU64,
    /// Connections closed on a socket error (reset, ...) rather than a clean EOF.
    errors: AtomicU64,
}

impl EchoShared {
    /// Shared state closing connections idle for `idle_ms` (0: never).
    pub(crate) fn new(idle_ms: u32) -> Self {
        Self {
            idle_ms,
            bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }
}

/// One echo connection: bytes received but not yet sent back.
pub(crate) struct Echo {
    /// Allocated while data is in flight, dropped when the connection goes idle.
    buf: Option<KVec<u8>>,
    len: usize,
    sent: usize,
    /// When the connection counts as idle unless a byte moves before.
    idle_until: Deadline,
}

impl Echo {
    /// Sends what is pending; `Some(step)` when the run must end here.
    fn flush(&mut self, stream: &Stream, shared: &EchoShared) -> Option<Step> {
        let buf = self.buf.as_ref()?;
        while let Some(rest) = buf.get(self.sent..self.len).filter(|rest| !rest.is_empty()) {
            match stream.send(rest, false) {
                Ok(n) => {
                    self.sent += n;
                    self.idle_until = clock::after_ms(shared.idle_ms);
                    shared.bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) if e == EAGAIN => {
                    let retry = clock::after_ms(RETRY_MS);
                    return Some(Step::Wait(retry.min(self.idle_until)));
                }
                Err(_) => return Some(fail(shared)),
            }
        }
        None
    }

    /// Receives the next chunk, allocating the buffer if the connection was idle.
    fn fill(&mut self, stream: &Stream) -> Result<usize> {
        self.len = 0;
        self.sent = 0;
        let buf = match &mut self.buf {
            Some(buf) => buf,
            buf @ None => buf.insert(KVec::from_elem(0, BUF_SIZE, GFP_KERNEL)?),
        };
        let n = stream.recv(buf.as_mut_slice())?;
        self.len = n;
        Ok(n)
    }
}

fn fail(shared: &EchoShared) -> Step {
    shared.errors.fetch_add(1, Ordering::Relaxed);
    Step::Close
}

impl Session for Echo {
    type Shared = EchoShared;

    fn new(shared: &EchoShared) -> Self {
        Self {
            buf: None,
            len: 0,
            sent: 0,
            idle_until: clock::after_ms(shared.idle_ms),
        }
    }

    fn on_ready(&mut self, stream: &Stream, shared: &EchoShared) -> Step {
        let mut budget = BUDGET;
        loop {
            if let Some(step) = self.flush(stream, shared) {
                return step;
            }
            if budget == 0 {
                return Step::Yield;
            }
            match self.fill(stream) {
                Ok(0) => return Step::Close,
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    self.idle_until = clock::after_ms(shared.idle_ms);
                }
                Err(e) if e == EAGAIN => {
                    // Idle: hold no buffer while waiting.
                    self.buf = None;
                    return Step::Wait(self.idle_until);
                }
                Err(e) if e == ENOMEM => {
                    // No memory for the buffer now: the input waits in the socket; try again
                    // soon rather than drop the client (whose reset could be lost too, for
                    // the same lack of memory, and leave it waiting for good).
                    return Step::Wait(clock::after_ms(RETRY_MS).min(self.idle_until));
                }
                Err(_) => return fail(shared),
            }
        }
    }

    fn on_timeout(&mut self, stream: &Stream, shared: &EchoShared) -> Step {
        if self.idle_until != NEVER && clock::now() >= self.idle_until {
            // Nothing moved for `idle_timeout`: a silent or vanished peer.
            return Step::Close;
        }
        // A blocked send's retry time: try again.
        self.on_ready(stream, shared)
    }

    fn refuse(_stream: &Stream, _shared: &EchoShared) {}

    fn counters<'a>(shared: &'a EchoShared, add: &mut dyn FnMut(&'static CStr, &'a AtomicU64)) {
        add(c_str!("bytes"), &shared.bytes);
        add(c_str!("errors"), &shared.errors);
    }
}
