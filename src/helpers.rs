// SPDX-License-Identifier: GPL-2.0

//! Rust declarations of the C shims in `helpers.c` and the module shims (`params.h`), made
//! once here with the types bindgen gives for their arguments. Only the wrapper layer
//! (`net.rs`, `fs.rs`, `clock.rs`, `stats.rs`, `params.rs`, `trace.rs`) calls them.

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_ulong};

/// `struct ktcp_text` of `helpers.h`: the head of a debugfs text file's source; `format`
/// gets a pointer to this head and writes the text into the seq_file (`ktcp_seq_write`),
/// returning 0 or a negative errno.
#[repr(C)]
pub(crate) struct KtcpText {
    pub(crate) format: unsafe extern "C" fn(*const KtcpText, *mut bindings::seq_file) -> c_int,
}

/// Fields of [`RawParams`] (`KTCP_PARAMS_FIELDS` in `params.h`).
pub(crate) const PARAMS_FIELDS: usize = 17;

/// `struct ktcp_params` of `params.h`, filled by the module's C shim.
#[repr(C)]
pub(crate) struct RawParams {
    pub(crate) port: c_int,
    pub(crate) backlog: c_int,
    pub(crate) max_connections: c_int,
    pub(crate) bench: bool,
    pub(crate) idle_timeout: c_int,
    pub(crate) root: *const c_char,
    pub(crate) keepalive_timeout: c_int,
    pub(crate) header_timeout: c_int,
    pub(crate) uid: c_int,
    pub(crate) gid: c_int,
    pub(crate) dotfiles: bool,
    pub(crate) buffer_mib: c_int,
    pub(crate) defer_accept: c_int,
    pub(crate) bind: *const c_char,
    pub(crate) tls_port: c_int,
    pub(crate) handshake_timeout: c_int,
    pub(crate) highpri: bool,
}

/// `struct ktcp_live` of `params.h`: where the run-time writable parameters live.
#[repr(C)]
pub(crate) struct RawLive {
    pub(crate) max_connections: *const c_int,
    pub(crate) idle_timeout: *const c_int,
    pub(crate) keepalive_timeout: *const c_int,
    pub(crate) header_timeout: *const c_int,
    pub(crate) max_age: *const c_int,
}

/// `struct ktcp_request_text` of `ktcp_events.h`: the text parts of a `request` event.
#[repr(C)]
pub(crate) struct KtcpRequestText {
    pub(crate) method: *const u8,
    pub(crate) target: *const u8,
    pub(crate) referer: *const u8,
    pub(crate) user_agent: *const u8,
    pub(crate) method_len: u16,
    pub(crate) target_len: u16,
    pub(crate) referer_len: u16,
    pub(crate) user_agent_len: u16,
    pub(crate) version: u8,
}

