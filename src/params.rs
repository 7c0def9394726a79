// SPDX-License-Identifier: GPL-2.0

//! Module parameters: read once at load from the C shim (`params.h`) and validated here.

use crate::helpers::{self, RawLive, RawParams, PARAMS_FIELDS};
use crate::net::ListenAddr;
use crate::server::Config;
use crate::tls::TlsConfig;
use core::mem::{offset_of, size_of};
use kernel::{prelude::*, str::CStr};

/// The values given at `insmod`, as the module's C shim reports them.
pub(crate) struct Params {
    raw: RawParams,
}

impl Params {
    /// Reads the parameters; `EINVAL` if the C and Rust layouts of them disagree.
    pub(crate) fn read() -> Result<Self> {
        let expected: [usize; PARAMS_FIELDS + 1] = [
            offset_of!(RawParams, port),
            offset_of!(RawParams, backlog),
            offset_of!(RawParams, max_connections),
            offset_of!(RawParams, bench),
            offset_of!(RawParams, idle_timeout),
            offset_of!(RawParams, root),
            offset_of!(RawParams, keepalive_timeout),
            offset_of!(RawParams, header_timeout),
            offset_of!(RawParams, uid),
            offset_of!(RawParams, gid),
            offset_of!(RawParams, dotfiles),
            offset_of!(RawParams, buffer_mib),
            offset_of!(RawParams, defer_accept),
            offset_of!(RawParams, bind),
            offset_of!(RawParams, tls_port),
            offset_of!(RawParams, handshake_timeout),
            offset_of!(RawParams, highpri),
            size_of::<RawParams>(),
        ];
        // SAFETY: the shim returns a static array of `KTCP_PARAMS_FIELDS + 1` offsets, and
        // `PARAMS_FIELDS` mirrors that constant (checked by the last entry, the size, too).
        let layout =
            unsafe { core::slice::from_raw_parts(helpers::ktcp_params_layout(), expected.len()) };
        if layout != expected {
            pr_err!("parameter block layout differs between C and Rust\n");
            return Err(EINVAL);
        }
        let mut raw = RawParams {
            port: 0,
            backlog: 0,
            max_connections: 0,
            bench: false,
            idle_timeout: 0,
            root: core::ptr::null(),
            keepalive_timeout: 0,
            header_timeout: 0,
            uid: 0,
            gid: 0,
            dotfiles: false,
            buffer_mib: 0,
            defer_accept: 0,
            bind: core::ptr::null(),
            tls_port: 0,
            handshake_timeout: 0,
            highpri: false,
        };
        // SAFETY: `raw` is a valid `struct ktcp_params` (sizes checked above) for the shim
        // to fill; module parameters are fixed after load (mode 0444).
        unsafe { helpers::ktcp_params_get(&mut raw) };
        Ok(Self { raw })
    }

    /// The server configuration from `bind`, `port`, `backlog`, `bench`, `highpri` and
    /// `max_connections`.
    pub(crate) fn server_config(&self, name: &'static CStr) -> Result<Config> {
        let raw = &self.raw;
        let port = in_range("port", raw.port, 1, 65535)? as u16;
        let bind = str_param(raw.bind);
        Ok(Config {
            name,
            addr: ListenAddr::parse(bind, port).inspect_err(|_| {
                pr_err!(
                    "invalid bind={}: not an IPv4 or IPv6 address\n",
                    bind.to_str().unwrap_or("(not UTF-8)")
                )
            })?,
            backlog: in_range("backlog", raw.backlog, 1, 65535)?,
            bound: raw.bench,
            highpri: raw.highpri,
            max_connections: {
                in_range("max_connections", raw.max_connections, 1, 1_000_000)?;
                Live::get()?.max_connections
            },
            defer_accept_s: 0,
            tls: None,
        })
    }

