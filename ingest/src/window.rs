//! `--since` / `--until`: the time window a command looks at, applied as early as
//! possible. A file last modified before `--since` cannot hold anything newer (transcripts
//! are written as they happen), so it is left out before it is opened; sessions are kept
//! when their activity overlaps the window.

use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::schema::{SessionRow, Timestamp};

/// A closed time window; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    /// Earliest instant of interest.
    pub since: Option<Timestamp>,
    /// Latest instant of interest.
    pub until: Option<Timestamp>,
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Parses a window bound: `2025-11-18`, `20251118` (as ccusage takes it), or an ISO 8601
/// date and time (`2025-11-18T09:30:00Z`; without an offset, UTC). A bare date as `--until`
/// means the end of that day, so `--since D --until D` is the whole day D.
pub fn parse_bound(text: &str, end_of_day: bool) -> Result<Timestamp, String> {
    let text = text.trim();
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y%m%d"));
    if let Ok(date) = date {
        let midnight = Utc
            .from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
            .timestamp_micros();
        return Ok(Timestamp(if end_of_day {
            midnight + MICROS_PER_DAY - 1
        } else {
            midnight
        }));
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(Timestamp(dt.timestamp_micros()));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(Timestamp(Utc.from_utc_datetime(&naive).timestamp_micros()));
        }
    }
    Err(format!(
        "{text:?} is not a date: use YYYY-MM-DD, YYYYMMDD or an ISO 8601 time"
    ))
}

impl TimeWindow {
    /// Whether the window is open at both ends (no filtering).
    pub fn is_unbounded(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Whether a file may hold activity in the window: not when it was last modified before
    /// `--since`. (A file's first record is unknown before reading, so `--until` cannot
    /// leave files out.) Files whose time cannot be read are kept.
    pub fn may_contain_file(&self, path: &Path) -> bool {
        if self.since.is_none() {
            return true;
        }
        let modified = path
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| Timestamp(d.as_micros() as i64));
        self.may_contain_modified(modified)
    }

    /// [`TimeWindow::may_contain_file`] for a file last modified at `modified`, if known.
    pub fn may_contain_modified(&self, modified: Option<Timestamp>) -> bool {
        match (self.since, modified) {
            (Some(since), Some(modified)) => modified >= since,
            _ => true,
        }
    }

    /// Whether a span of activity `[start, end]` overlaps the window; an unknown end is the
    /// start. An undated span is only in an unbounded window: it cannot be shown to fall
    /// inside a bounded one.
    pub fn overlaps(&self, start: Option<Timestamp>, end: Option<Timestamp>) -> bool {
        let (start, end) = match (start, end) {
            (None, None) => return self.is_unbounded(),
            (Some(s), None) => (s, s),
            (None, Some(e)) => (e, e),
            (Some(s), Some(e)) => (s, e),
        };
        self.since.is_none_or(|since| end >= since) && self.until.is_none_or(|until| start <= until)
    }

    /// Whether a session's activity overlaps the window.
    pub fn keeps_session(&self, session: &SessionRow) -> bool {
        self.overlaps(session.started_ts, session.last_activity_ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_in_every_spelling() {
        let day = parse_bound("2025-11-18", false).expect("date");
        assert_eq!(day, parse_bound("20251118", false).expect("compact"));
        assert_eq!(
            day,
            parse_bound("2025-11-18T00:00:00Z", false).expect("iso")
        );
        assert_eq!(
            day,
            parse_bound("2025-11-18 00:00:00", false).expect("space")
        );
        assert_eq!(
            parse_bound("2025-11-18", true).expect("end").0 - day.0,
            MICROS_PER_DAY - 1
        );
        assert_eq!(
            parse_bound("2025-11-18T02:00:00+02:00", false).expect("offset"),
            day
        );
        assert!(parse_bound("yesterday", false).is_err());
    }

    #[test]
    fn overlap_keeps_sessions_that_touch_the_window() {
        let t = |d: &str| Some(parse_bound(d, false).expect("date"));
        let w = TimeWindow {
            since: t("2025-11-10"),
            until: Some(parse_bound("2025-11-12", true).expect("date")),
        };
        assert!(w.overlaps(t("2025-11-09"), t("2025-11-10")));
        assert!(w.overlaps(t("2025-11-12"), None));
        assert!(!w.overlaps(t("2025-11-01"), t("2025-11-09")));
        assert!(!w.overlaps(t("2025-11-13"), t("2025-11-14")));
        assert!(!w.overlaps(None, None));
        assert!(TimeWindow::default().overlaps(None, None));
    }
}
