// SPDX-License-Identifier: GPL-2.0

//! Host tests for `src/proto`, the protocol layer of the kernel module.
//!
//! The crate is `no_std`, like the kernel, so that a `std` dependency in `proto` fails to
//! compile here too; the tests themselves use `std`.

#![no_std]
#![deny(unreachable_pub, rust_2018_idioms)]

#[cfg(test)]
extern crate std;

// Outside tests nothing here calls into `proto`; the test build keeps the dead-code lint,
// so an API item no test reaches is reported.
#[cfg_attr(not(test), allow(dead_code))]
#[warn(clippy::missing_docs_in_private_items)]
#[path = "../../../src/proto/mod.rs"]
mod proto;

#[cfg(test)]
mod date_tests;
#[cfg(test)]
mod etag_tests;
#[cfg(test)]
mod head_props;
#[cfg(test)]
mod head_tests;
#[cfg(test)]
mod histogram_tests;
#[cfg(test)]
mod http_props;
#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod listing_tests;
#[cfg(test)]
mod log_escape_tests;
#[cfg(test)]
mod mime_tests;
#[cfg(test)]
mod overflow_tests;
#[cfg(test)]
mod path_tests;
#[cfg(test)]
mod range_tests;
#[cfg(test)]
mod response_tests;
#[cfg(test)]
mod spdx_tests;
