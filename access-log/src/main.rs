// SPDX-License-Identifier: GPL-2.0

//! `ktcp-access-log`: khttpd_rs's access log, from its `khttpd_rs:request` trace events, so
//! that the module logs nothing per request and a user still gets nginx's `combined` format
//! (or JSON lines with `--json`).
//!
//! Live (the default), it makes a tracefs instance of its own, enables the event there, reads
//! the instance's `trace_pipe` and removes the instance when done (at Ctrl-C, SIGTERM, or
//! after `--count` lines): other tracers are not disturbed. `--input` reads saved trace
//! output instead (`trace_pipe`, `trace-cmd report`).

mod event;
mod format;

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{FixedOffset, Local};

#[derive(Parser)]
#[command(
    version,
    about = "khttpd_rs's access log (nginx combined format) from its trace events"
)]
struct Args {
    /// JSON lines instead of nginx's combined format.
    #[arg(long)]
    json: bool,
    /// Read saved trace output (trace_pipe, `trace-cmd report`) from FILE ('-': standard
    /// input) instead of tracing live.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Stop after this many requests.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Where tracefs is mounted (default: /sys/kernel/tracing, else
    /// /sys/kernel/debug/tracing).
    #[arg(long, value_name = "DIR")]
    tracefs: Option<PathBuf>,
    /// The trace system of the module (its name).
    #[arg(long, default_value = "khttpd_rs")]
    module: String,
}

/// Turns lines of trace output into log lines, until `count` of them are printed.
struct Printer {
    json: bool,
    count: Option<u64>,
    printed: u64,
    /// Flushed whenever the trace has nothing more for now: lines appear at once, and a
    /// burst of them costs one write.
    out: io::BufWriter<io::Stdout>,
    /// The local time zone's offset, and when it was read: asking chrono's `Local` per line
    /// checks /etc/localtime each time, too slow for thousands of requests a second.
    tz: FixedOffset,
    tz_read: Instant,
}

impl Printer {
    /// Handles one line of trace output; false once `count` lines are printed.
    fn line(&mut self, line: &str) -> Result<bool> {
        if line.contains("[LOST") {
            eprintln!(
                "ktcp-access-log: the trace buffer overflowed: {}",
                line.trim()
            );
        }
        // One malformed event is reported and skipped: a live log does not stop for it.
        let parsed = event::parse_line(line).unwrap_or_else(|e| {
            eprintln!("ktcp-access-log: skipping a malformed request event: {e:#}");
            None
        });
        if let Some(r) = parsed {
            if self.tz_read.elapsed() > TZ_REREAD {
                (self.tz, self.tz_read) = (local_offset(), Instant::now());
            }
            let text = if self.json {
                format::json(&r)
            } else {
                format::combined_in(&r, &self.tz)
            };
            writeln!(self.out, "{text}")?;
            self.printed += 1;
        }
        Ok(self.count.is_none_or(|c| self.printed < c))
    }
}

/// How often the local time zone's offset is read again (a daylight-saving change).
const TZ_REREAD: Duration = Duration::from_secs(10);

fn local_offset() -> FixedOffset {
    *Local::now().offset()
}

fn tracefs(arg: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = arg {
        return Ok(dir);
    }
    for dir in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        if Path::new(dir).join("instances").is_dir() {
            return Ok(dir.into());
        }
    }
    bail!(
        "tracefs is not mounted (neither /sys/kernel/tracing nor /sys/kernel/debug/tracing has \
         an instances directory): mount -t tracefs nodev /sys/kernel/tracing, or run as root"
    )
}

/// A tracefs instance of this process, with the module's request event enabled in it;
/// removed on drop.
struct Instance {
    dir: PathBuf,
}

impl Instance {
    fn new(tracefs: &Path, module: &str) -> Result<Self> {
        let event = tracefs.join("events").join(module).join("request");
        if !event.is_dir() {
            bail!(
                "{} does not exist: is {module} loaded? (lsmod | grep {module})",
                event.display()
            );
        }
        let dir = tracefs
            .join("instances")
            .join(format!("ktcp-access-log.{}", std::process::id()));
        fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let instance = Self { dir };
        let enable = instance
            .dir
            .join("events")
            .join(module)
            .join("request")
            .join("enable");
        fs::write(&enable, "1").with_context(|| format!("cannot write {}", enable.display()))?;
        Ok(instance)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Removing an instance disables its events and frees its buffers.
        if let Err(e) = fs::remove_dir(&self.dir) {
            eprintln!("ktcp-access-log: cannot remove {}: {e}", self.dir.display());
        }
    }
}

fn live(args: &Args, printer: &mut Printer) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    let instance = Instance::new(&tracefs(args.tracefs.clone())?, &args.module)?;
    let pipe = instance.dir.join("trace_pipe");
    // Non-blocking, so that a signal or --count ends the loop without waiting for an event.
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&pipe)
        .with_context(|| format!("cannot open {}", pipe.display()))?;
    let (mut pending, mut buf) = (Vec::new(), vec![0u8; 64 * 1024]);
    // After a signal, what the buffer already holds is still printed, then the loop ends.
    let mut draining = false;
    loop {
        if !draining && stop.load(Ordering::Relaxed) {
            draining = true;
        }
        match file.read(&mut buf) {
            Ok(0) if draining => break,
            Ok(0) => {
                printer.out.flush()?;
                std::thread::sleep(Duration::from_millis(50))
            }
            Ok(n) => {
                pending.extend_from_slice(&buf[..n]);
                while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=nl).collect();
                    if !printer.line(&String::from_utf8_lossy(&line))? {
                        return Ok(());
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && draining => break,
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                printer.out.flush()?;
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", pipe.display())),
        }
    }
    drop(file);
    drop(instance);
    Ok(())
}

fn saved(input: &Path, printer: &mut Printer) -> Result<()> {
    let reader: Box<dyn BufRead> = if input == Path::new("-") {
        Box::new(BufReader::new(io::stdin()))
    } else {
        Box::new(BufReader::new(
            File::open(input).with_context(|| format!("cannot open {}", input.display()))?,
        ))
    };
    for line in reader.split(b'\n') {
        if !printer.line(&String::from_utf8_lossy(&line?))? {
            break;
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut printer = Printer {
        json: args.json,
        count: args.count,
        printed: 0,
        out: io::BufWriter::new(io::stdout()),
        tz: local_offset(),
        tz_read: Instant::now(),
    };
    match &args.input {
        Some(input) => saved(input, &mut printer)?,
        None => live(&args, &mut printer)?,
    }
    printer.out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printer(count: Option<u64>) -> Printer {
        Printer {
            json: false,
            count,
            printed: 0,
            out: io::BufWriter::new(io::stdout()),
            tz: local_offset(),
            tz_read: Instant::now(),
        }
    }

    const GOOD: &str = "x-1 [000] 5.0: request: client=10.1.2.3:5555 time=1795824000 method=GET target='/a' version=11 status=200 bytes=300 body_bytes=10 duration_ns=1 referer='' user_agent=''";

    #[test]
    fn a_malformed_event_is_skipped_and_the_log_goes_on() {
        let mut p = printer(Some(2));
        assert!(p.line("x request: client=1.2.3.4:5 time=zz").unwrap());
        assert_eq!(p.printed, 0);
        assert!(p.line(GOOD).unwrap());
        assert!(p.line("# a comment").unwrap());
        // The second request printed reaches --count.
        assert!(!p.line(GOOD).unwrap());
        assert_eq!(p.printed, 2);
    }
}
