// SPDX-License-Identifier: GPL-2.0

//! Module parameters: read once at load from the C shim (`params.h`) and validated here.

use crate::helpers::{self, RawParams, PARAMS_FIELDS};
use crate::server::Config;
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
        };
        // SAFETY: `raw` is a valid `struct ktcp_params` (sizes checked above) for the shim
        // to fill; module parameters are fixed after load (mode 0444).
        unsafe { helpers::ktcp_params_get(&mut raw) };
        Ok(Self { raw })
    }

    /// The server configuration from `port`, `backlog`, `bench` and `max_connections`.
    pub(crate) fn server_config(&self, name: &'static CStr) -> Result<Config> {
        let raw = &self.raw;
        Ok(Config {
            name,
            port: in_range("port", raw.port, 1, 65535)? as u16,
            backlog: in_range("backlog", raw.backlog, 1, 65535)?,
            bound: raw.bench,
            max_connections: in_range("max_connections", raw.max_connections, 1, 1_000_000)?
                as usize,
            defer_accept_s: 0,
        })
    }

    /// The raw values, for the module's own parameters (checked with [`in_range`]).
    pub(crate) fn raw(&self) -> &RawParams {
        &self.raw
    }

    /// The `root` parameter (empty when not given).
    #[allow(dead_code)] // Used by khttpd_rs only.
    pub(crate) fn root(&self) -> &CStr {
        if self.raw.root.is_null() {
            return kernel::c_str!("");
        }
        // SAFETY: a non-null `root` points at the NUL-terminated string of the module's
        // `charp` parameter (or a string literal in the shim), which lives as long as the
        // module and does not change after load (mode 0444).
        unsafe { CStr::from_char_ptr(self.raw.root) }
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
