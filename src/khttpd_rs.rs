// SPDX-License-Identifier: GPL-2.0

//! khttpd_rs: an in-kernel HTTP/1.1 static-file server, a drop-in for the C `khttpd`.
//!
//! Same shape as kecho_rs (accept kthread, readiness-driven work items); the protocol lives
//! in `proto/` (plain Rust, host-tested) and `respond.rs`. Parameters: `port`, `backlog`,
//! `bench`, `highpri`, `max_connections`, `root`, `keepalive_timeout`, `header_timeout`, `uid`, `gid`,
//! `dotfiles`, `buffer_mib`, `defer_accept`, `max_age`, `bind`, `tls_port`,
//! `handshake_timeout`; counters in
//! `/sys/kernel/debug/khttpd_rs/`.

use kernel::{c_str, prelude::*, str::CStr};

mod budget;
mod clock;
mod conn;
mod debugfs;
mod file_cache;
mod fs;
mod handshake;
mod helpers;
mod http_trace;
mod httpd;
mod latency;
mod net;
mod params;
mod pool;
// The protocol layer is shared with the host test crate, which uses all of it.
#[allow(dead_code)]
mod proto;
mod queue;
mod respond;
mod send_queue;
mod server;
mod stats;
mod thread;
mod tls;
mod trace;

use budget::BufferBudget;
use file_cache::FileCache;
use httpd::{Http, HttpShared};
use params::{in_range, Live, Params};
use respond::Docroot;
use server::Server;

module! {
    type: KhttpdRs,
    name: "khttpd_rs",
    author: "ktcp-rs developers",
    description: "In-kernel HTTP/1.1 static-file server (readiness-driven CMWQ work items)",
    license: "GPL",
}

struct KhttpdRs {
    _server: Server<Http>,
}

/// Looks up the `root` parameter: `None` (hello mode) when empty.
fn open_docroot(params: &Params, live: &Live) -> Result<Option<Docroot>> {
    let root = params.root();
    if root.is_empty() {
        return Ok(None);
    }
    let raw = params.raw();
    let uid = in_range("uid", raw.uid, 0, i32::MAX)? as u32;
    let gid = in_range("gid", raw.gid, 0, i32::MAX)? as u32;
    if uid == 0 {
        pr_warn!("uid=0: files readable only by root (mode 0600) will be served\n");
    }
    let root = fs::Root::new(root, uid, gid).inspect_err(|e| {
        pr_err!(
            "root={}: not a usable directory (error {})\n",
            root.to_str().unwrap_or("?"),
            e.to_errno()
        );
    })?;
    Ok(Some(Docroot {
        root,
        dotfiles: raw.dotfiles,
        cache: FileCache::new()?,
        max_age: live.max_age.ok_or(EINVAL)?,
    }))
}

impl kernel::Module for KhttpdRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let params = Params::read()?;
        let mut config = params.server_config(c_str!("khttpd_rs"))?;
        let raw = params.raw();
        config.defer_accept_s = in_range("defer_accept", raw.defer_accept, 0, 60)? as u32;
        config.tls = params.tls_config(&config)?;
        let keepalive_s = in_range("keepalive_timeout", raw.keepalive_timeout, 0, 3600)? as u32;
        let header_s = in_range("header_timeout", raw.header_timeout, 0, 3600)? as u32;
        let buffer_mib = in_range("buffer_mib", raw.buffer_mib, 1, 65536)? as usize;
        let live = Live::get()?;
        let docroot = open_docroot(&params, &live)?;
        let mode: &CStr = if docroot.is_some() {
            c_str!("static files")
        } else {
            c_str!("hello mode")
        };
        let budget = BufferBudget::new(buffer_mib << 20)?;
        let shared = HttpShared::new(
            docroot,
            live.keepalive_timeout.ok_or(EINVAL)?,
            live.header_timeout.ok_or(EINVAL)?,
            budget,
            config.tls.is_some(),
        )?;
        let server = Server::start(&config, shared)?;
        if let (Some(tls), Some(addr)) = (&config.tls, server.tls_addr()) {
            pr_info!(
                "HTTPS on {} (handshakes by the TLS agent, at most {} ms each)\n",
                addr,
                tls.timeout_ms
            );
        }
        pr_info!(
            "listening on {} ({}, keepalive {} s, header {} s, {} MiB of buffers, {} workqueue)\n",
            server.addr(),
            mode,
            keepalive_s,
            header_s,
            buffer_mib,
            if config.bound { "bound" } else { "unbound" }
        );
        Ok(Self { _server: server })
    }
}
