// SPDX-License-Identifier: GPL-2.0

//! khttpd's connection session: reads requests, answers them in order, keeps the connection.
//!
//! One run of the work item loops: send what is pending (a response, streamed from its file),
//! then answer the next buffered request, then read more; it stops when the socket has nothing
//! more (`Step::Wait`), or the budget is spent (`Step::Yield`). A request is answered only once
//! the previous response is fully queued, so pipelined answers keep their order and memory
//! stays bounded. An idle keep-alive connection holds no buffer.

use crate::{
    clock::{self, Deadline, NEVER},
    conn::{Session, Step},
    fs::Root,
    http_out::{Flushed, Out},
    net::Stream,
    proto::{
        http::{self, Limits, Parsed},
        status::Status,
    },
    respond::{self, NAME_CAP},
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{c_str, prelude::*, str::CStr};

/// Bytes moved per run before the work item yields to other connections.
const BUDGET: usize = 256 * 1024;

/// Counters of the HTTP side, in debugfs next to the connection counters.
#[derive(Default)]
pub(crate) struct HttpCounters {
    requests: AtomicU64,
    responses_2xx: AtomicU64,
    responses_3xx: AtomicU64,
    responses_4xx: AtomicU64,
    responses_5xx: AtomicU64,
    bytes_sent: AtomicU64,
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
}

/// What every connection of the server shares.
pub(crate) struct HttpShared {
    /// The served directory; `None` is hello mode.
    pub(crate) root: Option<Root>,
    /// Idle keep-alive connections close after this (0: never).
    pub(crate) keepalive_ms: u32,
    /// A request head must arrive within this after its first byte (0: no limit).
    pub(crate) header_ms: u32,
    counters: HttpCounters,
}

impl HttpShared {
    /// Shared state for a server serving `root` (or hello mode).
    pub(crate) fn new(root: Option<Root>, keepalive_ms: u32, header_ms: u32) -> Self {
        Self {
            root,
            keepalive_ms,
            header_ms,
            counters: HttpCounters::default(),
        }
    }

    /// How long a response may wait for the client to read before the connection is dropped.
    fn stall_ms(&self) -> u32 {
        self.keepalive_ms.max(self.header_ms).max(10_000)
    }
}

/// Buffers of a connection with a request or response in flight.
struct Bufs {
    input: KVec<u8>,
    in_len: usize,
    out: Out,
    name: KVec<u8>,
}

impl Bufs {
    fn new() -> Result<Self> {
        Ok(Self {
            input: KVec::from_elem(0, Limits::DEFAULT.max_head, GFP_KERNEL)?,
            in_len: 0,
            out: Out::new()?,
            name: KVec::from_elem(0, NAME_CAP, GFP_KERNEL)?,
        })
    }

    /// Drops the first `n` buffered input bytes.
    fn consume(&mut self, n: usize) {
        let n = n.min(self.in_len);
        if let Some(buffered) = self.input.get_mut(..self.in_len) {
            buffered.copy_within(n.., 0);
        }
        self.in_len -= n;
    }
}

/// One HTTP connection.
pub(crate) struct Http {
    bufs: Option<KBox<Bufs>>,
    /// When the request being received must be complete.
    head_deadline: Deadline,
    /// Request body bytes still to skip.
    discard: u64,
    /// Close once the pending response is sent.
    close_after: bool,
}

impl Http {
    /// Answers the next buffered request, if it is complete; true if it did something.
    fn answer_buffered(&mut self, bufs: &mut Bufs, shared: &HttpShared) -> bool {
        let Some(input) = bufs.input.get(..bufs.in_len) else {
            return false;
        };
        match http::parse(input, &Limits::DEFAULT) {
            Parsed::Complete { req, head_len } => {
                shared.counters.requests.fetch_add(1, Ordering::Relaxed);
                let answer =
                    respond::respond(&req, shared.root.as_ref(), &mut bufs.out, &mut bufs.name);
                shared.counters.count(answer.status);
                self.close_after = answer.close;
                self.discard = req.content_length;
                bufs.consume(head_len);
                self.head_deadline = if bufs.in_len > 0 {
                    clock::after_ms(shared.header_ms)
                } else {
                    NEVER
                };
                true
            }
            Parsed::Reject(reject) => {
                shared.counters.requests.fetch_add(1, Ordering::Relaxed);
                respond::reject(reject.status, &mut bufs.out);
                shared.counters.count(reject.status);
                self.close_after = true;
                bufs.in_len = 0;
                true
            }
            Parsed::Partial => false,
        }
    }

    fn run(&mut self, bufs: &mut Bufs, stream: &Stream, shared: &HttpShared) -> (Step, bool) {
        let mut budget = BUDGET;
        loop {
            let mut sent = 0;
            let flushed = bufs.out.flush(stream, &mut budget, &mut sent);
            shared
                .counters
                .bytes_sent
                .fetch_add(sent, Ordering::Relaxed);
            match flushed {
                Flushed::Done => {}
                Flushed::Blocked => return (Step::Wait(clock::after_ms(shared.stall_ms())), false),
                Flushed::Budget => return (Step::Yield, false),
                Flushed::Failed => return (Step::Close, false),
            }
            if self.close_after {
                return (Step::Close, false);
            }
            if self.discard > 0 {
                let n = usize::try_from(self.discard)
                    .unwrap_or(usize::MAX)
                    .min(bufs.in_len);
                bufs.consume(n);
                self.discard -= n as u64;
            }
            if self.discard == 0 && bufs.in_len > 0 && self.answer_buffered(bufs, shared) {
                continue;
            }
            if budget == 0 {
                return (Step::Yield, false);
            }
            let Some(space) = bufs.input.get_mut(bufs.in_len..) else {
                return (Step::Close, false);
            };
            match stream.recv(space) {
                Ok(0) => return (Step::Close, false),
                Ok(n) => {
                    if bufs.in_len == 0 && self.discard == 0 && self.head_deadline == NEVER {
                        self.head_deadline = clock::after_ms(shared.header_ms);
                    }
                    bufs.in_len += n;
                    budget = budget.saturating_sub(n);
                }
                Err(e) if e == EAGAIN => {
                    if bufs.in_len == 0 && self.discard == 0 {
                        // Idle on keep-alive: give the buffers back.
                        return (Step::Wait(clock::after_ms(shared.keepalive_ms)), true);
                    }
                    let deadline = if self.discard > 0 {
                        clock::after_ms(shared.stall_ms())
                    } else {
                        self.head_deadline
                    };
                    return (Step::Wait(deadline), false);
                }
                Err(_) => return (Step::Close, false),
            }
        }
    }
}

impl Session for Http {
    type Shared = HttpShared;

    fn new(_shared: &HttpShared) -> Self {
        Self {
            bufs: None,
            head_deadline: NEVER,
            discard: 0,
            close_after: false,
        }
    }

    fn on_ready(&mut self, stream: &Stream, shared: &HttpShared) -> Step {
        let mut bufs = match self.bufs.take() {
            Some(bufs) => bufs,
            None => match Bufs::new().and_then(|b| KBox::new(b, GFP_KERNEL).map_err(Into::into)) {
                Ok(bufs) => bufs,
                Err(_) => {
                    shared.counters.errors.fetch_add(1, Ordering::Relaxed);
                    return Step::Close;
                }
            },
        };
        let (step, idle) = self.run(&mut bufs, stream, shared);
        if !idle {
            self.bufs = Some(bufs);
        }
        step
    }

    fn on_timeout(&mut self, stream: &Stream, shared: &HttpShared) -> Step {
        // A request that never completed gets a 408 (best effort: one non-blocking send).
        if let Some(bufs) = self.bufs.as_mut() {
            if bufs.in_len > 0 && bufs.out.is_empty() {
                respond::reject(Status::RequestTimeout, &mut bufs.out);
                shared.counters.count(Status::RequestTimeout);
                let (mut budget, mut sent) = (BUDGET, 0);
                let _ = bufs.out.flush(stream, &mut budget, &mut sent);
            }
        }
        Step::Close
    }

    fn refuse(stream: &Stream, shared: &HttpShared) {
        let mut buf = [0u8; 512];
        if let Some(n) = respond::write_closing_error(Status::ServiceUnavailable, &mut buf) {
            let _ = stream.send(buf.get(..n).unwrap_or_default(), false);
        }
        shared.counters.count(Status::ServiceUnavailable);
    }

    fn counters<'a>(shared: &'a HttpShared, add: &mut dyn FnMut(&'static CStr, &'a AtomicU64)) {
        let c = &shared.counters;
        add(c_str!("requests"), &c.requests);
        add(c_str!("responses_2xx"), &c.responses_2xx);
        add(c_str!("responses_3xx"), &c.responses_3xx);
        add(c_str!("responses_4xx"), &c.responses_4xx);
        add(c_str!("responses_5xx"), &c.responses_5xx);
        add(c_str!("bytes_sent"), &c.bytes_sent);
        add(c_str!("errors"), &c.errors);
    }
}
