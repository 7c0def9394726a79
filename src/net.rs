// SPDX-License-Identifier: GPL-2.0

//! Owned kernel TCP sockets: a listening socket and accepted streams.
//!
//! Every `struct socket` the modules touch is owned by a [`Listener`] or a [`Stream`], whose
//! `Drop` releases it; a [`WatchedStream`] owns a stream and its wait-queue registration. All
//! socket `unsafe` lives in this file.

use crate::helpers::{
    ktcp_format_addr, ktcp_init_net, ktcp_init_wait_entry, ktcp_input_pending, ktcp_parse_addr,
    ktcp_sock_alloc_file, ktcp_sock_get, ktcp_sock_put, ktcp_sock_release,
    ktcp_sock_set_defer_accept, ktcp_sock_set_nodelay, ktcp_sock_set_rcvtimeo,
    ktcp_sock_set_reuseaddr, ktcp_sock_set_v6only, ktcp_tls_close_notify, ktcp_tls_tx_pending,
};
use core::{
    ffi::{c_int, c_uint, c_void},
    ptr::NonNull,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    bindings,
    error::to_result,
    new_mutex,
    prelude::*,
    str::CStr,
    sync::{Arc, ArcBorrow, Mutex},
    types::Opaque,
};

/// `IPPROTO_TCP` from `include/uapi/linux/in.h` (an enum bindgen does not export in 6.12).
const IPPROTO_TCP: i32 = 6;

/// An IPv4 or IPv6 address and port to listen on, parsed by the kernel's
/// `inet_pton_with_scope` (IPv6 may carry a `%scope`).
///
/// # Invariants
///
/// `ss` holds a `sockaddr_in` or `sockaddr_in6` (its family says which) and `len` is that
/// structure's size.
pub(crate) struct ListenAddr {
    ss: bindings::__kernel_sockaddr_storage,
    len: c_int,
    port: u16,
}

impl ListenAddr {
    /// `addr` with `port`; `EINVAL` if `addr` is not an IPv4 or IPv6 address.
    pub(crate) fn parse(addr: &CStr, port: u16) -> Result<Self> {
        // SAFETY: an all-zero `sockaddr_storage` is valid (family AF_UNSPEC).
        let mut ss: bindings::__kernel_sockaddr_storage = unsafe { core::mem::zeroed() };
        // SAFETY: `addr` is NUL-terminated and `ss` is a valid place for the result.
        let len = unsafe { ktcp_parse_addr(addr.as_char_ptr(), port, &mut ss) };
        to_result(len)?;
        // INVARIANT: `ktcp_parse_addr` succeeded: it filled `ss` and gave the length.
        Ok(Self { ss, len, port })
    }

    /// The address family: `AF_INET` or `AF_INET6`.
    fn family(&self) -> i32 {
        // SAFETY: every variant of the storage's union starts with the family, which
        // `ktcp_parse_addr` set.
        i32::from(unsafe { self.ss.__bindgen_anon_1.__bindgen_anon_1.ss_family })
    }

    /// The port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Whether this is the IPv6 wildcard `::` (the default `bind`).
    fn is_any6(&self) -> bool {
        // SAFETY: for AF_INET6 the storage holds a `sockaddr_in6` (type invariant), whose
        // address field lies within the storage.
        self.family() == bindings::AF_INET6 as i32
            && unsafe {
                let sin6 = (&self.ss as *const bindings::__kernel_sockaddr_storage)
                    .cast::<bindings::sockaddr_in6>();
                (*sin6).sin6_addr.in6_u.u6_addr32 == [0; 4]
            }
    }

    /// For `::` on a kernel without IPv6 (`ipv6.disable=1`): `0.0.0.0` on the same port.
    pub(crate) fn ipv4_fallback(&self) -> Option<Self> {
        if !self.is_any6() {
            return None;
        }
        Self::parse(kernel::c_str!("0.0.0.0"), self.port).ok()
    }
}

