// SPDX-License-Identifier: GPL-2.0

//! A resumable request-head parser: the answers of [`super::http::parse`] for a buffer that
//! grows at the end, at a cost linear in the head instead of quadratic.
//!
//! The stateless parser re-reads the buffer from its first byte on every call, so a client
//! sending a head one byte per segment makes the server read about `n * n / 2` bytes.
//! [`HeadParser`] remembers how far it has read: each complete line is checked once, with
//! the same line checks that [`super::http::parse`] applies, and the line still arriving is
//! summed up byte by byte, so that its rules (no NUL, no bare CR, a method made of token
//! characters, a target within the limit) need no re-reading. The whole head is parsed
//! once more, by [`super::http::parse`] itself, only when it has ended: that is where the
//! [`super::http::Request`] borrowing from the buffer comes from.

use super::http::{
    check_field_line, check_line_bytes, check_request_line, incomplete, parse, Limits, Parsed,
    Reject,
};
use super::lex::is_tchar;
use super::status::Status;

/// Parses one request head fed in pieces.
///
/// The caller passes the same buffer each time, grown at the end, and the same limits:
/// the bytes given to an earlier call do not change until [`HeadParser::reset`]. Every call answers exactly what
/// [`super::http::parse`] answers for the same bytes. After a `Complete` or a `Reject` the
/// caller consumes the head (or drops the connection) and calls [`HeadParser::reset`]
/// before parsing what follows; until then each call parses the whole head again.
#[derive(Clone, Debug)]
pub(crate) struct HeadParser {
    /// Bytes of the head window read so far; the next call reads on from here.
    read: usize,
    /// Where the line still arriving starts.
    line_start: usize,
    /// What the complete lines so far amount to.
    state: State,
    /// What the line still arriving holds so far.
    tail: Tail,
    /// Bytes examined since the last reset: read, re-read as a complete line, or handed to
    /// a whole parse. Only a measure of the work done, for tests.
    scanned: usize,
}

/// What the complete lines read so far amount to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Only empty lines, if any: the request line is still to come.
    RequestLine,
    /// A valid request line and `count` valid field lines, which left `content_length`.
    Fields {
        /// Field lines so far.
        count: usize,
        /// The `Content-Length` the field lines agreed on so far.
        content_length: Option<u64>,
    },
    /// The empty line that ends the head has been read.
    Ended,
    /// A complete line, or the head as a whole, was refused with this status; more bytes
    /// cannot change that.
    Refused(Status),
}

/// A summary of the line still arriving, kept byte by byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tail {
    /// A NUL, or a CR followed by something other than LF: the line is refused.
    bad_byte: bool,
    /// The last byte was a CR, which the next byte must make a line end.
    cr_last: bool,
    /// Spaces so far, counted up to 2: the request line's method, target and version
    /// are separated by the first two.
    spaces: u8,
    /// Length of the method, the bytes before the first space.
    method_len: usize,
    /// Whether every method byte is a token character.
    method_is_tchar: bool,
    /// Length of the target, the bytes between the first and the second space.
    target_len: usize,
}

impl Tail {
    /// An empty line.
    const EMPTY: Tail = Tail {
        bad_byte: false,
        cr_last: false,
        spaces: 0,
        method_len: 0,
        method_is_tchar: true,
        target_len: 0,
    };

    /// Takes in one byte that is not LF.
    fn push(&mut self, byte: u8) {
        // A CR is either the first half of a line end or a bare CR, known at the next byte.
        self.bad_byte |= byte == 0 || self.cr_last;
        self.cr_last = byte == b'\r';
        if self.cr_last {
            return;
        }
        if byte == b' ' {
            self.spaces = self.spaces.saturating_add(1).min(2);
            return;
        }
        match self.spaces {
            0 => {
                self.method_len = self.method_len.saturating_add(1);
                self.method_is_tchar &= is_tchar(byte);
            }
            1 => self.target_len = self.target_len.saturating_add(1),
            _ => {}
        }
    }

    /// What `check_line_bytes` says of this line so far, without a CR it ends with.
    fn check_bytes(&self) -> Result<(), Status> {
        if self.bad_byte {
            Err(Status::BadRequest)
        } else {
            Ok(())
        }
    }

    /// What `check_request_prefix` says of this line so far, read as a request line.
    fn check_request_prefix(&self, limits: &Limits) -> Result<(), Status> {
        if !self.method_is_tchar || (self.spaces > 0 && self.method_len == 0) {
            Err(Status::BadRequest)
        } else if self.spaces > 0 && self.target_len > limits.max_target {
            Err(Status::UriTooLong)
        } else {
            Ok(())
        }
    }
}

