//! The report: human-readable lines, the RESULT line, per-client CSV and PNG.

use std::path::Path;

use benchlib::csv::write_csv;
use benchlib::plot::{scatter_png, Labels};
use benchlib::stats::{mib_per_second, per_second};
use benchlib::{Latencies, ResultLine};

use crate::bench::BenchResult;
use crate::failure::Failure;
use crate::options::Options;
use crate::stream::StreamOutcome;

/// Prints the report and the RESULT line; returns the number of failed clients plus a
/// failed stream.
pub fn print_report(options: &Options, result: &BenchResult) -> u64 {
    let total = result.clients.len();
    let failed = result
        .clients
        .iter()
        .filter(|c| c.failure.is_some())
        .count();
    println!(
        "connect: {}/{total} connected in {:.2} s ({} retries)",
        result.connected, result.connect_secs, result.connect_retries
    );
    for (index, (completed, secs)) in result.phases.iter().enumerate() {
        println!(
            "phase {}: {completed}/{total} clients completed in {secs:.2} s",
            index + 1
        );
    }
    let stream_failed = print_stream(result.stream.as_ref());
    println!("clients: {} completed, {failed} failed", total - failed);
    print_failures(result);
    let mut all = Latencies::new();
    for client in &result.clients {
        all.extend(&client.latencies);
    }
    let round_trips = all.len() as u64;
    let secs: f64 = result.phases.iter().map(|p| p.1).sum();
    let rps = per_second(round_trips, secs);
    let mib_s = mib_per_second(round_trips.saturating_mul(options.size as u64), secs);
    let summary = all.summary();
    println!("round trips: {round_trips} in {secs:.2} s = {rps:.1} rt/s, {mib_s:.2} MiB/s echoed");
    println!(
        "latency us: avg {:.1} p50 {} p90 {} p99 {} max {}",
        summary.avg_us, summary.p50_us, summary.p90_us, summary.p99_us, summary.max_us
    );
    let mut line = ResultLine::new("kecho-bench");
    line.set("scenario", &options.scenario)
        .set("server", &options.server)
        .set("clients", total)
        .set("completed", total - failed)
        .set("failed", failed)
        .set("requests", round_trips)
        .set("errors", failed + usize::from(stream_failed))
        .set("mismatches", count(result, Failure::Mismatch))
        .set_f64("secs", secs, 3)
        .set_f64("rps", rps, 1)
        .set_f64("mib_s", mib_s, 3)
        .set_latency(&summary)
        .set("size", options.size)
        .set("rounds", options.rounds)
        .set("phases", options.phases)
        .set_f64("connect_secs", result.connect_secs, 3);
    if let Some(StreamOutcome::Done { bytes, elapsed }) = &result.stream {
        line.set_f64(
            "stream_mib_s",
            mib_per_second(*bytes, elapsed.as_secs_f64()),
            2,
        );
    }
    println!("{line}");
    failed as u64 + u64::from(stream_failed)
}

fn count(result: &BenchResult, failure: Failure) -> usize {
    result
        .clients
        .iter()
        .filter(|c| c.failure == Some(failure))
        .count()
}

fn print_failures(result: &BenchResult) {
    let counts: Vec<String> = Failure::ALL
        .iter()
        .map(|&f| format!("{f}={}", count(result, f)))
        .collect();
    println!("failures: {}", counts.join(" "));
    for note in &result.mismatch_notes {
        println!("  {note}");
    }
}

/// Prints the stream client's line; true when it failed.
fn print_stream(stream: Option<&StreamOutcome>) -> bool {
    match stream {
        None => false,
        Some(StreamOutcome::Done { bytes, elapsed }) => {
            let secs = elapsed.as_secs_f64();
            let rate = mib_per_second(*bytes, secs);
            println!("stream: {bytes} bytes echoed and verified in {secs:.2} s = {rate:.2} MiB/s");
            false
        }
        Some(StreamOutcome::Failed {
            failure,
            echoed,
            detail,
        }) => {
            println!("stream: FAILED ({failure}) after {echoed} verified bytes: {detail}");
            true
        }
    }
}

/// One row per client: id,rounds,avg_us,p50_us,p99_us,max_us,status.
pub fn write_client_csv(path: &Path, result: &BenchResult) -> Result<(), String> {
    let rows: Vec<Vec<String>> = result
        .clients
        .iter()
        .enumerate()
        .map(|(id, client)| {
            let summary = client.latencies.clone().summary();
            vec![
                id.to_string(),
                summary.count.to_string(),
                format!("{:.1}", summary.avg_us),
                summary.p50_us.to_string(),
                summary.p99_us.to_string(),
                summary.max_us.to_string(),
                client.failure.map_or("ok", Failure::name).to_string(),
            ]
        })
        .collect();
    let header = [
        "id", "rounds", "avg_us", "p50_us", "p99_us", "max_us", "status",
    ];
    write_csv(path, &header, &rows).map_err(|e| format!("{}: {e}", path.display()))
}

/// Scatter of each client's average latency against its id.
pub fn write_client_png(
    path: &Path,
    options: &Options,
    result: &BenchResult,
) -> Result<(), String> {
    let points: Vec<(f64, f64)> = result
        .clients
        .iter()
        .enumerate()
        .filter(|(_, client)| !client.latencies.is_empty())
        .map(|(id, client)| (id as f64, client.latencies.clone().summary().avg_us))
        .collect();
    let title = format!(
        "{}: {} clients x {} rounds x {} B",
        options.server, options.clients, options.rounds, options.size
    );
    let labels = Labels {
        title: &title,
        x: "client id",
        y: "average round trip (us)",
    };
    scatter_png(path, &labels, &points)
}
