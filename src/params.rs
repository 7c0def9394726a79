// SPDX-License-Identifier: GPL-2.0

//! Module parameters: validation, and the ones every server has (`params.h`).

use crate::server::Config;
use kernel::{prelude::*, str::CStr};

extern "C" {
    fn ktcp_param_port() -> i32;
    fn ktcp_param_backlog() -> i32;
    fn ktcp_param_bench() -> bool;
    fn ktcp_param_max_connections() -> i32;
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

/// The server configuration from `port`, `backlog`, `bench` and `max_connections`.
pub(crate) fn server_config(name: &'static CStr) -> Result<Config> {
    // SAFETY: the getters read plain module parameters, fixed after load (mode 0444).
    let (port, backlog, bench, max) = unsafe {
        (
            ktcp_param_port(),
            ktcp_param_backlog(),
            ktcp_param_bench(),
            ktcp_param_max_connections(),
        )
    };
    Ok(Config {
        name,
        port: in_range("port", port, 1, 65535)? as u16,
        backlog: in_range("backlog", backlog, 1, 65535)?,
        bound: bench,
        max_connections: in_range("max_connections", max, 1, 1_000_000)? as usize,
    })
}
