//! Workflow run logs: phases from marker lines, timestamps and token counts read from the
//! lines, resource figures from any `/usr/bin/time` report embedded in the log.
//!
//! A phase starts at
//! - an explicit marker `::runlens phase NAME` at the start of a line (after an optional
//!   timestamp and log level; `::runlens end` closes the current phase without opening
//!   another), or
//! - a line matching the phase regex: `--phase-regex` (named groups `name`, optional `ts`,
//!   `number`, `duration`), else the default, which reads common progress output such as
//!   `Phase 2: Analysis`, `[2026-11-22 10:00:01] === Phase 2/5 - Analysis ===`,
//!   `INFO Phase 3: Report (took 4.2s)`.
//!
//! `Phase 2 complete (3.1s)` / `Phase 2 done in 3.1s` end phase 2 and give its duration.
//! Each phase ends where the next starts; the last ends at the run's last timestamp.
//! A phase's duration is the one printed, else `end - start` when the log has timestamps,
//! else unknown (null: never a guess).
//!
//! A log may hold several runs (a loop of `/usr/bin/time -v ./workflow 2>&1 | tee log`):
//! each embedded time report closes a run, and the phases seen since the previous report
//! belong to it. Lines after the last report form one more run when they hold phases.

use std::io::BufRead;
use std::sync::LazyLock;

use regex::Regex;

use super::lines::for_each_line;
use super::time_output::{TimeReport, TimeScanner};
use super::timestamps::{find_timestamp, parse_timestamp};
use super::{
    CaselessKeyword, Format, LoweredLine, ParseContext, ParseError, Rejection, RowSink, Sniff,
    parse_number,
};
use crate::error::IngestError;
use crate::schema::{PhaseRow, RunRow, Timestamp};

static DEFAULT_PHASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^[^A-Za-z0-9]*(?:(?:INFO|DEBUG|NOTICE|TRACE|WARN(?:ING)?)\b[^A-Za-z0-9]*)?
          phase\s+(?P<number>\d+)(?:\s*(?:/|of)\s*\d+)?\s*[:.\-–—)]\s*
          (?P<name>[A-Za-z0-9].*?)
          (?:\s*\((?:took\s+)?(?P<duration>[\d.]+\s*(?:ms|s|sec|secs|seconds|m|min|minutes))\))?
          [\s=*\#\-.…]*$",
    )
    .expect("static regex")
});

static PHASE_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^[^A-Za-z0-9]*(?:(?:INFO|DEBUG|NOTICE|TRACE|WARN(?:ING)?)\b[^A-Za-z0-9]*)?
          phase\s+(?P<number>\d+)\b[^()\n]*?\b(?:complete|completed|done|finished|ended)\b
          [^\d]*(?P<duration>[\d.]+\s*(?:ms|s|sec|secs|seconds|m|min|minutes)\b)?",
    )
    .expect("static regex")
});

/// The keyword of a phase marker, looked for before [`MARKER`] is tried. Its searcher is
/// built once: `str::contains` builds one per call, for every line of a log.
static RUNLENS_MARKER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("::runlens"));

/// The keyword of every default phase line, looked for before the phase regexes.
static PHASE: LazyLock<CaselessKeyword> = LazyLock::new(|| CaselessKeyword::new("phase"));

/// The keyword of every token count, looked for before the token regexes.
static TOKEN: LazyLock<CaselessKeyword> = LazyLock::new(|| CaselessKeyword::new("token"));

static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[^A-Za-z0-9:]*(?:(?:INFO|DEBUG|NOTICE|TRACE|WARN(?:ING)?)\b[^A-Za-z0-9:]*)?::runlens\s+(?:phase\s+(?P<name>\S.*?)|(?P<end>end))\s*$",
    )
    .expect("regex")
});

static INPUT_TOKENS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:input|prompt)[_ ]tokens?\s*[:=]\s*(\d[\d,]*)").expect("regex")
});
static OUTPUT_TOKENS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:output|completion)[_ ]tokens?\s*[:=]\s*(\d[\d,]*)").expect("regex")
});
static TOTAL_TOKENS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(?:total[_ ])?tokens?\s*[:=]\s*(\d[\d,]*)|\b(\d[\d,]*)\s+tokens\b)")
        .expect("regex")
});

