// SPDX-License-Identifier: GPL-2.0

//! The echo protocol: every byte received is sent back, in order, until the peer closes or
//! stays silent for `idle_timeout`.

use crate::{
    clock::{self, Deadline, NEVER},
    conn::{Session, Step},
    latency::{Latency, Metric},
    net::Stream,
    params::Tunable,
    pool::Pool,
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::c_str;
use kernel::{prelude::*, str::CStr, sync::Arc};

/// Bytes read per `recv`; the buffer exists only while the connection has data in flight.
/// The itest `kecho/nodelay_round_trips` relies on 20,000 bytes taking two sends: raise this
/// past that and raise the test's message with it, or the test no longer sees Nagle.
const BUF_SIZE: usize = 16 * 1024;
/// Bytes echoed per run before the work item yields to other connections.
const BUDGET: usize = 256 * 1024;
/// A blocked send is retried this often even without a write-space wake-up: when the send
/// failed for lack of memory with nothing in flight, no ACK will ever announce space. A
/// buffer that could not be allocated is retried as often.
const RETRY_MS: u32 = 1000;
/// Idle buffers kept for the next busy connection (16 KiB each).
const POOL_BUFFERS: usize = 64;

/// What all echo connections share: the idle timeout and the counters.
pub(crate) struct EchoShared {
    /// A connection that moves no byte for this many seconds is closed (0: never; writable
    /// at run time).
    idle: Tunable,
    /// Bytes echoed back.
    bytes: AtomicU64,
    /// Connections closed on a socket error (reset, ...) rather than a clean EOF.
    errors: AtomicU64,
    /// Buffers of connections that went idle, for the next busy one.
    pool: Arc<Pool<KBox<Chunk>>>,
}

impl EchoShared {
    /// Shared state closing connections idle for `idle` seconds (0: never).
    pub(crate) fn new(idle: Tunable) -> Result<Self> {
        Ok(Self {
            idle,
            bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            pool: Pool::new(POOL_BUFFERS)?,
        })
    }
}

/// The chunk being echoed: `data[sent..len]` is still to be sent back. Pooled between uses;
/// only `data[..len]`, just received, is ever read, never what a pooled buffer held before.
struct Chunk {
    data: KVec<u8>,
    len: usize,
    sent: usize,
    /// When it was received, until it is all queued (0: none).
    received_at: u64,
}

impl Chunk {
    fn new() -> Result<KBox<Self>> {
        Ok(KBox::new(
            Self {
                data: KVec::from_elem(0, BUF_SIZE, GFP_KERNEL)?,
                len: 0,
                sent: 0,
                received_at: 0,
            },
            GFP_KERNEL,
        )?)
    }
}

/// One echo connection: bytes received but not yet sent back. An idle one holds no buffer,
/// so that it costs little more than its socket.
pub(crate) struct Echo {
    /// Held while data is in flight, back to the pool when the connection goes idle.
    buf: Option<KBox<Chunk>>,
    /// When the connection counts as idle unless a byte moves before.
    idle_until: Deadline,
    /// When the connection was accepted, until its first byte is sent ([`clock::ns`]; 0 after).
    accepted_at: u64,
}

impl Echo {
    /// Sends what is pending; `Some(step)` when the run must end here.
    fn flush(&mut self, stream: &Stream, shared: &EchoShared, lat: &Latency) -> Option<Step> {
        let buf = self.buf.as_mut()?;
        while let Some(rest) = buf
            .data
            .get(buf.sent..buf.len)
            .filter(|rest| !rest.is_empty())
        {
            match stream.send(rest, false) {
                Ok(n) => {
                    buf.sent += n;
                    self.idle_until = clock::after_ms(shared.idle.secs_as_ms());
                    shared.bytes.fetch_add(n as u64, Ordering::Relaxed);
                    lat.record_since(Metric::FirstByte, core::mem::take(&mut self.accepted_at));
                }
                Err(e) if e == EAGAIN => {
                    let retry = clock::after_ms(RETRY_MS);
                    return Some(Step::Wait(retry.min(self.idle_until)));
                }
                Err(_) => return Some(fail(shared)),
            }
        }
        lat.record_since(Metric::Service, core::mem::take(&mut buf.received_at));
        None
    }

    /// Receives the next chunk, taking a buffer (pooled, else new) if the connection was idle.
    /// Only `buf[..len]`, just received, is ever read: what a pooled buffer held before is not.
    fn fill(&mut self, stream: &Stream, shared: &EchoShared) -> Result<usize> {
        // Nothing to read: no receive that finds nothing, no buffer taken for it.
        if !stream.input_pending() {
            return Err(EAGAIN);
        }
        let buf = match &mut self.buf {
            Some(buf) => buf,
            buf @ None => buf.insert(match shared.pool.take() {
                Some(pooled) => pooled,
                None => Chunk::new()?,
            }),
        };
        buf.len = 0;
        buf.sent = 0;
        let n = stream.recv(buf.data.as_mut_slice())?;
        buf.len = n;
        buf.received_at = clock::ns();
        Ok(n)
    }

    /// Gives the buffer back to the pool, if the connection holds one.
    fn release(&mut self, shared: &EchoShared) {
        if let Some(mut buf) = self.buf.take() {
            buf.len = 0;
            buf.sent = 0;
            buf.received_at = 0;
            shared.pool.put(buf);
        }
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
            idle_until: clock::after_ms(shared.idle.secs_as_ms()),
            accepted_at: clock::ns(),
        }
    }

    fn on_ready(&mut self, stream: &Stream, shared: &EchoShared, lat: &Latency) -> Step {
        let mut budget = BUDGET;
        loop {
            if let Some(step) = self.flush(stream, shared, lat) {
                return step;
            }
            if budget == 0 {
                return Step::Yield;
            }
            match self.fill(stream, shared) {
                Ok(0) => return Step::Close,
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    self.idle_until = clock::after_ms(shared.idle.secs_as_ms());
                }
                Err(e) if e == EAGAIN => {
                    // Idle: hold no buffer while waiting.
                    self.release(shared);
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

    fn on_timeout(&mut self, stream: &Stream, shared: &EchoShared, lat: &Latency) -> Step {
        if self.idle_until != NEVER && clock::now() >= self.idle_until {
            // Nothing moved for `idle_timeout`: a silent or vanished peer.
            return Step::Close;
        }
        // A blocked send's retry time: try again.
        self.on_ready(stream, shared, lat)
    }

    fn release_buffers(&mut self, shared: &EchoShared) {
        self.release(shared);
    }

    fn refuse(_stream: &Stream, _shared: &EchoShared) {}

    fn counters<'a>(shared: &'a EchoShared, add: &mut dyn FnMut(&'static CStr, &'a AtomicU64)) {
        add(c_str!("bytes"), &shared.bytes);
        add(c_str!("errors"), &shared.errors);
    }
}
