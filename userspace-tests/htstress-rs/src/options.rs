//! Command-line options.

use std::time::Duration;

use benchlib::Args;

use crate::url::{parse_url, Url};

pub const HELP: &str = "\
usage: htstress-rs [-n 100000] [-c 32] [-t THREADS] [-k|--keepalive] [--http10]
                   [--pipeline D] [--duration S] [--timeout-s 10] [--max-time-s 600]
                   [--server NAME] [--scenario NAME] [--until-refused] URL

HTTP load generator. URL: http://HOST[:PORT]/PATH with an IPv4/IPv6 literal or localhost.
  -n N           total requests (stops at N or --duration, whichever comes first)
  -c N           concurrent connections
  -t N           client threads (default: number of CPUs)
  -k             HTTP/1.1 keep-alive connections, reopened when the server closes
                 (without -k: a new connection per request, `Connection: close`)
  --http10       send HTTP/1.0 requests (with -k: `Connection: keep-alive`)
  --pipeline D   with -k, send D requests back to back before reading the D responses
  --timeout-s    limit for each connect and each response
  --max-time-s   hard limit for the whole run
  --until-refused  load for a server that is about to go away (a module unloaded under
                 load): the first refused connect ends the run at once; resets and closes
                 are then expected, and the run passes when it received bytes before the
                 refusal and saw no malformed response, timeout, 4xx or 5xx
Prints req/s, MiB/s, latency and error counts, then `RESULT key=value ...`.
Exits 1 when any request failed (transport error, bad response, 4xx or 5xx); with
--until-refused, as described there.";

pub struct Options {
    pub url: Url,
    pub requests: u64,
    pub connections: usize,
    pub threads: usize,
    pub keepalive: bool,
    pub http10: bool,
    pub pipeline: usize,
    pub duration: Option<Duration>,
    pub timeout: Duration,
    pub max_time: Duration,
    pub server: String,
    pub scenario: String,
    pub until_refused: bool,
}

pub fn parse() -> Result<Option<Options>, String> {
    let mut args = Args::from_env();
    if args.flag(&["-h", "--help"]) {
        println!("{HELP}");
        return Ok(None);
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let keepalive = args.flag(&["-k", "--keepalive"]);
    let http10 = args.flag(&["--http10"]);
    let until_refused = args.flag(&["--until-refused"]);
    let requests = args.get(&["-n"], 100_000)?;
    let connections = args.get(&["-c"], 32)?;
    let threads = args.get(&["-t", "--threads"], cpus)?;
    let pipeline = args.get(&["--pipeline"], 1)?;
    let duration: Option<f64> = args.opt(&["--duration"])?;
    let timeout: f64 = args.get(&["--timeout-s"], 10.0)?;
    let max_time: f64 = args.get(&["--max-time-s"], 600.0)?;
    let server = args.get(&["--server"], "unknown".to_string())?;
    let scenario = args.get(&["--scenario"], "http".to_string())?;
    let positionals = args.finish()?;
    let [url] = positionals.as_slice() else {
        return Err("exactly one URL is needed (see --help)".to_string());
    };
    let options = Options {
        url: parse_url(url)?,
        requests,
        connections,
        threads,
        keepalive,
        http10,
        pipeline,
        duration: duration.map(seconds).transpose()?,
        timeout: seconds(timeout)?,
        max_time: seconds(max_time)?,
        server,
        scenario,
        until_refused,
    };
    validate(&options)?;
    Ok(Some(options))
}

fn seconds(value: f64) -> Result<Duration, String> {
    if value.is_finite() && value > 0.0 && value <= 86_400.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(format!(
            "{value}: a time must be between 0 and 86400 seconds"
        ))
    }
}

fn validate(options: &Options) -> Result<(), String> {
    if options.requests == 0 {
        return Err("-n must be at least 1".to_string());
    }
    if options.connections == 0 || options.connections > 100_000 {
        return Err("-c must be between 1 and 100000".to_string());
    }
    if options.threads == 0 || options.threads > 256 {
        return Err("-t must be between 1 and 256".to_string());
    }
    if options.pipeline == 0 || options.pipeline > 1024 {
        return Err("--pipeline must be between 1 and 1024".to_string());
    }
    if options.pipeline > 1 && !options.keepalive {
        return Err("--pipeline needs -k".to_string());
    }
    Ok(())
}

/// The request bytes sent for each request.
pub fn request_bytes(options: &Options) -> Vec<u8> {
    let version = if options.http10 { "1.0" } else { "1.1" };
    let connection = match (options.keepalive, options.http10) {
        (false, _) => "Connection: close\r\n",
        (true, true) => "Connection: keep-alive\r\n",
        (true, false) => "",
    };
    format!(
        "GET {} HTTP/{version}\r\nHost: {}\r\nUser-Agent: htstress-rs\r\n{connection}\r\n",
        options.url.path, options.url.host
    )
    .into_bytes()
}