/// Validates a user `--phase-regex`: it must compile and have a `name` group.
pub fn compile_phase_regex(pattern: &str) -> Result<Regex, IngestError> {
    let regex = Regex::new(pattern).map_err(|e| IngestError::InvalidOption {
        what: "--phase-regex",
        reason: e.to_string(),
    })?;
    if !regex.capture_names().flatten().any(|n| n == "name") {
        return Err(IngestError::InvalidOption {
            what: "--phase-regex",
            reason: "it needs a named group (?P<name>...) for the phase name".into(),
        });
    }
    Ok(regex)
}

/// Parses `12.5s`, `350ms`, `2 min` (or a bare number of seconds) into milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<f64> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(text.len());
    let value = parse_number(&text[..split])?;
    let factor = match text[split..].trim() {
        "ms" => 1.0,
        "" | "s" | "sec" | "secs" | "seconds" => 1000.0,
        "m" | "min" | "minutes" => 60_000.0,
        _ => return None,
    };
    Some(value * factor)
}

/// What a line says about phases.
#[derive(Debug, PartialEq)]
enum PhaseEvent {
    Start {
        name: String,
        number: Option<i32>,
        ts: Option<Timestamp>,
        duration_ms: Option<f64>,
    },
    End {
        number: Option<i32>,
        duration_ms: Option<f64>,
    },
}

/// Recognises phase lines with the default rules or a user regex.
pub struct PhaseMatcher<'a> {
    custom: Option<&'a Regex>,
}

impl<'a> PhaseMatcher<'a> {
    /// A matcher using `custom` instead of the default phase regex when given.
    pub fn new(custom: Option<&'a Regex>) -> Self {
        PhaseMatcher { custom }
    }

    /// The phase event of a line's `text` (timestamp taken off), if any.
    fn event(&self, text: &str) -> Option<PhaseEvent> {
        let mut lowered = LoweredLine::default();
        lowered.fill(text);
        self.event_lowered(text, &lowered)
    }

    /// [`Self::event`] with `lowered`, the same text in ASCII lower case, given: the line
    /// loop lowers each line once into a reused buffer.
    fn event_lowered(&self, text: &str, lowered: &LoweredLine) -> Option<PhaseEvent> {
        if RUNLENS_MARKER.find(text.as_bytes()).is_some()
            && let Some(c) = MARKER.captures(text)
        {
            if c.name("end").is_some() {
                return Some(PhaseEvent::End {
                    number: None,
                    duration_ms: None,
                });
            }
            return Some(PhaseEvent::Start {
                name: c["name"].trim().to_string(),
                number: None,
                ts: None,
                duration_ms: None,
            });
        }
        if let Some(custom) = self.custom {
            if !custom.is_match(text) {
                return None;
            }
            let c = custom.captures(text)?;
            let name = c.name("name")?.as_str().trim();
            return (!name.is_empty()).then(|| PhaseEvent::Start {
                name: name.to_string(),
                number: c.name("number").and_then(|m| m.as_str().parse().ok()),
                ts: c.name("ts").and_then(|m| parse_timestamp(m.as_str())),
                duration_ms: c
                    .name("duration")
                    .and_then(|m| parse_duration_ms(m.as_str())),
            });
        }
        if !PHASE.is_in(lowered) {
            return None;
        }
        if let Some(c) = PHASE_END.captures(text) {
            return Some(PhaseEvent::End {
                number: c["number"].parse().ok(),
                duration_ms: c
                    .name("duration")
                    .and_then(|m| parse_duration_ms(m.as_str())),
            });
        }
        let c = DEFAULT_PHASE.captures(text)?;
        Some(PhaseEvent::Start {
            name: c["name"].trim().to_string(),
            number: c["number"].parse().ok(),
            ts: None,
            duration_ms: c
                .name("duration")
                .and_then(|m| parse_duration_ms(m.as_str())),
        })
    }
}

#[derive(Debug)]
struct OpenPhase {
    row: PhaseRow,
    printed_duration: Option<f64>,
    ended: bool,
}

/// The phases of one run, assembled line by line: the log parser feeds it a log's lines,
/// the recorder feeds it a running command's output as it arrives.
#[derive(Debug, Default)]
pub struct PhaseTracker {
    phases: Vec<OpenPhase>,
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    /// The line being read, lowered for the keyword checks (a buffer reused line by line).
    lowered: LoweredLine,
}

