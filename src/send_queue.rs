// SPDX-License-Identifier: GPL-2.0

//! The response being sent on a connection: a window of bytes in a fixed buffer, refilled from
//! the body (a static page, a generated listing, or a file streamed in chunks) as the socket
//! takes them. A file body of [`SPLICE_MIN`] bytes or more is not copied at all: once the head
//! has gone out (with `MSG_MORE`), its page-cache pages go to TCP by reference.

use crate::{budget::Reservation, fs::File, net::Stream};
use kernel::prelude::*;

/// Capacity of the send buffer: a response head plus one file chunk.
pub(crate) const SEND_BUF_CAP: usize = 32 * 1024;
/// File bodies (or what is left of them) at least this long are spliced, not copied.
pub(crate) const SPLICE_MIN: u64 = 16 * 1024;

/// What follows the response head in the buffer.
pub(crate) enum Body {
    /// Nothing.
    None,
    /// `pos..` of a static page (hello, error pages).
    Static { data: &'static [u8], pos: usize },
    /// `pos..end` of an open file; spliced if `splice` (see [`Body::file`]).
    File {
        file: File,
        pos: u64,
        end: u64,
        splice: bool,
    },
    /// `pos..end` of a generated page (a directory listing), paid for by its reservation.
    Page {
        data: KVVec<u8>,
        pos: usize,
        end: usize,
        _paid: Reservation,
    },
}

impl Body {
    /// `pos..end` of `file`: spliced to the end when at least [`SPLICE_MIN`] bytes long (unless
    /// its file system turns splicing down), else copied.
    pub(crate) fn file(file: File, pos: u64, end: u64) -> Self {
        Body::File {
            file,
            pos,
            end,
            splice: end.saturating_sub(pos) >= SPLICE_MIN,
        }
    }

    /// Whether the rest is spliced rather than copied into the buffer.
    fn splices(&self) -> bool {
        matches!(self, Body::File { pos, end, splice: true, .. } if pos < end)
    }

    /// Whether every byte has been moved to the buffer.
    fn is_done(&self) -> bool {
        match self {
            Body::None => true,
            Body::Static { data, pos } => *pos >= data.len(),
            Body::File { pos, end, .. } => pos >= end,
            Body::Page { pos, end, .. } => pos >= end,
        }
    }

