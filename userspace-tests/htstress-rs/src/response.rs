//! Incremental HTTP/1.x response parser: fed whatever bytes have arrived, it reports how
//! many it consumed and, when a whole response is in, its status and whether the server
//! will close. Body bytes are counted, not kept.

use std::fmt;

/// The longest status line plus headers accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The server closes the connection after this response.
    pub close: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub &'static str);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Head,
    Body { remaining: u64 },
    ChunkSize,
    ChunkData { remaining: u64 },
    ChunkEnd,
    Trailers,
    UntilClose,
}

#[derive(Debug)]
pub struct ResponseParser {
    state: State,
    current: Response,
}

impl Default for ResponseParser {
    fn default() -> Self {
        ResponseParser {
            state: State::Head,
            current: Response {
                status: 0,
                close: false,
            },
        }
    }
}

impl ResponseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// True between responses: nothing of the next one has been consumed.
    pub fn at_boundary(&self) -> bool {
        self.state == State::Head
    }

    /// Consumes from `buf` until one response completes or more bytes are needed.
    /// Returns the bytes consumed and the completed response, if any.
    pub fn feed(&mut self, buf: &[u8]) -> Result<(usize, Option<Response>), ParseError> {
        let mut used = 0;
        loop {
            let rest = buf.get(used..).unwrap_or_default();
            let (n, done) = self.step(rest)?;
            used += n;
            if done {
                self.state = State::Head;
                return Ok((used, Some(self.current)));
            }
            if n == 0 && !self.completes_without_bytes() {
                return Ok((used, None));
            }
        }
    }

    /// A zero-length body completes without consuming anything.
    fn completes_without_bytes(&self) -> bool {
        matches!(self.state, State::Body { remaining: 0 })
    }

    /// The end of the stream, with `unparsed` bytes still buffered: completes a
    /// read-until-close body; `Ok(None)` when it came cleanly between responses; an error
    /// when a response was cut short.
    pub fn finish(&mut self, unparsed: usize) -> Result<Option<Response>, ParseError> {
        match std::mem::replace(&mut self.state, State::Head) {
            State::Head if unparsed == 0 => Ok(None),
            State::UntilClose => Ok(Some(self.current)),
            _ => Err(ParseError("connection closed inside a response")),
        }
    }

    fn step(&mut self, buf: &[u8]) -> Result<(usize, bool), ParseError> {
        match self.state {
            State::Head => self.head(buf),
            State::Body { remaining } => {
                let take = remaining.min(buf.len() as u64);
                self.state = State::Body {
                    remaining: remaining - take,
                };
                Ok((take as usize, remaining == take))
            }
            State::ChunkSize => self.chunk_size(buf),
            State::ChunkData { remaining } => {
                let take = remaining.min(buf.len() as u64);
                self.state = match remaining - take {
                    0 => State::ChunkEnd,
                    left => State::ChunkData { remaining: left },
                };
                Ok((take as usize, false))
            }
            State::ChunkEnd => match buf {
                [b'\r', b'\n', ..] => {
                    self.state = State::ChunkSize;
                    Ok((2, false))
                }
                [] | [b'\r'] => Ok((0, false)),
                _ => Err(ParseError("chunk not followed by CRLF")),
            },
            State::Trailers => match line(buf, MAX_LINE)? {
                None => Ok((0, false)),
                Some((n, text)) => Ok((n, text.is_empty())),
            },
            State::UntilClose => Ok((buf.len(), false)),
        }
    }

    fn chunk_size(&mut self, buf: &[u8]) -> Result<(usize, bool), ParseError> {
        let Some((n, text)) = line(buf, MAX_LINE)? else {
            return Ok((0, false));
        };
        let digits = text.split(|&b| b == b';').next().unwrap_or_default();
        let digits = std::str::from_utf8(digits).map_err(|_| ParseError("bad chunk size"))?;
        let size =
            u64::from_str_radix(digits.trim(), 16).map_err(|_| ParseError("bad chunk size"))?;
        self.state = match size {
            0 => State::Trailers,
            size => State::ChunkData { remaining: size },
        };
        Ok((n, false))
    }

    fn head(&mut self, buf: &[u8]) -> Result<(usize, bool), ParseError> {
        let Some(end) = find_head_end(buf) else {
            if buf.len() > MAX_HEAD {
                return Err(ParseError("response head too large"));
            }
            return Ok((0, false));
        };
        let head = parse_head(buf.get(..end).unwrap_or_default())?;
        self.current = Response {
            status: head.status,
            close: head.close,
        };
        if (100..200).contains(&head.status) {
            // An interim response: the real one follows.
            return Ok((end, false));
        }
        self.state = if head.status == 204 || head.status == 304 {
            State::Body { remaining: 0 }
        } else if head.chunked {
            State::ChunkSize
        } else if let Some(length) = head.content_length {
            State::Body { remaining: length }
        } else {
            self.current.close = true;
            State::UntilClose
        };
        Ok((end, false))
    }
}

/// One line without its line ending, and the bytes it used; `None` when incomplete.
fn line(buf: &[u8], max: usize) -> Result<Option<(usize, &[u8])>, ParseError> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(pos) => {
            let text = buf.get(..pos).unwrap_or_default();
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            Ok(Some((pos + 1, text)))
        }
        None if buf.len() > max => Err(ParseError("line too long")),
        None => Ok(None),
    }
}

/// The length of the head including its blank line.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

struct Head {
    status: u16,
    content_length: Option<u64>,
    chunked: bool,
    close: bool,
}

fn parse_head(bytes: &[u8]) -> Result<Head, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ParseError("head is not UTF-8"))?;
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let status_line = lines.next().ok_or(ParseError("empty head"))?;
    let (http10, status) = parse_status_line(status_line)?;
    let mut head = Head {
        status,
        content_length: None,
        chunked: false,
        close: http10,
    };
    for header in lines {
        let (name, value) = header
            .split_once(':')
            .ok_or(ParseError("header without colon"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let length = value
                .parse()
                .map_err(|_| ParseError("bad Content-Length"))?;
            if head.content_length.is_some_and(|old| old != length) {
                return Err(ParseError("conflicting Content-Length"));
            }
            head.content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.rsplit(',').next().unwrap_or_default().trim();
            head.chunked = last.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    head.close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") && http10 {
                    head.close = false;
                }
            }
        }
    }
    Ok(head)
}

/// `HTTP/1.x SSS reason`: whether it is HTTP/1.0, and the status.
fn parse_status_line(line: &str) -> Result<(bool, u16), ParseError> {
    let bad = ParseError("bad status line");
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().ok_or(bad.clone())?;
    let http10 = match version {
        "HTTP/1.0" => true,
        "HTTP/1.1" => false,
        _ => return Err(bad),
    };
    let code = parts.next().ok_or(bad.clone())?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    let status = code.parse().map_err(|_| bad.clone())?;
    if !(100..600).contains(&status) {
        return Err(bad);
    }
    Ok((http10, status))
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