impl HeadParser {
    /// A parser that has read nothing yet.
    pub(crate) const fn new() -> Self {
        HeadParser {
            read: 0,
            line_start: 0,
            state: State::RequestLine,
            tail: Tail::EMPTY,
            scanned: 0,
        }
    }

    /// Forgets everything read: the next call parses a new head from the buffer's start.
    pub(crate) fn reset(&mut self) {
        *self = Self::new();
    }

    /// Bytes examined since [`HeadParser::new`] or the last [`HeadParser::reset`], to
    /// bound the work in tests.
    pub(crate) fn scanned(&self) -> usize {
        self.scanned
    }

    /// Parses the request head at the start of `buf`, reading only what earlier calls have
    /// not; answers what [`super::http::parse`] answers for `buf`.
    pub(crate) fn parse<'b>(&mut self, buf: &'b [u8], limits: &Limits) -> Parsed<'b> {
        // Only the first max_head bytes may hold the head, as in the stateless parser.
        let window = buf.get(..limits.max_head).unwrap_or(buf);
        if window.len() < self.read {
            // Not the buffer of the earlier calls: start over rather than answer wrongly.
            *self = HeadParser {
                scanned: self.scanned,
                ..Self::new()
            };
        }
        if let Err(status) = self.read_lines(window, limits) {
            self.state = State::Refused(status);
        }
        let result = match self.state {
            State::Refused(status) => Err(status),
            State::Ended => return self.parse_whole(buf, limits),
            State::RequestLine => self
                .tail
                .check_bytes()
                .and_then(|()| self.tail.check_request_prefix(limits)),
            State::Fields { .. } => self.tail.check_bytes(),
        };
        match result.and_then(|()| incomplete::<()>(buf.len() >= limits.max_head)) {
            Ok(_) => Parsed::Partial,
            Err(status) => Parsed::Reject(Reject {
                status,
                close: true,
            }),
        }
    }

    /// Reads the window bytes not read yet, checking each line as it completes; stops at
    /// the end of the head or at the first refused line.
    fn read_lines(&mut self, window: &[u8], limits: &Limits) -> Result<(), Status> {
        if !matches!(self.state, State::RequestLine | State::Fields { .. }) {
            return Ok(());
        }
        let new = window.get(self.read..).unwrap_or_default();
        for &byte in new {
            let at = self.read;
            self.read = at.saturating_add(1);
            self.scanned = self.scanned.saturating_add(1);
            if byte != b'\n' {
                self.tail.push(byte);
                continue;
            }
            let line = window.get(self.line_start..at).unwrap_or_default();
            self.line_start = self.read;
            self.tail = Tail::EMPTY;
            self.take_line(line, limits)?;
            if self.state == State::Ended {
                break;
            }
        }
        Ok(())
    }

    /// Checks one complete line, without its LF, as the stateless parser would at this
    /// point of the head.
    fn take_line(&mut self, line: &[u8], limits: &Limits) -> Result<(), Status> {
        self.scanned = self.scanned.saturating_add(line.len());
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        check_line_bytes(line)?;
        match (&mut self.state, line) {
            // RFC 9112 section 2.2: empty lines before the request line are ignored.
            (State::RequestLine, []) => {}
            (State::RequestLine, line) => {
                check_request_line(line, limits)?;
                self.state = State::Fields {
                    count: 0,
                    content_length: None,
                };
            }
            (State::Fields { .. }, []) => self.state = State::Ended,
            (
                State::Fields {
                    count,
                    content_length,
                },
                line,
            ) => {
                *count = count.saturating_add(1);
                if *count > limits.max_headers {
                    return Err(Status::HeaderFieldsTooLarge);
                }
                check_field_line(line, content_length)?;
            }
            (State::Ended | State::Refused(_), _) => {}
        }
        Ok(())
    }

    /// The answer for a head whose every line has been checked: the stateless parse of
    /// it, which builds the request (or refuses the fields as a whole).
    fn parse_whole<'b>(&mut self, buf: &'b [u8], limits: &Limits) -> Parsed<'b> {
        // The stateless parse reads up to the end of the head, where the reading stopped.
        self.scanned = self.scanned.saturating_add(self.read);
        let parsed = parse(buf, limits);
        if let Parsed::Reject(reject) = parsed {
            self.state = State::Refused(reject.status);
        }
        parsed
    }
}
