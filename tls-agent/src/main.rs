// SPDX-License-Identifier: GPL-2.0

//! `ktcp-tls-agent`: answers the kernel's TLS handshake requests (net/handshake, group
//! `tlshd`) for khttpd_rs. A foreground daemon: systemd runs it
//! (`ktcp-tls-agent.service`); it logs to stderr.
//!
//! Exit status: 0 after SIGTERM/SIGINT (or a good `--check-config`), 1 on a runtime error
//! (no `handshake` family, netlink failing) or a bad `--check-config`, 2 when the
//! configuration cannot be used.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Parser;
use ktcp_tls_agent::{agent, config, handshake};

#[derive(Parser)]
#[command(
    version,
    about = "TLS handshake agent for khttpd_rs: serves the kernel's net/handshake requests \
             (TLS 1.3, rustls) and installs kTLS"
)]
struct Args {
    /// The configuration file (TOML: cert, key, handshake_threads).
    #[arg(long, value_name = "FILE", default_value = config::DEFAULT_PATH)]
    config: PathBuf,
    /// Load the configuration, certificate and key, print what was found, and exit
    /// (0: usable, 1: not).
    #[arg(long)]
    check_config: bool,
    /// More logging (-v: debug, -vv: trace).
    #[arg(short, action = clap::ArgAction::Count)]
    verbose: u8,
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => log::LevelFilter::Info,
        1 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    env_logger::Builder::new()
        .filter_level(level)
        // rustls's own debug lines name every handshake message; keep them for -vv.
        .filter_module(
            "rustls",
            if verbose >= 2 {
                log::LevelFilter::Trace
            } else {
                log::LevelFilter::Warn
            },
        )
        .format_timestamp(None)
        .format_target(false)
        .target(env_logger::Target::Stderr)
        .init();
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.verbose);

    let loaded = config::load(&args.config);
    if args.check_config {
        return match loaded {
            Ok(cfg) => {
                println!("config {}: ok", args.config.display());
                println!("cert {}: ok", cfg.cert_path.display());
                println!("key {}: ok", cfg.key_path.display());
                println!("{}", cfg.summary);
                println!("handshake_threads = {}", cfg.handshake_threads);
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("{err}");
                ExitCode::from(1)
            }
        };
    }
    let cfg = match loaded {
        Ok(cfg) => cfg,
        Err(err) => {
            log::error!("{err}");
            return ExitCode::from(2);
        }
    };
    let tls = match handshake::server_config(Arc::clone(&cfg.certified_key)) {
        Ok(tls) => tls,
        Err(err) => {
            log::error!("TLS configuration: {err}");
            return ExitCode::from(2);
        }
    };
    log::info!(
        "cert {} key {}: {}",
        cfg.cert_path.display(),
        cfg.key_path.display(),
        cfg.summary
    );

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        // A second signal while stopping ends the process at once (exit status 1).
        let registered =
            signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&stop))
                .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)));
        if let Err(err) = registered {
            log::error!("installing the handler of signal {signal}: {err}");
            return ExitCode::from(1);
        }
    }

    match agent::run(agent::Settings::new(tls, cfg.handshake_threads), &stop) {
        Ok(()) => {
            log::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            log::error!("{err:#}");
            ExitCode::from(1)
        }
    }
}
