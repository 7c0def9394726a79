//! `--until-closed`: the verdict for a load run against a server that is unloaded under it.

use crate::bench::BenchResult;
use crate::failure::Failure;

/// Passes when at least one round trip completed, every echoed byte was right, and every
/// client that did not finish ended the way an unload ends a connection (reset, close, or
/// a refused connect once the listener was gone).
pub fn until_closed(result: &BenchResult) -> Result<(), String> {
    let round_trips: usize = result.clients.iter().map(|c| c.latencies.len()).sum();
    if round_trips == 0 {
        return Err("no round trip completed before the server went away: no load at all".into());
    }
    let unexpected = |f: &Failure| {
        !matches!(
            f,
            Failure::Reset | Failure::Closed | Failure::ConnectRefused
        )
    };
    let mut wrong: Vec<String> = result
        .clients
        .iter()
        .enumerate()
        .filter_map(|(id, c)| {
            c.failure
                .filter(unexpected)
                .map(|f| format!("client {id}: {f}"))
        })
        .collect();
    if let Some(crate::stream::StreamOutcome::Failed { failure, .. }) = &result.stream {
        if unexpected(failure) {
            wrong.push(format!("stream: {failure}"));
        }
    }
    let n = wrong.len();
    wrong.truncate(3);
    if n > 0 {
        return Err(format!(
            "{n} clients ended in an unexpected way, e.g. {}",
            wrong.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::ClientRecord;
    use std::time::Duration;

    fn client(rounds: usize, failure: Option<Failure>) -> ClientRecord {
        let mut c = ClientRecord::default();
        for _ in 0..rounds {
            c.latencies.record(Duration::from_micros(10));
        }
        c.failure = failure;
        c
    }

    fn result(clients: Vec<ClientRecord>) -> BenchResult {
        BenchResult {
            clients,
            ..BenchResult::default()
        }
    }

    #[test]
    fn resets_after_round_trips_pass() {
        let r = result(vec![
            client(3, Some(Failure::Reset)),
            client(1, Some(Failure::Closed)),
        ]);
        assert_eq!(until_closed(&r), Ok(()));
    }

    #[test]
    fn mismatch_timeout_or_no_load_fail() {
        assert!(until_closed(&result(vec![client(0, Some(Failure::Reset))])).is_err());
        let r = result(vec![client(3, Some(Failure::Mismatch))]);
        assert!(until_closed(&r).is_err());
        let r = result(vec![client(3, None), client(1, Some(Failure::Timeout))]);
        assert!(until_closed(&r).is_err());
    }
}
