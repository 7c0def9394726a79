// SPDX-License-Identifier: GPL-2.0

//! kecho_rs: an in-kernel TCP echo server, a drop-in for the C `kecho`.
//!
//! A kthread accepts connections; each one is served by readiness-driven work items on the
//! module's own workqueue (see `conn.rs`). Parameters: `port`, `backlog`, `bench`,
//! `max_connections`; counters in `/sys/kernel/debug/kecho_rs/`.

use kernel::c_str;
use kernel::prelude::*;

mod clock;
mod conn;
mod echo;
mod net;
mod params;
mod queue;
mod server;
mod stats;
mod thread;

use echo::{Echo, EchoShared};
use server::{Config, Server};

module! {
    type: KechoRs,
    name: "kecho_rs",
    author: "ktcp-rs developers",
    description: "In-kernel TCP echo server (readiness-driven CMWQ work items)",
    license: "GPL",
}

extern "C" {
    fn kecho_param_port() -> i32;
    fn kecho_param_backlog() -> i32;
    fn kecho_param_bench() -> bool;
    fn kecho_param_max_connections() -> i32;
}

struct KechoRs {
    _server: Server<Echo>,
}

impl kernel::Module for KechoRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: the getters read plain module parameters, fixed after load (mode 0444).
        let (port, backlog, bench, max) = unsafe {
            (kecho_param_port(), kecho_param_backlog(), kecho_param_bench(), kecho_param_max_connections())
        };
        let config = Config {
            name: c_str!("kecho_rs"),
            port: params::in_range("port", port, 1, 65535)? as u16,
            backlog: params::in_range("backlog", backlog, 1, 65535)?,
            bound: bench,
            max_connections: params::in_range("max_connections", max, 1, 1_000_000)? as usize,
        };
        let server = Server::start(&config, EchoShared::default())?;
        pr_info!(
            "listening on port {} (backlog {}, {} workqueue, max {} connections)\n",
            config.port,
            config.backlog,
            if bench { "bound" } else { "unbound" },
            config.max_connections
        );
        Ok(Self { _server: server })
    }
}
