// SPDX-License-Identifier: GPL-2.0

//! HTTP dates (RFC 9110 section 5.6.7): IMF-fixdate out, all three forms in.

use super::lex::split_at;
use super::writer::ascii_digit;
use core::sync::atomic::{fence, AtomicU64, Ordering};

/// Day names, Thursday first, as 1970-01-01 (day 0) was a Thursday.
const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];

/// Full day names for RFC 850 dates.
const LONG_DAYS: [&[u8]; 7] = [
    b"Sunday",
    b"Monday",
    b"Tuesday",
    b"Wednesday",
    b"Thursday",
    b"Friday",
    b"Saturday",
];

/// Month names, January first.
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// 9999-12-31 23:59:59 GMT, the last instant an IMF-fixdate can show.
const MAX_SECS: u64 = 253_402_300_799;

/// Seconds in a day.
const DAY_SECS: u64 = 86_400;

/// Formats `unix_secs` as an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
/// Instants after the year 9999 are shown as its last second.
pub(crate) fn format_http_date(unix_secs: u64) -> [u8; 29] {
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    let secs = unix_secs.min(MAX_SECS);
    let days = secs / DAY_SECS;
    let time = secs % DAY_SECS;
    let Some((year, month, day)) = civil_from_days(days) else {
        return out;
    };
    let weekday = DAYS.get(index(days % 7)).copied().unwrap_or(b"Thu");
    let month_name = MONTHS
        .get(index(month.saturating_sub(1)))
        .copied()
        .unwrap_or(b"Jan");
    put_text(&mut out, 0, weekday);
    put_digits(&mut out, 5, 2, day);
    put_text(&mut out, 8, month_name);
    put_digits(&mut out, 12, 4, year);
    put_digits(&mut out, 17, 2, time / 3600);
    put_digits(&mut out, 20, 2, time / 60 % 60);
    put_digits(&mut out, 23, 2, time % 60);
    out
}

/// The HTTP date of one second, formatted once and read by every response of that second (as
/// nginx caches its time strings): a sequence lock over the second and its 29 bytes.
///
/// Readers never wait: one that meets a writer, or another second, formats the date itself.
/// Writers never wait either: one that finds another writing leaves the cache as it is.
pub(crate) struct DateCache {
    /// Even while `secs` and `text` agree; odd while a writer changes them.
    seq: AtomicU64,
    /// The second `text` shows; [`DateCache::EMPTY`] before the first write.
    secs: AtomicU64,
    /// The formatted date, eight bytes per word, little-endian, the last three unused.
    text: [AtomicU64; 4],
}

impl DateCache {
    /// No second has this value: `format_http_date` stops at the year 9999, long before.
    const EMPTY: u64 = u64::MAX;

    /// An empty cache.
    pub(crate) const fn new() -> Self {
        Self {
            seq: AtomicU64::new(0),
            secs: AtomicU64::new(Self::EMPTY),
            text: [
                AtomicU64::new(0),
                AtomicU64::new(0),
                AtomicU64::new(0),
                AtomicU64::new(0),
            ],
        }
    }

    /// `format_http_date(unix_secs)`, from the cache when it holds that second.
    pub(crate) fn get(&self, unix_secs: u64) -> [u8; 29] {
        if unix_secs != Self::EMPTY {
            if let Some(date) = self.read(unix_secs) {
                return date;
            }
        }
        let date = format_http_date(unix_secs);
        if unix_secs != Self::EMPTY {
            self.write(unix_secs, &date);
        }
        date
    }