impl PhaseTracker {
    /// Notes that the run was alive at `ts`: the last phase ends at the last instant seen.
    pub fn observe_ts(&mut self, ts: Timestamp) {
        self.first_ts.get_or_insert(ts);
        self.last_ts = Some(ts);
    }

    /// Reads one line (1-based `number`). `seen_at` is when the line was observed: the
    /// recorder's clock, used instead of any timestamp written in the line (the recorder's
    /// clock is exact and in UTC); without it the line's own timestamp is used, if any.
    pub fn feed(
        &mut self,
        matcher: &PhaseMatcher<'_>,
        line: &str,
        number: u64,
        seen_at: Option<Timestamp>,
    ) {
        let (written_at, text) = strip_timestamp(line);
        let ts = seen_at.or(written_at);
        if let Some(ts) = ts {
            self.observe_ts(ts);
        }
        // The buffer is taken out while the line is read, to lend it beside `self`.
        let mut lowered = std::mem::take(&mut self.lowered);
        lowered.fill(&text);
        match matcher.event_lowered(&text, &lowered) {
            Some(event) => self.apply(event, ts, number, seen_at.is_some()),
            None => self.add_tokens(&text, &lowered),
        }
        self.lowered = lowered;
    }

    /// Number of phases seen so far.
    pub fn len(&self) -> usize {
        self.phases.len()
    }

    /// Whether no phase was seen.
    pub fn is_empty(&self) -> bool {
        self.phases.is_empty()
    }

    fn close_current(&mut self, at: Option<Timestamp>, duration_ms: Option<f64>) {
        if let Some(open) = self.phases.last_mut().filter(|p| !p.ended) {
            open.ended = true;
            open.row.end_ts = at.or(open.row.end_ts);
            if duration_ms.is_some() {
                open.printed_duration = duration_ms;
            }
        }
    }

    fn apply(&mut self, event: PhaseEvent, line_ts: Option<Timestamp>, line: u64, clocked: bool) {
        match event {
            PhaseEvent::Start {
                name,
                number,
                ts,
                duration_ms,
            } => {
                // A recorder's clock beats a timestamp captured by a user regex.
                let ts = if clocked {
                    line_ts.or(ts)
                } else {
                    ts.or(line_ts)
                };
                self.close_current(ts, None);
                self.phases.push(OpenPhase {
                    row: PhaseRow {
                        phase: name,
                        phase_index: self.phases.len() as i32,
                        phase_number: number,
                        start_ts: ts,
                        source_line: Some(line as i64),
                        ..PhaseRow::default()
                    },
                    printed_duration: duration_ms,
                    ended: duration_ms.is_some(),
                });
            }
            PhaseEvent::End {
                number,
                duration_ms,
            } => {
                let matches_current = self.phases.last().is_some_and(|p| {
                    number.is_none() || p.row.phase_number.is_none() || p.row.phase_number == number
                });
                if matches_current {
                    self.close_current(line_ts, duration_ms);
                }
            }
        }
    }

    /// Adds the token counts of a line's `text` (`lowered`: the same in ASCII lower case)
    /// to the open phase.
    fn add_tokens(&mut self, text: &str, lowered: &LoweredLine) {
        let Some(open) = self.phases.last_mut() else {
            return;
        };
        if !TOKEN.is_in(lowered) {
            return;
        }
        let count = |c: Option<regex::Captures<'_>>| {
            c.and_then(|c| c.get(1).or(c.get(2)).and_then(|m| parse_number(m.as_str())))
                .map(|v| v as i64)
        };
        let input = count(INPUT_TOKENS.captures(text));
        let output = count(OUTPUT_TOKENS.captures(text));
        let row = &mut open.row;
        if input.is_some() || output.is_some() {
            row.input_tokens = sum(row.input_tokens, input);
            row.output_tokens = sum(row.output_tokens, output);
        } else if let Some(total) = count(TOTAL_TOKENS.captures(text)) {
            row.total_tokens = sum(row.total_tokens, Some(total));
        }
    }

    /// Turns the segment into a run row and its phase rows.
    fn into_rows(
        self,
        run_id: String,
        index: usize,
        report: Option<&TimeReport>,
    ) -> (RunRow, Vec<PhaseRow>) {
        let (first_ts, last_ts) = (self.first_ts, self.last_ts);
        let mut run = report.map(TimeReport::to_run_row).unwrap_or_default();
        run.run_id = run_id.clone();
        run.run_index = index as i32;
        run.source = "run_log".into();
        run.start_ts = first_ts;
        run.end_ts = last_ts;
        if run.wall_ms.is_none() {
            run.wall_ms = match (first_ts, last_ts) {
                (Some(a), Some(b)) if b > a => Some((b.0 - a.0) as f64 / 1000.0),
                _ => None,
            };
        }
        if run.source_line.is_none() {
            run.source_line = self.phases.first().and_then(|p| p.row.source_line);
        }
        (run, self.into_phases(&run_id))
    }

    /// The phase rows of run `run_id`: an open phase ends at the last instant observed; a
    /// duration is the one printed, else `end - start`.
    pub fn into_phases(self, run_id: &str) -> Vec<PhaseRow> {
        let last_ts = self.last_ts;
        self.phases
            .into_iter()
            .map(|open| {
                let mut row = open.row;
                row.run_id = run_id.to_string();
                if row.end_ts.is_none() && !open.ended {
                    row.end_ts = last_ts;
                }
                row.duration_ms = open.printed_duration.or(match (row.start_ts, row.end_ts) {
                    (Some(a), Some(b)) if b >= a => Some((b.0 - a.0) as f64 / 1000.0),
                    _ => None,
                });
                row
            })
            .collect()
    }
}

