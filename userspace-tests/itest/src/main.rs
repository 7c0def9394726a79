//! `itest`: guest integration tests for kecho_rs and khttpd_rs.
//!
//! Every suite prints `PASS <suite>/<name> (<ms> ms)` or `FAIL <suite>/<name>: <why>` per
//! test and `<N> passed, <M> failed` last; the exit status is 0 iff nothing failed.

mod args;
#[cfg(test)]
mod fake_servers;
mod kecho;
mod net;
mod prng;
mod report;

use std::process::ExitCode;

use args::Args;
use report::{run_suite, Selection};

const USAGE: &str = "usage:
  itest kecho   --addr A [--filter S] [--list]
  itest khttpd  --addr A --root DIR [--header-timeout S] [--keepalive-timeout S] [--filter S] [--list]
  itest hello   --addr A [--filter S] [--list]
  itest mkroot  DIR --outside DIR2 [--big-mib N]
  itest storm   --addr A --proto echo|http --secs S --clients C --seed N
  itest maxconn --addr A --max N --proto echo|http
  itest hold    --addr A --idle I --busy B --proto echo|http --secs S";

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&raw) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("itest: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn selection(a: &Args) -> Selection {
    Selection {
        filter: a.opt("filter").map(str::to_string),
        list: a.flag("list"),
    }
}

fn dispatch(raw: &[String]) -> Result<i32, String> {
    let (cmd, rest) = raw.split_first().ok_or("missing subcommand")?;
    let suite_flags = ["list"];
    match cmd.as_str() {
        "kecho" => {
            let a = Args::parse(rest, &["addr", "filter"], &suite_flags)?;
            let ctx = kecho::Echo { addr: a.addr()? };
            Ok(run_suite("kecho", ctx, kecho::suite(), &selection(&a)))
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(0)
        }
        other => Err(format!("unknown subcommand {other:?}")),
    }
}