impl ListenAddr {
    /// `a.b.c.d:port` or `[v6]:port`, kept as text.
    pub(crate) fn text(&self) -> AddrText {
        let mut buf = [0u8; 64];
        // SAFETY: `self.ss` is a valid address (type invariant); `buf` is writable for its
        // length, and snprintf NUL-terminates within it.
        let n = unsafe { ktcp_format_addr(&self.ss, buf.as_mut_ptr().cast(), buf.len()) };
        let len = usize::try_from(n).unwrap_or(0).min(buf.len() - 1);
        AddrText { buf, len }
    }
}

impl core::fmt::Display for ListenAddr {
    /// `a.b.c.d:port` or `[v6]:port`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.text().fmt(f)
    }
}

/// A formatted address (from [`ListenAddr::text`]).
pub(crate) struct AddrText {
    buf: [u8; 64],
    len: usize,
}

impl core::fmt::Display for AddrText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(core::str::from_utf8(&self.buf[..self.len]).unwrap_or("?"))
    }
}

/// An owned, non-null `struct socket` pointer, released on drop.
///
/// # Invariants
///
/// `ptr` points at a socket created by `sock_create_kern` or `kernel_accept` that nobody else
/// releases (once it has a file, [`Stream::alloc_file`], the file owns it and `fput` frees it).
struct OwnedSocket {
    ptr: NonNull<bindings::socket>,
}

// SAFETY: kernel sockets may be used and released from any thread; the socket layer does its
// own locking (`lock_sock`).
unsafe impl Send for OwnedSocket {}
// SAFETY: every operation used through `&OwnedSocket` (recvmsg, sendmsg, shutdown) is safe to
// call concurrently on one socket; the socket layer serialises them.
unsafe impl Sync for OwnedSocket {}

impl OwnedSocket {
    fn as_ptr(&self) -> *mut bindings::socket {
        self.ptr.as_ptr()
    }

    fn shutdown(&self, how: bindings::sock_shutdown_cmd) {
        // SAFETY: by the type invariant the socket is valid. Errors (e.g. not connected) are of
        // no interest: the goal is only that nothing more flows.
        unsafe { bindings::kernel_sock_shutdown(self.as_ptr(), how) };
    }
}

impl Drop for OwnedSocket {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own the socket (or its file) and release it exactly
        // once.
        unsafe { ktcp_sock_release(self.as_ptr()) };
    }
}

/// A TCP socket listening on a [`ListenAddr`]; on `::` it takes IPv4 clients too.
pub(crate) struct Listener {
    sock: OwnedSocket,
    addr: AddrText,
}

