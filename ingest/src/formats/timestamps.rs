//! Timestamps as logs, CSV files and JSON exports write them, turned into UTC microseconds.
//!
//! Accepted: RFC 3339 / ISO 8601 (`2026-11-22T10:23:45.123Z`, `+02:00` offsets, a space
//! instead of `T`, a comma before the fraction), and Unix epoch numbers in seconds,
//! milliseconds or microseconds (told apart by magnitude). A time without an offset is
//! read as UTC: runlens cannot know the writer's zone, and documents this.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use regex::Regex;

use crate::schema::Timestamp;

static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}:?\d{2})?",
    )
    .expect("static regex")
});

/// Parses a whole field as a timestamp (ISO 8601 or epoch number).
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = super::trim(text);
    if let Some(ts) = parse_iso(text) {
        return Some(ts);
    }
    if let Ok(n) = text.parse::<f64>() {
        return from_epoch_number(n);
    }
    let caps = ISO.captures(text)?;
    (caps.get(0)?.start() == 0).then(|| from_captures(&caps))?
}

/// Finds the first ISO 8601 timestamp anywhere in a line; returns it and its byte range.
pub fn find_timestamp(line: &str) -> Option<(Timestamp, std::ops::Range<usize>)> {
    // Most log lines start with their timestamp: its extent is read at fixed positions.
    // Elsewhere `find` runs the fast DFA; captures (and their allocation) only for odd
    // shapes.
    let range = match leading_iso_end(line.as_bytes()) {
        Some(end) => 0..end,
        None => ISO.find(line)?.range(),
    };
    let text = &line[range.clone()];
    let ts = match parse_iso(text) {
        Some(ts) => ts,
        None => from_captures(&ISO.captures(text)?)?,
    };
    Some((ts, range))
}

/// Where the match of [`ISO`] that starts at byte 0 ends, read at fixed positions, for
/// ASCII text; `None` when there is no such match or when a byte that matters is not
/// ASCII (the regex's `\d` and `\s` also take other scripts' digits and spaces: the caller
/// asks the regex then).
fn leading_iso_end(b: &[u8]) -> Option<usize> {
    if b.len() < 19 {
        return None;
    }
    let digits_at = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    let shape = digits_at(0..4)
        && b[4] == b'-'
        && digits_at(5..7)
        && b[7] == b'-'
        && digits_at(8..10)
        && matches!(b[10], b'T' | b' ')
        && digits_at(11..13)
        && b[13] == b':'
        && digits_at(14..16)
        && b[16] == b':'
        && digits_at(17..19);
    if !shape {
        return None;
    }
    let mut end = 19;
    // `(?:[.,](\d{1,9}))?`: up to nine digits, greedily.
    if matches!(b.get(end), Some(b'.' | b',')) {
        let fraction = b[end + 1..]
            .iter()
            .take(9)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if fraction > 0 {
            end += 1 + fraction;
        } else if b.get(end + 1).is_some_and(|c| !c.is_ascii()) {
            return None;
        }
    }
    // A tenth digit, or a non-ASCII byte next, is left to the regex.
    if b.get(end).is_some_and(|c| !c.is_ascii()) {
        return None;
    }
    // `\s?`: one ASCII space character (the regex's `\s` also takes \x0B).
    if b.get(end)
        .is_some_and(|c| c.is_ascii_whitespace() || *c == 0x0B)
    {
        end += 1;
        if b.get(end).is_some_and(|c| !c.is_ascii()) {
            return None;
        }
    }
    // `(Z|[+-]\d{2}:?\d{2})?`
    match b.get(end) {
        Some(b'Z') => end += 1,
        Some(b'+' | b'-') => {
            let rest = &b[end + 1..];
            if rest.iter().take(5).any(|c| !c.is_ascii()) {
                return None;
            }
            let two = |i: usize| {
                rest.get(i..i + 2)
                    .is_some_and(|p| p.iter().all(u8::is_ascii_digit))
            };
            if two(0) && rest.get(2) == Some(&b':') && two(3) {
                end += 6;
            } else if two(0) && two(2) {
                end += 5;
            }
        }
        _ => {}
    }
    Some(end)
}

/// The common shape at fixed positions, without a regex:
/// `YYYY-MM-DD[T ]HH:MM:SS[.,fraction][ ](Z|+HH:MM|+HHMM)?`, the whole of `text`.
fn parse_iso(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
    let mut pos = 19;
    let mut nanos = 0u32;
    if matches!(b.get(pos), Some(b'.' | b',')) {
        let start = pos + 1;
        let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if end == start || end - start > 9 {
            return None;
        }
        nanos = digits(start..end)? * 10u32.pow(9 - (end - start) as u32);
        pos = end;
    }
    if b.get(pos) == Some(&b' ') && matches!(b.get(pos + 1), Some(b'Z' | b'+' | b'-')) {
        pos += 1;
    }
    let offset_seconds: i64 = match &b[pos..] {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let rest: Vec<u8> = rest.iter().copied().filter(|c| *c != b':').collect();
            if rest.len() != 4 || !rest.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let value = |i: usize| i64::from(rest[i] - b'0');
            let seconds = (value(0) * 10 + value(1)) * 3600 + (value(2) * 10 + value(3)) * 60;
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    let time =
        NaiveTime::from_hms_nano_opt(digits(11..13)?, digits(14..16)?, digits(17..19)?, nanos)?;
    let utc =
        NaiveDateTime::new(date, time).and_utc().timestamp_micros() - offset_seconds * 1_000_000;
    Some(Timestamp(utc))
}

fn from_epoch_number(n: f64) -> Option<Timestamp> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    // Seconds until the year 5138, then milliseconds, then microseconds.
    let micros = if n < 1e11 {
        n * 1e6
    } else if n < 1e14 {
        n * 1e3
    } else {
        n
    };
    Some(Timestamp(micros.round() as i64))
}

