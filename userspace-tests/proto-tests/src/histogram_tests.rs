// SPDX-License-Identifier: GPL-2.0

//! The latency histogram's buckets and percentiles.

use crate::proto::histogram::{bucket, bucket_high, percentile, BUCKETS};
use proptest::prelude::*;

#[test]
fn small_values_have_their_own_buckets() {
    for v in 0..8u64 {
        assert_eq!(bucket(v), v as usize);
        assert_eq!(bucket_high(v as usize), v);
    }
}

#[test]
fn the_extremes_fit() {
    assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    assert_eq!(bucket_high(BUCKETS - 1), u64::MAX);
    assert_eq!(bucket(1 << 63), BUCKETS - 4);
}

#[test]
fn bucket_bounds_are_contiguous_and_increasing() {
    for i in 1..BUCKETS {
        assert!(bucket_high(i) > bucket_high(i - 1), "bucket {i}");
        // The first value of bucket i is one past the last of bucket i - 1.
        assert_eq!(bucket(bucket_high(i - 1) + 1), i, "bucket {i}");
        assert_eq!(bucket(bucket_high(i)), i, "bucket {i}");
    }
}

#[test]
fn percentiles_of_a_known_distribution() {
    let mut counts = [0u64; BUCKETS];
    // 90 samples of 1000 ns, 9 of 100 us, 1 of 10 ms.
    counts[bucket(1_000)] += 90;
    counts[bucket(100_000)] += 9;
    counts[bucket(10_000_000)] += 1;
    assert_eq!(percentile(&counts, 500), bucket_high(bucket(1_000)));
    assert_eq!(percentile(&counts, 900), bucket_high(bucket(1_000)));
    assert_eq!(percentile(&counts, 990), bucket_high(bucket(100_000)));
    assert_eq!(percentile(&counts, 999), bucket_high(bucket(10_000_000)));
    assert_eq!(percentile(&[0; BUCKETS], 500), 0);
}

proptest! {
    #[test]
    fn every_value_lies_in_its_bucket_within_a_quarter(v in any::<u64>()) {
        let i = bucket(v);
        prop_assert!(i < BUCKETS);
        prop_assert!(v <= bucket_high(i));
        if i > 0 {
            prop_assert!(v > bucket_high(i - 1));
        }
        // The bucket is at most a quarter of its lower end wide.
        let low = if i == 0 { 0 } else { bucket_high(i - 1) + 1 };
        prop_assert!((bucket_high(i) - low) <= low / 4 + 1);
    }

    #[test]
    fn a_percentile_is_the_bucket_of_some_sample(samples in proptest::collection::vec(any::<u32>(), 1..200), q in 1u64..=1000) {
        let mut counts = [0u64; BUCKETS];
        for s in &samples {
            counts[bucket(u64::from(*s))] += 1;
        }
        let p = percentile(&counts, q);
        prop_assert!(samples.iter().any(|s| bucket_high(bucket(u64::from(*s))) == p));
        // At least q/1000 of the samples are at or below it.
        let below = samples.iter().filter(|s| u64::from(**s) <= p).count() as u64;
        prop_assert!(below * 1000 >= q * samples.len() as u64);
    }
}