impl Listener {
    /// Creates, binds and listens; `accept_timeout` (jiffies) bounds each [`Listener::accept`];
    /// `defer_accept_s` > 0 sets `TCP_DEFER_ACCEPT`.
    pub(crate) fn bind(
        addr: &ListenAddr,
        backlog: i32,
        accept_timeout: usize,
        defer_accept_s: u32,
    ) -> Result<Self> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: `ktcp_init_net` returns the always-valid initial network namespace and `raw`
        // is a valid place for the result.
        to_result(unsafe {
            bindings::sock_create_kern(
                ktcp_init_net(),
                addr.family(),
                bindings::sock_type_SOCK_STREAM as i32,
                IPPROTO_TCP,
                &mut raw,
            )
        })?;
        // INVARIANT: `sock_create_kern` succeeded; the socket is ours to release.
        let sock = OwnedSocket {
            ptr: NonNull::new(raw).ok_or(ENOMEM)?,
        };
        let timeo =
            kernel::ffi::c_long::try_from(accept_timeout).unwrap_or(kernel::ffi::c_long::MAX);
        // SAFETY: `sock` is a freshly created, valid socket.
        unsafe {
            ktcp_sock_set_reuseaddr(sock.as_ptr());
            ktcp_sock_set_rcvtimeo(sock.as_ptr(), timeo);
            // Every accepted socket starts as a copy of the listener, `TCP_NODELAY` included
            // (`sk_clone_lock` copies it and `tcp_create_openreq_child` leaves it): set once
            // here, not on each accept.
            ktcp_sock_set_nodelay(sock.as_ptr());
            if addr.family() == bindings::AF_INET6 as i32 {
                // Dual stack on `::`, whatever `net.ipv6.bindv6only` says.
                ktcp_sock_set_v6only(sock.as_ptr(), false);
            }
        }
        if defer_accept_s > 0 {
            let secs = c_int::try_from(defer_accept_s).map_err(|_| EINVAL)?;
            // SAFETY: `sock` is a valid TCP socket.
            to_result(unsafe { ktcp_sock_set_defer_accept(sock.as_ptr(), secs) })?;
        }
        let mut ss = addr.ss;
        // SAFETY: `ss` holds a socket address of length `addr.len` (the type invariant of
        // `ListenAddr`) of the socket's family; the socket is valid.
        to_result(unsafe {
            bindings::kernel_bind(
                sock.as_ptr(),
                (&mut ss as *mut bindings::__kernel_sockaddr_storage).cast(),
                addr.len,
            )
        })?;
        // SAFETY: the socket is valid and bound.
        to_result(unsafe { bindings::kernel_listen(sock.as_ptr(), backlog) })?;
        Ok(Self {
            sock,
            addr: addr.text(),
        })
    }

    /// The address it listens on.
    pub(crate) fn addr(&self) -> &AddrText {
        &self.addr
    }

    /// Waits for a connection; `EAGAIN` when the accept timeout passes first, `EINVAL` once
    /// [`Listener::shutdown`] was called.
    pub(crate) fn accept(&self) -> Result<Stream> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: the listener socket is valid for the lifetime of `self`.
        to_result(unsafe { bindings::kernel_accept(self.sock.as_ptr(), &mut raw, 0) })?;
        // INVARIANT: `kernel_accept` succeeded; the new socket is ours to release.
        let sock = OwnedSocket {
            ptr: NonNull::new(raw).ok_or(EINVAL)?,
        };
        Ok(Stream {
            sock,
            ktls: false,
            tls: AtomicBool::new(false),
        })
    }

    /// Wakes a blocked [`Listener::accept`] and makes every later one fail.
    pub(crate) fn shutdown(&self) {
        self.sock.shutdown(bindings::sock_shutdown_cmd_SHUT_RDWR);
    }
}

/// A connected TCP socket; every operation is non-blocking.
pub(crate) struct Stream {
    sock: OwnedSocket,
    /// It carries the kernel's TLS layer (set once, after the handshake's check).
    ktls: bool,
    /// It carries the kernel's TLS layer and has not said close_notify yet: the first
    /// shutdown sends it.
    tls: AtomicBool,
}

