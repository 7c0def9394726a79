// SPDX-License-Identifier: GPL-2.0

//! The trace events, `<module>:conn_open`, `<module>:conn_close` and `khttpd_rs:request`,
//! defined in C (`ktcp_events.h`, created in `trace.c`: 6.12's Rust has no tracepoint
//! macro). Each event is off until a tracer enables it; until then a call here costs one
//! load of the event's static key count and a branch: no call into C and no argument built.
//! Built with `KTCP_TRACE=0` (`--cfg ktcp_no_trace`), the calls are empty and the C side is
//! not built: the baseline `make bench trace` measures the disabled events against.

#[cfg(not(ktcp_no_trace))]
pub(crate) use events::*;
#[cfg(ktcp_no_trace)]
pub(crate) use no_events::*;

/// The text parts of a `request` event; each slice at most `u16::MAX` bytes long.
pub(crate) struct RequestText<'a> {
    pub(crate) method: &'a [u8],
    pub(crate) target: &'a [u8],
    pub(crate) referer: &'a [u8],
    pub(crate) user_agent: &'a [u8],
    /// 10, 11, or 0 when the request line was not read.
    pub(crate) version: u8,
}

/// The calls into `trace.c`.
#[cfg(not(ktcp_no_trace))]
mod events {
    use super::RequestText;
    use crate::{helpers, net::Stream};
    use core::sync::atomic::{AtomicI32, Ordering};
    use kernel::bindings;

    /// Whether the tracepoint whose static key count `key` points at has a probe.
    ///
    /// # Safety
    ///
    /// `key` must point at the `enabled` count of a tracepoint defined in this module.
    unsafe fn on(key: *const bindings::atomic_t) -> bool {
        // SAFETY: the caller's `key` points at a live `atomic_t` (the module's data outlives
        // every call made from its code); an `atomic_t` is an `int` that the kernel only changes
        // atomically, so reading it as an `AtomicI32` races with nothing.
        unsafe { (*key.cast::<AtomicI32>()).load(Ordering::Relaxed) > 0 }
    }

    /// Traces a connection accepted (`refused`: over `max_connections`, told so and closed).
    pub(crate) fn conn_open(id: u64, stream: &Stream, refused: bool) {
        // SAFETY: `ktcp_trace_conn_open_on` is a constant pointer at this module's
        // `conn_open` key count (`trace.c`).
        if unsafe { on(helpers::ktcp_trace_conn_open_on) } {
            // SAFETY: the socket is valid while `stream` lives; the C side only reads it.
            unsafe { helpers::ktcp_trace_conn_open(id, stream.raw_socket(), refused) };
        }
    }

    /// Traces a connection closing, `duration_ns` after it was accepted.
    pub(crate) fn conn_close(id: u64, stream: &Stream, duration_ns: u64) {
        // SAFETY: as in `conn_open`, for the `conn_close` key.
        if unsafe { on(helpers::ktcp_trace_conn_close_on) } {
            // SAFETY: as in `conn_open`.
            unsafe { helpers::ktcp_trace_conn_close(id, stream.raw_socket(), duration_ns) };
        }
    }

    /// Whether the `request` event is enabled (khttpd_rs only).
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn request_on() -> bool {
        // SAFETY: `ktcp_trace_request_on` is a constant pointer at this module's `request` key
        // count (`trace.c`, built with `KTCP_TRACE_HTTP` for khttpd_rs, the one caller).
        unsafe { on(helpers::ktcp_trace_request_on) }
    }

    /// Traces a request answered (khttpd_rs only): see `ktcp_events.h` for the fields.
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn request(
        stream: &Stream,
        text: &RequestText<'_>,
        status: u16,
        bytes: u64,
        body_bytes: u64,
        duration_ns: u64,
    ) {
        if !request_on() {
            return;
        }
        let len = |s: &[u8]| u16::try_from(s.len()).unwrap_or(u16::MAX);
        let raw = helpers::KtcpRequestText {
            method: text.method.as_ptr(),
            target: text.target.as_ptr(),
            referer: text.referer.as_ptr(),
            user_agent: text.user_agent.as_ptr(),
            method_len: len(text.method),
            target_len: len(text.target),
            referer_len: len(text.referer),
            user_agent_len: len(text.user_agent),
            version: text.version,
        };
        // SAFETY: every pointer of `raw` is valid for its length (slices of at most u16::MAX
        // bytes, as `RequestText` requires; a longer one is cut to that), for the duration of the
        // call, which copies them into the event; the socket is valid while `stream` lives.
        unsafe {
            helpers::ktcp_trace_request(
                stream.raw_socket(),
                &raw,
                status,
                bytes,
                body_bytes,
                duration_ns,
            )
        };
    }
}

/// The same calls, empty (`KTCP_TRACE=0`).
#[cfg(ktcp_no_trace)]
mod no_events {
    use super::RequestText;
    use crate::net::Stream;

    pub(crate) fn conn_open(_id: u64, _stream: &Stream, _refused: bool) {}

    pub(crate) fn conn_close(_id: u64, _stream: &Stream, _duration_ns: u64) {}

    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn request_on() -> bool {
        false
    }

    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn request(
        _stream: &Stream,
        text: &RequestText<'_>,
        _status: u16,
        _bytes: u64,
        _body_bytes: u64,
        _duration_ns: u64,
    ) {
        let _ = (
            text.method,
            text.target,
            text.referer,
            text.user_agent,
            text.version,
        );
    }
}
