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
        let config = params::server_config(c_str!("kecho_rs"))?;
        let server = Server::start(&config, EchoShared::default())?;
        pr_info!(
            "listening on port {} (backlog {}, {} workqueue, max {} connections)\n",
            config.port,
            config.backlog,
            if config.bound { "bound" } else { "unbound" },
            config.max_connections
        );
        Ok(Self { _server: server })
    }
}
