// SPDX-License-Identifier: GPL-2.0

//! `ktcp-tls-agent`: the user-space TLS handshake agent for khttpd_rs. Linux's
//! `net/handshake` upcall hands the agent a kernel socket (generic netlink family
//! `handshake`, group `tlshd`); the agent runs the TLS 1.3 server handshake on it with
//! rustls, programs kTLS with the session keys, and hands the socket back (DONE).
//!
//! Layers, top to bottom: [`agent`] (daemon loop) -> [`pool`] (handshake threads) ->
//! [`job`] (one request) -> [`handshake`] (rustls over [`record`] I/O) -> [`ktls`]
//! (crypto_info, installer) -> [`sys`] (every `unsafe`). [`genl`] moves the netlink bytes
//! that [`codec`] makes and reads; [`config`] loads the TOML file, certificate and key.

pub mod agent;
pub mod codec;
pub mod config;
pub mod genl;
pub mod handshake;
pub mod job;
pub mod ktls;
pub mod pool;
pub mod record;
pub mod sys;
