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
    let text = text.trim();
    if let Ok(n) = text.parse::<f64>() {
        return from_epoch_number(n);
    }
    let caps = ISO.captures(text)?;
    (caps.get(0)?.start() == 0).then(|| from_captures(&caps))?
}

/// Finds the first ISO 8601 timestamp anywhere in a line; returns it and its byte range.
pub fn find_timestamp(line: &str) -> Option<(Timestamp, std::ops::Range<usize>)> {
    let caps = ISO.captures(line)?;
    let range = caps.get(0)?.range();
    Some((from_captures(&caps)?, range))
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
