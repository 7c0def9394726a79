//! `user-echo-server`: the userspace baseline for kecho, a multi-threaded edge-triggered
//! epoll echo server with one SO_REUSEPORT listener and epoll instance per thread.

mod conn;
mod sys;
mod worker;

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::process::ExitCode;
use std::thread::JoinHandle;

use benchlib::Args;
use sys::{reuseport_listener, StopEvent, StopSignals};
use worker::Worker;

const HELP: &str = "\
usage: user-echo-server [--port 12346] [--addr 127.0.0.1] [--threads 2] [--backlog 1024]

Echoes every byte back. One SO_REUSEPORT listener and edge-triggered epoll loop per thread;
--port 0 picks a free port. Prints `listening on ADDR:PORT` when ready; SIGINT or SIGTERM
stops it cleanly.";

struct Options {
    addr: SocketAddr,
    threads: usize,
    backlog: i32,
}

fn parse_options() -> Result<Option<Options>, String> {
    let mut args = Args::from_env();
    if args.flag(&["-h", "--help"]) {
        println!("{HELP}");
        return Ok(None);
    }
    let port: u16 = args.get(&["--port", "-p"], 12346)?;
    let ip: IpAddr = args.get(&["--addr"], IpAddr::from([127, 0, 0, 1]))?;
    let threads: usize = args.get(&["--threads", "-t"], 2)?;
    let backlog: i32 = args.get(&["--backlog"], 1024)?;
    let rest = args.finish()?;
    if let Some(extra) = rest.first() {
        return Err(format!("unexpected argument {extra:?}"));
    }
    if threads == 0 || threads > 256 {
        return Err("--threads must be between 1 and 256".to_string());
    }
    if backlog <= 0 {
        return Err("--backlog must be positive".to_string());
    }
    Ok(Some(Options {
        addr: SocketAddr::new(ip, port),
        threads,
        backlog,
    }))
}

/// Binds one listener per thread; with port 0 the first picks the port for the others.
fn bind_all(options: &Options) -> Result<(SocketAddr, Vec<TcpListener>), String> {
    let mut addr = options.addr;
    let mut listeners = Vec::with_capacity(options.threads);
    for _ in 0..options.threads {
        let listener =
            reuseport_listener(&addr, options.backlog).map_err(|e| format!("bind {addr}: {e}"))?;
        addr = listener
            .local_addr()
            .map_err(|e| format!("getsockname: {e}"))?;
        listeners.push(listener);
    }
    Ok((addr, listeners))
}

fn run(options: Options) -> Result<(), String> {
    // Block the stop signals before any thread exists so all threads inherit the mask.
    let signals = StopSignals::block().map_err(|e| format!("signalfd: {e}"))?;
    let stop = StopEvent::new().map_err(|e| format!("eventfd: {e}"))?;
    let (addr, listeners) = bind_all(&options)?;
    let mut handles: Vec<JoinHandle<std::io::Result<()>>> = Vec::new();
    for listener in listeners {
        let worker = Worker::new(listener, stop.raw()).map_err(|e| format!("epoll: {e}"))?;
        handles.push(std::thread::spawn(move || worker.run()));
    }
    println!(
        "listening on {addr} ({} threads, backlog {})",
        options.threads, options.backlog
    );
    std::io::stdout().flush().ok();
    loop {
        if signals.wait(200).map_err(|e| format!("poll: {e}"))? {
            break;
        }
        if handles.iter().any(JoinHandle::is_finished) {
            break;
        }
    }
    stop.signal().map_err(|e| format!("eventfd write: {e}"))?;
    let mut failure = None;
    for handle in handles {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = Some(format!("worker: {e}")),
            Err(_) => failure = Some("worker thread panicked".to_string()),
        }
    }
    failure.map_or(Ok(()), Err)
}

fn main() -> ExitCode {
    let result = parse_options().and_then(|options| options.map_or(Ok(()), run));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("user-echo-server: {message}");
            ExitCode::FAILURE
        }
    }
}
