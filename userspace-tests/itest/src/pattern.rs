//! Position-dependent test bytes: any lost, duplicated or reordered byte shows up.

/// The byte at `offset` of every pattern payload and of `big.bin`.
pub fn pattern(offset: u64) -> u8 {
    (offset.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8
}

/// `len` pattern bytes starting at `start`.
pub fn pattern_bytes(start: u64, len: usize) -> Vec<u8> {
    (start..start + len as u64).map(pattern).collect()
}
