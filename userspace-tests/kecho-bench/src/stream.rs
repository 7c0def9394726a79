//! The streaming client: writes N pattern bytes while reading the echo back concurrently.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use crate::failure::Failure;
use crate::pattern::{check_stream, fill_stream};

const CHUNK: usize = 64 * 1024;

/// How the stream went.
pub enum StreamOutcome {
    Done {
        bytes: u64,
        elapsed: Duration,
    },
    Failed {
        failure: Failure,
        echoed: u64,
        detail: String,
    },
}

/// Streams `total` bytes through `stream` and verifies every echoed byte.
pub async fn run_stream(stream: TcpStream, total: u64, deadline: Instant) -> StreamOutcome {
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let send = async move {
        let mut buf = vec![0u8; CHUNK];
        let mut offset = 0u64;
        while offset < total {
            let len = (total - offset).min(CHUNK as u64) as usize;
            let chunk = buf.get_mut(..len).unwrap_or_default();
            fill_stream(chunk, offset);
            writer.write_all(chunk).await?;
            offset += len as u64;
        }
        writer.shutdown().await
    };
    let receive = async move {
        let mut buf = vec![0u8; CHUNK];
        let mut echoed = 0u64;
        while echoed < total {
            let want = (total - echoed).min(CHUNK as u64) as usize;
            let n = match reader.read(buf.get_mut(..want).unwrap_or_default()).await {
                Ok(0) => {
                    return (
                        echoed,
                        Err((Failure::Closed, "EOF before all bytes".to_string())),
                    )
                }
                Ok(n) => n,
                Err(e) => return (echoed, Err((Failure::from_io(&e), e.to_string()))),
            };
            if let Some(bad) = check_stream(buf.get(..n).unwrap_or_default(), echoed) {
                return (
                    echoed,
                    Err((Failure::Mismatch, format!("wrong byte at offset {bad}"))),
                );
            }
            echoed += n as u64;
        }
        (echoed, Ok(()))
    };
    let both = async { tokio::join!(send, receive) };
    match timeout_at(deadline, both).await {
        Err(_) => StreamOutcome::Failed {
            failure: Failure::Timeout,
            echoed: 0,
            detail: "overall timeout".to_string(),
        },
        Ok((_, (echoed, Err((failure, detail))))) => StreamOutcome::Failed {
            failure,
            echoed,
            detail,
        },
        Ok((Err(e), (echoed, Ok(())))) => StreamOutcome::Failed {
            failure: Failure::from_io(&e),
            echoed,
            detail: format!("write: {e}"),
        },
        Ok((Ok(()), (bytes, Ok(())))) => StreamOutcome::Done {
            bytes,
            elapsed: started.elapsed(),
        },
    }
}
