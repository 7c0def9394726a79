//! `htstress-rs`: an htstress-style HTTP load generator.

mod counters;
mod load;
mod options;
mod output;
mod response;
mod url;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use counters::Counters;
use load::{connection_loop, Shared};
use options::Options;

/// Extra time after the hard deadline before giving up on the tasks altogether.
const GRACE: Duration = Duration::from_secs(5);

/// What a run measured.
struct Outcome {
    totals: Counters,
    secs: f64,
    /// `--until-refused` and a connect was refused.
    refused: bool,
}

async fn run_load(options: &Options) -> Result<Outcome, String> {
    let start = Instant::now();
    let hard_deadline = start + options.max_time;
    let stop_at = options
        .duration
        .map_or(hard_deadline, |d| (start + d).min(hard_deadline));
    let request = options::request_bytes(options);
    let shared = Arc::new(Shared {
        addr: options.url.addr,
        remaining: AtomicU64::new(options.requests),
        stop_at,
        hard_deadline,
        timeout: options.timeout,
        keepalive: options.keepalive,
        pipeline: options.pipeline as u64,
        batch: request.repeat(options.pipeline),
        request_len: request.len(),
        until_refused: options.until_refused,
        refused: AtomicBool::new(false),
    });
    let tasks: Vec<_> = (0..options.connections)
        .map(|_| tokio::spawn(connection_loop(shared.clone())))
        .collect();
    let mut totals = Counters::default();
    for task in tasks {
        let counters = tokio::time::timeout_at(hard_deadline + GRACE, task)
            .await
            .map_err(|_| "hard timeout: connection loops did not finish".to_string())?
            .map_err(|e| format!("connection loop failed: {e}"))?;
        totals.merge(&counters);
    }
    Ok(Outcome {
        totals,
        secs: start.elapsed().as_secs_f64(),
        refused: shared.refused.load(Ordering::Relaxed),
    })
}

fn run(options: Options) -> Result<bool, String> {
    println!(
        "htstress-rs: {} requests, {} connections, {} threads, {}{}, pipeline {} -> {}{}",
        options.requests,
        options.connections,
        options.threads,
        if options.keepalive {
            "keep-alive"
        } else {
            "new connection per request"
        },
        if options.http10 { ", HTTP/1.0" } else { "" },
        options.pipeline,
        options.url.addr,
        options.url.path
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let result = runtime.block_on(run_load(&options));
    runtime.shutdown_timeout(Duration::from_secs(1));
    let Outcome {
        mut totals,
        secs,
        refused,
    } = result?;
    output::print_report(&options, &mut totals, secs, refused);
    if options.until_refused {
        let verdict = until_refused_verdict(&totals, refused);
        match &verdict {
            Ok(()) => println!("until-refused: the server went away after {secs:.2} s of load"),
            Err(why) => println!("until-refused: FAILED: {why}"),
        }
        return Ok(verdict.is_ok());
    }
    Ok(totals.errors() == 0)
}

/// `--until-refused` passes when the load reached the server, ended because the server went
/// away, and nothing but resets and closes, mid-response too (what an unload does), went
/// wrong.
fn until_refused_verdict(totals: &Counters, refused: bool) -> Result<(), String> {
    let [_, _, s4, s5] = totals.classes;
    if !refused {
        return Err("no connect was refused: the server never went away".into());
    }
    if totals.bytes == 0 {
        return Err("no byte arrived before the server went away: no load at all".into());
    }
    let wrong = [
        ("malformed responses", totals.bad_responses),
        ("timeouts", totals.timeouts),
        ("other I/O errors", totals.other_io),
        ("connect errors", totals.connect_errors),
        ("4xx", s4),
        ("5xx", s5),
    ];
    match wrong.iter().find(|(_, n)| *n > 0) {
        Some((what, n)) => Err(format!("{n} {what}")),
        None => Ok(()),
    }
}

fn main() -> ExitCode {
    let outcome = options::parse().and_then(|options| options.map_or(Ok(true), run));
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("htstress-rs: {message}");
            ExitCode::from(2)
        }
    }
}
