// SPDX-License-Identifier: GPL-2.0

//! `ktcp-stat`: live statistics of kecho_rs and khttpd_rs, like `vmstat 1`, from their
//! debugfs files (`/sys/kernel/debug/<module>/`): per-second rates of the counters over each
//! interval, the gauges, and the interval's latency percentiles, computed from the raw
//! histogram buckets (`latency_buckets`) with the module's own bucket math
//! (`src/proto/histogram.rs`, included here). `--prometheus` writes the counters and the
//! latency once in the Prometheus text format instead.

#[path = "../../src/proto/histogram.rs"]
mod histogram;
mod interval;
mod prometheus;
mod snapshot;
mod table;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{error::ErrorKind, CommandFactory, Parser};

use snapshot::{Paths, Snapshot, StatError};

/// Live statistics of the kecho_rs and khttpd_rs modules, from debugfs.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Cli {
    /// kecho_rs or khttpd_rs (default: every one of them that is loaded); may be left out
    /// before INTERVAL, as in `ktcp-stat 1 5`.
    module: Option<String>,
    /// Seconds between lines (fractions allowed; default 1).
    interval: Option<String>,
    /// Lines to print per module, then exit (default: until interrupted).
    count: Option<String>,
    /// One JSON object per module and interval instead of the table (rates per second over
    /// the measured `elapsed_s`, gauges, latency percentiles in ns).
    #[arg(long, conflicts_with = "prometheus")]
    json: bool,
    /// Print the header again every N lines (0: only once).
    #[arg(long, default_value_t = 20, value_name = "N")]
    header_every: usize,
    /// Write the counters and latency once, in the Prometheus text format, and exit.
    #[arg(long)]
    prometheus: bool,
    /// With --prometheus: write to FILE (atomically: a new file renamed over it) instead of
    /// stdout, e.g. into node_exporter's textfile collector directory.
    #[arg(long, requires = "prometheus", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Where debugfs is mounted.
    #[arg(long, default_value = "/sys/kernel/debug", value_name = "DIR")]
    debugfs: PathBuf,
}

/// What the positional arguments ask for.
struct Positional {
    module: Option<String>,
    interval: f64,
    count: Option<u64>,
}

impl Cli {
    /// `[MODULE] [INTERVAL [COUNT]]`: the module may be left out, so a number first is the
    /// interval.
    fn positional(&self) -> Result<Positional, String> {
        let mut args: Vec<&str> = [&self.module, &self.interval, &self.count]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let module = match args.first() {
            Some(m) if snapshot::MODULES.contains(m) => Some(args.remove(0).to_string()),
            Some(m) if m.parse::<f64>().is_err() => {
                return Err(format!(
                    "unknown module '{m}' (known: {})",
                    snapshot::MODULES.join(", ")
                ))
            }
            _ => None,
        };
        let interval = match args.first() {
            Some(s) => match s.parse::<f64>() {
                Ok(v) if v > 0.0 && v.is_finite() => v,
                _ => {
                    return Err(format!(
                        "INTERVAL '{s}' is not a positive number of seconds"
                    ))
                }
            },
            None => 1.0,
        };
        let count = match args.get(1) {
            Some(s) => Some(
                s.parse::<u64>()
                    .map_err(|_| format!("COUNT '{s}' is not a whole number"))?,
            ),
            None => None,
        };
        if args.len() > 2 {
            return Err(format!("unexpected argument '{}'", args[2]));
        }
        Ok(Positional {
            module,
            interval,
            count,
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let pos = match cli.positional() {
        Ok(pos) => pos,
        Err(e) => Cli::command().error(ErrorKind::ValueValidation, e).exit(),
    };
    match run(&cli, &pos) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ktcp-stat: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli, pos: &Positional) -> Result<(), Box<dyn std::error::Error>> {
    let paths = Paths {
        debugfs: cli.debugfs.clone(),
        ..Paths::default()
    };
    let modules = snapshot::locate(&paths, pos.module.as_deref())?;
    let mut before = read_all(&paths, &modules)?;
    if cli.prometheus {
        let text = prometheus::render(&before);
        match &cli.output {
            Some(path) => prometheus::write_atomically(path, &text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
            None => std::io::stdout().write_all(text.as_bytes())?,
        }
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let mut printer = table::Printer::new(cli.header_every);
    if !cli.json {
        out.write_all(printer.start().as_bytes())?;
        out.flush()?;
    }
    let start = Instant::now();
    let step = Duration::from_secs_f64(pos.interval);
    let mut n: u64 = 0;
    while pos.count.is_none_or(|c| n < c) {
        n += 1;
        // Wake-ups on a fixed grid: a slow interval does not shift the later ones.
        let due = start + step.mul_f64(n as f64);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let after = read_all(&paths, &modules)?;
        for (b, a) in before.iter().zip(&after) {
            let interval = interval::between(b, a);
            let text = if cli.json {
                format!("{}\n", interval.to_json())
            } else {
                printer.next(&table::line(&interval))
            };
            out.write_all(text.as_bytes())?;
        }
        out.flush()?;
        before = after;
    }
    Ok(())
}

/// A snapshot of each module; a module that went away says so.
fn read_all(paths: &Paths, modules: &[String]) -> Result<Vec<Snapshot>, StatError> {
    modules
        .iter()
        .map(|m| {
            snapshot::read(paths, m).map_err(|e| match e {
                StatError::Io(..) | StatError::NoDirectory(_)
                    if !paths.sys_module.join(m).exists() =>
                {
                    StatError::NotLoaded(vec![m.clone()], vec![paths.sys_module.join(m)])
                }
                e => e,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(args: &[&str]) -> Result<(Option<String>, f64, Option<u64>), String> {
        let cli = Cli::try_parse_from(std::iter::once("ktcp-stat").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.positional().map(|p| (p.module, p.interval, p.count))
    }

    #[test]
    fn the_module_may_be_left_out_as_with_vmstat() {
        assert_eq!(pos(&[]), Ok((None, 1.0, None)));
        assert_eq!(pos(&["0.5", "3"]), Ok((None, 0.5, Some(3))));
        assert_eq!(
            pos(&["khttpd_rs"]),
            Ok((Some("khttpd_rs".into()), 1.0, None))
        );
        assert_eq!(
            pos(&["kecho_rs", "2", "4"]),
            Ok((Some("kecho_rs".into()), 2.0, Some(4)))
        );
        for bad in [
            &["nginx"][..],
            &["0"],
            &["-1"],
            &["1", "1.5"],
            &["kecho_rs", "1", "2", "3"],
        ] {
            assert!(pos(bad).is_err(), "{bad:?} accepted");
        }
        assert!(
            pos(&["--output", "x"]).is_err(),
            "--output without --prometheus"
        );
    }
}
