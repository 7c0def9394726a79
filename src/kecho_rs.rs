// SPDX-License-Identifier: GPL-2.0

//! kecho_rs: an in-kernel TCP echo server, a drop-in for the C `kecho`.
//!
//! A kthread accepts connections; each one is served by readiness-driven work items on the
//! module's own workqueue (see `conn.rs`). Parameters: `port`, `backlog`, `bench`, `highpri`,
//! `max_connections`, `idle_timeout`, `bind`; counters in `/sys/kernel/debug/kecho_rs/`.

use kernel::c_str;
use kernel::prelude::*;

mod clock;
mod conn;
mod debugfs;
mod echo;
mod handshake;
mod helpers;
mod latency;
mod net;
mod params;
/// The latency histogram's buckets (khttpd_rs has the whole protocol layer).
mod proto {
    pub(crate) mod histogram;
}
mod pool;
mod queue;
mod server;
mod stats;
mod thread;
mod tls;
mod trace;

use echo::{Echo, EchoShared};
use params::{in_range, Params};
use server::Server;

module! {
    type: KechoRs,
    name: "kecho_rs",
    author: "ktcp-rs developers",
    description: "In-kernel TCP echo server (readiness-driven CMWQ work items)",
    license: "GPL",
}

struct KechoRs {
    _server: Server<Echo>,
}

impl kernel::Module for KechoRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let params = Params::read()?;
        let config = params.server_config(c_str!("kecho_rs"))?;
        let idle_s = in_range("idle_timeout", params.raw().idle_timeout, 0, 86400)? as u32;
        let idle = params::Live::get()?.idle_timeout.ok_or(EINVAL)?;
        let server = Server::start(&config, EchoShared::new(idle)?)?;
        pr_info!(
            "listening on {} (backlog {}, {} workqueue, max {} connections, idle timeout {} s)\n",
            server.addr(),
            config.backlog,
            if config.bound { "bound" } else { "unbound" },
            config.max_connections.get(),
            idle_s
        );
        Ok(Self { _server: server })
    }
}
