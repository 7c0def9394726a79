//! `kecho-bench`: many concurrent echo clients with verified round trips, for kecho.

mod bench;
mod client;
mod failure;
mod options;
mod output;
mod pattern;
mod rlimit;
mod stream;
mod verdict;

use std::process::ExitCode;
use std::time::Duration;

use options::Options;

/// Descriptors needed besides one per client.
const SPARE_FDS: u64 = 64;

fn check_fd_limit(options: &Options) {
    let needed = u64::from(options.clients) + SPARE_FDS;
    match rlimit::raise_nofile() {
        Ok(limit) if limit < needed => eprintln!(
            "warning: open-file limit is {limit}, below the {needed} needed for {} clients; \
             raise the hard limit (ulimit -Hn) or use fewer clients",
            options.clients
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: cannot raise the open-file limit: {e}"),
    }
}

fn run(options: Options) -> Result<bool, String> {
    check_fd_limit(&options);
    println!(
        "kecho-bench: {} clients x {} rounds x {} B, {} phase(s), pause {} ms -> {}",
        options.clients,
        options.rounds,
        options.size,
        options.phases,
        options.pause_ms,
        options.addr
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let limit = Duration::from_secs(options.timeout_s);
    let result = runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + limit;
        // Every operation is bounded by the deadline; the grace period only guards that.
        tokio::time::timeout(
            limit + Duration::from_secs(10),
            bench::run(&options, deadline),
        )
        .await
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    let result = result.map_err(|_| "overall timeout: the run did not finish".to_string())?;
    let failures = output::print_report(&options, &result);
    let passed = if options.until_closed {
        let verdict = verdict::until_closed(&result);
        match &verdict {
            Ok(()) => println!("until-closed: load ran until the server closed the connections"),
            Err(why) => println!("until-closed: FAILED: {why}"),
        }
        verdict.is_ok()
    } else {
        failures == 0
    };
    if let Some(path) = &options.csv {
        output::write_client_csv(path, &result)?;
    }
    if let Some(path) = &options.png {
        output::write_client_png(path, &options, &result)?;
    }
    Ok(passed)
}

fn main() -> ExitCode {
    match options::parse() {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(options)) => match run(options) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(message) => {
                eprintln!("kecho-bench: {message}");
                ExitCode::from(2)
            }
        },
        Err(message) => {
            eprintln!("kecho-bench: {message}");
            ExitCode::from(2)
        }
    }
}