// Each module calls the subset it needs. The bindgen structs are only ever passed by pointer,
// and C sees them complete; some contain an empty struct (`mod_arch_specific`), which the
// `improper_ctypes` lint flags even behind a pointer.
#[allow(dead_code, improper_ctypes)]
extern "C" {
    pub(crate) fn ktcp_init_net() -> *mut bindings::net;
    pub(crate) fn ktcp_sock_set_nodelay(sock: *mut bindings::socket);
    pub(crate) fn ktcp_sock_set_reuseaddr(sock: *mut bindings::socket);
    pub(crate) fn ktcp_parse_addr(
        addr: *const c_char,
        port: u16,
        ss: *mut bindings::__kernel_sockaddr_storage,
    ) -> c_int;
    pub(crate) fn ktcp_sock_set_v6only(sock: *mut bindings::socket, v6only: bool);
    pub(crate) fn ktcp_format_addr(
        ss: *const bindings::__kernel_sockaddr_storage,
        buf: *mut c_char,
        len: usize,
    ) -> c_int;
    pub(crate) fn ktcp_sock_set_rcvtimeo(sock: *mut bindings::socket, timeo: c_long);
    pub(crate) fn ktcp_sock_set_defer_accept(sock: *mut bindings::socket, secs: c_int) -> c_int;
    pub(crate) fn ktcp_sock_release(sock: *mut bindings::socket);
    pub(crate) fn ktcp_sock_alloc_file(sock: *mut bindings::socket) -> c_int;
    pub(crate) fn ktcp_sock_get(sock: *mut bindings::socket) -> *mut bindings::sock;
    pub(crate) fn ktcp_sock_put(sk: *mut bindings::sock);
    pub(crate) fn ktcp_tls_server_hello(
        sock: *mut bindings::socket,
        timeout_ms: c_uint,
        done: Option<unsafe extern "C" fn(*mut core::ffi::c_void, c_int, i32)>,
        data: *mut core::ffi::c_void,
    ) -> c_int;
    pub(crate) fn ktcp_tls_cancel(sk: *mut bindings::sock) -> bool;
    pub(crate) fn ktcp_tls_available() -> bool;
    pub(crate) fn ktcp_tls_active(sock: *mut bindings::socket) -> bool;
    pub(crate) fn ktcp_tls_close_notify(sock: *mut bindings::socket) -> c_int;
    pub(crate) fn ktcp_tls_tx_pending(sock: *mut bindings::socket) -> bool;
    pub(crate) fn ktcp_input_pending(sock: *mut bindings::socket) -> bool;
    pub(crate) fn ktcp_tls_callbacks_barrier();
    pub(crate) fn ktcp_init_wait_entry(
        entry: *mut bindings::wait_queue_entry,
        func: bindings::wait_queue_func_t,
    );
    pub(crate) fn ktcp_splice_to_socket(
        file: *mut bindings::file,
        pos: *mut i64,
        sock: *mut bindings::socket,
        len: usize,
        more: bool,
        full: *mut bool,
    ) -> isize;

    pub(crate) fn ktcp_rcu_read_lock();
    pub(crate) fn ktcp_rcu_read_unlock();

    pub(crate) fn ktcp_local_clock() -> u64;
    pub(crate) fn ktcp_cpu_id() -> c_uint;
    pub(crate) fn ktcp_nr_cpu_ids() -> c_uint;
    pub(crate) fn ktcp_jiffies64() -> u64;
    pub(crate) fn ktcp_msecs_to_jiffies(ms: c_uint) -> c_ulong;
    pub(crate) fn ktcp_jiffies_to_msecs(jiffies: c_ulong) -> c_uint;

    pub(crate) fn ktcp_debugfs_dir(name: *const c_char) -> *mut bindings::dentry;
    pub(crate) fn ktcp_debugfs_u64(
        name: *const c_char,
        dir: *mut bindings::dentry,
        value: *mut u64,
    );
    pub(crate) fn ktcp_get_file(file: *mut bindings::file);
    pub(crate) fn ktcp_debugfs_text(
        name: *const c_char,
        dir: *mut bindings::dentry,
        text: *const KtcpText,
    );
    pub(crate) fn ktcp_debugfs_remove(dir: *mut bindings::dentry);
    pub(crate) fn ktcp_seq_write(
        m: *mut bindings::seq_file,
        buf: *const c_char,
        len: usize,
    ) -> c_int;
    pub(crate) fn ktcp_seq_overflowed(m: *mut bindings::seq_file) -> bool;

    pub(crate) fn ktcp_path_lookup_beneath(
        root: *const bindings::path,
        name: *const c_char,
        out: *mut bindings::path,
    ) -> c_int;
    pub(crate) fn ktcp_kern_path_dir(name: *const c_char, out: *mut bindings::path) -> c_int;
    pub(crate) fn ktcp_path_mode(path: *const bindings::path) -> c_uint;
    pub(crate) fn ktcp_path_permission(path: *const bindings::path, mask: c_int) -> c_int;
    pub(crate) fn ktcp_unprivileged_cred(uid: u32, gid: u32) -> *const bindings::cred;
    pub(crate) fn ktcp_put_cred(cred: *const bindings::cred);
    pub(crate) fn ktcp_override_creds(cred: *const bindings::cred) -> *const bindings::cred;
    pub(crate) fn ktcp_revert_creds(old: *const bindings::cred);

    pub(crate) static ktcp_trace_conn_open_on: *const bindings::atomic_t;
    pub(crate) static ktcp_trace_conn_close_on: *const bindings::atomic_t;
    pub(crate) static ktcp_trace_request_on: *const bindings::atomic_t;
    pub(crate) fn ktcp_trace_conn_open(id: u64, sock: *mut bindings::socket, refused: bool);
    pub(crate) fn ktcp_trace_conn_close(id: u64, sock: *mut bindings::socket, duration_ns: u64);
    pub(crate) fn ktcp_trace_request(
        sock: *mut bindings::socket,
        text: *const KtcpRequestText,
        status: u16,
        bytes: u64,
        body_bytes: u64,
        duration_ns: u64,
    );

    pub(crate) fn ktcp_params_get(params: *mut RawParams);
    pub(crate) fn ktcp_live_params(live: *mut RawLive);
    pub(crate) fn ktcp_params_layout() -> *const usize;
}
