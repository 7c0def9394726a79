// SPDX-License-Identifier: GPL-2.0

//! TLS server handshakes done in user space through `net/handshake`, the upcall the NFS server
//! and nvmet-tcp use: the kernel installs the socket in the agent's process (it needs a file),
//! the agent (`tls-agent/`) runs the handshake, programs kTLS on the socket and reports the
//! outcome, which `net/handshake` delivers to [`HandshakeOwner`]. All of its `unsafe` lives
//! here.

use crate::helpers::{
    ktcp_tls_active, ktcp_tls_available, ktcp_tls_callbacks_barrier, ktcp_tls_cancel,
    ktcp_tls_server_hello,
};
use crate::net::{SockRef, Stream};
use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{
    new_spinlock,
    prelude::*,
    sync::{Arc, SpinLock},
};

/// Whether this kernel can do it: the handshake upcall (`CONFIG_NET_HANDSHAKE`) and kTLS.
pub(crate) fn available() -> bool {
    // SAFETY: the shim only reads build-time configuration.
    unsafe { ktcp_tls_available() }
}

/// Waits until no CPU can still be running the tail of a done callback whose handshake
/// finished: call once every [`Pending`] is gone, before the module's code may go.
pub(crate) fn callbacks_barrier() {
    // SAFETY: called from process context (the server's teardown); the shim only waits.
    unsafe { ktcp_tls_callbacks_barrier() }
}

/// What [`Pending::start`] made of a stream.
pub(crate) enum Started<O: HandshakeOwner> {
    /// Handed to the agent.
    Pending(Pending<O>),
    /// Too many handshakes are pending in the network namespace (`EAGAIN`): the stream, to
    /// try again later.
    Busy(Stream),
}

/// Closes a stream whose handshake did not succeed: the client sees the end at once, even
/// while an agent still holds the socket.
fn close(stream: Stream) {
    stream.shutdown();
    drop(stream);
}

/// Where a handshake's outcome goes. Either method runs at most once per handshake, in the
/// agent's process context (it may sleep), unless the handshake was canceled.
pub(crate) trait HandshakeOwner: Send + Sync + 'static {
    /// The handshake succeeded: `stream` now carries the kernel's TLS layer.
    fn secured(&self, stream: Stream);
    /// The agent reported failure `status` (a negative errno); the stream was closed.
    fn failed(&self, status: i32);
}

/// A TLS server handshake handed to the agent, until its outcome is delivered. Dropping it
/// cancels the handshake, or waits (briefly) for the outcome being delivered: so no callback
/// of it runs, or touches it, once it is gone.
pub(crate) struct Pending<O: HandshakeOwner> {
    hs: Arc<Handshake<O>>,
}

/// The state a handshake shares with its done callback.
///
/// # Invariants
///
/// From a successful [`Pending::start`] until `finished` is set, `net/handshake` holds one
/// reference of this `Arc` (the handshake's `ta_data`), which exactly one of the done callback
/// and a successful cancel takes back (`net/handshake` guarantees that only one of them wins).
/// The [`Pending`] holds another until it sees `finished`.
#[pin_data]
struct Handshake<O: HandshakeOwner> {
    owner: Arc<O>,
    /// The socket until the outcome: then the owner's (success) or closed.
    #[pin]
    stream: SpinLock<Option<Stream>>,
    /// Keeps the `struct sock` valid for [`Handshake::cancel`] whatever the socket's fate.
    sk: SockRef,
    /// Set last, once the outcome was delivered or the handshake canceled.
    finished: AtomicBool,
}

impl<O: HandshakeOwner> Pending<O> {
    /// Hands `stream` to the agent for a TLS server handshake of at most `timeout_ms` (the
    /// agent's limit; [`Pending::cancel`] enforces it here). On error the stream is closed;
    /// `ESRCH` means no agent is listening.
    pub(crate) fn start(stream: Stream, owner: Arc<O>, timeout_ms: u32) -> Result<Started<O>> {
        let stream = stream.alloc_file()?;
        let sk = stream.sock_ref();
        let sock = stream.raw_socket();
        let hs = Arc::pin_init(
            pin_init!(Handshake {
                owner,
                stream <- new_spinlock!(Some(stream)),
                sk,
                finished: AtomicBool::new(false),
            }),
            GFP_KERNEL,
        )?;
        let data = Arc::into_raw(hs.clone()).cast_mut().cast::<c_void>();
        // SAFETY: `sock` is valid (its stream is held in `hs`) and has a file; `done::<O>` is
        // given `data`, a reference of an `Arc<Handshake<O>>`, as its safety contract asks.
        let ret = unsafe { ktcp_tls_server_hello(sock, timeout_ms, Some(done::<O>), data) };
        if ret < 0 {
            // SAFETY: the request was not submitted, so the callback never runs: the reference
            // given as `data` is ours again.
            drop(unsafe { Arc::from_raw(data.cast::<Handshake<O>>()) });
            let stream = hs.stream.lock().take();
            return match stream {
                Some(stream) if ret == -(kernel::bindings::EAGAIN as i32) => {
                    Ok(Started::Busy(stream))
                }
                other => {
                    if let Some(s) = other {
                        close(s);
                    }
                    Err(Error::from_errno(ret))
                }
            };
        }
        // INVARIANT: submitted: `net/handshake` holds the reference given as `data`, the
        // `Pending` the one in `hs`.
        Ok(Started::Pending(Self { hs }))
    }

