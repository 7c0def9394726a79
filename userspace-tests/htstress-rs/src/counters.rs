//! What one connection loop saw; merged into the run's totals.

use benchlib::Latencies;

#[derive(Default)]
pub struct Counters {
    /// Responses by status class: 2xx, 3xx, 4xx, 5xx.
    pub classes: [u64; 4],
    pub connect_errors: u64,
    pub resets: u64,
    pub timeouts: u64,
    pub bad_responses: u64,
    /// Requests lost because a fresh connection closed before answering.
    pub closed: u64,
    /// Responses cut short: the connection closed inside them.
    pub truncated: u64,
    pub other_io: u64,
    /// Connections reopened after the server closed a keep-alive connection.
    pub reconnects: u64,
    pub bytes: u64,
    pub latencies: Latencies,
}

impl Counters {
    pub fn record_status(&mut self, status: u16) {
        match status {
            200..=299 => self.classes[0] += 1,
            300..=399 => self.classes[1] += 1,
            400..=499 => self.classes[2] += 1,
            500..=599 => self.classes[3] += 1,
            _ => self.bad_responses += 1,
        }
    }

    pub fn responses(&self) -> u64 {
        self.classes.iter().sum()
    }

    pub fn transport_errors(&self) -> u64 {
        self.connect_errors
            + self.resets
            + self.timeouts
            + self.bad_responses
            + self.closed
            + self.truncated
            + self.other_io
    }

    /// Failed requests: transport errors plus 4xx and 5xx.
    pub fn errors(&self) -> u64 {
        self.transport_errors() + self.classes[2] + self.classes[3]
    }

    pub fn merge(&mut self, other: &Counters) {
        for (mine, theirs) in self.classes.iter_mut().zip(other.classes) {
            *mine += theirs;
        }
        self.connect_errors += other.connect_errors;
        self.resets += other.resets;
        self.timeouts += other.timeouts;
        self.bad_responses += other.bad_responses;
        self.closed += other.closed;
        self.truncated += other.truncated;
        self.other_io += other.other_io;
        self.reconnects += other.reconnects;
        self.bytes += other.bytes;
        self.latencies.extend(&other.latencies);
    }
}
