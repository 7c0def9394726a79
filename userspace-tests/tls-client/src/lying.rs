//! `lying-agent`: answers the kernel's handshake requests (group `tlshd`) with DONE and status
//! 0 without doing any handshake, as a broken or hostile agent could. khttpd_rs must not take
//! such a socket for a TLS one (it checks that kTLS is really on it): a test tool only, built
//! on the agent's own netlink code.

use anyhow::{anyhow, Context, Result};
use ktcp_tls_agent::codec::{DoneRequest, FAMILY_NAME, GROUP_TLSHD};
use ktcp_tls_agent::genl::{Accepted, EventSocket, GenlSocket};
use ktcp_tls_agent::sys::adopt_kernel_socket;
use std::time::{Duration, Instant};

/// Answers up to `count` requests, for at most `secs`; prints how many it answered.
pub fn run(count: usize, secs: u64) -> Result<bool> {
    let family = GenlSocket::open(0)
        .and_then(|mut s| s.resolve(FAMILY_NAME))
        .context("resolving the handshake family")?;
    let group = family
        .group(GROUP_TLSHD)
        .ok_or_else(|| anyhow!("no {GROUP_TLSHD} group"))?;
    let mut commands = GenlSocket::open(family.id)?;
    let mut events = EventSocket::join(family.id, group, Duration::from_millis(100))?;
    println!("lying agent: listening for handshake requests");
    let end = Instant::now() + Duration::from_secs(secs);
    let mut answered = 0;
    while answered < count && Instant::now() < end {
        if let Accepted::Request(req) = commands.accept()? {
            // Hold the descriptor until DONE went out, then close it.
            let fd = adopt_kernel_socket(req.sockfd)?;
            commands.done(&DoneRequest {
                status: 0,
                sockfd: req.sockfd,
                remote_auth: Vec::new(),
            })?;
            drop(fd);
            answered += 1;
            println!("lying agent: DONE 0 without a handshake for request {answered}");
            continue;
        }
        events.wait()?;
    }
    println!("lying agent: answered {answered} of {count}");
    Ok(answered == count)
}
