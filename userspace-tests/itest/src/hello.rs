//! `itest hello`: khttpd_rs in hello mode answers any GET with a small page.

use crate::khttpd::{has_required_headers, Http, CLOSE_WITHIN};
use crate::report::{ensure, test, Test, TestResult};

pub fn suite() -> Vec<Test<Http>> {
    vec![
        test("get_root_200", 15, |c| hello(c, "/")),
        test("any_path_200", 15, |c| {
            hello(c, "/any/path/at/all.html?q=1")
        }),
        test("keepalive_three_requests", 15, keepalive),
        test("pipelined_two", 15, pipelined),
        test("http10_closes", 15, http10_closes),
    ]
}

fn expect_hello(r: &crate::http_client::Response) -> TestResult {
    r.expect_status(200)?;
    has_required_headers(r)?;
    ensure(!r.body.is_empty(), || "empty body".into())
}

fn hello(c: &Http, target: &str) -> TestResult {
    expect_hello(&c.fetch(&c.get(target))?)
}

fn keepalive(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    for i in 0..3 {
        conn.send(&c.get("/"))?;
        let r = conn.response().map_err(|e| format!("request {i}: {e}"))?;
        expect_hello(&r)?;
    }
    Ok(())
}

fn pipelined(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    let mut raw = c.get("/one");
    raw.extend(c.get("/two"));
    conn.send(&raw)?;
    for i in 0..2 {
        expect_hello(&conn.response().map_err(|e| format!("response {i}: {e}"))?)?;
    }
    Ok(())
}

fn http10_closes(c: &Http) -> TestResult {
    let mut conn = c.conn()?;
    conn.send(b"GET / HTTP/1.0\r\n\r\n")?;
    expect_hello(&conn.response()?)?;
    conn.expect_closed(CLOSE_WITHIN).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_servers;
    use crate::report::{run_suite, Selection};

    fn ctx(addr: std::net::SocketAddr) -> Http {
        Http {
            addr,
            root: Default::default(),
            header_timeout: None,
            keepalive_timeout: None,
        }
    }

    #[test]
    fn passes_against_a_hello_server() {
        let addr = fake_servers::hello_http();
        assert_eq!(
            run_suite("hello", ctx(addr), suite(), &Selection::default()),
            0
        );
    }

    #[test]
    fn fails_against_an_echo_server() {
        let addr = fake_servers::echo();
        assert_eq!(
            run_suite("hello", ctx(addr), suite(), &Selection::default()),
            1
        );
    }
}