    /// Moves the next bytes into `dst`: how many, or `Err` if the body cannot be produced
    /// (a file that shrank or failed: the promised length cannot be met).
    fn fill(&mut self, dst: &mut [u8]) -> Result<usize> {
        let n = match self {
            Body::None => 0,
            Body::Static { data, pos } => copy_from(data, pos, data.len(), dst),
            Body::Page { data, pos, end, .. } => copy_from(data, pos, *end, dst),
            Body::File { file, pos, end, .. } => {
                let want = usize::try_from(end.saturating_sub(*pos))
                    .unwrap_or(usize::MAX)
                    .min(dst.len());
                let window = dst.get_mut(..want).ok_or(EINVAL)?;
                let n = file.read_at(window, *pos)?;
                if n == 0 && want > 0 {
                    return Err(EIO);
                }
                *pos += n as u64;
                n
            }
        };
        Ok(n)
    }
}

/// Copies `src[*pos..end]` into `dst` as far as it fits, advancing `*pos`.
fn copy_from(src: &[u8], pos: &mut usize, end: usize, dst: &mut [u8]) -> usize {
    let rest = src.get(*pos..end.min(src.len())).unwrap_or_default();
    let n = rest.len().min(dst.len());
    if let (Some(to), Some(from)) = (dst.get_mut(..n), rest.get(..n)) {
        to.copy_from_slice(from);
    }
    *pos += n;
    n
}

/// What flushes moved to the socket.
#[derive(Default)]
pub(crate) struct Moved {
    /// Every byte queued.
    pub(crate) bytes: u64,
    /// Those of them that went by reference, without a copy.
    pub(crate) spliced: u64,
}

/// How a flush ended.
pub(crate) enum Flushed {
    /// Everything was sent.
    Done,
    /// The socket is full: wait for write space.
    Blocked,
    /// The send budget of this run is spent.
    Budget,
    /// The connection cannot go on (socket error, or a body that cannot be produced).
    Failed,
}

/// The output side of a connection: response heads and the body being streamed.
pub(crate) struct SendQueue {
    buf: KVec<u8>,
    start: usize,
    end: usize,
    body: Body,
}

impl SendQueue {
    /// An empty send queue with a buffer of [`SEND_BUF_CAP`] bytes.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            buf: KVec::from_elem(0, SEND_BUF_CAP, GFP_KERNEL)?,
            start: 0,
            end: 0,
            body: Body::None,
        })
    }

    /// True when nothing is left to send.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end && matches!(self.body, Body::None)
    }

    /// How many bytes are pending in the buffer (not counting the body still to come).
    pub(crate) fn buffered(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// The free space after the pending bytes, to write a head into; see [`SendQueue::commit`].
    pub(crate) fn tail(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.end..).unwrap_or_default()
    }

    /// Marks `n` bytes written into [`SendQueue::tail`] as pending.
    pub(crate) fn commit(&mut self, n: usize) {
        self.end = self.end.saturating_add(n).min(self.buf.len());
    }

    /// Sets what follows the pending bytes; the previous body must be done.
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
        if tail.is_empty() || self.body.splices() {
            return true;
        }
        match self.body.fill(tail) {
            Ok(n) => self.end += n,
            Err(_) => return false,
        }
        if self.body.is_done() {
            self.body = Body::None;
        }
        true
    }

    /// Splices up to `budget` bytes of the file body to `stream`: `None` to go on (bytes
    /// went out, or the file system cannot splice and the body is copied from now on), or how
    /// the flush ends.
    fn splice(
        &mut self,
        stream: &Stream,
        budget: &mut usize,
        moved: &mut Moved,
    ) -> Option<Flushed> {
        let Body::File {
            file,
            pos,
            end,
            splice,
        } = &mut self.body
        else {
            return Some(Flushed::Failed);
        };
        let left = end.saturating_sub(*pos);
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(*budget);
        let more = (want as u64) < left;
        match file.splice_to(stream, pos, want, more) {
            // The file shrank: the promised length cannot be met.
            Ok((0, _)) => Some(Flushed::Failed),
            Ok((n, full)) => {
                moved.bytes += n as u64;
                moved.spliced += n as u64;
                *budget = budget.saturating_sub(n);
                if *pos >= *end {
                    self.body = Body::None;
                    None
                } else if full {
                    // The socket took less than offered (a write-space wake-up comes):
                    // splicing again now would only read the pages once more. (Short for
                    // another reason, such as the file's end: go on, and fail at once.)
                    Some(Flushed::Blocked)
                } else {
                    None
                }
            }
            Err(e) if e == EAGAIN => Some(Flushed::Blocked),
            Err(e) if e == EINVAL => {
                *splice = false;
                None
            }
            Err(_) => Some(Flushed::Failed),
        }
    }

    /// Sends pending bytes and body until done, blocked, or `budget` bytes have gone out;
    /// `moved` counts what went out.
    pub(crate) fn flush(
        &mut self,
        stream: &Stream,
        budget: &mut usize,
        moved: &mut Moved,
    ) -> Flushed {
        loop {
            if !self.refill() {
                return Flushed::Failed;
            }
            let more = !matches!(self.body, Body::None);
            let Some(pending) = self.buf.get(self.start..self.end) else {
                return Flushed::Failed;
            };
            if pending.is_empty() && self.body.splices() {
                if *budget == 0 {
                    return Flushed::Budget;
                }
                match self.splice(stream, budget, moved) {
                    Some(flushed) => return flushed,
                    None => continue,
                }
            }
            if pending.is_empty() {
                return Flushed::Done;
            }
            if *budget == 0 {
                return Flushed::Budget;
            }
            match stream.send(pending, more) {
                Ok(n) => {
                    self.start += n;
                    moved.bytes += n as u64;
                    *budget = budget.saturating_sub(n);
                }
                Err(e) if e == EAGAIN => return Flushed::Blocked,
                Err(_) => return Flushed::Failed,
            }
        }
    }
}
