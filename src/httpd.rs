// SPDX-License-Identifier: GPL-2.0

//! khttpd's connection session: reads requests, answers them in order, keeps the connection.
//!
//! One run of the work item loops: send what is pending (a response, streamed from its file),
//! then answer the next buffered request, then read more; it stops when the socket has nothing
//! more (`Step::Wait`), or the budget is spent (`Step::Yield`). A request is answered only once
//! the previous response is fully queued, so pipelined answers keep their order and memory
//! stays bounded. An idle keep-alive connection holds no buffer: it gives them back to the
//! server's [`Pool`], from which the next busy connection takes them without allocating or
//! zeroing; the buffers of a busy one are paid for from the server's [`BufferBudget`].

use crate::{
    budget::{BufferBudget, Reservation},
    clock::{self, Deadline, NEVER},
    conn::{Session, Step},
    http_trace::RequestNote,
    latency::{Latency, Metric},
    net::Stream,
    params::Tunable,
    pool::Pool,
    proto::{
        date::DateCache,
        head::HeadParser,
        http::{Limits, Parsed},
        status::Status,
    },
    respond::{self, Docroot, NAME_CAP},
    send_queue::{Flushed, Moved, SendQueue, SEND_BUF_CAP},
    tls::TlsCounters,
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{c_str, prelude::*, str::CStr, sync::Arc};

/// Bytes moved per run before the work item yields to other connections.
const BUDGET: usize = 256 * 1024;
/// Requests answered per run before the work item yields (a run of pipelined `HEAD`s or
/// listings moves few bytes but can cost much).
const REQUESTS_PER_RUN: usize = 32;
/// A blocked send is retried this often even without a write-space wake-up: when it failed
/// for lack of memory with nothing in flight, no ACK will ever announce space.
const RETRY_MS: u32 = 1000;
/// How long a connection whose buffers cannot be allocated retries before it is refused.
const ALLOC_RETRY_MS: u32 = 5000;
/// Idle buffers kept for the next busy connection (52 KiB each), beyond the budget.
pub(crate) const POOL_BUFFERS: usize = 32;
/// What the buffers of one busy connection cost against the budget.
pub(crate) const CONN_BUFFERS_BYTES: usize =
    Limits::DEFAULT.max_head + SEND_BUF_CAP + NAME_CAP + core::mem::size_of::<ConnBuffers>();

/// Counters of the HTTP side, in debugfs next to the connection counters.
#[derive(Default)]
pub(crate) struct HttpCounters {
    requests: AtomicU64,
    responses_2xx: AtomicU64,
    responses_3xx: AtomicU64,
    responses_4xx: AtomicU64,
    responses_5xx: AtomicU64,
    bytes_sent: AtomicU64,
    /// Of `bytes_sent`, the file bytes sent by reference, without a copy.
    bytes_spliced: AtomicU64,
    /// Runs of a blocked send started by the `RETRY_MS` poll, not by a write-space wake-up
    /// (about one a second per connection whose client does not read).
    send_polls: AtomicU64,
    /// Of those, the polls after which bytes moved: the socket had room and no wake-up had
    /// said so (the one the poll is there for: a send that failed for lack of memory).
    send_polls_moved: AtomicU64,
    /// Connection buffers allocated because the pool had none (each one zeroed, 52 KiB).
    buffer_allocs: AtomicU64,
    errors: AtomicU64,
}

impl HttpCounters {
    fn count(&self, status: Status) {
        let class = match status.code() / 100 {
            2 => &self.responses_2xx,
            3 => &self.responses_3xx,
            4 => &self.responses_4xx,
            _ => &self.responses_5xx,
        };
        class.fetch_add(1, Ordering::Relaxed);
    }

    fn moved(&self, moved: &Moved) {
        if moved.bytes > 0 {
            self.bytes_sent.fetch_add(moved.bytes, Ordering::Relaxed);
        }
        if moved.spliced > 0 {
            self.bytes_spliced
                .fetch_add(moved.spliced, Ordering::Relaxed);
        }
    }
}

/// What every connection of the server shares.
pub(crate) struct HttpShared {
    /// What is served; `None` is hello mode.
    pub(crate) docroot: Option<Docroot>,
    /// Seconds after which idle keep-alive connections close (0: never; writable at run time).
    keepalive: Tunable,
    /// Seconds within which a request head must arrive after its first byte (0: no limit;
    /// writable at run time).
    header: Tunable,
    /// Pays for the buffers of busy connections and for listings.
    pub(crate) budget: Arc<BufferBudget>,
    /// Buffers of connections that went idle, for the next busy one.
    pool: Arc<Pool<KBox<ConnBuffers>>>,
    counters: HttpCounters,
    /// The `Date` of the current second, formatted once per second for every response.
    dates: DateCache,
    /// The HTTPS counters, when there is an HTTPS listener (`tls_port`).
    tls: Option<TlsCounters>,
}

impl HttpShared {
    /// Shared state for a server serving `docroot` (or hello mode).
    pub(crate) fn new(
        docroot: Option<Docroot>,
        keepalive: Tunable,
        header: Tunable,
        budget: Arc<BufferBudget>,
        tls: bool,
    ) -> Result<Self> {
        Ok(Self {
            docroot,
            keepalive,
            header,
            budget,
            pool: Pool::new(POOL_BUFFERS)?,
            counters: HttpCounters::default(),
            dates: DateCache::new(),
            tls: tls.then(TlsCounters::default),
        })
    }

    /// Buffers for a connection with work, paid by `paid`: from the pool, else newly
    /// allocated.
    fn buffers(&self, paid: Reservation) -> Result<KBox<ConnBuffers>> {
        let mut bufs = match self.pool.take() {
            Some(bufs) => bufs,
            None => {
                let bufs = ConnBuffers::new()?;
                self.counters.buffer_allocs.fetch_add(1, Ordering::Relaxed);
                bufs
            }
        };
        bufs.paid = Some(paid);
        Ok(bufs)
    }

    /// Gives the buffers of a connection that went idle or closed back to the pool, emptied
    /// and unpaid.
    fn give_back(&self, mut bufs: KBox<ConnBuffers>) {
        bufs.reset();
        self.pool.put(bufs);
    }

    /// Now, as an HTTP date.
    fn date(&self) -> [u8; 29] {
        self.dates.get(clock::unix_secs())
    }

    /// The keep-alive timeout now, in ms (0: never).
    fn keepalive_ms(&self) -> u32 {
        self.keepalive.secs_as_ms()
    }

    /// The header timeout now, in ms (0: no limit).
    fn header_ms(&self) -> u32 {
        self.header.secs_as_ms()
    }

    /// How long a response may wait for the client to read before the connection is dropped.
    fn stall_ms(&self) -> u32 {
        self.keepalive_ms().max(self.header_ms()).max(10_000)
    }
}

/// Buffers of a connection with a request or response in flight, and the state of that
/// exchange. Pooled between uses, emptied and reset ([`ConnBuffers::reset`]): every reader of
/// the buffers goes by the lengths recorded (`start..end`, the send queue's window, the
/// resolved name's length), never by what an earlier connection left in them.
///
/// The exchange's state lives here rather than in [`Http`], so that an idle connection (whose
/// exchange is at its reset values) is small: 10,000 idle keep-alive clients cost a socket
/// and a `Conn` each, no more.
struct ConnBuffers {
    /// Received bytes; `input[start..end]` is not consumed yet.
    input: KVec<u8>,
    start: usize,
    end: usize,
    out: SendQueue,
    /// Scratch space for the name looked up under the root.
    name: KVec<u8>,
    /// The request being answered, for its trace event.
    note: RequestNote,
    /// What these buffers cost against the budget while a connection holds them (`None`
    /// while pooled).
    paid: Option<Reservation>,
    /// Resumable scan of the request head being received.
    parser: HeadParser,
    /// When the request being received must be complete.
    head_deadline: Deadline,
    /// When a stalled response or body upload is given up, unless bytes move before.
    stall_deadline: Deadline,
    /// Request body bytes still to skip.
    discard: u64,
    /// Close once the pending response is sent.
    close_after: bool,
    /// ... with a lingering close: the client may still be sending (an error answered before
    /// its request was read whole, or a body).
    linger_after: bool,
    /// This run was started by the retry poll of a blocked send (`send_polls`); taken by the
    /// first bytes it moves (`send_polls_moved`).
    polled: bool,
    /// When the request being answered was complete, until its answer is queued (0: none).
    request_at: u64,
}

impl ConnBuffers {
    /// Answers the next buffered request, if it is complete; true if it did something.
    fn answer_buffered(&mut self, shared: &HttpShared) -> bool {
        let (start, end) = (self.start, self.end);
        let Some(input) = self.input.get(start..end) else {
            return false;
        };
        match self.parser.parse(input, &Limits::DEFAULT) {
            Parsed::Complete { req, head_len } => {
                self.request_at = clock::ns();
                shared.counters.requests.fetch_add(1, Ordering::Relaxed);
                let answer = respond::respond(
                    &req,
                    shared.docroot.as_ref(),
                    &shared.budget,
                    &shared.dates,
                    &mut self.out,
                    &mut self.name,
                );
                shared.counters.count(answer.status);
                let head = self.out.buffered();
                self.note
                    .note(Some(&req), answer.status, head, self.request_at);
                self.close_after = answer.close;
                self.linger_after = answer.status.code() >= 400 || req.content_length > 0;
                self.discard = req.content_length;
                self.parser.reset();
                self.consume(head_len);
                // Bytes past the body already here start the next head, and its time: not
                // the body's own bytes (the deadline is armed when the body ends, below).
                self.head_deadline = if (self.end - self.start) as u64 > self.discard {
                    clock::after_ms(shared.header_ms())
                } else {
                    NEVER
                };
                true
            }
            Parsed::Reject(reject) => {
                self.request_at = clock::ns();
                shared.counters.requests.fetch_add(1, Ordering::Relaxed);
                let body = respond::reject(reject.status, &shared.date(), &mut self.out);
                shared.counters.count(reject.status);
                let head = self.out.buffered().saturating_sub(body);
                self.note.note(None, reject.status, head, self.request_at);
                self.close_after = true;
                self.linger_after = true;
                self.parser.reset();
                self.consume(usize::MAX);
                true
            }
            Parsed::Partial => false,
        }
    }

    fn new() -> Result<KBox<Self>> {
        Ok(KBox::new(
            Self {
                input: KVec::from_elem(0, Limits::DEFAULT.max_head, GFP_KERNEL)?,
                start: 0,
                end: 0,
                out: SendQueue::new()?,
                name: KVec::from_elem(0, NAME_CAP, GFP_KERNEL)?,
                note: RequestNote::new(),
                paid: None,
                parser: HeadParser::new(),
                head_deadline: NEVER,
                stall_deadline: NEVER,
                discard: 0,
                close_after: false,
                linger_after: false,
                polled: false,
                request_at: 0,
            },
            GFP_KERNEL,
        )?)
    }

    /// Empties the buffers and resets the exchange to where a new connection starts; gives
    /// the reservation back.
    fn reset(&mut self) {
        self.start = 0;
        self.end = 0;
        self.out.clear();
        self.note.forget();
        self.paid = None;
        self.parser.reset();
        self.head_deadline = NEVER;
        self.stall_deadline = NEVER;
        self.discard = 0;
        self.close_after = false;
        self.linger_after = false;
        self.polled = false;
        self.request_at = 0;
    }

    /// Drops the first `n` pending bytes (without moving the rest).
    fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free space to receive into, moving the pending bytes to the front when the end of the
    /// buffer is reached (once per buffer's worth, not per request).
    fn space(&mut self) -> &mut [u8] {
        if self.end == self.input.len() && self.start > 0 {
            if let Some(pending) = self.input.get_mut(..self.end) {
                pending.copy_within(self.start.., 0);
            }
            self.end -= self.start;
            self.start = 0;
        }
        self.input.get_mut(self.end..).unwrap_or_default()
    }
}

/// One HTTP connection.
pub(crate) struct Http {
    /// The buffers and the exchange in progress, while there is one.
    bufs: Option<KBox<ConnBuffers>>,
    /// While the buffers could not be allocated: until when the allocation is retried before
    /// the client is refused (`NEVER` otherwise).
    alloc_retry_until: Deadline,
    /// When the connection was accepted, until its first byte is sent ([`clock::ns`]; 0 after).
    accepted_at: u64,
}

impl Http {
    fn run(
        &mut self,
        bufs: &mut ConnBuffers,
        stream: &Stream,
        shared: &HttpShared,
        lat: &Latency,
    ) -> (Step, bool) {
        let mut budget = BUDGET;
        let mut answered = 0;
        loop {
            let mut moved = Moved::default();
            let flushed = bufs.out.flush(stream, &mut budget, &mut moved);
            shared.counters.moved(&moved);
            bufs.note.sent(moved.bytes);
            if moved.bytes > 0 {
                if core::mem::take(&mut bufs.polled) {
                    shared
                        .counters
                        .send_polls_moved
                        .fetch_add(1, Ordering::Relaxed);
                }
                bufs.stall_deadline = clock::after_ms(shared.stall_ms());
                lat.record_since(Metric::FirstByte, core::mem::take(&mut self.accepted_at));
            }
            match flushed {
                Flushed::Done => {
                    bufs.stall_deadline = NEVER;
                    lat.record_since(Metric::Service, core::mem::take(&mut bufs.request_at));
                    bufs.note.emit(stream);
                }
                Flushed::Blocked => {
                    if bufs.stall_deadline == NEVER {
                        bufs.stall_deadline = clock::after_ms(shared.stall_ms());
                    }
                    let retry = clock::after_ms(RETRY_MS);
                    return (Step::Wait(retry.min(bufs.stall_deadline)), false);
                }
                Flushed::Budget => return (Step::Yield, false),
                Flushed::Failed => {
                    shared.counters.errors.fetch_add(1, Ordering::Relaxed);
                    bufs.note.emit(stream);
                    return (Step::Close, false);
                }
            }
            if bufs.close_after {
                // A plain close when nothing more can come (the common `Connection: close`),
                // a lingering one when the client may still be sending.
                let quiet = !bufs.linger_after
                    && bufs.start == bufs.end
                    && matches!(stream.has_input(), Err(_) | Ok(false));
                return (if quiet { Step::Close } else { Step::Linger }, false);
            }
            if bufs.discard > 0 {
                let n = usize::try_from(bufs.discard)
                    .unwrap_or(usize::MAX)
                    .min(bufs.end - bufs.start);
                bufs.consume(n);
                bufs.discard -= n as u64;
                if bufs.discard == 0 && bufs.start < bufs.end && bufs.head_deadline == NEVER {
                    // The body ended and the next head has begun: its time runs from now.
                    bufs.head_deadline = clock::after_ms(shared.header_ms());
                }
            }
            if bufs.discard == 0 && bufs.start < bufs.end {
                if answered == REQUESTS_PER_RUN {
                    return (Step::Yield, false);
                }
                if bufs.answer_buffered(shared) {
                    answered += 1;
                    continue;
                }
            }
            if budget == 0 {
                return (Step::Yield, false);
            }
            let space = bufs.space();
            if space.is_empty() {
                // A full buffer always parses to Complete or Reject: cannot happen.
                return (Step::Close, false);
            }
            // Nothing to read: no receive that finds nothing (after an answer, the usual case).
            let received = if stream.input_pending() {
                stream.recv(space)
            } else {
                Err(EAGAIN)
            };
            match received {
                Ok(0) => return (Step::Close, false),
                Ok(n) => {
                    if bufs.discard == 0 && bufs.head_deadline == NEVER {
                        bufs.head_deadline = clock::after_ms(shared.header_ms());
                    }
                    if bufs.discard > 0 {
                        bufs.stall_deadline = clock::after_ms(shared.stall_ms());
                    }
                    bufs.end += n;
                    budget = budget.saturating_sub(n);
                }
                Err(e) if e == EAGAIN => {
                    if bufs.start == bufs.end && bufs.discard == 0 {
                        // Idle on keep-alive: give the buffers back.
                        return (Step::Wait(clock::after_ms(shared.keepalive_ms())), true);
                    }
                    let deadline = if bufs.discard > 0 {
                        if bufs.stall_deadline == NEVER {
                            bufs.stall_deadline = clock::after_ms(shared.stall_ms());
                        }
                        bufs.stall_deadline
                    } else {
                        // Part of a head is buffered (left after a body, say): its time runs.
                        if bufs.head_deadline == NEVER {
                            bufs.head_deadline = clock::after_ms(shared.header_ms());
                        }
                        bufs.head_deadline
                    };
                    return (Step::Wait(deadline), false);
                }
                Err(_) => return (Step::Close, false),
            }
        }
    }

    /// Tells a client whose request cannot be buffered (over the memory budget) to retry.
    fn refuse_busy(stream: &Stream, shared: &HttpShared) -> Step {
        Self::refuse(stream, shared);
        Step::Linger
    }
}

impl Session for Http {
    type Shared = HttpShared;

    fn new(_shared: &HttpShared) -> Self {
        Self {
            bufs: None,
            alloc_retry_until: NEVER,
            accepted_at: clock::ns(),
        }
    }

    fn on_ready(&mut self, stream: &Stream, shared: &HttpShared, lat: &Latency) -> Step {
        let mut bufs = match self.bufs.take() {
            Some(bufs) => bufs,
            // Woken with nothing to read (idle, nothing in flight): stay idle, bufferless.
            None if !stream.input_pending() => {
                self.alloc_retry_until = NEVER;
                return Step::Wait(clock::after_ms(shared.keepalive_ms()));
            }
            None => {
                let Some(paid) = shared.budget.reserve(CONN_BUFFERS_BYTES) else {
                    // Only a client that sent something is told: not one that just closed.
                    return match stream.has_input() {
                        Ok(true) => Self::refuse_busy(stream, shared),
                        Ok(false) => Step::Close,
                        Err(e) if e == EAGAIN => Step::Wait(clock::after_ms(shared.keepalive_ms())),
                        Err(_) => Step::Close,
                    };
                };
                match shared.buffers(paid) {
                    Ok(bufs) => {
                        self.alloc_retry_until = NEVER;
                        bufs
                    }
                    Err(_) => {
                        shared.counters.errors.fetch_add(1, Ordering::Relaxed);
                        // Out of memory is usually brief: retry every RETRY_MS for up to
                        // ALLOC_RETRY_MS (the input waits in the socket), then refuse. A
                        // refusal sent now could be lost for the same lack of memory, its
                        // FIN too, and leave the client waiting for good.
                        if self.alloc_retry_until == NEVER {
                            self.alloc_retry_until = clock::after_ms(ALLOC_RETRY_MS);
                        }
                        if clock::now() >= self.alloc_retry_until {
                            self.alloc_retry_until = NEVER;
                            return Self::refuse_busy(stream, shared);
                        }
                        return Step::Wait(clock::after_ms(RETRY_MS).min(self.alloc_retry_until));
                    }
                }
            }
        };
        let (step, idle) = self.run(&mut bufs, stream, shared, lat);
        if idle {
            shared.give_back(bufs);
        } else {
            self.bufs = Some(bufs);
        }
        step
    }

    fn on_timeout(&mut self, stream: &Stream, shared: &HttpShared, lat: &Latency) -> Step {
        let now = clock::now();
        let Some(bufs) = self.bufs.as_mut() else {
            if self.alloc_retry_until != NEVER {
                // The buffers could not be allocated: try again.
                return self.on_ready(stream, shared, lat);
            }
            // Idle past keepalive_timeout.
            return Step::Close;
        };
        if !bufs.out.is_empty() || bufs.discard > 0 {
            // A response the client does not read, or a body it does not send.
            return if now >= bufs.stall_deadline {
                bufs.note.emit(stream);
                Step::Close
            } else {
                bufs.polled = !bufs.out.is_empty();
                if bufs.polled {
                    shared.counters.send_polls.fetch_add(1, Ordering::Relaxed);
                }
                let step = self.on_ready(stream, shared, lat);
                if let Some(bufs) = self.bufs.as_mut() {
                    bufs.polled = false;
                }
                step
            };
        }
        if bufs.start < bufs.end && now >= bufs.head_deadline {
            // A request that never completed gets a 408 (best effort: one non-blocking send).
            let body = respond::reject(Status::RequestTimeout, &shared.date(), &mut bufs.out);
            shared.counters.count(Status::RequestTimeout);
            let head = bufs.out.buffered().saturating_sub(body);
            bufs.note
                .note(None, Status::RequestTimeout, head, clock::ns());
            let (mut budget, mut moved) = (BUDGET, Moved::default());
            let flushed = bufs.out.flush(stream, &mut budget, &mut moved);
            shared.counters.moved(&moved);
            bufs.note.sent(moved.bytes);
            bufs.note.emit(stream);
            return match flushed {
                Flushed::Done => Step::Linger,
                _ => Step::Close,
            };
        }
        self.on_ready(stream, shared, lat)
    }

    fn release_buffers(&mut self, shared: &HttpShared) {
        if let Some(bufs) = self.bufs.take() {
            shared.give_back(bufs);
        }
    }

    fn refuse(stream: &Stream, shared: &HttpShared) {
        let mut buf = [0u8; 512];
        if let Some(n) =
            respond::write_closing_error(Status::ServiceUnavailable, &shared.date(), &mut buf)
        {
            let _ = stream.send(buf.get(..n).unwrap_or_default(), false);
        }
        shared.counters.count(Status::ServiceUnavailable);
    }

    fn sweep_shared(shared: &HttpShared) {
        if let Some(docroot) = &shared.docroot {
            docroot.cache.purge_expired();
        }
    }

    fn counters<'a>(shared: &'a HttpShared, add: &mut dyn FnMut(&'static CStr, &'a AtomicU64)) {
        let c = &shared.counters;
        add(c_str!("requests"), &c.requests);
        add(c_str!("responses_2xx"), &c.responses_2xx);
        add(c_str!("responses_3xx"), &c.responses_3xx);
        add(c_str!("responses_4xx"), &c.responses_4xx);
        add(c_str!("responses_5xx"), &c.responses_5xx);
        add(c_str!("bytes_sent"), &c.bytes_sent);
        add(c_str!("bytes_spliced"), &c.bytes_spliced);
        add(c_str!("send_polls"), &c.send_polls);
        add(c_str!("send_polls_moved"), &c.send_polls_moved);
        add(c_str!("buffer_allocs"), &c.buffer_allocs);
        if let Some(docroot) = &shared.docroot {
            add(c_str!("file_cache_hits"), &docroot.cache.hits);
            add(c_str!("file_cache_misses"), &docroot.cache.misses);
        }
        add(c_str!("errors"), &c.errors);
        if let Some(t) = &shared.tls {
            add(c_str!("tls_handshakes"), &t.handshakes);
            add(c_str!("tls_failed"), &t.failed);
            add(c_str!("tls_timeouts"), &t.timeouts);
            add(c_str!("tls_refused"), &t.refused);
            add(c_str!("tls_flushes"), &t.flushes);
            add(c_str!("tls_flush_timeouts"), &t.flush_timeouts);
        }
    }

    fn tls_counters(shared: &HttpShared) -> Option<&TlsCounters> {
        shared.tls.as_ref()
    }
}