    /// The cached date if it is `unix_secs`'s and no writer changed it while it was read.
    fn read(&self, unix_secs: u64) -> Option<[u8; 29]> {
        let seq = self.seq.load(Ordering::Acquire);
        if seq & 1 != 0 || self.secs.load(Ordering::Relaxed) != unix_secs {
            return None;
        }
        let words = [
            self.text[0].load(Ordering::Relaxed),
            self.text[1].load(Ordering::Relaxed),
            self.text[2].load(Ordering::Relaxed),
            self.text[3].load(Ordering::Relaxed),
        ];
        // The loads above happen before the check below: a writer that started meanwhile has
        // moved `seq` on, and the words are thrown away.
        fence(Ordering::Acquire);
        if self.seq.load(Ordering::Relaxed) != seq {
            return None;
        }
        let mut date = [0u8; 29];
        for (chunk, word) in date.chunks_mut(8).zip(words) {
            let bytes = word.to_le_bytes();
            chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or(&[]));
        }
        Some(date)
    }

    /// Stores `date` as `unix_secs`'s, unless another writer is at it.
    fn write(&self, unix_secs: u64, date: &[u8; 29]) {
        let seq = self.seq.load(Ordering::Relaxed);
        if seq & 1 != 0
            || self
                .seq
                .compare_exchange(
                    seq,
                    seq.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        // A reader that sees any store below also sees `seq` odd (or moved on) at its check.
        fence(Ordering::Release);
        self.secs.store(unix_secs, Ordering::Relaxed);
        for (word, chunk) in self.text.iter().zip(date.chunks(8)) {
            let mut bytes = [0u8; 8];
            if let Some(head) = bytes.get_mut(..chunk.len()) {
                head.copy_from_slice(chunk);
            }
            word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }
}

/// `n` as an index; any value too large for `usize` indexes nothing.
fn index(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Copies `text` into `out` at `at`.
fn put_text(out: &mut [u8], at: usize, text: &[u8]) {
    let slot = at
        .checked_add(text.len())
        .and_then(|end| out.get_mut(at..end));
    if let Some(slot) = slot {
        slot.copy_from_slice(text);
    }
}

/// Writes the low `width` decimal digits of `n` into `out` at `at`, zero-padded.
fn put_digits(out: &mut [u8], at: usize, width: usize, mut n: u64) {
    for i in (0..width).rev() {
        if let Some(slot) = at.checked_add(i).and_then(|i| out.get_mut(i)) {
            *slot = ascii_digit(n);
        }
        n /= 10;
    }
}

/// Parses an HTTP date in IMF-fixdate, RFC 850 or asctime form to seconds since the Unix
/// epoch; `None` if malformed, out of range or before 1970. The day name must be a valid
/// one but is not checked against the date. RFC 850 two-digit years below 70 are 20xx.
pub(crate) fn parse_http_date(v: &[u8]) -> Option<u64> {
    let fields = parse_imf_fixdate(v)
        .or_else(|| parse_rfc850(v))
        .or_else(|| parse_asctime(v))?;
    fields.to_unix()
}

/// The fields of a parsed date, not yet range-checked.
struct DateFields {
    /// Year, four digits.
    year: u64,
    /// Month, 1 to 12.
    month: u64,
    /// Day of the month.
    day: u64,
    /// Hour.
    hour: u64,
    /// Minute.
    minute: u64,
    /// Second; 60 is a leap second.
    second: u64,
}

impl DateFields {
    /// The fields of a date and its `[hour, minute, second]`.
    fn new(year: u64, month: u64, day: u64, [hour, minute, second]: [u64; 3]) -> Self {
        Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
        }
    }

    /// Seconds since the epoch, after range checks.
    fn to_unix(&self) -> Option<u64> {
        let valid = self.year >= 1970
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second <= 60;
        if !valid {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day)?;
        days.checked_mul(DAY_SECS)?
            .checked_add(self.hour.checked_mul(3600)?)?
            .checked_add(self.minute.checked_mul(60)?)?
            .checked_add(self.second)
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_imf_fixdate(v: &[u8]) -> Option<DateFields> {
    let (day_name, rest) = split_at(v, 3)?;
    DAYS.iter().position(|d| d.as_slice() == day_name)?;
    let (day, month, year, rest) = day_month_year(rest.strip_prefix(b", ")?, b' ', 4)?;
    let (time, rest) = time_of_day(rest)?;
    (rest == b" GMT").then_some(DateFields::new(year, month, day, time))
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`.
fn parse_rfc850(v: &[u8]) -> Option<DateFields> {
    let comma = v.iter().position(|&b| b == b',')?;
    let (day_name, rest) = split_at(v, comma)?;
    LONG_DAYS.iter().position(|&d| d == day_name)?;
    let (day, month, short_year, rest) = day_month_year(rest.strip_prefix(b", ")?, b'-', 2)?;
    let (time, rest) = time_of_day(rest)?;
    let century: u64 = if short_year < 70 { 2000 } else { 1900 };
    if rest != b" GMT" {
        return None;
    }
    Some(DateFields::new(
        century.checked_add(short_year)?,
        month,
        day,
        time,
    ))
}

/// `Sun Nov  6 08:49:37 1994`.
fn parse_asctime(v: &[u8]) -> Option<DateFields> {
    let (day_name, rest) = split_at(v, 3)?;
    DAYS.iter().position(|d| d.as_slice() == day_name)?;
    let rest = rest.strip_prefix(b" ")?;
    let (month, rest) = month(rest)?;
    let rest = rest.strip_prefix(b" ")?;
    // The day of the month is two digits or SP and one digit.
    let (day, rest) = match rest.strip_prefix(b" ") {
        Some(rest) => digits(rest, 1)?,
        None => digits(rest, 2)?,
    };
    let rest = rest.strip_prefix(b" ")?;
    let (time, rest) = time_of_day(rest)?;
    let rest = rest.strip_prefix(b" ")?;
    let (year, rest) = digits(rest, 4)?;
    rest.is_empty()
        .then_some(DateFields::new(year, month, day, time))
}

/// `DD<sep>Mon<sep>YYYY ` (year of `year_width` digits, then a space): day, month, year and
/// what follows the space.
fn day_month_year(v: &[u8], sep: u8, year_width: usize) -> Option<(u64, u64, u64, &[u8])> {
    let (day, rest) = digits(v, 2)?;
    let (month, rest) = month(rest.strip_prefix(&[sep])?)?;
    let (year, rest) = digits(rest.strip_prefix(&[sep])?, year_width)?;
    Some((day, month, year, rest.strip_prefix(b" ")?))
}

/// `HH:MM:SS`, and the rest.
fn time_of_day(v: &[u8]) -> Option<([u64; 3], &[u8])> {
    let (hour, rest) = digits(v, 2)?;
    let (minute, rest) = digits(rest.strip_prefix(b":")?, 2)?;
    let (second, rest) = digits(rest.strip_prefix(b":")?, 2)?;
    Some(([hour, minute, second], rest))
}

/// A month name (case-sensitive) as 1 to 12, and the rest.
fn month(v: &[u8]) -> Option<(u64, &[u8])> {
    let (name, rest) = split_at(v, 3)?;
    let index = MONTHS.iter().position(|m| m.as_slice() == name)?;
    let month = u64::try_from(index).ok()?.checked_add(1)?;
    Some((month, rest))
}

/// Exactly `width` (at most 4) leading decimal digits as a number, and the rest.
fn digits(v: &[u8], width: usize) -> Option<(u64, &[u8])> {
    let (number, rest) = split_at(v, width)?;
    let value = number.iter().try_fold(0u64, |acc, &b| {
        let digit = char::from(b).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })?;
    Some((value, rest))
}

/// Whether `year` is a Gregorian leap year.
fn is_leap(year: u64) -> bool {
    // Divisible by 4 but not by 100, or divisible by 400.
    matches!((year % 4, year % 100, year % 400), (0, 1.., _) | (_, _, 0))
}

/// Days in `month` (1 to 12) of `year`; 0 for an invalid month.
fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a valid date from 1970 on (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    // Years start in March, so that the leap day ends a year.
    let (year, shifted_month) = if month > 2 {
        (year, month.checked_sub(3)?)
    } else {
        (year.checked_sub(1)?, month.checked_add(9)?)
    };
    let era = year / 400;
    let year_of_era = year % 400;
    let day_of_year = shifted_month
        .checked_mul(153)?
        .checked_add(2)?
        .checked_div(5)?
        .checked_add(day.checked_sub(1)?)?;
    let day_of_era = year_of_era
        .checked_mul(365)?
        .checked_add(year_of_era / 4)?
        .checked_sub(year_of_era / 100)?
        .checked_add(day_of_year)?;
    era.checked_mul(146_097)?
        .checked_add(day_of_era)?
        .checked_sub(719_468)
}

/// The (year, month, day) of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: u64) -> Option<(u64, u64, u64)> {
    let shifted = days.checked_add(719_468)?;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era = day_of_era
        .checked_sub(day_of_era / 1460)?
        .checked_add(day_of_era / 36_524)?
        .checked_sub(day_of_era / 146_096)?
        / 365;
    let day_of_year = day_of_era.checked_sub(
        year_of_era
            .checked_mul(365)?
            .checked_add(year_of_era / 4)?
            .checked_sub(year_of_era / 100)?,
    )?;
    let shifted_month = day_of_year.checked_mul(5)?.checked_add(2)? / 153;
    let day = day_of_year
        .checked_sub(shifted_month.checked_mul(153)?.checked_add(2)? / 5)?
        .checked_add(1)?;
    let (month, march_based_year) = if shifted_month < 10 {
        (shifted_month.checked_add(3)?, 0)
    } else {
        (shifted_month.checked_sub(9)?, 1)
    };
    let year = era
        .checked_mul(400)?
        .checked_add(year_of_era)?
        .checked_add(march_based_year)?;
    Some((year, month, day))
}