fn sum(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

/// The `run_log` format.
pub struct RunLog;

impl Format for RunLog {
    fn name(&self) -> &'static str {
        "run_log"
    }

    fn description(&self) -> &'static str {
        "workflow run log with phase markers (::runlens phase NAME, 'Phase N: Name', --phase-regex)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        let matcher = PhaseMatcher::new(sniff.options.phase_regex.as_ref());
        sniff.head.lines().any(|line| {
            let text = strip_timestamp(line).1;
            matches!(matcher.event(&text), Some(PhaseEvent::Start { .. }))
        })
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let matcher = PhaseMatcher::new(ctx.options.phase_regex.as_ref());
        let mut scanner = TimeScanner::new(ctx.options.time_format.as_ref());
        let mut segment = PhaseTracker::default();
        let mut runs = 0usize;
        let mut emit = |segment: PhaseTracker,
                        report: Option<&TimeReport>,
                        sink: &mut RowSink<'_>| {
            let (run, phases) = segment.into_rows(format!("{}-r{runs}", ctx.file_id), runs, report);
            sink.rows.runs.push(run);
            sink.rows.phases.extend(phases);
            runs += 1;
        };
        let mut invalid_utf8_reported = false;
        for_each_line(input, sink, &mut |line, sink| {
            if line.invalid_utf8 && !invalid_utf8_reported {
                invalid_utf8_reported = true;
                sink.issue(Rejection::at(
                    line.number,
                    "invalid UTF-8 replaced by U+FFFD (first occurrence)",
                ));
            }
            segment.feed(&matcher, &line.text, line.number, None);
            for report in scanner.feed(line.number, &line.text) {
                emit(std::mem::take(&mut segment), Some(&report), sink);
                sink.checkpoint()?;
            }
            Ok(())
        })?;
        if let Some(report) = scanner.finish() {
            emit(std::mem::take(&mut segment), Some(&report), sink);
        } else if !segment.phases.is_empty() {
            emit(std::mem::take(&mut segment), None, sink);
        }
        if runs == 0 {
            return Err(Rejection::file("no phase markers and no time report found").into());
        }
        Ok(())
    }
}

