//! Connection churn for the setup race: a client that sends and closes at once makes its
//! socket ready (data, FIN or RST) while the server is still registering the connection.
//! The counters and kmemleak, checked by the script afterwards, show any connection whose
//! wait-queue entry was left behind.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use super::Hard;
use crate::client::Proto;
use crate::net;
use crate::report::{ensure, test, Test};

pub fn tests(cycles: usize, proto: Proto) -> Vec<Test<Hard>> {
    let secs = 120 + cycles as u64 / 10;
    let name = format!("churn_{}_connect_send_close", proto.name());
    vec![test(name, secs, |c: &Hard| {
        let payload: Vec<u8> = match c.proto {
            Proto::Echo => b"churn churn churn churn churn!\n".to_vec(),
            Proto::Http => c.get("/a.txt"),
        };
        let next = AtomicUsize::new(0);
        let failures: Vec<String> = thread::scope(|s| {
            let workers: Vec<_> = (0..c.threads.max(1))
                .map(|_| s.spawn(|| churn(c, &payload, &next)))
                .collect();
            workers
                .into_iter()
                .filter_map(|w| w.join().unwrap_or_else(|_| Err("panicked".into())).err())
                .collect()
        });
        ensure(failures.is_empty(), || {
            format!(
                "{} of {} threads failed: {failures:?}",
                failures.len(),
                c.threads
            )
        })?;
        println!("churn: {} connect+send+close cycles", c.cycles);
        Ok(())
    })]
}

/// Takes cycle numbers until `cycles` are done; every third closes with a reset.
fn churn(c: &Hard, payload: &[u8], next: &AtomicUsize) -> Result<(), String> {
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= c.cycles {
            return Ok(());
        }
        let mut stream = net::connect(c.addr).map_err(|e| format!("cycle {i}: {e}"))?;
        if i.is_multiple_of(3) {
            net::set_linger_zero(&stream)?;
        }
        // The server may already be closing; only the connect must succeed.
        let _ = stream.write_all(payload);
        drop(stream);
    }
}
