//! `itest khttpd`: protocol, error, static-file and timeout tests against khttpd_rs
//! serving a tree made by `itest mkroot`.

mod conditional;
mod errors;
mod file_cache;
mod files;
mod protocol;
mod timeouts;
mod zerocopy;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::http_client::{HttpConn, Response};
use crate::report::{ensure, Test, TestResult};

pub struct Http {
    pub addr: SocketAddr,
    pub root: PathBuf,
    pub header_timeout: Option<u64>,
    pub keepalive_timeout: Option<u64>,
}

/// How long a server may take to close a connection it should close.
pub const CLOSE_WITHIN: Duration = Duration::from_secs(3);

/// Every test; the timeout tests only when their timeout is given. They come first: they
/// mostly wait, so the others run beside them instead of after them.
pub fn suite(c: &Http) -> Vec<Test<Http>> {
    let mut tests = timeouts::tests(c.header_timeout, c.keepalive_timeout);
    tests.extend(protocol::tests());
    tests.extend(errors::tests());
    tests.extend(files::tests());
    tests.extend(conditional::tests());
    tests.extend(zerocopy::tests());
    tests.extend(file_cache::tests());
    tests
}

impl Http {
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `METHOD target HTTP/1.1` with a Host header, `extra` header lines (each ending in
    /// CRLF), and the blank line.
    pub fn request(&self, method: &str, target: &str, extra: &str) -> Vec<u8> {
        format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\n{extra}\r\n",
            self.host()
        )
        .into_bytes()
    }

    pub fn get(&self, target: &str) -> Vec<u8> {
        self.request("GET", target, "")
    }

    /// The fixture file `rel` as the server should serve it.
    pub fn file(&self, rel: &str) -> Result<Vec<u8>, String> {
        let path = self.root.join(rel);
        std::fs::read(&path).map_err(|e| format!("fixture {}: {e}", path.display()))
    }

    pub fn conn(&self) -> Result<HttpConn, String> {
        HttpConn::open(self.addr)
    }

    /// Sends `raw` on a fresh connection and reads one response.
    pub fn fetch(&self, raw: &[u8]) -> Result<Response, String> {
        let mut c = self.conn()?;
        c.send_lenient(raw);
        c.response()
    }

    /// GET `target` must answer 200 with exactly the fixture `rel`.
    pub fn expect_file(&self, target: &str, rel: &str) -> Result<Response, String> {
        let r = self.fetch(&self.get(target))?;
        r.expect_status(200)?.expect_body(&self.file(rel)?)?;
        Ok(r)
    }
}

/// Fails unless `r` has every header each response must carry.
pub fn has_required_headers(r: &Response) -> TestResult {
    for name in [
        "date",
        "server",
        "content-length",
        "content-type",
        "connection",
    ] {
        ensure(r.head.header(name).is_some(), || {
            format!("{} response lacks {name}", r.head.status)
        })?;
    }
    let date = r.head.header("date").unwrap_or("");
    ensure(date.len() == 29 && date.ends_with(" GMT"), || {
        format!("Date {date:?} is not an IMF-fixdate")
    })
}
