//! `itest hardening GROUP`: the guest tests of the hardening issue (#9). Each group runs
//! against one configuration of the module, which `scripts/guest/hardening.sh` loads:
//!
//! - `mkroot DIR`: the tree the HTTP groups serve (`fixtures::make_hardening_root`).
//! - `http`: file types, credentials, dotfiles, redirects, lingering close (413/400),
//!   header trickle, pipelining, files over 4 GiB, keep-alive deadlines, If-Range, ranges of
//!   a listing (`root=DIR header_timeout=3 keepalive_timeout=4`).
//! - `dotfiles-on`: dotfiles listed and served (`dotfiles=1`).
//! - `refused`: a 503 read intact after the request was sent (`max_connections=N`).
//! - `budget`: past the buffer budget a request gets 503 (`buffer_mib=1`).
//! - `fifo`: 300 concurrent GETs of a FIFO, then a normal file.
//! - `echo-idle`: kecho_rs `idle_timeout`.
//! - `churn`: connect + send + close cycles (the connection-setup race).

mod churn;
mod echo_idle;
mod fifo;
mod files;
mod lingering;
mod ranges;
mod refused;
mod timing;

use std::ops::Deref;
use std::path::PathBuf;
use std::time::Duration;

use crate::args::Args;
use crate::client::Proto;
use crate::fixtures::make_hardening_root;
use crate::http_client::{parse_response, Response};
use crate::khttpd::Http;
use crate::net::{self, preview, Closed};
use crate::report::{run_suite, Selection, Test};

pub const USAGE: &str = "  itest hardening mkroot DIR
  itest hardening http|dotfiles-on|fifo|budget --addr A --root DIR [--header-timeout S] [--keepalive-timeout S] [--filter S] [--jobs N] [--list]
  itest hardening refused --addr A --max N | echo-idle --addr A --idle-timeout S
  itest hardening churn --addr A --proto echo|http [--cycles N] [--threads T]";

/// What every hardening test may need; the HTTP helpers come from the khttpd suite.
pub struct Hard {
    pub http: Http,
    /// `max_connections` of the loaded module (`refused`).
    pub max: usize,
    /// kecho_rs `idle_timeout` in seconds (`echo-idle`).
    pub idle_timeout: u64,
    pub proto: Proto,
    pub cycles: usize,
    pub threads: usize,
}

impl Deref for Hard {
    type Target = Http;
    fn deref(&self) -> &Http {
        &self.http
    }
}

const VALUED: &[&str] = &[
    "addr",
    "root",
    "header-timeout",
    "keepalive-timeout",
    "filter",
    "max",
    "idle-timeout",
    "proto",
    "cycles",
    "threads",
    "jobs",
];

/// Runs `itest hardening GROUP ...`; the exit status of the suite.
pub fn main(raw: &[String]) -> Result<i32, String> {
    let (group, rest) = raw
        .split_first()
        .ok_or_else(|| format!("hardening: missing GROUP\n{USAGE}"))?;
    if group == "mkroot" {
        let [dir] = rest else {
            return Err("hardening mkroot takes exactly one DIR".into());
        };
        make_hardening_root(dir.as_ref())?;
        println!("hardening mkroot: created {dir}");
        return Ok(0);
    }
    let a = Args::parse(rest, VALUED, &["list", "no-long"])?;
    let secs = |name: &str| a.opt(name).map(|_| a.num(name, 0)).transpose();
    let ctx = Hard {
        http: Http {
            addr: a.addr()?,
            root: PathBuf::from(a.opt("root").unwrap_or("")),
            header_timeout: secs("header-timeout")?,
            keepalive_timeout: secs("keepalive-timeout")?,
        },
        max: a.num("max", 0)?,
        idle_timeout: a.num("idle-timeout", 0)?,
        proto: a.opt("proto").unwrap_or("http").parse()?,
        cycles: a.num("cycles", 3000)?,
        threads: a.num("threads", 8)?,
    };
    let needs = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("hardening {group} needs {what}"))
        }
    };
    let tests: Vec<Test<Hard>> = match group.as_str() {
        "http" => {
            needs(a.opt("root").is_some(), "--root")?;
            let mut t = files::tests();
            t.extend(lingering::tests());
            t.extend(timing::tests(ctx.header_timeout, ctx.keepalive_timeout));
            t.extend(ranges::tests());
            t
        }
        "dotfiles-on" => {
            needs(a.opt("root").is_some(), "--root")?;
            files::dotfiles_on_tests()
        }
        "fifo" => {
            needs(a.opt("root").is_some(), "--root")?;
            fifo::tests()
        }
        "budget" => {
            needs(a.opt("root").is_some(), "--root")?;
            refused::budget_tests()
        }
        "refused" => {
            needs(ctx.max > 0, "--max N")?;
            refused::tests(ctx.max)
        }
        "echo-idle" => {
            needs(ctx.idle_timeout > 0, "--idle-timeout S")?;
            echo_idle::tests(ctx.idle_timeout)
        }
        "churn" => churn::tests(ctx.cycles, ctx.proto),
        other => return Err(format!("hardening: unknown group {other:?}\n{USAGE}")),
    };
    // Other fields (skips) keep their defaults whatever the runner grows.
    #[allow(clippy::needless_update)]
    let selection = Selection {
        filter: a.opt("filter").map(str::to_string),
        list: a.flag("list"),
        jobs: a.num("jobs", 1)?,
        no_long: a.flag("no-long"),
        ..Selection::default()
    };
    Ok(run_suite("hardening", ctx, tests, &selection))
}

/// Reads until the server closes (within `within`) and parses exactly one complete response
/// from what arrived; fails on a reset, a truncated response or bytes after it.
pub fn one_response_then_eof(
    stream: &mut std::net::TcpStream,
    within: Duration,
    head_request: bool,
) -> Result<Response, String> {
    let (got, how) = net::read_to_close(stream, within)?;
    let parsed = parse_response(&got, head_request, true)?;
    let Some((resp, used)) = parsed else {
        return Err(format!(
            "closed ({how:?}) before a complete response: {} bytes {}",
            got.len(),
            preview(&got)
        ));
    };
    if used != got.len() {
        return Err(format!(
            "{} unexpected bytes after the {} response: {}",
            got.len() - used,
            resp.head.status,
            preview(&got[used..])
        ));
    }
    if how != Closed::Eof {
        return Err(format!(
            "complete {} response, then a reset instead of EOF (input not drained)",
            resp.head.status
        ));
    }
    Ok(resp)
}

/// The body of a listing or error page, lossily, for substring checks.
pub fn text(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}
