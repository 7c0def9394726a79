// SPDX-License-Identifier: GPL-2.0

//! HTTP date formatting and parsing in all three forms.

use crate::proto::date::{format_http_date, parse_http_date, DateCache};

#[test]
fn formats_imf_fixdate() {
    for (secs, want) in [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 GMT"),
        (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
        // Past the year 9999 the last representable second is shown.
        (u64::MAX, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ] {
        assert_eq!(&format_http_date(secs), want.as_bytes(), "{secs}");
    }
}

#[test]
fn parses_all_three_forms() {
    for form in [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ] {
        assert_eq!(
            parse_http_date(form.as_bytes()),
            Some(784_111_777),
            "{form}"
        );
    }
    assert_eq!(
        parse_http_date(b"Thu Feb 29 12:00:00 2024"),
        Some(1_709_208_000)
    );
    // RFC 850 two-digit years below 70 are this century.
    assert_eq!(
        parse_http_date(b"Thursday, 01-Jan-15 00:00:00 GMT"),
        Some(1_420_070_400)
    );
    // A leap second is accepted.
    assert_eq!(
        parse_http_date(b"Sat, 31 Dec 2016 23:59:60 GMT"),
        Some(1_483_228_800)
    );
}

#[test]
fn round_trips() {
    let mut secs = 0u64;
    while secs < 253_402_300_799 {
        let text = format_http_date(secs);
        assert_eq!(
            parse_http_date(&text),
            Some(secs),
            "{}",
            std::string::String::from_utf8_lossy(&text)
        );
        secs += 86_399 * 37 + 12_345;
    }
}

#[test]
fn rejects_invalid_dates() {
    for bad in [
        "",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 1900 08:49:37 GMT",
        "Sun, 29 Feb 2023 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1969 08:49:37 GMT",
        "Sun, 06 Nov 19a4 08:49:37 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun, 06 Nov +994 08:49:37 GMT",
        "Sund, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 1994 ",
        "Sun Nov 06 08:49:37 94",
        "Sun, 06 Nov 1994 08:49:37 GMT\0",
        "\u{e9}\u{e9}\u{e9}, 06 Nov 1994 08:49:37 GMT",
    ] {
        assert_eq!(parse_http_date(bad.as_bytes()), None, "{bad:?}");
    }
}

#[test]
fn date_cache_gives_the_formatted_date() {
    let cache = DateCache::new();
    for secs in [
        0,
        784_111_777,
        784_111_777,
        784_111_778,
        0,
        u64::MAX,
        u64::MAX - 1,
        1,
    ] {
        assert_eq!(cache.get(secs), format_http_date(secs), "{secs}");
    }
}

/// Readers and writers of many seconds at once: every date read is the one of its second,
/// never a mix of two writers' bytes.
#[test]
fn date_cache_is_consistent_under_concurrent_seconds() {
    let cache = DateCache::new();
    std::thread::scope(|scope| {
        for t in 0..4u64 {
            let cache = &cache;
            scope.spawn(move || {
                for i in 0..20_000u64 {
                    // Mostly the same few seconds (hits), now and then a jump (a writer).
                    let secs = 1_700_000_000 + (i / 64 + t) % 3 + (i % 97) * 86_400 * (i % 5);
                    assert_eq!(cache.get(secs), format_http_date(secs), "{secs}");
                }
            });
        }
    });
}

/// For 300 ms, one thread asks for second A while another alternates A and B, whose dates
/// differ in every eight-byte word: every miss writes, so a read torn between two writers
/// shows as a mix of the two.
#[test]
fn date_cache_never_mixes_two_seconds() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Barrier;
    let cache = DateCache::new();
    // Sun, 06 Nov 1994 08:49:37 GMT and Wed, 19 Jul 2000 01:01:01 GMT.
    let seconds = [784_111_777u64, 946_684_800 + 86_400 * 200 + 3_661];
    let want = [format_http_date(seconds[0]), format_http_date(seconds[1])];
    let stop = AtomicBool::new(false);
    let start = Barrier::new(2);
    std::thread::scope(|scope| {
        for t in 0..2u64 {
            let (cache, stop, start, want) = (&cache, &stop, &start, &want);
            scope.spawn(move || {
                start.wait();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let k = usize::from(t == 1 && i % 2 == 1);
                    assert_eq!(cache.get(seconds[k]), want[k], "{}", seconds[k]);
                    i += 1;
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
    });
}
