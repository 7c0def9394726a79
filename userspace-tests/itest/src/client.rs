//! One well-behaved client of either server, for the storm, maxconn and hold commands.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::str::FromStr;

use crate::http_client::HttpConn;
use crate::net::read_and_verify;
use crate::pattern::pattern_bytes;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Proto {
    Echo,
    Http,
}

impl FromStr for Proto {
    type Err = String;
    fn from_str(s: &str) -> Result<Proto, String> {
        match s {
            "echo" => Ok(Proto::Echo),
            "http" => Ok(Proto::Http),
            _ => Err(format!("--proto must be echo or http, not {s:?}")),
        }
    }
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Echo => "echo",
            Proto::Http => "http",
        }
    }
}

/// A status a healthy server may give to `GET /`: a page, a redirect, or not found.
pub fn acceptable_status(status: u16) -> bool {
    (200..400).contains(&status) || status == 404
}

pub struct Client {
    proto: Proto,
    pub conn: HttpConn,
    get_root: Vec<u8>,
    rounds: u64,
}

impl Client {
    pub fn open(proto: Proto, addr: SocketAddr) -> Result<Client, String> {
        Ok(Client {
            proto,
            conn: HttpConn::open(addr)?,
            get_root: format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes(),
            rounds: 0,
        })
    }

    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.conn.stream
    }

    /// One complete exchange: an echo of `echo_len` bytes, or `GET /` answered well.
    pub fn exchange(&mut self, echo_len: usize) -> Result<(), String> {
        self.rounds += 1;
        match self.proto {
            Proto::Echo => {
                let data = pattern_bytes(self.rounds * 7919, echo_len);
                self.conn
                    .stream
                    .write_all(&data)
                    .map_err(|e| format!("write: {e}"))?;
                read_and_verify(&mut self.conn.stream, data.len(), |i| data[i])
            }
            Proto::Http => {
                let raw = self.get_root.clone();
                self.conn.send(&raw)?;
                let r = self.conn.response()?;
                if acceptable_status(r.head.status) {
                    Ok(())
                } else {
                    Err(format!("GET / answered {}", r.head.status))
                }
            }
        }
    }
}
