//! Why a client failed.

use std::fmt;
use std::io::{self, ErrorKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    ConnectRefused,
    ConnectTimeout,
    ConnectError,
    Reset,
    Closed,
    Timeout,
    Mismatch,
    Io,
}

impl Failure {
    pub const ALL: [Failure; 8] = [
        Failure::ConnectRefused,
        Failure::ConnectTimeout,
        Failure::ConnectError,
        Failure::Reset,
        Failure::Closed,
        Failure::Timeout,
        Failure::Mismatch,
        Failure::Io,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Failure::ConnectRefused => "refused",
            Failure::ConnectTimeout => "connect_timeout",
            Failure::ConnectError => "connect_error",
            Failure::Reset => "reset",
            Failure::Closed => "closed",
            Failure::Timeout => "timeout",
            Failure::Mismatch => "mismatch",
            Failure::Io => "io_error",
        }
    }

    /// Classifies an error of an established connection.
    pub fn from_io(error: &io::Error) -> Failure {
        match error.kind() {
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
                Failure::Reset
            }
            ErrorKind::UnexpectedEof | ErrorKind::WriteZero => Failure::Closed,
            ErrorKind::TimedOut => Failure::Timeout,
            _ => Failure::Io,
        }
    }

    /// Classifies an error of a connect attempt.
    pub fn from_connect(error: &io::Error) -> Failure {
        match error.kind() {
            ErrorKind::ConnectionRefused => Failure::ConnectRefused,
            ErrorKind::TimedOut => Failure::ConnectTimeout,
            _ => Failure::ConnectError,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
