//! One echo client: connect (with retries), then rounds of verified round trips.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use benchlib::Latencies;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout_at, Instant};

use crate::failure::Failure;
use crate::pattern::fill_message;

const CONNECT_ATTEMPTS: u32 = 6;
const CONNECT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const RETRY_BACKOFF: Duration = Duration::from_millis(50);

/// A connected stream and how many attempts it took.
pub struct Connected {
    pub stream: TcpStream,
    pub retries: u32,
}

/// Connects, retrying refused and timed-out attempts (a full accept backlog) with backoff.
pub async fn connect(addr: SocketAddr, deadline: Instant) -> Result<Connected, Failure> {
    let mut last = Failure::ConnectTimeout;
    for attempt in 0..CONNECT_ATTEMPTS {
        let attempt_deadline = deadline.min(Instant::now() + CONNECT_ATTEMPT_TIMEOUT);
        match timeout_at(attempt_deadline, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                // Small messages: do not let Nagle hold a round trip back.
                stream.set_nodelay(true).ok();
                return Ok(Connected {
                    stream,
                    retries: attempt,
                });
            }
            Ok(Err(e)) => last = Failure::from_connect(&e),
            Err(_) => last = Failure::ConnectTimeout,
        }
        if last == Failure::ConnectError || Instant::now() >= deadline {
            break;
        }
        sleep(RETRY_BACKOFF * (attempt + 1)).await;
    }
    Err(last)
}

/// One phase's work for one client.
pub struct Phase {
    pub client: u32,
    pub first_round: u32,
    pub rounds: u32,
    pub size: usize,
    pub deadline: Instant,
}

/// What a phase did: latencies of completed rounds, and the failure that stopped it.
pub struct PhaseOutcome {
    pub latencies: Latencies,
    pub failure: Option<Failure>,
    /// Where the first wrong byte was, for a mismatch.
    pub mismatch_offset: Option<usize>,
}

/// Runs the phase's round trips on `stream`.
pub async fn run_phase(stream: &mut TcpStream, phase: &Phase) -> PhaseOutcome {
    let mut outcome = PhaseOutcome {
        latencies: Latencies::with_capacity(phase.rounds as usize),
        failure: None,
        mismatch_offset: None,
    };
    let mut message = vec![0u8; phase.size];
    let mut reply = vec![0u8; phase.size];
    for round in phase.first_round..phase.first_round.saturating_add(phase.rounds) {
        fill_message(&mut message, phase.client, round);
        let started = Instant::now();
        if let Err(failure) = round_trip(stream, &message, &mut reply, phase.deadline).await {
            outcome.failure = Some(failure);
            return outcome;
        }
        let elapsed = started.elapsed();
        if reply != message {
            outcome.failure = Some(Failure::Mismatch);
            outcome.mismatch_offset = message.iter().zip(&reply).position(|(a, b)| a != b);
            return outcome;
        }
        outcome.latencies.record(elapsed);
    }
    outcome
}

async fn round_trip(
    stream: &mut TcpStream,
    message: &[u8],
    reply: &mut [u8],
    deadline: Instant,
) -> Result<(), Failure> {
    let exchange = async {
        stream.write_all(message).await?;
        stream.read_exact(reply).await?;
        Ok::<(), io::Error>(())
    };
    match timeout_at(deadline, exchange).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Failure::from_io(&e)),
        Err(_) => Err(Failure::Timeout),
    }
}
