// SPDX-License-Identifier: GPL-2.0

//! Property tests of the resumable head parser: for any bytes fed in any pieces, each
//! answer is the stateless parser's answer for the same bytes.

use std::vec::Vec;

use proptest::prelude::*;

use crate::head_tests::{check_growing, serve_pipelined};
use crate::http_props::{apply, mutation, SMALL, VALID};
use crate::proto::http::Limits;

/// Limits small enough for generated heads to reach every limit path.
const TINY: Limits = Limits {
    max_target: 6,
    max_head: 40,
    max_headers: 1,
    max_body: 3,
};

/// Where the pieces end: running sums of `sizes`, the last one at `len`.
fn piece_ends(sizes: &[usize], len: usize) -> Vec<usize> {
    let mut ends: Vec<usize> = sizes
        .iter()
        .scan(0usize, |end, &size| {
            *end += size;
            Some(*end)
        })
        .take_while(|&end| end < len)
        .collect();
    ends.push(len);
    ends
}

/// Piece sizes, mostly small.
fn sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![3 => 1usize..4, 1 => 1usize..40], 1..200)
}

/// Bytes that are mostly the grammar's own: line ends, separators, NUL.
fn grammar_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(&b"\r\n\0 \t:,/?%GETHOST1.aZ"[..]),
            1 => any::<u8>(),
        ],
        0..160,
    )
}

/// A valid request edited a few times, with grammar bytes spliced in.
fn mutated_request() -> impl Strategy<Value = Vec<u8>> {
    (0..VALID.len(), prop::collection::vec(mutation(), 0..6)).prop_map(|(which, mutations)| {
        let mut raw = VALID.get(which).unwrap().to_vec();
        for m in &mutations {
            apply(&mut raw, m);
        }
        raw
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// Guards the contract on arbitrary and grammar-heavy bytes, in any pieces.
    #[test]
    fn same_answers_on_arbitrary_bytes(
        raw in prop_oneof![grammar_bytes(), prop::collection::vec(any::<u8>(), 0..200)],
        sizes in sizes(),
    ) {
        for limits in [&Limits::DEFAULT, &SMALL, &TINY] {
            check_growing(&raw, piece_ends(&sizes, raw.len()), limits);
        }
    }

    /// Guards the contract on near-valid requests, which reach every line check.
    #[test]
    fn same_answers_on_mutated_requests(raw in mutated_request(), sizes in sizes()) {
        for limits in [&Limits::DEFAULT, &SMALL, &TINY] {
            check_growing(&raw, piece_ends(&sizes, raw.len()), limits);
            check_growing(&raw, 0..=raw.len(), limits);
        }
    }

    /// Guards the reset: requests back to back, bodies included, fed in pieces to a
    /// parser that is reset after each head, answer as the stateless parser does.
    #[test]
    fn same_answers_when_pipelined(
        requests in prop::collection::vec(mutated_request(), 1..5),
        sizes in sizes(),
    ) {
        let stream: Vec<u8> = requests.concat();
        for limits in [&Limits::DEFAULT, &SMALL] {
            serve_pipelined(&stream, &piece_ends(&sizes, stream.len()), limits);
        }
    }
}
