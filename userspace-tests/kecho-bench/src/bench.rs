//! The benchmark run: connect every client, then the phases of round trips.

use std::sync::Arc;
use std::time::Duration;

use benchlib::Latencies;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};

use crate::client::{connect, run_phase, Connected, Phase, PhaseOutcome};
use crate::failure::Failure;
use crate::options::Options;
use crate::stream::{run_stream, StreamOutcome};

/// Mismatch details printed at most this many times.
const MISMATCH_NOTES: usize = 5;

/// One client's results over all phases.
#[derive(Default)]
pub struct ClientRecord {
    pub latencies: Latencies,
    pub failure: Option<Failure>,
}

#[derive(Default)]
pub struct BenchResult {
    pub clients: Vec<ClientRecord>,
    pub connected: u32,
    pub connect_retries: u64,
    pub connect_secs: f64,
    /// Per phase: clients that completed it, and its duration.
    pub phases: Vec<(u32, f64)>,
    pub stream: Option<StreamOutcome>,
    pub mismatch_notes: Vec<String>,
}

pub async fn run(options: &Options, deadline: Instant) -> BenchResult {
    let mut result = BenchResult::default();
    let started = Instant::now();
    let mut streams = connect_all(options, deadline, &mut result).await;
    let mut stream_client = match options.stream_bytes {
        0 => None,
        _ => Some(connect(options.addr, deadline).await),
    };
    result.connect_secs = started.elapsed().as_secs_f64();
    let mut stream_task = None;
    for phase in 0..options.phases {
        if phase > 0 {
            let pause_end = Instant::now() + Duration::from_millis(options.pause_ms);
            sleep_until(pause_end.min(deadline)).await;
        }
        let phase_start = Instant::now();
        let tasks = spawn_phase(options, phase, deadline, &mut streams);
        if phase == 0 {
            let client = stream_client.take();
            stream_task = start_stream(client, options.stream_bytes, deadline, &mut result);
        }
        let completed = collect_phase(tasks, &mut streams, &mut result).await;
        result
            .phases
            .push((completed, phase_start.elapsed().as_secs_f64()));
        // Printed as soon as the phase ends (stdout is line-buffered), so that a watcher can
        // sample the server while the clients idle between phases.
        println!(
            "phase {} done: {completed}/{} clients",
            phase + 1,
            options.clients
        );
    }
    finish_stream(stream_task, &mut result).await;
    result
}

async fn connect_all(
    options: &Options,
    deadline: Instant,
    result: &mut BenchResult,
) -> Vec<Option<TcpStream>> {
    let permits = Arc::new(Semaphore::new(options.connect_concurrency));
    let tasks: Vec<_> = (0..options.clients)
        .map(|_| {
            let permits = permits.clone();
            let addr = options.addr;
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                connect(addr, deadline).await
            })
        })
        .collect();
    let mut streams = Vec::with_capacity(tasks.len());
    for task in tasks {
        let mut record = ClientRecord::default();
        match task.await.unwrap_or(Err(Failure::ConnectError)) {
            Ok(connected) => {
                result.connected += 1;
                result.connect_retries += u64::from(connected.retries);
                streams.push(Some(connected.stream));
            }
            Err(failure) => {
                record.failure = Some(failure);
                streams.push(None);
            }
        }
        result.clients.push(record);
    }
    streams
}

type PhaseTask = JoinHandle<(TcpStream, PhaseOutcome)>;

fn spawn_phase(
    options: &Options,
    phase: u32,
    deadline: Instant,
    streams: &mut [Option<TcpStream>],
) -> Vec<(usize, PhaseTask)> {
    let mut tasks = Vec::new();
    for (index, slot) in streams.iter_mut().enumerate() {
        let Some(mut stream) = slot.take() else {
            continue;
        };
        let work = Phase {
            client: index as u32,
            first_round: phase.saturating_mul(options.rounds),
            rounds: options.rounds,
            size: options.size,
            deadline,
        };
        let task = tokio::spawn(async move {
            let outcome = run_phase(&mut stream, &work).await;
            (stream, outcome)
        });
        tasks.push((index, task));
    }
    tasks
}

/// Waits for a phase's tasks; returns how many clients completed it.
async fn collect_phase(
    tasks: Vec<(usize, PhaseTask)>,
    streams: &mut [Option<TcpStream>],
    result: &mut BenchResult,
) -> u32 {
    let mut completed = 0;
    for (index, task) in tasks {
        let (stream, outcome) = match task.await {
            Ok(done) => (Some(done.0), done.1),
            Err(_) => (None, failed_outcome()),
        };
        let Some(record) = result.clients.get_mut(index) else {
            continue;
        };
        record.latencies.extend(&outcome.latencies);
        match outcome.failure {
            None => {
                completed += 1;
                if let Some(slot) = streams.get_mut(index) {
                    *slot = stream;
                }
            }
            Some(failure) => {
                record.failure = Some(failure);
                if let (Some(offset), true) = (
                    outcome.mismatch_offset,
                    result.mismatch_notes.len() < MISMATCH_NOTES,
                ) {
                    let round = outcome.latencies.len() + 1;
                    let phase = result.phases.len() + 1;
                    let note = format!(
                        "client {index}: wrong echo at byte {offset}, round {round} of phase {phase}"
                    );
                    result.mismatch_notes.push(note);
                }
            }
        }
    }
    completed
}

fn failed_outcome() -> PhaseOutcome {
    PhaseOutcome {
        latencies: Latencies::new(),
        failure: Some(Failure::Io),
        mismatch_offset: None,
    }
}

/// Starts the streaming client, or records why it could not start.
fn start_stream(
    client: Option<Result<Connected, Failure>>,
    total: u64,
    deadline: Instant,
    result: &mut BenchResult,
) -> Option<JoinHandle<StreamOutcome>> {
    match client? {
        Ok(connected) => Some(tokio::spawn(run_stream(connected.stream, total, deadline))),
        Err(failure) => {
            result.stream = Some(StreamOutcome::Failed {
                failure,
                echoed: 0,
                detail: "connect failed".to_string(),
            });
            None
        }
    }
}

async fn finish_stream(task: Option<JoinHandle<StreamOutcome>>, result: &mut BenchResult) {
    if let Some(task) = task {
        result.stream = Some(task.await.unwrap_or(StreamOutcome::Failed {
            failure: Failure::Io,
            echoed: 0,
            detail: "stream task failed".to_string(),
        }));
    }
}
