//! Shared pieces of the ktcp-rs userspace benchmark tools: argument parsing, latency
//! statistics, the `RESULT` line, CSV output, PNG plots and the cross-run ratio table (median
//! and range of the repeats).

pub mod args;
pub mod csv;
pub mod plot;
pub mod report;
pub mod result_line;
pub mod spread;
pub mod stats;

pub use args::Args;
pub use result_line::ResultLine;
pub use spread::Spread;
pub use stats::{Latencies, Summary};