    /// The HTTPS listener's settings from `tls_port` (0: none) and `handshake_timeout`, on the
    /// `bind` address.
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn tls_config(&self, config: &Config) -> Result<Option<TlsConfig>> {
        let raw = &self.raw;
        let tls_port = in_range("tls_port", raw.tls_port, 0, 65535)? as u16;
        let secs = in_range("handshake_timeout", raw.handshake_timeout, 1, 600)? as u32;
        if tls_port == 0 {
            return Ok(None);
        }
        if !crate::handshake::available() {
            pr_err!("tls_port={}: this kernel has no TLS handshake upcall (CONFIG_NET_HANDSHAKE, CONFIG_TLS)\n", tls_port);
            return Err(Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32)));
        }
        if tls_port == config.addr.port() {
            pr_err!("invalid tls_port={}: the same as port\n", tls_port);
            return Err(EINVAL);
        }
        Ok(Some(TlsConfig {
            addr: ListenAddr::parse(str_param(raw.bind), tls_port)?,
            timeout_ms: secs * 1000,
        }))
    }

    /// The raw values, for the module's own parameters (checked with [`in_range`]).
    pub(crate) fn raw(&self) -> &RawParams {
        &self.raw
    }

    /// The `root` parameter (empty when not given).
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn root(&self) -> &CStr {
        str_param(self.raw.root)
    }
}

/// A string parameter (`root`, `bind`); empty when NULL.
fn str_param(ptr: *const kernel::ffi::c_char) -> &'static CStr {
    if ptr.is_null() {
        return kernel::c_str!("");
    }
    // SAFETY: a non-null string parameter points at the NUL-terminated string of the module's
    // `charp` parameter (or a string literal in the shim), which lives as long as the module
    // and does not change after load (mode 0444).
    unsafe { CStr::from_char_ptr(ptr) }
}

/// A parameter that may change while the module runs (mode 0644): read where it lives, each
/// time it is needed. Its C setter keeps it in range (a bad write fails with `-EINVAL`).
///
/// # Invariants
///
/// `ptr` points at the parameter's `static int` in the module's C shim, which lives as long as
/// the module; it is written with `WRITE_ONCE` and read here with a volatile read.
#[derive(Clone, Copy)]
pub(crate) struct Tunable {
    ptr: *const kernel::ffi::c_int,
}

// SAFETY: the pointee is a static `int` that any thread may read (see the invariants).
unsafe impl Send for Tunable {}
// SAFETY: as above; `&Tunable` only reads.
unsafe impl Sync for Tunable {}

impl Tunable {
    /// The current value.
    pub(crate) fn get(&self) -> i32 {
        // SAFETY: by the type invariant `ptr` is valid, aligned and lives as long as the
        // module; a racing `WRITE_ONCE` of an aligned int cannot tear.
        unsafe { core::ptr::read_volatile(self.ptr) }
    }

    /// The current value as milliseconds, taking it for seconds (negative: 0).
    pub(crate) fn secs_as_ms(&self) -> u32 {
        u32::try_from(self.get()).unwrap_or(0).saturating_mul(1000)
    }
}

/// The module's run-time writable parameters (`None`: the module has no such parameter).
#[allow(dead_code)] // Each module reads its own subset.
pub(crate) struct Live {
    pub(crate) max_connections: Tunable,
    pub(crate) idle_timeout: Option<Tunable>,
    pub(crate) keepalive_timeout: Option<Tunable>,
    pub(crate) header_timeout: Option<Tunable>,
    pub(crate) max_age: Option<Tunable>,
}

impl Live {
    /// Where the module's writable parameters live; `EINVAL` if its shim lacks
    /// `max_connections`, which every module has.
    pub(crate) fn get() -> Result<Self> {
        let mut raw = RawLive {
            max_connections: core::ptr::null(),
            idle_timeout: core::ptr::null(),
            keepalive_timeout: core::ptr::null(),
            header_timeout: core::ptr::null(),
            max_age: core::ptr::null(),
        };
        // SAFETY: `raw` is a valid `struct ktcp_live` for the shim to fill.
        unsafe { helpers::ktcp_live_params(&mut raw) };
        // INVARIANT: the shim gives the addresses of its parameters' `static int`s, or NULL.
        let tunable = |ptr: *const kernel::ffi::c_int| (!ptr.is_null()).then_some(Tunable { ptr });
        Ok(Self {
            max_connections: tunable(raw.max_connections).ok_or(EINVAL)?,
            idle_timeout: tunable(raw.idle_timeout),
            keepalive_timeout: tunable(raw.keepalive_timeout),
            header_timeout: tunable(raw.header_timeout),
            max_age: tunable(raw.max_age),
        })
    }
}

/// Checks that parameter `name` lies in `min..=max`, logging a clear line if it does not.
pub(crate) fn in_range(name: &str, value: i32, min: i32, max: i32) -> Result<i32> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        pr_err!("invalid {}={}: must be {}..={}\n", name, value, min, max);
        Err(EINVAL)
    }
}
