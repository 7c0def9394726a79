//! Malformed and oversized requests: the right 4xx/5xx, and a close where framing is lost.

use super::{has_required_headers, Http, CLOSE_WITHIN};
use crate::report::{test, Test, TestResult};

/// What the server must do with a bad request.
struct Case {
    name: &'static str,
    status: u16,
    /// The server cannot know where the next request starts, so it must close.
    closes: bool,
    build: fn(&Http) -> Vec<u8>,
}

fn with_headers(c: &Http, extra: &str) -> Vec<u8> {
    c.request("GET", "/a.txt", extra)
}

const CASES: &[Case] = &[
    Case {
        name: "request_line_method_only_400",
        status: 400,
        closes: true,
        build: |_| b"GET\r\nHost: x\r\n\r\n".to_vec(),
    },
    Case {
        name: "request_line_extra_token_400",
        status: 400,
        closes: true,
        build: |_| b"GET /a.txt HTTP/1.1 extra\r\nHost: x\r\n\r\n".to_vec(),
    },
    Case {
        name: "request_line_bad_version_400",
        status: 400,
        closes: true,
        build: |_| b"GET /a.txt HTXP/1.1\r\nHost: x\r\n\r\n".to_vec(),
    },
    Case {
        name: "missing_host_400",
        status: 400,
        // The README promises a close with this 400, like every other one here.
        closes: true,
        build: |_| b"GET /a.txt HTTP/1.1\r\nAccept: */*\r\n\r\n".to_vec(),
    },
    Case {
        name: "header_without_colon_400",
        status: 400,
        closes: true,
        build: |c| with_headers(c, "NoColonHere\r\n"),
    },
    Case {
        name: "space_before_colon_400",
        status: 400,
        closes: true,
        build: |c| with_headers(c, "X-Test : v\r\n"),
    },
    Case {
        name: "obs_fold_400",
        status: 400,
        closes: true,
        build: |c| with_headers(c, "X-Test: a\r\n  folded\r\n"),
    },
    Case {
        name: "bare_cr_400",
        status: 400,
        closes: true,
        build: |c| with_headers(c, "X-Test: a\rb\r\n"),
    },
    Case {
        name: "nul_in_head_400",
        status: 400,
        closes: true,
        build: |c| with_headers(c, "X-Test: a\0b\r\n"),
    },
    Case {
        name: "two_content_lengths_400",
        status: 400,
        closes: true,
        build: |c| {
            let mut raw = with_headers(c, "Content-Length: 1\r\nContent-Length: 2\r\n");
            raw.extend_from_slice(b"ab");
            raw
        },
    },
    Case {
        name: "transfer_encoding_and_length_400",
        status: 400,
        closes: true,
        build: |c| {
            let extra = "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n";
            let mut raw = with_headers(c, extra);
            raw.extend_from_slice(b"0\r\n\r\n");
            raw
        },
    },
    Case {
        name: "http2_version_505",
        status: 505,
        closes: true,
        build: |_| b"GET /a.txt HTTP/2.0\r\nHost: x\r\n\r\n".to_vec(),
    },
    Case {
        name: "target_over_8k_414",
        status: 414,
        closes: true,
        build: |c| c.get(&format!("/{}", "a".repeat(9000))),
    },
    Case {
        name: "header_line_20k_431",
        status: 431,
        closes: true,
        build: |c| with_headers(c, &format!("X-Big: {}\r\n", "b".repeat(20_000))),
    },
    Case {
        name: "header_section_over_16k_431",
        status: 431,
        closes: true,
        build: |c| {
            let lines: String = (0..20)
                .map(|i| format!("X-H{i}: {}\r\n", "c".repeat(1000)))
                .collect();
            with_headers(c, &lines)
        },
    },
    Case {
        name: "over_64_fields_431",
        status: 431,
        closes: true,
        build: |c| {
            let lines: String = (0..70).map(|i| format!("X-F{i}: v\r\n")).collect();
            with_headers(c, &lines)
        },
    },
    Case {
        name: "content_length_over_1m_413",
        status: 413,
        closes: true,
        build: |c| with_headers(c, "Content-Length: 2000000\r\n"),
    },
];

pub fn tests() -> Vec<Test<Http>> {
    CASES
        .iter()
        .map(|case| test(case.name, 15, move |c| run_case(c, case)))
        .collect()
}

fn run_case(c: &Http, case: &Case) -> TestResult {
    let mut conn = c.conn()?;
    conn.send_lenient(&(case.build)(c));
    let r = conn.response()?;
    r.expect_status(case.status)?;
    has_required_headers(&r)?;
    if case.closes {
        conn.expect_closed(CLOSE_WITHIN)?;
    }
    Ok(())
}
