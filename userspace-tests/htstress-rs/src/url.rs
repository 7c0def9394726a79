//! `http://HOST[:PORT][/PATH]` with an IP literal or `localhost` (no name lookups).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Debug, PartialEq)]
pub struct Url {
    pub addr: SocketAddr,
    /// The Host header value, as written in the URL.
    pub host: String,
    pub path: String,
}

pub fn parse_url(text: &str) -> Result<Url, String> {
    let bad = |why: &str| format!("URL {text:?}: {why}");
    let rest = text
        .strip_prefix("http://")
        .ok_or_else(|| bad("only http:// is supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    let (host, port) = split_port(authority).ok_or_else(|| bad("bad port"))?;
    let ip = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        literal
            .parse()
            .map_err(|_| bad("host must be an IP literal or localhost"))?
    };
    Ok(Url {
        addr: SocketAddr::new(ip, port),
        host: authority.to_string(),
        path: path.to_string(),
    })
}

/// Splits `host[:port]` / `[v6][:port]`; port 80 when absent.
fn split_port(authority: &str) -> Option<(&str, u16)> {
    let port_start = match authority.rfind(']') {
        Some(bracket) => authority
            .get(bracket + 1..)?
            .strip_prefix(':')
            .map(|_| bracket + 1),
        None => authority.rfind(':'),
    };
    match port_start {
        Some(colon) => {
            let port = authority.get(colon + 1..)?.parse().ok()?;
            Some((authority.get(..colon)?, port))
        }
        None => Some((authority, 80)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_ipv6_localhost_and_defaults() {
        let url = parse_url("http://127.0.0.1:8081/index.html").unwrap();
        assert_eq!(url.addr, "127.0.0.1:8081".parse().unwrap());
        assert_eq!(
            (url.host.as_str(), url.path.as_str()),
            ("127.0.0.1:8081", "/index.html")
        );
        let url = parse_url("http://[::1]:8080").unwrap();
        assert_eq!(
            (url.addr, url.path.as_str()),
            ("[::1]:8080".parse().unwrap(), "/")
        );
        assert_eq!(parse_url("http://[::1]/a").unwrap().addr.port(), 80);
        assert_eq!(parse_url("http://localhost/x?y=1").unwrap().path, "/x?y=1");
    }

    #[test]
    fn rejects_what_it_cannot_reach() {
        for bad in [
            "https://127.0.0.1/",
            "http://example.com/",
            "http://1.2.3.4:99999/",
            "127.0.0.1",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
