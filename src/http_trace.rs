// SPDX-License-Identifier: GPL-2.0

//! What khttpd_rs's `request` trace event tells of a request. The event fires when the
//! response has gone out (or the connection ended during it), when the request head is long
//! gone from the input buffer: so while the event is enabled, its text is copied here, escaped
//! for an access log and cut to bounds, as the request is answered. While it is disabled,
//! nothing is copied or counted.

use crate::{
    clock,
    net::Stream,
    proto::{
        http::{Request, Version},
        log_escape,
        status::Status,
    },
    trace::{self, RequestText},
};

/// Bounds of the event's text parts, after escaping.
const METHOD_CAP: usize = 16;
const TARGET_CAP: usize = 512;
const REFERER_CAP: usize = 256;
const USER_AGENT_CAP: usize = 256;

/// One bounded, escaped text part.
struct Part<const N: usize> {
    text: [u8; N],
    len: usize,
}

impl<const N: usize> Part<N> {
    const fn new() -> Self {
        Self {
            text: [0; N],
            len: 0,
        }
    }

    fn set(&mut self, value: &[u8]) {
        self.len = log_escape::escape(value, &mut self.text);
    }

    fn get(&self) -> &[u8] {
        self.text.get(..self.len).unwrap_or_default()
    }
}

/// The request being answered on a connection, as its `request` event will tell it.
pub(crate) struct RequestNote {
    method: Part<METHOD_CAP>,
    target: Part<TARGET_CAP>,
    referer: Part<REFERER_CAP>,
    user_agent: Part<USER_AGENT_CAP>,
    version: u8,
    status: u16,
    /// Bytes sent for the response so far, and how many of them are not body (the head, and
    /// any `100 Continue` before it).
    sent: u64,
    head: u64,
    /// When the request head was complete ([`crate::clock::ns`]).
    start_ns: u64,
    /// Whether a request is noted and its event not yet sent.
    pending: bool,
}

impl RequestNote {
    pub(crate) const fn new() -> Self {
        Self {
            method: Part::new(),
            target: Part::new(),
            referer: Part::new(),
            user_agent: Part::new(),
            version: 0,
            status: 0,
            sent: 0,
            head: 0,
            start_ns: 0,
            pending: false,
        }
    }

    /// Notes a request being answered with `status`, `head` bytes before its body, if the
    /// event is enabled; `req` is `None` for a request that could not be read.
    pub(crate) fn note(
        &mut self,
        req: Option<&Request<'_>>,
        status: Status,
        head: usize,
        now: u64,
    ) {
        self.pending = trace::request_on();
        if !self.pending {
            return;
        }
        match req {
            Some(req) => {
                self.method.set(req.method.name().as_bytes());
                self.target.set(req.target);
                self.referer.set(req.referer.unwrap_or_default());
                self.user_agent.set(req.user_agent.unwrap_or_default());
                self.version = match req.version {
                    Version::Http10 => 10,
                    Version::Http11 => 11,
                };
            }
            None => {
                for len in [
                    &mut self.method.len,
                    &mut self.target.len,
                    &mut self.referer.len,
                    &mut self.user_agent.len,
                ] {
                    *len = 0;
                }
                self.version = 0;
            }
        }
        self.status = status.code();
        self.head = head as u64;
        self.sent = 0;
        self.start_ns = now;
    }

    /// Drops a noted request without its event (the buffers go to another connection).
    pub(crate) fn forget(&mut self) {
        self.pending = false;
    }

    /// Counts bytes sent for the noted response.
    pub(crate) fn sent(&mut self, bytes: u64) {
        if self.pending {
            self.sent = self.sent.saturating_add(bytes);
        }
    }

    /// Sends the noted request's event, once: its response went out whole, or the
    /// connection ends now.
    pub(crate) fn emit(&mut self, stream: &Stream) {
        if !core::mem::take(&mut self.pending) {
            return;
        }
        let now = clock::ns();
        let text = RequestText {
            method: self.method.get(),
            target: self.target.get(),
            referer: self.referer.get(),
            user_agent: self.user_agent.get(),
            version: self.version,
        };
        trace::request(
            stream,
            &text,
            self.status,
            self.sent,
            self.sent.saturating_sub(self.head),
            now.saturating_sub(self.start_ns),
        );
    }
}
