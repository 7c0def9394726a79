// SPDX-License-Identifier: GPL-2.0

//! Every `unsafe` of the agent, in one place: adopting the socket descriptor the kernel
//! installed into this process for an ACCEPT, and the raw `setsockopt` calls that turn a
//! TCP socket into a kTLS one (neither `std` nor `rustix` has these options).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `SOL_TLS` options (`include/uapi/linux/tls.h`).
pub const TLS_TX: libc::c_int = 1;
pub const TLS_RX: libc::c_int = 2;

/// Takes ownership of `fd`, a descriptor the kernel installed into this process's table in
/// its answer to HANDSHAKE_CMD_ACCEPT. It must be an open TCP socket (IPv4 or IPv6):
/// anything else is refused untouched, so a garbled number can never make the agent close
/// a descriptor that belongs to something else (its netlink socket, stderr).
pub fn adopt_kernel_socket(fd: i32) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: fcntl(F_GETFD) takes no pointer; on a number that is not an open descriptor
    // it fails with EBADF and changes nothing.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is open (checked just above, and nothing in this function closes it);
    // the borrow lives only for the type checks below.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    check_tcp_socket(borrowed)?;
    // SAFETY: the kernel created this descriptor for the agent alone (fd_install() in
    // handshake_nl_accept_doit) and reported its number in the ACCEPT reply read from the
    // kernel (netlink port 0); no other object in this process owns it, and it is an open
    // TCP socket, so the OwnedFd is its single owner and closes it exactly once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn check_tcp_socket(fd: BorrowedFd<'_>) -> io::Result<()> {
    use rustix::net::{sockopt, AddressFamily, SocketType};
    let not_tcp = || io::Error::from_raw_os_error(libc::ENOTSOCK);
    if sockopt::socket_type(fd).map_err(io::Error::from)? != SocketType::STREAM {
        return Err(not_tcp());
    }
    let domain = sockopt::socket_domain(fd).map_err(io::Error::from)?;
    if domain != AddressFamily::INET && domain != AddressFamily::INET6 {
        return Err(not_tcp());
    }
    Ok(())
}

/// `setsockopt(SOL_TCP, TCP_ULP, "tls")`: attaches the kTLS upper-layer protocol. The kernel
/// loads `tls.ko` for this if it is a module, so it must only ever run inside the guest
/// (the agent's own sockets), never in a host test.
pub fn set_tcp_ulp_tls(sock: BorrowedFd<'_>) -> io::Result<()> {
    setsockopt_bytes(sock, libc::SOL_TCP, libc::TCP_ULP, b"tls")
}

/// `setsockopt(SOL_TLS, TLS_TX or TLS_RX, crypto_info)`: `info` is a complete
/// `tls12_crypto_info_*` in the kernel's layout (see `ktls::crypto_info`).
pub fn set_tls_crypto_info(
    sock: BorrowedFd<'_>,
    direction: libc::c_int,
    info: &[u8],
) -> io::Result<()> {
    setsockopt_bytes(sock, libc::SOL_TLS, direction, info)
}

fn setsockopt_bytes(
    sock: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `value` is a live slice of exactly `len` bytes for the whole call; the kernel
    // only reads from it; `sock` is a descriptor borrowed for the call.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            value.as_ptr().cast::<libc::c_void>(),
            len,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
