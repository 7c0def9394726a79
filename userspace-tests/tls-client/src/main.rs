//! `tls-client`: TLS 1.3 clients for khttpd_rs's HTTPS port (`tls_port`), used by the guest
//! tests (`scripts/guest/tls.sh`):
//! - `get`: N keep-alive clients, every body compared byte for byte with the file served;
//!   `--all-open` holds all N connections open at once before their other requests.
//! - `hold`: N connections held open (half of them mid-request) until the server closes
//!   them, for `rmmod` under TLS load.
//! - `storm`: hostile and good clients mixed for a while, then one good request.
//! - `lying-agent`: answers handshake requests with success without doing any.
//!
//! Every mode prints one summary line and exits 1 if what it checks did not hold.

mod conn;
mod load;
mod lying;
mod storm;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "TLS 1.3 test clients for khttpd_rs's tls_port")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Args, Clone)]
pub struct Common {
    /// Server address, e.g. 127.0.0.1:8443 or [::1]:8443.
    #[arg(long)]
    addr: SocketAddr,
    /// PEM certificate(s) to trust.
    #[arg(long)]
    cafile: PathBuf,
    /// The server's document root, to compare bodies with.
    #[arg(long)]
    www: PathBuf,
    /// Bound in seconds on each step: connect, handshake, one response.
    #[arg(long, default_value_t = 30)]
    step_secs: u64,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

impl Common {
    fn step(&self) -> Duration {
        Duration::from_secs(self.step_secs)
    }
}

#[derive(Subcommand)]
enum Mode {
    /// Answers handshake requests with DONE 0 and no handshake (needs CAP_NET_ADMIN).
    LyingAgent {
        /// Requests to answer before exiting.
        #[arg(long, default_value_t = 1)]
        count: usize,
        /// Gives up after this many seconds.
        #[arg(long, default_value_t = 30)]
        secs: u64,
    },
    /// Keep-alive clients, every response verified.
    Get {
        #[command(flatten)]
        common: Common,
        /// Paths requested in turn on each connection.
        #[arg(long = "path", required = true)]
        paths: Vec<String>,
        #[arg(long, default_value_t = 1)]
        clients: usize,
        /// Requests per connection.
        #[arg(long, default_value_t = 1)]
        requests: usize,
        /// All clients connect and get their first response before any sends its second.
        #[arg(long)]
        all_open: bool,
        /// `Connection: close` on each client's last request; the server must then close.
        #[arg(long)]
        close: bool,
        /// Milliseconds between sending each request and reading its response.
        #[arg(long, default_value_t = 0)]
        read_delay_ms: u64,
        /// SO_RCVBUF of each client's socket, in bytes.
        #[arg(long)]
        rcvbuf: Option<u32>,
        /// Milliseconds of pause before each read (at most 16 KiB) of a response.
        #[arg(long, default_value_t = 0)]
        read_pause_ms: u64,
    },
    /// Connections held until the server closes them.
    Hold {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value = "/a.txt")]
        path: String,
        #[arg(long, default_value_t = 100)]
        clients: usize,
        /// Seconds after `held` within which every connection must be closed by the server.
        #[arg(long, default_value_t = 60)]
        close_within: u64,
    },
    /// Hostile and good clients mixed.
    Storm {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value = "/a.txt")]
        path: String,
        #[arg(long, default_value_t = 10)]
        secs: u64,
        /// Clients at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seed of the choices (printed; give it again to replay a run's sequence).
        #[arg(long)]
        seed: Option<u64>,
        /// Only these behaviours (repeatable; `good` is one of them).
        #[arg(long)]
        only: Vec<String>,
    },
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?)
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.mode {
        Mode::LyingAgent { count, secs } => lying::run(count, secs),
        Mode::Get {
            common,
            paths,
            clients,
            requests,
            all_open,
            close,
            read_delay_ms,
            rcvbuf,
            read_pause_ms,
        } => runtime(common.threads).and_then(|rt| {
            let asking = load::Asking {
                close_last: close,
                read_delay: Duration::from_millis(read_delay_ms),
                rcvbuf,
                read_pause: Duration::from_millis(read_pause_ms),
            };
            rt.block_on(load::get(
                &common, &paths, clients, requests, all_open, asking,
            ))
        }),
        Mode::Hold {
            common,
            path,
            clients,
            close_within,
        } => runtime(common.threads).and_then(|rt| {
            rt.block_on(load::hold(
                &common,
                &path,
                clients,
                Duration::from_secs(close_within),
            ))
        }),
        Mode::Storm {
            common,
            path,
            secs,
            concurrency,
            seed,
            only,
        } => runtime(common.threads).and_then(|rt| {
            rt.block_on(storm::run(
                &common,
                &path,
                Duration::from_secs(secs),
                concurrency,
                seed,
                &only,
            ))
        }),
    };
    match result {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("tls-client: {e:#}");
            std::process::exit(2);
        }
    }
}
