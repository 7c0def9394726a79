// SPDX-License-Identifier: GPL-2.0

//! Log-linear histogram buckets for latencies in nanoseconds: the values 0-3 have a bucket
//! each, and every power of two above is split into four equal buckets, so a bucket's width is
//! at most a quarter of its lower bound and any value up to `u64::MAX` has a bucket.

/// Sub-buckets per power of two (as a shift).
const SUB_BITS: u32 = 2;
/// Sub-buckets per power of two.
const SUB: usize = 1 << SUB_BITS;

/// Number of buckets: 0-3, then four for each exponent 2..=63.
pub(crate) const BUCKETS: usize = SUB + (64 - SUB_BITS as usize) * SUB;

/// The bucket of `v`.
pub(crate) fn bucket(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    let sub = ((v >> (exp - SUB_BITS)) as usize) & (SUB - 1);
    (exp - SUB_BITS + 1) as usize * SUB + sub
}

/// The largest value in bucket `i` (`u64::MAX` past the last).
pub(crate) fn bucket_high(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let exp = (i / SUB) as u32 + SUB_BITS - 1;
    if exp > 63 {
        return u64::MAX;
    }
    let sub = (i % SUB) as u64;
    let width = 1u64 << (exp - SUB_BITS);
    let low = (1u64 << exp) + sub * width;
    low.saturating_add(width - 1)
}

/// The value below which `per_mille`/1000 of the samples in `counts` (one count per bucket)
/// lie, as the upper end of its bucket; 0 when there are no samples.
pub(crate) fn percentile(counts: &[u64], per_mille: u64) -> u64 {
    let total: u64 = counts.iter().fold(0, |sum, c| sum.saturating_add(*c));
    if total == 0 {
        return 0;
    }
    // The rank of the sample wanted, 1-based: ceil(total * per_mille / 1000), at least 1,
    // without overflow (total = 1000 a + b) and without a 128-bit division (not in the kernel).
    let per_mille = per_mille.min(1000);
    let rank = (total / 1000)
        .saturating_mul(per_mille)
        .saturating_add((total % 1000 * per_mille).div_ceil(1000))
        .max(1);
    let mut seen = 0u64;
    for (i, c) in counts.iter().enumerate() {
        seen = seen.saturating_add(*c);
        if seen >= rank {
            return bucket_high(i);
        }
    }
    bucket_high(counts.len().saturating_sub(1))
}
