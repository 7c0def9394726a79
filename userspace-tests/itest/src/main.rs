//! `itest`: guest integration tests for kecho_rs and khttpd_rs.
//!
//! Every suite prints `PASS <suite>/<name> (<ms> ms)` or `FAIL <suite>/<name>: <why>` per
//! test and `<N> passed, <M> failed` last; the exit status is 0 iff nothing failed.

mod args;
mod client;
#[cfg(test)]
mod fake_servers;
mod fixtures;
mod hardening;
mod hello;
mod hold;
mod http_client;
mod httpdate;
mod kecho;
mod khttpd;
mod lanelock;
mod maxconn;
mod net;
mod pattern;
mod prng;
mod report;
mod storm;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use args::Args;
use report::{run_suite, Selection};

const USAGE: &str = "usage:
  itest kecho   --addr A [SUITE OPTIONS]
  itest khttpd  --addr A --root DIR [--header-timeout S] [--keepalive-timeout S] [SUITE OPTIONS]
  itest hello   --addr A [SUITE OPTIONS]
  itest mkroot  DIR --outside DIR2 [--big-mib N]  (as root: it makes a FIFO and device nodes)
  itest storm   --addr A --proto echo|http --secs S --clients C [--seed N] [--final-tries N]
  itest maxconn --addr A --max N --proto echo|http
  itest hold    --addr A --idle I --busy B --proto echo|http --secs S [--target PATH]
  itest hardening mkroot DIR | GROUP --addr A ...  (groups and options: hardening/mod.rs)
  itest lockd   FILE  (the lanes' lock for shell scripts: requests shared|exclusive|release
                on stdin, answers locked|released on stdout)
suite options: --filter S1,S2 (only names containing any), --skip S1,S2 (leave out names
containing any), --jobs N (tests at once, default 1), --list (print the names only), --no-long (leave out
the tests that take 9 s or more in the debug guest, each named on a MOVED line: make soak runs
them)";

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

/// The suite's name in its PLAN/PASS/FAIL lines: `-ipv6` appended over IPv6, so that a run of
/// a suite on `[::1]` is told apart from its run on 127.0.0.1.
fn suite_name(suite: &str, addr: SocketAddr) -> String {
    if addr.is_ipv6() {
        format!("{suite}-ipv6")
    } else {
        suite.to_string()
    }
}

fn selection(a: &Args) -> Result<Selection, String> {
    Ok(Selection {
        filter: a.opt("filter").map(str::to_string),
        skip: a
            .opt("skip")
            .map_or(Vec::new(), |s| s.split(',').map(str::to_string).collect()),
        list: a.flag("list"),
        jobs: a.num("jobs", 1)?,
        no_long: a.flag("no-long"),
    })
}

fn dispatch(raw: &[String]) -> Result<i32, String> {
    let (cmd, rest) = raw.split_first().ok_or("missing subcommand")?;
    let suite_flags = ["list", "no-long"];
    match cmd.as_str() {
        "kecho" => {
            let a = Args::parse(rest, &["addr", "filter", "skip", "jobs"], &suite_flags)?;
            let ctx = kecho::Echo { addr: a.addr()? };
            let name = suite_name("kecho", ctx.addr);
            Ok(run_suite(&name, ctx, kecho::suite(), &selection(&a)?))
        }
        "khttpd" => {
            let valued = [
                "addr",
                "root",
                "header-timeout",
                "keepalive-timeout",
                "filter",
                "skip",
                "jobs",
            ];
            let a = Args::parse(rest, &valued, &suite_flags)?;
            let ctx = khttpd::Http {
                addr: a.addr()?,
                root: PathBuf::from(a.required("root")?),
                header_timeout: a
                    .opt("header-timeout")
                    .map(|_| a.num("header-timeout", 0))
                    .transpose()?,
                keepalive_timeout: a
                    .opt("keepalive-timeout")
                    .map(|_| a.num("keepalive-timeout", 0))
                    .transpose()?,
            };
            let tests = khttpd::suite(&ctx);
            let name = suite_name("khttpd", ctx.addr);
            Ok(run_suite(&name, ctx, tests, &selection(&a)?))
        }
        "hello" => {
            let a = Args::parse(rest, &["addr", "filter", "skip", "jobs"], &suite_flags)?;
            let ctx = khttpd::Http {
                addr: a.addr()?,
                root: PathBuf::new(),
                header_timeout: None,
                keepalive_timeout: None,
            };
            let name = suite_name("hello", ctx.addr);
            Ok(run_suite(&name, ctx, hello::suite(), &selection(&a)?))
        }
        "mkroot" => {
            let a = Args::parse(rest, &["outside", "big-mib"], &[])?;
            let [root] = a.positional.as_slice() else {
                return Err("mkroot takes exactly one DIR".into());
            };
            let outside = PathBuf::from(a.required("outside")?);
            fixtures::make_root(root.as_ref(), &outside, a.num("big-mib", 64)?)?;
            fixtures::make_forbidden(root.as_ref())?;
            println!("mkroot: created {root} and {}", outside.display());
            Ok(0)
        }
        "storm" => {
            let valued = ["addr", "proto", "secs", "clients", "seed", "final-tries"];
            let a = Args::parse(rest, &valued, &[])?;
            let ctx = storm::Storm {
                addr: a.addr()?,
                proto: a.required("proto")?.parse()?,
                secs: a.num("secs", 10)?,
                clients: a.num("clients", 8)?,
                seed: storm::seed(a.opt("seed").map(|_| a.num("seed", 0)).transpose()?),
                final_tries: a.num("final-tries", 1)?,
            };
            let tests = storm::suite(&ctx);
            Ok(run_suite("storm", ctx, tests, &Selection::default()))
        }
        "maxconn" => {
            let a = Args::parse(rest, &["addr", "max", "proto"], &["no-long"])?;
            let ctx = maxconn::MaxConn {
                addr: a.addr()?,
                max: a
                    .required("max")?
                    .parse()
                    .map_err(|_| "--max: bad number")?,
                proto: a.required("proto")?.parse()?,
            };
            let tests = maxconn::suite(&ctx);
            let selection = Selection {
                no_long: a.flag("no-long"),
                ..Selection::default()
            };
            Ok(run_suite("maxconn", ctx, tests, &selection))
        }
        "hold" => {
            let valued = ["addr", "idle", "busy", "proto", "secs", "target"];
            let a = Args::parse(rest, &valued, &[])?;
            let ctx = hold::Hold {
                addr: a.addr()?,
                idle: a.num("idle", 0)?,
                busy: a.num("busy", 0)?,
                proto: a.required("proto")?.parse()?,
                secs: a.num("secs", 30)?,
                target: a.opt("target").unwrap_or("/").to_string(),
            };
            let tests = hold::suite(&ctx);
            Ok(run_suite("hold", ctx, tests, &Selection::default()))
        }
        "hardening" => hardening::main(rest),
        "lockd" => {
            let [file] = rest else {
                return Err("lockd takes one argument: the lock file".into());
            };
            lanelock::serve(
                std::path::Path::new(file),
                std::io::stdin().lock(),
                std::io::stdout(),
            )
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(0)
        }
        other => Err(format!("unknown subcommand {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_names_tell_ipv6_runs_apart() {
        assert_eq!(suite_name("kecho", "127.0.0.1:1".parse().unwrap()), "kecho");
        assert_eq!(
            suite_name("khttpd", "[::1]:1".parse().unwrap()),
            "khttpd-ipv6"
        );
    }
}
