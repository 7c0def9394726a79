// SPDX-License-Identifier: GPL-2.0

//! khttpd_rs: an in-kernel HTTP/1.1 static-file server, a drop-in for the C `khttpd`.
//!
//! Same shape as kecho_rs (accept kthread, readiness-driven work items); the protocol lives
//! in `proto/` (plain Rust, host-tested) and `respond.rs`. Parameters: `port`, `backlog`,
//! `bench`, `root`, `keepalive_timeout`, `header_timeout`, `max_connections`; counters in
//! `/sys/kernel/debug/khttpd_rs/`.

use kernel::{c_str, prelude::*, str::CStr};

mod clock;
mod conn;
mod fs;
mod http_out;
mod httpd;
mod net;
mod params;
// The protocol layer is shared with the host test crate, which uses all of it.
#[allow(dead_code)]
mod proto;
mod queue;
mod respond;
mod server;
mod stats;
mod thread;

use httpd::{Http, HttpShared};
use server::Server;

module! {
    type: KhttpdRs,
    name: "khttpd_rs",
    author: "ktcp-rs developers",
    description: "In-kernel HTTP/1.1 static-file server (readiness-driven CMWQ work items)",
    license: "GPL",
}

extern "C" {
    fn khttpd_param_root() -> *const kernel::ffi::c_char;
    fn khttpd_param_keepalive_timeout() -> i32;
    fn khttpd_param_header_timeout() -> i32;
}

struct KhttpdRs {
    _server: Server<Http>,
}

/// Looks up the `root` parameter: `None` (hello mode) when empty.
fn open_root(root: &CStr) -> Result<Option<fs::Root>> {
    if root.is_empty() {
        return Ok(None);
    }
    fs::Root::new(root).map(Some).inspect_err(|e| {
        pr_err!(
            "root={}: not a usable directory (error {})\n",
            root.to_str().unwrap_or("?"),
            e.to_errno()
        );
    })
}

impl kernel::Module for KhttpdRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: the getters read plain module parameters, fixed after load (mode 0444);
        // `root` is a NUL-terminated string owned by the module's parameter storage.
        let (root, keepalive, header) = unsafe {
            (
                CStr::from_char_ptr(khttpd_param_root()),
                khttpd_param_keepalive_timeout(),
                khttpd_param_header_timeout(),
            )
        };
        let config = params::server_config(c_str!("khttpd_rs"))?;
        let keepalive_s = params::in_range("keepalive_timeout", keepalive, 0, 3600)? as u32;
        let header_s = params::in_range("header_timeout", header, 0, 3600)? as u32;
        let shared = HttpShared::new(open_root(root)?, keepalive_s * 1000, header_s * 1000);
        let mode = if shared.root.is_some() {
            "static files"
        } else {
            "hello mode"
        };
        let server = Server::start(&config, shared)?;
        pr_info!(
            "listening on port {} ({}, keepalive {} s, header {} s, {} workqueue)\n",
            config.port,
            mode,
            keepalive_s,
            header_s,
            if config.bound { "bound" } else { "unbound" }
        );
        Ok(Self { _server: server })
    }
}