impl Stream {
    /// Receives into `buf`: `Ok(0)` at end of stream, `Err(EAGAIN)` when nothing is queued.
    pub(crate) fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        let mut vec = bindings::kvec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: an all-zero `msghdr` is a valid empty message header.
        let mut msg: bindings::msghdr = unsafe { core::mem::zeroed() };
        // SAFETY: the socket is valid; `vec` describes `buf`, which outlives the call.
        let ret = unsafe {
            bindings::kernel_recvmsg(
                self.sock.as_ptr(),
                &mut msg,
                &mut vec,
                1,
                buf.len(),
                bindings::MSG_DONTWAIT as i32,
            )
        };
        to_result(ret)?;
        Ok(ret as usize)
    }

    /// Whether a [`Stream::recv`] could return something now (data, the end of the stream or
    /// an error), without the cost of one that finds nothing. False only when it would fail
    /// with `EAGAIN`; whatever arrives afterwards wakes the socket's waiters. Always true on a
    /// kTLS stream (its decrypted records wait outside the socket's receive queue).
    pub(crate) fn input_pending(&self) -> bool {
        // SAFETY: the socket is valid for the stream's lifetime.
        self.ktls || unsafe { ktcp_input_pending(self.sock.as_ptr()) }
    }

    /// Whether data is waiting to be read (without reading it): `Ok(false)` at end of stream,
    /// `Err(EAGAIN)` when nothing is queued.
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn has_input(&self) -> Result<bool> {
        let mut byte = [0u8; 1];
        let mut vec = bindings::kvec {
            iov_base: byte.as_mut_ptr().cast(),
            iov_len: 1,
        };
        // SAFETY: an all-zero `msghdr` is a valid empty message header.
        let mut msg: bindings::msghdr = unsafe { core::mem::zeroed() };
        let flags = (bindings::MSG_DONTWAIT | bindings::MSG_PEEK) as i32;
        // SAFETY: the socket is valid; `vec` describes `byte`, which outlives the call.
        let ret = unsafe {
            bindings::kernel_recvmsg(self.sock.as_ptr(), &mut msg, &mut vec, 1, 1, flags)
        };
        to_result(ret)?;
        Ok(ret > 0)
    }

    /// Sends from `buf`: the count queued, `Err(EAGAIN)` when the send buffer is full. `more`
    /// asks TCP to hold a partial segment because more data follows at once (`MSG_MORE`).
    pub(crate) fn send(&self, buf: &[u8], more: bool) -> Result<usize> {
        let mut vec = bindings::kvec {
            iov_base: buf.as_ptr().cast_mut().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: an all-zero `msghdr` is a valid empty message header.
        let mut msg: bindings::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_flags = bindings::MSG_DONTWAIT | bindings::MSG_NOSIGNAL;
        if more {
            msg.msg_flags |= bindings::MSG_MORE;
        }
        // SAFETY: the socket is valid; `vec` describes `buf`, which outlives the call and is
        // only read.
        let ret = unsafe {
            bindings::kernel_sendmsg(self.sock.as_ptr(), &mut msg, &mut vec, 1, buf.len())
        };
        to_result(ret)?;
        Ok(ret as usize)
    }

    /// The socket, for the file layer's zero-copy send (`fs::File::splice_to`) and the trace
    /// events (`trace.rs`); valid while `self` lives.
    #[allow(dead_code)] // Not used by kecho_rs built without trace events (KTCP_TRACE=0).
    pub(crate) fn raw_socket(&self) -> *mut bindings::socket {
        self.sock.as_ptr()
    }

    /// Shuts both directions down: the peer sees EOF, and pending reads and writes fail.
    /// Process context (a TLS stream's close_notify takes the socket lock).
    pub(crate) fn shutdown(&self) {
        self.close_notify();
        self.sock.shutdown(bindings::sock_shutdown_cmd_SHUT_RDWR);
    }

    /// Marks the stream as carrying kTLS (its handshake succeeded).
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn set_tls(&mut self) {
        self.ktls = true;
        *self.tls.get_mut() = true;
    }

    /// Whether the kernel's TLS layer still holds records that TCP has not taken (they go as
    /// room appears, and a shutdown now would lose them); if so, room appearing wakes the
    /// socket's waiters. Always false on a plain stream. Process context (socket lock).
    pub(crate) fn tls_tx_pending(&self) -> bool {
        // SAFETY: the socket is valid and carries kTLS (`ktls` is set only after the
        // handshake's check); the shim takes the socket lock and does not block otherwise.
        self.ktls && unsafe { ktcp_tls_tx_pending(self.sock.as_ptr()) }
    }

    /// A TLS stream's close_notify alert, sent once, before the end of the stream; queued
    /// behind what kTLS still holds. False while the send buffer has no room for it (then
    /// room appearing wakes the socket's waiters): call again. True on a plain stream, once
    /// sent, or when it can never be (the socket is past sending).
    pub(crate) fn close_notify(&self) -> bool {
        if !self.tls.load(Ordering::Relaxed) {
            return true;
        }
        // SAFETY: the socket is valid and carries kTLS (set only after the handshake's
        // check); the shim sends the alert without blocking or signalling.
        let ret = unsafe { ktcp_tls_close_notify(self.sock.as_ptr()) };
        if ret == -(bindings::EAGAIN as i32) {
            return false;
        }
        self.tls.store(false, Ordering::Relaxed);
        true
    }

    /// Gives the socket a file (which net/handshake needs to pass it to the TLS agent); the
    /// file owns the socket from then on. On failure the socket is already released.
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn alloc_file(self) -> Result<Self> {
        let sock = self.sock.as_ptr();
        // SAFETY: the socket is valid and has no file yet (only this function gives one, and
        // it consumes the stream on failure).
        let ret = unsafe { ktcp_sock_alloc_file(sock) };
        if ret < 0 {
            // `sock_alloc_file` released the socket: it must not be released again.
            core::mem::forget(self);
            return Err(Error::from_errno(ret));
        }
        Ok(self)
    }

    /// A reference to the socket's `struct sock`, valid even after the stream is dropped.
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn sock_ref(&self) -> SockRef {
        // SAFETY: the socket is valid and so is its `sk`; the reference taken is put in
        // `SockRef`'s drop.
        let sk = unsafe { ktcp_sock_get(self.sock.as_ptr()) };
        // INVARIANT: `ktcp_sock_get` took a reference on a non-null `sk`.
        SockRef { sk }
    }

    /// Shuts the sending side down: the peer sees EOF after what was queued, and we can still
    /// read what it sends (a lingering close).
    pub(crate) fn shutdown_write(&self) {
        self.close_notify();
        self.sock.shutdown(bindings::sock_shutdown_cmd_SHUT_WR);
    }

    /// The socket's wait queue, on which every readiness change is announced.
    ///
    /// The pointer is valid for as long as `self` is.
    fn wait_head(&self) -> *mut bindings::wait_queue_head {
        // SAFETY: the socket is valid; `wq` is embedded in `struct socket` and lives as long.
        unsafe { core::ptr::addr_of_mut!((*self.sock.as_ptr()).wq.wait) }
    }
}

