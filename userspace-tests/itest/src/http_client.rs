//! A raw HTTP/1.x response reader: exact bytes out, responses parsed by hand, so tests can
//! see framing errors a real client would hide.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::net::{self, is_reset, preview, Closed};

/// A response head: status line and headers in arrival order.
#[derive(Debug, Clone)]
pub struct Head {
    pub version: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub head: Head,
    pub body: Vec<u8>,
}

const MAX_HEAD: usize = 64 * 1024;

impl Head {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type without parameters, lowercased.
    pub fn media_type(&self) -> Option<String> {
        let v = self.header("content-type")?;
        Some(v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
    }

    pub fn content_length(&self) -> Result<Option<usize>, String> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.trim());
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.any(|v| v != first) {
            return Err("response has conflicting Content-Length headers".into());
        }
        first
            .parse()
            .map(Some)
            .map_err(|_| format!("bad Content-Length {first:?}"))
    }

    /// Whether `Connection` lists `token`.
    pub fn connection_has(&self, token: &str) -> bool {
        self.header("connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    /// Whether this response carries no body whatever its headers say.
    fn bodiless(&self, head_request: bool) -> bool {
        head_request
            || (100..200).contains(&self.status)
            || self.status == 204
            || self.status == 304
    }
}

impl Response {
    pub fn expect_status(&self, status: u16) -> Result<&Self, String> {
        if self.head.status == status {
            Ok(self)
        } else {
            Err(format!(
                "status {} (want {status}), body {}",
                self.head.status,
                preview(&self.body)
            ))
        }
    }

    pub fn expect_body(&self, want: &[u8]) -> Result<&Self, String> {
        if self.body == want {
            Ok(self)
        } else {
            Err(format!(
                "body {} ({} bytes), want {} ({} bytes)",
                preview(&self.body),
                self.body.len(),
                preview(want),
                want.len()
            ))
        }
    }
}

/// Parses a response head from the start of `buf`: `Ok(None)` if incomplete, else the head
/// and the number of bytes it used.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > MAX_HEAD {
            return Err(format!("no end of head in {} bytes", buf.len()));
        }
        return Ok(None);
    };
    let text = std::str::from_utf8(&buf[..end])
        .map_err(|_| format!("non-UTF-8 response head {}", preview(&buf[..end])))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(format!(
            "bad status line {}",
            preview(status_line.as_bytes())
        ));
    }
    let status = code
        .parse()
        .map_err(|_| format!("bad status code in {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("response header without colon: {line:?}"))?;
        if name.is_empty() || name.ends_with([' ', '\t']) || line.contains('\r') {
            return Err(format!("malformed response header {line:?}"));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let head = Head {
        version: version.to_string(),
        status,
        headers,
    };
    Ok(Some((head, end + 4)))
}

/// Parses one whole response from `buf`: `Ok(None)` if more bytes are needed. Without a
/// Content-Length the body runs to the close, so `eof` says whether the peer closed.
pub fn parse_response(
    buf: &[u8],
    head_request: bool,
    eof: bool,
) -> Result<Option<(Response, usize)>, String> {
    let Some((head, head_len)) = parse_head(buf)? else {
        return Ok(None);
    };
    let rest = &buf[head_len..];
    let body_len = if head.bodiless(head_request) {
        0
    } else if head.header("transfer-encoding").is_some() {
        return Err("chunked responses are not expected from this server".into());
    } else if let Some(len) = head.content_length()? {
        len
    } else if eof {
        rest.len()
    } else {
        return Ok(None);
    };
    if rest.len() < body_len {
        return Ok(None);
    }
    let body = rest[..body_len].to_vec();
    Ok(Some((Response { head, body }, head_len + body_len)))
}

/// One client connection with a buffer of bytes received but not yet parsed.
pub struct HttpConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl HttpConn {
    pub fn open(addr: SocketAddr) -> Result<HttpConn, String> {
        let stream = net::connect(addr)?;
        let _ = stream.set_nodelay(true);
        Ok(HttpConn {
            stream,
            buf: Vec::new(),
            eof: false,
        })
    }

    pub fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .map_err(|e| format!("send: {e}"))
    }

    /// Sends, ignoring errors: the server may answer and close before reading it all.
    pub fn send_lenient(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    pub fn response(&mut self) -> Result<Response, String> {
        self.read_response(false)
    }

    pub fn head_response(&mut self) -> Result<Response, String> {
        self.read_response(true)
    }

    fn read_response(&mut self, head_request: bool) -> Result<Response, String> {
        loop {
            if let Some((resp, used)) = parse_response(&self.buf, head_request, self.eof)? {
                self.buf.drain(..used);
                return Ok(resp);
            }
            if self.eof {
                return Err(match self.buf.len() {
                    0 => "connection closed without a response".into(),
                    n => format!(
                        "connection closed mid-response after {n} bytes: {}",
                        preview(&self.buf)
                    ),
                });
            }
            self.fill()?;
        }
    }

    /// Reads a response head only, leaving the body unread in the stream.
    pub fn head_only(&mut self) -> Result<(Head, Vec<u8>), String> {
        loop {
            if let Some((head, used)) = parse_head(&self.buf)? {
                let rest = self.buf.split_off(used);
                self.buf.clear();
                return Ok((head, rest));
            }
            if self.eof {
                return Err(format!("closed before end of head: {}", preview(&self.buf)));
            }
            self.fill()?;
        }
    }

    fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => self.eof = true,
            Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            // Data that arrived before the reset is still in `buf`.
            Err(e) if is_reset(&e) => self.eof = true,
            Err(e) => return Err(format!("read: {e} ({} bytes buffered)", self.buf.len())),
        }
        Ok(())
    }

    /// Fails unless the server closes within `within` with nothing more to say.
    pub fn expect_closed(&mut self, within: Duration) -> Result<Closed, String> {
        if !self.buf.is_empty() {
            return Err(format!(
                "unexpected bytes after response: {}",
                preview(&self.buf)
            ));
        }
        if self.eof {
            return Ok(Closed::Eof);
        }
        net::expect_closed_silently(&mut self.stream, within)
            .map_err(|e| format!("server did not close: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\
        content-length: 5\r\nConnection: keep-alive\r\n\r\nhello";

    #[test]
    fn parses_status_headers_and_body() {
        let (r, used) = parse_response(OK, false, false).unwrap().unwrap();
        assert_eq!(used, OK.len());
        assert_eq!(r.head.status, 200);
        assert_eq!(r.head.version, "HTTP/1.1");
        assert_eq!(r.head.header("CONTENT-LENGTH"), Some("5"));
        assert_eq!(r.head.media_type().as_deref(), Some("text/plain"));
        assert!(r.head.connection_has("Keep-Alive"));
        assert_eq!(r.body, b"hello");
    }

    #[test]
    fn partial_until_whole_body() {
        for cut in 0..OK.len() {
            assert!(parse_response(&OK[..cut], false, false).unwrap().is_none());
        }
    }

    #[test]
    fn head_and_304_have_no_body_and_leave_the_next_response() {
        let mut two = OK[..OK.len() - 5].to_vec();
        two.extend_from_slice(OK);
        let (r, used) = parse_response(&two, true, false).unwrap().unwrap();
        assert!(r.body.is_empty());
        let (next, _) = parse_response(&two[used..], false, false).unwrap().unwrap();
        assert_eq!(next.body, b"hello");
        let nm = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n";
        let (r, used) = parse_response(nm, false, false).unwrap().unwrap();
        assert_eq!((r.head.status, used), (304, nm.len()));
    }

    #[test]
    fn body_without_length_runs_to_eof() {
        let r = b"HTTP/1.0 200 OK\r\n\r\nabc";
        assert!(parse_response(r, false, false).unwrap().is_none());
        let (resp, _) = parse_response(r, false, true).unwrap().unwrap();
        assert_eq!(resp.body, b"abc");
    }

    #[test]
    fn rejects_malformed_responses() {
        for bad in [
            &b"HTTP/1.1 20 OK\r\n\r\n"[..],
            b"ICY 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nName : v\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert!(parse_response(bad, false, false).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reason_phrase_may_be_empty() {
        let (r, _) = parse_response(b"HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", false, false)
            .unwrap()
            .unwrap();
        assert_eq!(r.head.status, 404);
    }
}
