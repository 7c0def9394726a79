//! The report and the RESULT line.

use benchlib::stats::{mib_per_second, per_second};
use benchlib::ResultLine;

use crate::counters::Counters;
use crate::options::Options;

pub fn print_report(options: &Options, totals: &mut Counters, secs: f64, refused: bool) {
    let responses = totals.responses();
    let rps = per_second(responses, secs);
    let mib_s = mib_per_second(totals.bytes, secs);
    let summary = totals.latencies.summary();
    let [s2, s3, s4, s5] = totals.classes;
    println!("responses: {responses} in {secs:.2} s");
    println!("req/s: {rps:.1}   transfer: {mib_s:.2} MiB/s");
    println!(
        "latency us: avg {:.1} p50 {} p90 {} p99 {} max {}",
        summary.avg_us, summary.p50_us, summary.p90_us, summary.p99_us, summary.max_us
    );
    println!("status: 2xx={s2} 3xx={s3} 4xx={s4} 5xx={s5}");
    println!(
        "errors: connect={} reset={} timeout={} bad={} closed={} truncated={} io={} (reconnects {})",
        totals.connect_errors,
        totals.resets,
        totals.timeouts,
        totals.bad_responses,
        totals.closed,
        totals.truncated,
        totals.other_io,
        totals.reconnects
    );
    let mut line = ResultLine::new("htstress-rs");
    line.set("scenario", &options.scenario)
        .set("server", &options.server)
        .set("clients", options.connections)
        .set("requests", responses)
        .set("errors", totals.errors())
        .set_f64("secs", secs, 3)
        .set_f64("rps", rps, 1)
        .set_f64("mib_s", mib_s, 3)
        .set_latency(&summary)
        .set("s2xx", s2)
        .set("s3xx", s3)
        .set("s4xx", s4)
        .set("s5xx", s5)
        .set("connect_errors", totals.connect_errors)
        .set("resets", totals.resets)
        .set("timeouts", totals.timeouts)
        .set("bad", totals.bad_responses)
        .set("closed", totals.closed)
        .set("truncated", totals.truncated)
        .set("reconnects", totals.reconnects)
        .set("keepalive", u8::from(options.keepalive))
        .set("pipeline", options.pipeline)
        .set("threads", options.threads)
        .set("bytes", totals.bytes)
        .set("stopped_by_refusal", u8::from(refused));
    println!("{line}");
}