/// A counted reference to a `struct sock`: its memory stays valid while this lives, whatever
/// happens to the socket.
///
/// # Invariants
///
/// `sk` is a `struct sock` on which this holds one reference (`sock_hold`).
pub(crate) struct SockRef {
    sk: *mut bindings::sock,
}

// SAFETY: a reference on a `struct sock` may be dropped from any thread.
unsafe impl Send for SockRef {}
// SAFETY: `&SockRef` only hands out the pointer; the functions given it do their own locking.
unsafe impl Sync for SockRef {}

impl SockRef {
    /// The `struct sock`, valid while `self` lives.
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn as_ptr(&self) -> *mut bindings::sock {
        self.sk
    }
}

impl Drop for SockRef {
    fn drop(&mut self) {
        // SAFETY: by the type invariant this holds one reference, put exactly once here.
        unsafe { ktcp_sock_put(self.sk) };
    }
}

/// Something a socket's readiness changes are delivered to.
pub(crate) trait Wake: Send + Sync + Sized + 'static {
    /// Called on every readiness change of the socket (data, write space, FIN, reset), under
    /// the socket's wait-queue lock and possibly in softirq context: it must not sleep.
    fn wake(this: ArcBorrow<'_, Self>);
}

/// Where a [`WatchedStream`]'s registration stands.
enum Registration<T: Wake> {
    /// Not on the wait queue yet.
    Unregistered,
    /// On the stream's wait queue; `owner` came from `Arc::into_raw` and is the reference the
    /// registration holds on the value the wake function is delivered to.
    Registered { owner: *const T },
    /// Removed for good: a later [`WatchedStream::watch`] fails.
    Retired,
}

/// A stream with an entry on its wait queue that delivers every wake-up to an `Arc<T>`.
///
/// Registering and unregistering are serialised by one lock, so an unregistration that
/// overtakes a registration in progress still finds and removes the entry, and a
/// registration after it fails: the entry can never be left on the queue. The value owns the
/// stream, and `Drop` unregisters before the stream is released.
///
/// # Invariants
///
/// While the state is `Registered`, `entry` is on `stream`'s wait queue and its `private`
/// field is `owner`, a pointer from `Arc::into_raw` whose reference the registration owns.
#[pin_data(PinnedDrop)]
pub(crate) struct WatchedStream<T: Wake> {
    #[pin]
    entry: Opaque<bindings::wait_queue_entry>,
    #[pin]
    state: Mutex<Registration<T>>,
    /// Dropped after `PinnedDrop::drop` has unregistered the entry.
    stream: Stream,
}

