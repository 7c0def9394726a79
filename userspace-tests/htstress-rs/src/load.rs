//! One connection loop: claim requests from the shared budget, send, read the responses.

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use crate::counters::Counters;
use crate::response::{Response, ResponseParser};

const READ_RESERVE: usize = 16 * 1024;

/// What every connection loop shares.
pub struct Shared {
    pub addr: SocketAddr,
    /// Requests not yet claimed.
    pub remaining: AtomicU64,
    /// No new requests are started after this.
    pub stop_at: Instant,
    /// Every operation ends by this.
    pub hard_deadline: Instant,
    pub timeout: Duration,
    pub keepalive: bool,
    pub pipeline: u64,
    /// One request's bytes, repeated `pipeline` times.
    pub batch: Vec<u8>,
    pub request_len: usize,
    /// `--until-refused`: a refused connect stops every connection loop.
    pub until_refused: bool,
    /// Set by the first refused connect under `until_refused`.
    pub refused: AtomicBool,
}

impl Shared {
    fn claim(&self, want: u64) -> u64 {
        let taken = self
            .remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                (left > 0).then(|| left - left.min(want))
            });
        taken.map_or(0, |left| left.min(want))
    }

    fn give_back(&self, count: u64) {
        self.remaining.fetch_add(count, Ordering::Relaxed);
    }

    fn stopped(&self) -> bool {
        self.refused.load(Ordering::Relaxed) || Instant::now() >= self.stop_at
    }

    fn op_deadline(&self) -> Instant {
        (Instant::now() + self.timeout).min(self.hard_deadline)
    }
}

enum Failure {
    Reset,
    /// The connection closed in the middle of a response.
    Truncated,
    Timeout,
    Bad,
    Io,
}

impl Failure {
    fn from_io(error: &io::Error) -> Failure {
        match error.kind() {
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
                Failure::Reset
            }
            ErrorKind::TimedOut => Failure::Timeout,
            _ => Failure::Io,
        }
    }

    fn count(self, counters: &mut Counters, requests: u64) {
        let field = match self {
            Failure::Reset => &mut counters.resets,
            Failure::Truncated => &mut counters.truncated,
            Failure::Timeout => &mut counters.timeouts,
            Failure::Bad => &mut counters.bad_responses,
            Failure::Io => &mut counters.other_io,
        };
        *field += requests;
    }
}

struct Conn {
    stream: TcpStream,
    parser: ResponseParser,
    buf: Vec<u8>,
    start: usize,
    served: u64,
}

/// Runs requests until the budget is spent or time is up.
pub async fn connection_loop(shared: Arc<Shared>) -> Counters {
    let mut counters = Counters::default();
    let mut conn: Option<Conn> = None;
    while !shared.stopped() {
        let count = shared.claim(shared.pipeline);
        if count == 0 {
            break;
        }
        let started = Instant::now();
        let mut current = match conn.take() {
            Some(current) => current,
            None => match connect(&shared).await {
                Ok(fresh) => fresh,
                Err(e) if shared.until_refused && e.kind() == ErrorKind::ConnectionRefused => {
                    // The server is gone: what this loop claimed was never sent.
                    shared.refused.store(true, Ordering::Relaxed);
                    shared.give_back(count);
                    break;
                }
                Err(_) => {
                    counters.connect_errors += count;
                    continue;
                }
            },
        };
        let reuse = exchange(&mut current, count, started, &shared, &mut counters).await;
        if reuse && shared.keepalive {
            conn = Some(current);
        }
    }
    counters
}

async fn connect(shared: &Shared) -> io::Result<Conn> {
    let stream = match timeout_at(shared.op_deadline(), TcpStream::connect(shared.addr)).await {
        Ok(result) => result?,
        Err(_) => return Err(ErrorKind::TimedOut.into()),
    };
    stream.set_nodelay(true)?;
    Ok(Conn {
        stream,
        parser: ResponseParser::new(),
        buf: Vec::with_capacity(READ_RESERVE),
        start: 0,
        served: 0,
    })
}

/// Sends `count` requests and reads their responses; true when the connection can be reused.
async fn exchange(
    conn: &mut Conn,
    count: u64,
    started: Instant,
    shared: &Shared,
    counters: &mut Counters,
) -> bool {
    let batch = shared
        .batch
        .get(..shared.request_len.saturating_mul(count as usize))
        .unwrap_or_default();
    let write = timeout_at(shared.op_deadline(), conn.stream.write_all(batch)).await;
    let write_failure = match write {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(Failure::from_io(&e)),
        Err(_) => Some(Failure::Timeout),
    };
    if let Some(failure) = write_failure {
        lost(conn, failure, count, shared, counters);
        return false;
    }
    for answered in 0..count {
        match read_response(conn, shared, counters).await {
            Ok(Some(response)) => {
                counters.latencies.record(started.elapsed());
                counters.record_status(response.status);
                conn.served += 1;
                if response.close {
                    // The server said it closes: unanswered requests go back to the budget.
                    shared.give_back(count - answered - 1);
                    return false;
                }
            }
            Ok(None) => {
                closed_between_responses(conn, count - answered, shared, counters);
                return false;
            }
            Err(failure) => {
                lost(conn, failure, count - answered, shared, counters);
                return false;
            }
        }
    }
    true
}

/// A reused connection that the server closed (or reset) before this batch is reopened and
/// the batch retried; on a fresh connection the requests count as failed.
fn lost(conn: &Conn, failure: Failure, requests: u64, shared: &Shared, counters: &mut Counters) {
    if conn.served > 0 && conn.parser.at_boundary() && matches!(failure, Failure::Reset) {
        shared.give_back(requests);
        counters.reconnects += 1;
    } else {
        failure.count(counters, requests);
    }
}

fn closed_between_responses(conn: &Conn, requests: u64, shared: &Shared, counters: &mut Counters) {
    if conn.served > 0 {
        shared.give_back(requests);
        counters.reconnects += 1;
    } else {
        counters.closed += requests;
    }
}

/// Reads until one response is complete; `Ok(None)` on a clean close between responses.
async fn read_response(
    conn: &mut Conn,
    shared: &Shared,
    counters: &mut Counters,
) -> Result<Option<Response>, Failure> {
    loop {
        let unparsed = conn.buf.get(conn.start..).unwrap_or_default();
        let (used, done) = conn.parser.feed(unparsed).map_err(|_| Failure::Bad)?;
        conn.start += used;
        if conn.start >= conn.buf.len() {
            conn.buf.clear();
            conn.start = 0;
        }
        if done.is_some() {
            return Ok(done);
        }
        if conn.start > 0 {
            conn.buf.drain(..conn.start);
            conn.start = 0;
        }
        conn.buf.reserve(READ_RESERVE);
        let read = timeout_at(shared.op_deadline(), conn.stream.read_buf(&mut conn.buf)).await;
        match read {
            Ok(Ok(0)) => {
                let unparsed = conn.buf.len() - conn.start;
                return conn.parser.finish(unparsed).map_err(|_| Failure::Truncated);
            }
            Ok(Ok(n)) => counters.bytes += n as u64,
            Ok(Err(e)) => return Err(Failure::from_io(&e)),
            Err(_) => return Err(Failure::Timeout),
        }
    }
}
