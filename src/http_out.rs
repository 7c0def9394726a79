// SPDX-License-Identifier: GPL-2.0

//! The response being sent on a connection: a window of bytes in a fixed buffer, refilled from
//! the body (a file streamed in chunks, or a generated page) as the socket takes them.

use crate::{fs::File, net::Stream};
use kernel::prelude::*;

/// Capacity of the output buffer: a response head plus one file chunk.
pub(crate) const OUT_CAP: usize = 32 * 1024;

/// What follows the bytes in the buffer.
pub(crate) enum Body {
    /// Nothing.
    None,
    /// `pos..end` of an open file.
    File { file: File, pos: u64, end: u64 },
    /// A generated page (a directory listing) from `pos` on.
    Mem { data: KVec<u8>, pos: usize },
}

/// How a flush ended.
pub(crate) enum Flushed {
    /// Everything was sent.
    Done,
    /// The socket is full: wait for write space.
    Blocked,
    /// The send budget of this run is spent.
    Budget,
    /// The connection cannot go on (socket error, or a file ended early).
    Failed,
}

/// The output side of a connection.
pub(crate) struct Out {
    buf: KVec<u8>,
    start: usize,
    end: usize,
    body: Body,
}

impl Out {
    /// An empty output buffer of `OUT_CAP` bytes.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            buf: KVec::from_elem(0, OUT_CAP, GFP_KERNEL)?,
            start: 0,
            end: 0,
            body: Body::None,
        })
    }

    /// True when nothing is left to send.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end && matches!(self.body, Body::None)
    }

    /// The free space after the pending bytes, to write a head into; see [`Out::commit`].
    pub(crate) fn tail(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.end..).unwrap_or_default()
    }

    /// Marks `n` bytes written into [`Out::tail`] as pending.
    pub(crate) fn commit(&mut self, n: usize) {
        self.end = self.end.saturating_add(n).min(self.buf.len());
    }

    /// Appends `bytes` if they fit; false otherwise.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> bool {
        match self.tail().get_mut(..bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.commit(bytes.len());
                true
            }
            None => false,
        }
    }

    /// Sets what follows the buffered bytes.
    pub(crate) fn set_body(&mut self, body: Body) {
        self.body = body;
    }

    /// Forgets everything pending (before an error response replaces it).
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.body = Body::None;
    }

    /// Moves body bytes into the free tail of the buffer; false if the body failed.
    fn refill(&mut self) -> bool {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        let Some(tail) = self.buf.get_mut(self.end..) else {
            return false;
        };
        if tail.is_empty() {
            return true;
        }
        let n = match &mut self.body {
            Body::None => return true,
            Body::File { file, pos, end } => {
                let want = usize::try_from(end.saturating_sub(*pos))
                    .unwrap_or(usize::MAX)
                    .min(tail.len());
                let Some(window) = tail.get_mut(..want) else {
                    return false;
                };
                match file.read_at(window, *pos) {
                    // The file shrank under us: the promised length cannot be met.
                    Ok(0) | Err(_) if want > 0 => return false,
                    Ok(n) => {
                        *pos += n as u64;
                        n
                    }
                    Err(_) => 0,
                }
            }
            Body::Mem { data, pos } => {
                let rest = data.get(*pos..).unwrap_or_default();
                let n = rest.len().min(tail.len());
                if let (Some(dst), Some(src)) = (tail.get_mut(..n), rest.get(..n)) {
                    dst.copy_from_slice(src);
                }
                *pos += n;
                n
            }
        };
        self.end += n;
        let done = match &self.body {
            Body::None => true,
            Body::File { pos, end, .. } => pos >= end,
            Body::Mem { data, pos } => *pos >= data.len(),
        };
        if done {
            self.body = Body::None;
        }
        true
    }

    /// Sends pending bytes and body until done, blocked, or `budget` bytes have gone out.
    pub(crate) fn flush(&mut self, stream: &Stream, budget: &mut usize, sent: &mut u64) -> Flushed {
        loop {
            if !self.refill() {
                return Flushed::Failed;
            }
            let more = !matches!(self.body, Body::None);
            let Some(pending) = self.buf.get(self.start..self.end) else {
                return Flushed::Failed;
            };
            if pending.is_empty() {
                return Flushed::Done;
            }
            if *budget == 0 {
                return Flushed::Budget;
            }
            match stream.send(pending, more) {
                Ok(n) => {
                    self.start += n;
                    *sent += n as u64;
                    *budget = budget.saturating_sub(n);
                }
                Err(e) if e == EAGAIN => return Flushed::Blocked,
                Err(_) => return Flushed::Failed,
            }
        }
    }
}
