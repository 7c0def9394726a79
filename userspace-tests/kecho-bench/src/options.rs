//! Command-line options.

use std::net::SocketAddr;
use std::path::PathBuf;

use benchlib::Args;

pub const HELP: &str = "\
usage: kecho-bench [--addr 127.0.0.1:12345] [--clients 1000] [--rounds 10] [--size 64]
                   [--server NAME] [--scenario NAME] [--csv FILE] [--png FILE]
                   [--phases 1] [--pause-ms 0] [--stream-bytes N] [--timeout-s 60]
                   [--connect-concurrency 128] [--until-closed]

Connects all clients first (at most --connect-concurrency at a time, retrying refused or
timed-out connects), then each does --rounds round trips of a --size byte message that
encodes its id and round; every echoed byte is verified. With --phases P the clients stay
connected and idle for --pause-ms between phases. --stream-bytes N adds one client that
streams N bytes through the echo while the others run. Everything ends by --timeout-s.
Prints a report and a `RESULT key=value ...` line; exits 1 if any client failed.
  --csv F   one row per client: id,rounds,avg_us,p50_us,p99_us,max_us,status
  --png F   per-client average latency (x = client id, y = us)
  --until-closed  load for a server unloaded under it: clients ended by a reset, a close or
            a refused connect are expected; the run passes when a round trip completed,
            every echoed byte was right, and nothing else (timeout, I/O error) happened";

pub struct Options {
    pub addr: SocketAddr,
    pub clients: u32,
    pub rounds: u32,
    pub size: usize,
    pub server: String,
    pub scenario: String,
    pub csv: Option<PathBuf>,
    pub png: Option<PathBuf>,
    pub phases: u32,
    pub pause_ms: u64,
    pub stream_bytes: u64,
    pub timeout_s: u64,
    pub connect_concurrency: usize,
    pub until_closed: bool,
}

/// Parses the process arguments; `None` after printing `--help`.
pub fn parse() -> Result<Option<Options>, String> {
    let mut args = Args::from_env();
    if args.flag(&["-h", "--help"]) {
        println!("{HELP}");
        return Ok(None);
    }
    let options = Options {
        addr: args.get(&["--addr", "-a"], SocketAddr::from(([127, 0, 0, 1], 12345)))?,
        clients: args.get(&["--clients", "-c"], 1000)?,
        rounds: args.get(&["--rounds", "-r"], 10)?,
        size: args.get(&["--size", "-s"], 64)?,
        server: args.get(&["--server"], "unknown".to_string())?,
        scenario: args.get(&["--scenario"], "kecho".to_string())?,
        csv: args.opt(&["--csv"])?,
        png: args.opt(&["--png"])?,
        phases: args.get(&["--phases"], 1)?,
        pause_ms: args.get(&["--pause-ms"], 0)?,
        stream_bytes: args.get(&["--stream-bytes"], 0)?,
        timeout_s: args.get(&["--timeout-s"], 60)?,
        connect_concurrency: args.get(&["--connect-concurrency"], 128)?,
        until_closed: args.flag(&["--until-closed"]),
    };
    if let Some(extra) = args.finish()?.first() {
        return Err(format!("unexpected argument {extra:?}"));
    }
    validate(&options)?;
    Ok(Some(options))
}

fn validate(options: &Options) -> Result<(), String> {
    if options.clients == 0 || options.clients > 1_000_000 {
        return Err("--clients must be between 1 and 1000000".to_string());
    }
    if options.size == 0 || options.size > 16 * 1024 * 1024 {
        return Err("--size must be between 1 and 16777216".to_string());
    }
    if options.phases == 0 || options.phases > 1000 {
        return Err("--phases must be between 1 and 1000".to_string());
    }
    if options.timeout_s == 0 || options.timeout_s > 86_400 {
        return Err("--timeout-s must be between 1 and 86400".to_string());
    }
    if options.connect_concurrency == 0 {
        return Err("--connect-concurrency must be at least 1".to_string());
    }
    Ok(())
}
