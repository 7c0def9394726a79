// SPDX-License-Identifier: GPL-2.0

//! The HTTP protocol layer: plain `core` Rust with no kernel imports, so that every byte of
//! request handling compiles both in the module and on the host, where it is tested.
//!
//! Nothing here allocates: parsers borrow from the caller's buffer and writers fill a
//! caller's `&mut [u8]`, answering `None` when it is too small.

pub(crate) mod date;
pub(crate) mod etag;
pub(crate) mod head;
pub(crate) mod histogram;
pub(crate) mod http;
mod lex;
pub(crate) mod listing;
pub(crate) mod log_escape;
pub(crate) mod mime;
pub(crate) mod path;
pub(crate) mod range;
pub(crate) mod response;
pub(crate) mod status;
mod writer;
