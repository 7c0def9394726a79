// SPDX-License-Identifier: GPL-2.0

//! Owned kernel TCP sockets: a listening socket and accepted streams.
//!
//! Every `struct socket` the modules touch is owned by a [`Listener`] or a [`Stream`], whose
//! `Drop` releases it. All socket `unsafe` lives in this file.

use core::{ffi::c_void, ptr::NonNull};
use kernel::{bindings, error::to_result, prelude::*};

/// `IPPROTO_TCP` from `include/uapi/linux/in.h` (an enum bindgen does not export in 6.12).
const IPPROTO_TCP: i32 = 6;

// C shims in `helpers.c` for what bindgen cannot reach (globals, inlines, `struct sock`).
// Opaque pointers (`c_void`) keep bindgen's structs out of the `improper_ctypes` lint.
extern "C" {
    fn ktcp_init_net() -> *mut c_void;
    fn ktcp_sock_set_nodelay(sock: *mut c_void);
    fn ktcp_sock_set_reuseaddr(sock: *mut c_void);
    fn ktcp_sock_set_rcvtimeo(sock: *mut c_void, timeo: core::ffi::c_long);
}

/// `struct sockaddr_in` (not in the 6.12 bindings); all fields in network byte order.
#[repr(C)]
struct SockaddrIn {
    family: u16,
    port: u16,
    addr: u32,
    zero: [u8; 8],
}

/// An owned, non-null `struct socket` pointer, released on drop.
///
/// # Invariants
///
/// `ptr` points at a socket created by `sock_create_kern` or `kernel_accept` that nobody else
/// releases.
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

    fn shutdown(&self) {
        // SAFETY: by the type invariant the socket is valid. Errors (e.g. not connected) are of
        // no interest: the goal is only that nothing more flows.
        unsafe {
            bindings::kernel_sock_shutdown(self.as_ptr(), bindings::sock_shutdown_cmd_SHUT_RDWR)
        };
    }
}

impl Drop for OwnedSocket {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own the socket and release it exactly once.
        unsafe { bindings::sock_release(self.as_ptr()) };
    }
}

/// A TCP socket listening on `0.0.0.0:port`.
pub(crate) struct Listener {
    sock: OwnedSocket,
}

impl Listener {
    /// Creates, binds and listens; `accept_timeout` (jiffies) bounds each [`Listener::accept`].
    pub(crate) fn bind(port: u16, backlog: i32, accept_timeout: usize) -> Result<Self> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: `ktcp_init_net` returns the always-valid initial network namespace and `raw`
        // is a valid place for the result.
        to_result(unsafe {
            bindings::sock_create_kern(
                ktcp_init_net().cast(),
                bindings::AF_INET as i32,
                bindings::sock_type_SOCK_STREAM as i32,
                IPPROTO_TCP,
                &mut raw,
            )
        })?;
        let sock = OwnedSocket {
            ptr: NonNull::new(raw).ok_or(ENOMEM)?,
        };
        let timeo = core::ffi::c_long::try_from(accept_timeout).unwrap_or(core::ffi::c_long::MAX);
        // SAFETY: `sock` is a freshly created, valid socket.
        unsafe {
            ktcp_sock_set_reuseaddr(sock.as_ptr().cast());
            ktcp_sock_set_rcvtimeo(sock.as_ptr().cast(), timeo);
        }
        let mut addr = SockaddrIn {
            family: bindings::AF_INET as u16,
            port: port.to_be(),
            addr: 0,
            zero: [0; 8],
        };
        // SAFETY: `addr` is a valid `sockaddr_in` of the length passed; the socket is valid.
        to_result(unsafe {
            bindings::kernel_bind(
                sock.as_ptr(),
                (&mut addr as *mut SockaddrIn).cast(),
                core::mem::size_of::<SockaddrIn>() as i32,
            )
        })?;
        // SAFETY: the socket is valid and bound.
        to_result(unsafe { bindings::kernel_listen(sock.as_ptr(), backlog) })?;
        Ok(Self { sock })
    }

    /// Waits for a connection; `EAGAIN` when the accept timeout passes first, `EINVAL` once
    /// [`Listener::shutdown`] was called.
    pub(crate) fn accept(&self) -> Result<Stream> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: the listener socket is valid for the lifetime of `self`.
        to_result(unsafe { bindings::kernel_accept(self.sock.as_ptr(), &mut raw, 0) })?;
        let sock = OwnedSocket {
            ptr: NonNull::new(raw).ok_or(EINVAL)?,
        };
        // SAFETY: `sock` is a valid, connected TCP socket.
        unsafe { ktcp_sock_set_nodelay(sock.as_ptr().cast()) };
        Ok(Stream { sock })
    }

    /// Wakes a blocked [`Listener::accept`] and makes every later one fail.
    pub(crate) fn shutdown(&self) {
        self.sock.shutdown();
    }
}

/// A connected TCP socket; every operation is non-blocking.
pub(crate) struct Stream {
    sock: OwnedSocket,
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

    /// Shuts both directions down: the peer sees EOF, and pending reads and writes fail.
    pub(crate) fn shutdown(&self) {
        self.sock.shutdown();
    }

    /// The socket's wait queue, on which every readiness change is announced.
    ///
    /// The pointer is valid for as long as `self` is.
    pub(crate) fn wait_head(&self) -> *mut bindings::wait_queue_head {
        // SAFETY: the socket is valid; `wq` is embedded in `struct socket` and lives as long.
        unsafe { core::ptr::addr_of_mut!((*self.sock.as_ptr()).wq.wait) }
    }
}
