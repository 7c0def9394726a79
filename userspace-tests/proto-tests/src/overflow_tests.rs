// SPDX-License-Identifier: GPL-2.0

//! The host build of `proto` checks arithmetic overflow, as the kernel build does
//! (`CONFIG_RUST_OVERFLOW_CHECKS`); without it the overflow-guarding tests are inert.

use std::hint::black_box;

/// Fails when `[profile.release.package.proto-tests] overflow-checks` is off: the sum
/// then wraps to 0 instead of panicking.
#[test]
#[should_panic(expected = "overflow")]
fn arithmetic_overflow_panics() {
    let sum = black_box(u64::MAX) + black_box(1u64);
    black_box(sum);
}

/// The same for `usize`, the type of every length and offset in the parser.
#[test]
#[should_panic(expected = "overflow")]
fn usize_overflow_panics() {
    let sum = black_box(usize::MAX) + black_box(1usize);
    black_box(sum);
}
