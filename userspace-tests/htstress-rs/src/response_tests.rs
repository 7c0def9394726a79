use super::*;

/// Feeds `input` in pieces of `piece` bytes, as reads would deliver it.
fn parse_all(input: &[u8], piece: usize) -> Result<Vec<Response>, ParseError> {
    let mut parser = ResponseParser::new();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for chunk in input.chunks(piece) {
        buf.extend_from_slice(chunk);
        loop {
            let (used, done) = parser.feed(&buf)?;
            buf.drain(..used);
            match done {
                Some(response) => out.push(response),
                None => break,
            }
        }
    }
    if let Some(response) = parser.finish(buf.len())? {
        out.push(response);
    }
    Ok(out)
}

const KEEPALIVE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";

#[test]
fn content_length_in_every_split() {
    for piece in 1..=KEEPALIVE.len() {
        let got = parse_all(KEEPALIVE, piece).unwrap();
        assert_eq!(
            got,
            [Response {
                status: 200,
                close: false
            }],
            "piece {piece}"
        );
    }
}

#[test]
fn several_responses_in_one_read() {
    let mut input = KEEPALIVE.repeat(3);
    input.extend_from_slice(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let got = parse_all(&input, input.len()).unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(
        got[3],
        Response {
            status: 404,
            close: true
        }
    );
}

#[test]
fn chunked_body_with_extension_and_trailer() {
    let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        5;x=y\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-T: 1\r\n\r\n";
    let mut twice = input.to_vec();
    twice.extend_from_slice(input);
    for piece in [1, 3, 7, twice.len()] {
        assert_eq!(parse_all(&twice, piece).unwrap().len(), 2, "piece {piece}");
    }
}

#[test]
fn body_until_close_and_http10_defaults() {
    let input = b"HTTP/1.0 200 OK\r\n\r\nbody bytes";
    assert_eq!(
        parse_all(input, 4).unwrap(),
        [Response {
            status: 200,
            close: true
        }]
    );
    let keep = b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx";
    assert_eq!(
        parse_all(keep, 2).unwrap(),
        [Response {
            status: 200,
            close: false
        }]
    );
}

#[test]
fn no_body_statuses_and_interim() {
    let input =
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n";
    assert_eq!(
        parse_all(input, 5).unwrap(),
        [Response {
            status: 304,
            close: false
        }]
    );
}

#[test]
fn truncated_and_malformed_responses_are_errors() {
    assert!(parse_all(&KEEPALIVE[..KEEPALIVE.len() - 1], 8).is_err());
    assert!(parse_all(b"HTTP/1.1 200 OK\r\nContent-Le", 8).is_err());
    for bad in [
        &b"HTTP/2 200 OK\r\n\r\n"[..],
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 099 x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
    ] {
        assert!(
            parse_all(bad, bad.len()).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(parse_all(&vec![b'a'; MAX_HEAD + 10], 1024).is_err());
}

#[test]
fn clean_eof_between_responses_is_not_a_response() {
    let mut parser = ResponseParser::new();
    assert!(parser.at_boundary());
    assert_eq!(parser.finish(0), Ok(None));
}
