// SPDX-License-Identifier: GPL-2.0

//! What khttpd_rs's `request` trace event tells of a request. The event fires when the
//! response has gone out (or the connection ended during it), when the request head is long
//! gone from the input buffer: so while the event is enabled, its text is copied here, escaped
//! for an access log and cut to bounds, as the request is answered (into room allocated the
//! first time the event is on, and pooled with the connection's buffers). While it is
//! disabled, nothing is allocated, copied or counted.

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
use kernel::prelude::*;

/// Bounds of the event's text parts (method, target, referer, user agent), after escaping.
const CAPS: [usize; 4] = [16, 512, 256, 256];
/// Room for all four parts.
const TEXT_CAP: usize = CAPS[0] + CAPS[1] + CAPS[2] + CAPS[3];

/// The request being answered on a connection, as its `request` event will tell it.
pub(crate) struct RequestNote {
    /// The four text parts, each at its offset (the sum of the caps before it); allocated the
    /// first time the event is on while these buffers serve a request, then kept with them.
    text: KVec<u8>,
    lens: [usize; 4],
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
            text: KVec::new(),
            lens: [0; 4],
            version: 0,
            status: 0,
            sent: 0,
            head: 0,
            start_ns: 0,
            pending: false,
        }
    }

    /// Part `i` of the text.
    fn part(&self, i: usize) -> &[u8] {
        let off: usize = CAPS.iter().take(i).sum();
        let len = self.lens.get(i).copied().unwrap_or(0);
        self.text.get(off..off + len).unwrap_or_default()
    }

    /// Notes a request being answered with `status`, `head` bytes before its body, if the
    /// event is enabled (and the room for its text could be had); `req` is `None` for a
    /// request that could not be read.
    pub(crate) fn note(
        &mut self,
        req: Option<&Request<'_>>,
        status: Status,
        head: usize,
        now: u64,
    ) {
        self.pending = trace::request_on()
            && (self.text.len() == TEXT_CAP
                || KVec::from_elem(0u8, TEXT_CAP, GFP_KERNEL)
                    .map(|text| self.text = text)
                    .is_ok());
        if !self.pending {
            return;
        }
        let parts: [&[u8]; 4] = match req {
            Some(req) => [
                req.method.name().as_bytes(),
                req.target,
                req.referer.unwrap_or_default(),
                req.user_agent.unwrap_or_default(),
            ],
            None => [b"", b"", b"", b""],
        };
        let mut off = 0;
        for (i, (value, cap)) in parts.iter().zip(CAPS).enumerate() {
            let room = self.text.get_mut(off..off + cap).unwrap_or_default();
            if let Some(len) = self.lens.get_mut(i) {
                *len = log_escape::escape(value, room);
            }
            off += cap;
        }
        self.version = match req.map(|r| r.version) {
            Some(Version::Http10) => 10,
            Some(Version::Http11) => 11,
            None => 0,
        };
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
            method: self.part(0),
            target: self.part(1),
            referer: self.part(2),
            user_agent: self.part(3),
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