fn from_captures(caps: &regex::Captures<'_>) -> Option<Timestamp> {
    let num = |i: usize| caps.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let date = NaiveDate::from_ymd_opt(num(1)? as i32, num(2)?, num(3)?)?;
    let nanos = match caps.get(7) {
        Some(m) => {
            let digits = m.as_str();
            let padded = format!("{digits:0<9}");
            padded.parse::<u32>().ok()?
        }
        None => 0,
    };
    let time = NaiveTime::from_hms_nano_opt(num(4)?, num(5)?, num(6)?, nanos)?;
    let naive = NaiveDateTime::new(date, time);
    let offset_seconds = match caps.get(8).map(|m| m.as_str()) {
        None | Some("Z") => 0,
        Some(off) => {
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let digits: String = off[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let hours: i32 = digits.get(0..2)?.parse().ok()?;
            let minutes: i32 = digits.get(2..4)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let utc = naive.and_utc().timestamp_micros() - i64::from(offset_seconds) * 1_000_000;
    DateTime::from_timestamp_micros(utc).map(|_| Timestamp(utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values computed with Python:
    // datetime(2026,11,22,10,23,45,123000,tzinfo=timezone.utc).timestamp() = 1795343025.123
    const T: i64 = 1_795_343_025_123_000;

    #[test]
    fn iso_variants_agree() {
        for text in [
            "2026-11-22T10:23:45.123Z",
            "2026-11-22 10:23:45.123",
            "2026-11-22 10:23:45,123",
            "2026-11-22T12:23:45.123+02:00",
            "2026-11-22T05:23:45.123-0500",
        ] {
            assert_eq!(parse_timestamp(text), Some(Timestamp(T)), "{text}");
        }
    }

    #[test]
    fn fast_path_agrees_with_the_regex_path() {
        for text in [
            "2026-11-22T10:23:45.123Z",
            "2026-11-22 10:23:45,123",
            "2026-11-22T12:23:45.123+02:00",
            "2026-11-22T05:23:45.123-0500",
            "2026-11-22T10:23:45.123456789 Z",
            "2026-11-22T10:23:45",
        ] {
            let fast = parse_iso(text);
            let slow = ISO.captures(text).and_then(|c| from_captures(&c));
            assert!(fast.is_some(), "{text}");
            assert_eq!(fast, slow, "{text}");
        }
        assert_eq!(parse_iso("2026-11-22T10:23:45.Z"), None);
        assert_eq!(parse_iso("2026-02-30T10:23:45Z"), None);
    }

    #[test]
    fn a_leading_timestamp_ends_where_the_regex_match_ends() {
        let lines = [
            "2026-11-22T10:23:45.123Z INFO start",
            "2026-11-22 10:23:45 INFO start",
            "2026-11-22 10:23:45  two spaces",
            "2026-11-22 10:23:45\tTab",
            "2026-11-22T10:23:45,5 Z",
            "2026-11-22T10:23:45.1234567890Z",
            "2026-11-22T10:23:45.Z",
            "2026-11-22T10:23:45.",
            "2026-11-22T12:23:45.123+02:00 x",
            "2026-11-22T12:23:45.123 +0200 x",
            "2026-11-22T12:23:45+02:3x",
            "2026-11-22T12:23:45+0",
            "2026-11-22T12:23:45-05:00",
            "2026-11-22T12:23:45Zulu",
            "2026-11-22T12:23:45",
            "2026-11-22T12:23:4",
            "2026",
            "2026-11-2",
            "2026-11-22X12:23:45 no",
            "[2026-11-22 10:23:45] bracketed",
            "2026-11-22 10:23:45\u{a0}no-break space",
            "2026-11-22 10:23:45.١٢ other digits",
            "2026-11-22 10:23:45+٠٢:00 other digits",
            "",
        ];
        for line in lines {
            let regex = ISO.find(line).filter(|m| m.start() == 0).map(|m| m.end());
            match leading_iso_end(line.as_bytes()) {
                Some(end) => assert_eq!(Some(end), regex, "{line:?}"),
                // Declined: either no match at 0, or a non-ASCII byte the regex reads.
                None => assert!(regex.is_none() || !line.is_ascii(), "{line:?}"),
            }
            let found = find_timestamp(line);
            let by_regex = ISO.find(line).and_then(|m| {
                let ts =
                    parse_iso(m.as_str()).or_else(|| from_captures(&ISO.captures(m.as_str())?))?;
                Some((ts, m.range()))
            });
            assert_eq!(found, by_regex, "{line:?}");
        }
    }

    #[test]
    fn epoch_numbers_by_magnitude() {
        assert_eq!(parse_timestamp("1795343025.123"), Some(Timestamp(T)));
        assert_eq!(parse_timestamp("1795343025123"), Some(Timestamp(T)));
        assert_eq!(parse_timestamp("1795343025123000"), Some(Timestamp(T)));
        assert_eq!(parse_timestamp("-5"), None);
    }

    #[test]
    fn finds_timestamp_inside_a_line() {
        let (ts, range) = find_timestamp("[2026-11-22 10:23:45.123] Phase 1: Setup").expect("ts");
        assert_eq!(ts, Timestamp(T));
        assert_eq!(range, 1..24);
        assert!(parse_timestamp("2026-13-40 99:00:00").is_none());
        assert!(parse_timestamp("not a time").is_none());
    }
}
