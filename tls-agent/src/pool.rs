// SPDX-License-Identifier: GPL-2.0

//! The handshake threads: accepted requests queue here and run side by side, each one
//! ending with its DONE report and then the close of the agent's copy of the socket.

use std::io;
use std::net::TcpStream;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustls::ServerConfig;

use crate::codec::{AcceptReply, DoneRequest};
use crate::job;
use crate::ktls::Installer;

/// Where DONE goes: the kernel (see `agent::NetlinkReporter`), or a test's list.
pub trait Reporter: Send + Sync {
    fn report(&self, done: &DoneRequest) -> io::Result<()>;
}

/// A handshake request with the socket it handed over.
pub struct Job {
    pub request: AcceptReply,
    pub sock: TcpStream,
}

/// Handshake threads fed through a bounded queue: when every thread is busy and the queue
/// is full, [`Pool::submit`] waits, and the kernel keeps the further requests pending.
pub struct Pool {
    queue: SyncSender<Job>,
    exited: Receiver<()>,
    threads: usize,
}

/// What every handshake thread shares.
struct Shared {
    jobs: Mutex<Receiver<Job>>,
    tls: Arc<ServerConfig>,
    installer: Arc<dyn Installer>,
    reporter: Arc<dyn Reporter>,
}

impl Pool {
    /// Starts `threads` handshake threads (at least one).
    pub fn start(
        threads: usize,
        tls: Arc<ServerConfig>,
        installer: Arc<dyn Installer>,
        reporter: Arc<dyn Reporter>,
    ) -> io::Result<Pool> {
        let threads = threads.max(1);
        let (queue, jobs) = mpsc::sync_channel::<Job>(threads);
        let shared = Arc::new(Shared {
            jobs: Mutex::new(jobs),
            tls,
            installer,
            reporter,
        });
        let (exit_tx, exited) = mpsc::channel();
        for index in 0..threads {
            let shared = Arc::clone(&shared);
            let exit_tx = exit_tx.clone();
            thread::Builder::new()
                .name(format!("handshake-{index}"))
                .spawn(move || {
                    worker(&shared);
                    let _ = exit_tx.send(());
                })?;
        }
        Ok(Pool {
            queue,
            exited,
            threads,
        })
    }

    /// Queues `job`; gives it back if no thread is left to run it.
    pub fn submit(&self, job: Job) -> Result<(), Box<Job>> {
        self.queue
            .send(job)
            .map_err(|mpsc::SendError(job)| Box::new(job))
    }

    /// Closes the queue and waits up to `grace` for the threads to finish the jobs they
    /// hold and the queued ones. Returns how many threads were still busy at the end.
    pub fn finish(self, grace: Duration) -> usize {
        let Pool {
            queue,
            exited,
            threads,
        } = self;
        drop(queue);
        let started = Instant::now();
        let mut finished = 0;
        while finished < threads {
            let left = grace.saturating_sub(started.elapsed());
            match exited.recv_timeout(left) {
                Ok(()) => finished += 1,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        threads - finished
    }
}

fn worker(shared: &Shared) {
    loop {
        let next = shared
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        let Ok(job) = next else { return };
        let peer = job
            .sock
            .peer_addr()
            .map_or_else(|_| "-".to_owned(), |addr| addr.to_string());
        let started = Instant::now();
        let outcome = job::run(
            &job.request,
            &job.sock,
            &shared.tls,
            shared.installer.as_ref(),
        );
        let reported = shared.reporter.report(&outcome.done(job.request.sockfd));
        // The agent's copy of the socket goes only now, after DONE.
        drop(job.sock);
        let ms = started.elapsed().as_millis();
        match reported {
            Ok(()) => log::info!("handshake peer={peer} {outcome} ms={ms}"),
            Err(err) => {
                log::error!("handshake peer={peer} {outcome} ms={ms}; DONE not delivered: {err}")
            }
        }
    }
}