// SAFETY: the entry is only touched under the state lock (watch, unwatch) and, while
// registered, by the wait-queue code under the wait-queue lock; `T` is `Send + Sync`; the
// stream is `Send + Sync`.
unsafe impl<T: Wake> Send for WatchedStream<T> {}
// SAFETY: see `Send` above; `&WatchedStream` only allows locked operations and `&Stream`.
unsafe impl<T: Wake> Sync for WatchedStream<T> {}

impl<T: Wake> WatchedStream<T> {
    /// `stream`, not watched yet.
    pub(crate) fn new(stream: Stream) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `ktcp_init_wait_entry` fully initialises the entry it is given.
            entry <- Opaque::ffi_init(|entry| unsafe {
                ktcp_init_wait_entry(entry, Some(wake_function::<T>))
            }),
            state <- new_mutex!(Registration::Unregistered),
            stream,
        })
    }

    /// The stream.
    pub(crate) fn stream(&self) -> &Stream {
        &self.stream
    }

    /// Puts the entry on the stream's wait queue, delivering wake-ups to `owner` from now
    /// on. `EINVAL` if it is registered already or was unregistered.
    pub(crate) fn watch(&self, owner: Arc<T>) -> Result {
        let mut state = self.state.lock();
        if !matches!(*state, Registration::Unregistered) {
            return Err(EINVAL);
        }
        let entry = self.entry.get();
        let owner = Arc::into_raw(owner);
        // SAFETY: the entry is on no queue (state `Unregistered`), so nothing reads `private`.
        unsafe { (*entry).private = owner.cast_mut().cast() };
        // SAFETY: the wait queue belongs to `self.stream`, which outlives the registration
        // (`Drop` unregisters first); `entry` is initialised and pinned inside `self`; the
        // reference leaked into `owner` keeps `T` alive while the entry is queued.
        unsafe { bindings::add_wait_queue(self.stream.wait_head(), entry) };
        // INVARIANT: the entry is queued with `private` = `owner`, whose reference is ours.
        *state = Registration::Registered { owner };
        Ok(())
    }

    /// Takes the entry off the queue for good; afterwards no wake-up runs or starts. Returns
    /// the owner reference the registration held, if it was registered.
    pub(crate) fn unwatch(&self) -> Option<Arc<T>> {
        let previous = core::mem::replace(&mut *self.state.lock(), Registration::Retired);
        let Registration::Registered { owner } = previous else {
            return None;
        };
        // SAFETY: by the type invariant the entry is on the stream's wait queue, and the
        // stream is alive (owned by `self`). `remove_wait_queue` takes the lock wake
        // functions run under, so none runs after it returns.
        unsafe { bindings::remove_wait_queue(self.stream.wait_head(), self.entry.get()) };
        // SAFETY: `owner` came from `Arc::into_raw` in `watch`, and with the entry off the
        // queue nothing borrows it any more: the reference is ours again.
        Some(unsafe { Arc::from_raw(owner) })
    }
}

#[pinned_drop]
impl<T: Wake> PinnedDrop for WatchedStream<T> {
    fn drop(self: Pin<&mut Self>) {
        // Unreachable while registered when `T` holds its own stream (the registration keeps
        // `T` alive), but a stream must never be released with the entry still queued.
        drop(self.unwatch());
    }
}

/// The wake function of every [`WatchedStream`] entry.
///
/// # Safety
///
/// Called by the wait-queue code with the queue's lock held, for an `entry` that a
/// [`WatchedStream<T>`] registered: its `private` field then holds a pointer from
/// `Arc::into_raw` (the waiter's type invariant), which stays valid while the lock is held
/// because unregistering needs that lock.
unsafe extern "C" fn wake_function<T: Wake>(
    entry: *mut bindings::wait_queue_entry,
    _mode: c_uint,
    _flags: c_int,
    _key: *mut c_void,
) -> c_int {
    // SAFETY: as the function's safety section says, `private` came from `Arc::into_raw`,
    // and the registration holds that reference for at least this call.
    let owner = unsafe { ArcBorrow::from_raw((*entry).private.cast::<T>().cast_const()) };
    T::wake(owner);
    0
}