/// Splits off the first ISO timestamp of a line; returns it and the rest of the line.
fn strip_timestamp(line: &str) -> (Option<Timestamp>, std::borrow::Cow<'_, str>) {
    match find_timestamp(line) {
        // At the start of the line (the usual place) the rest is borrowed, not copied.
        Some((ts, range)) if range.start == 0 => {
            (Some(ts), std::borrow::Cow::Borrowed(&line[range.end..]))
        }
        Some((ts, range)) => {
            let mut rest = String::with_capacity(line.len());
            rest.push_str(&line[..range.start]);
            rest.push_str(&line[range.end..]);
            (Some(ts), std::borrow::Cow::Owned(rest))
        }
        None => (None, std::borrow::Cow::Borrowed(line)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start_name(line: &str) -> Option<String> {
        match PhaseMatcher::new(None).event(&strip_timestamp(line).1) {
            Some(PhaseEvent::Start { name, .. }) => Some(name),
            _ => None,
        }
    }

    #[test]
    fn default_regex_reads_common_progress_lines() {
        assert_eq!(
            start_name("Phase 1: Discovery").as_deref(),
            Some("Discovery")
        );
        assert_eq!(
            start_name("[2026-11-22 10:00:01] === Phase 2/5 - Analysis ===").as_deref(),
            Some("Analysis")
        );
        assert_eq!(
            start_name("2026-11-22T10:00:01Z INFO Phase 3: Report generation...").as_deref(),
            Some("Report generation")
        );
        assert_eq!(
            start_name("::runlens phase load data").as_deref(),
            Some("load data")
        );
        assert_eq!(start_name("we are in phase two of the plan"), None);
        assert_eq!(start_name(r#"echo "::runlens phase x""#), None);
        assert_eq!(start_name("Phase 1 complete (3.2s)"), None);
    }

    #[test]
    fn end_lines_and_durations() {
        let m = PhaseMatcher::new(None);
        assert_eq!(
            m.event("Phase 2 done in 3.5s"),
            Some(PhaseEvent::End {
                number: Some(2),
                duration_ms: Some(3500.0)
            })
        );
        assert_eq!(parse_duration_ms("350ms"), Some(350.0));
        assert_eq!(parse_duration_ms("2 min"), Some(120_000.0));
        assert_eq!(parse_duration_ms("4.2"), Some(4200.0));
        assert_eq!(parse_duration_ms("4 parsecs"), None);
    }

    #[test]
    fn token_counts_in_free_text() {
        let mut seg = PhaseTracker::default();
        seg.apply(
            PhaseEvent::Start {
                name: "x".into(),
                number: None,
                ts: None,
                duration_ms: None,
            },
            None,
            1,
            false,
        );
        let text = "[]   scanned 412 files, Tokens: 3,912";
        let mut lowered = LoweredLine::default();
        lowered.fill(text);
        seg.add_tokens(text, &lowered);
        assert_eq!(seg.phases[0].row.total_tokens, Some(3912));
    }

    #[test]
    fn a_recorders_clock_wins_over_timestamps_in_the_lines() {
        let mut tracker = PhaseTracker::default();
        let m = PhaseMatcher::new(None);
        tracker.feed(
            &m,
            "2020-01-01T00:00:00Z ::runlens phase a",
            1,
            Some(Timestamp(5_000_000)),
        );
        tracker.feed(
            &m,
            "2020-01-01T00:00:09Z ::runlens phase b",
            2,
            Some(Timestamp(7_000_000)),
        );
        tracker.observe_ts(Timestamp(8_000_000));
        let phases = tracker.into_phases("r");
        assert_eq!(phases[0].start_ts, Some(Timestamp(5_000_000)));
        assert_eq!(phases[0].duration_ms, Some(2000.0));
        assert_eq!(phases[1].duration_ms, Some(1000.0));
    }

    #[test]
    fn user_regex_needs_a_name_group() {
        assert!(compile_phase_regex(r"^STEP (\d+)").is_err());
        assert!(compile_phase_regex(r"^STEP (?P<name>\w+)").is_ok());
        assert!(compile_phase_regex(r"(unclosed").is_err());
    }

    #[test]
    fn phases_end_at_next_start_and_tokens_sum() {
        let mut seg = PhaseTracker::default();
        let lines = [
            "2026-11-22T10:00:00Z Phase 1: Plan",
            "2026-11-22T10:00:01Z input_tokens=100 output_tokens=20",
            "2026-11-22T10:00:02Z input_tokens=50",
            "2026-11-22T10:00:03Z Phase 2: Act",
            "2026-11-22T10:00:04Z used 1,200 tokens",
            "2026-11-22T10:00:07Z finished",
        ];
        let m = PhaseMatcher::new(None);
        for (i, l) in lines.iter().enumerate() {
            seg.feed(&m, l, i as u64 + 1, None);
        }
        let (run, phases) = seg.into_rows("f-r0".into(), 0, None);
        assert_eq!(run.wall_ms, Some(7000.0));
        assert_eq!(phases[0].duration_ms, Some(3000.0));
        assert_eq!(phases[0].input_tokens, Some(150));
        assert_eq!(phases[0].output_tokens, Some(20));
        assert_eq!(phases[1].duration_ms, Some(4000.0));
        assert_eq!(phases[1].total_tokens, Some(1200));
    }
}