    /// Whether the outcome was delivered (or the handshake canceled): nothing of it runs any
    /// more.
    pub(crate) fn finished(&self) -> bool {
        self.hs.finished.load(Ordering::Acquire)
    }

    /// Cancels the handshake if it is still pending: `true` if it was (its stream is closed,
    /// and no outcome will be delivered); `false` if it already finished or the agent's
    /// outcome is being delivered right now ([`Handshake::finished`] turns true soon).
    pub(crate) fn cancel(&self) -> bool {
        if self.finished() {
            return false;
        }
        let hs = &self.hs;
        // SAFETY: `sk` is valid while `hs.sk` holds its reference.
        if !unsafe { ktcp_tls_cancel(hs.sk.as_ptr()) } {
            return false;
        }
        let raw: *const Handshake<O> = &**hs;
        // SAFETY: the cancel succeeded, so the done callback never runs: the reference that
        // `net/handshake` held (type invariant) is ours to drop; `raw` is the pointer
        // `Arc::into_raw` gave for it (the same object).
        drop(unsafe { Arc::from_raw(raw) });
        let stream = hs.stream.lock().take();
        if let Some(s) = stream {
            close(s);
        }
        hs.finished.store(true, Ordering::Release);
        true
    }
}

impl<O: HandshakeOwner> Drop for Pending<O> {
    fn drop(&mut self) {
        if self.cancel() {
            return;
        }
        // The agent's outcome is being delivered (the callback takes no lock we hold and
        // does not wait on the agent): it is done within moments.
        while !self.finished() {
            // SAFETY: `msleep` may be called from any sleepable context; a `Pending` is
            // dropped by the thread that started it, in process context.
            unsafe { kernel::bindings::msleep(1) };
        }
    }
}

/// `net/handshake`'s done callback (`ta_done`): runs once for a handshake not canceled, in the
/// agent's context, with the agent's status (0, or a negative errno).
///
/// # Safety
///
/// `data` is the pointer [`Handshake::start`] gave, carrying one reference of an
/// `Arc<Handshake<O>>`, and this is called at most once for it.
unsafe extern "C" fn done<O: HandshakeOwner>(data: *mut c_void, status: c_int, _peer: i32) {
    // SAFETY: by the function's safety contract `data` carries one reference, ours now.
    let hs = unsafe { Arc::from_raw(data.cast_const().cast::<Handshake<O>>()) };
    let stream = hs.stream.lock().take();
    // A status of 0 is only the agent's word: kTLS must be on the socket both ways, else
    // the session would answer in plaintext on the HTTPS port.
    let status = match &stream {
        // SAFETY: the socket is valid while `s` holds it; the shim takes the socket lock
        // (this callback runs in the agent's process context, where that may sleep).
        Some(s) if status == 0 && !unsafe { ktcp_tls_active(s.raw_socket()) } => {
            -(kernel::bindings::EPROTO as i32)
        }
        _ => status,
    };
    match stream {
        Some(mut stream) if status == 0 => {
            stream.set_tls();
            hs.owner.secured(stream)
        }
        other => {
            if let Some(s) = other {
                close(s);
            }
            hs.owner
                .failed(if status < 0 { status } else { EIO.to_errno() });
        }
    }
    let finished: *const AtomicBool = &hs.finished;
    // Not the last reference: the `Pending` keeps one until it sees `finished` (type
    // invariant), so this only counts down, and the store below is the callback's last touch
    // of the handshake (and its last step in this module but the return).
    drop(hs);
    // SAFETY: the `Pending`'s reference keeps the handshake, and so `finished`, alive until
    // it observes the store.
    unsafe { (*finished).store(true, Ordering::Release) };
}
