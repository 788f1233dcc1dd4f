//! `/usr/bin/time` reports, alone in a file or embedded anywhere in a run log.
//!
//! Recognised shapes, each a [`TimeReport`]:
//! - GNU `time -v` (`Command being timed: ...` ... `Exit status: N`; sizes in KiB);
//! - GNU's default two-line format (`0.01user 0.00system 0:00.02elapsed 95%CPU ...`);
//! - GNU `time -f FMT` with the format given as `--time-format` (any GNU conversions),
//!   and `key=value` lines such as `real=%E user=%U max_rss_kb=%M` without it;
//! - POSIX `time -p` (`real 0.00` / `user 0.00` / `sys 0.00`), bash's `time` keyword
//!   (`real 0m0.003s`) and zsh's one-liner (`... 0.00s user 0.00s system 80% cpu 0.003 total`);
//! - BSD `time -l`: a `real/user/sys` header and `NUMBER  label` rusage lines.
//!
//! BSD's `maximum resident set size` is **bytes on macOS but KiB on FreeBSD**. Current
//! Apple `time.c` prints the rusage lines as `%20ld  label` (and adds macOS-only lines such
//! as `peak memory footprint`): either proves macOS. FreeBSD and older macOS releases both
//! print `%10ld  label`; there a value that is a whole number of 4 KiB pages is read as
//! macOS bytes (RSS in bytes always is), anything else as FreeBSD KiB. The same rule
//! covers logs whose spacing was mangled (pasted into Markdown).

//!
//! The parts: [`custom_format`] compiles a GNU `-f` format into a line pattern, the
//! [`scanner`] finds reports of every shape in a stream of lines, `bsd` holds the rules
//! that tell macOS from FreeBSD reports.

mod bsd;
pub mod custom_format;
pub mod scanner;

pub use custom_format::{CustomFormat, parse_clock};
use scanner::State;
pub use scanner::TimeScanner;

use std::io::BufRead;

use super::lines::for_each_line;
use super::{Format, ParseContext, ParseError, Rejection, RowSink, Sniff};
use crate::redact::redact_command;
use crate::schema::RunRow;

/// One `/usr/bin/time` report, in runlens units.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeReport {
    /// Which shape it was read from (`gnu-verbose`, `bsd-macos`, ...).
    pub format: &'static str,
    /// 1-based line where the report starts.
    pub first_line: u64,
    /// 1-based line where it ends.
    pub last_line: u64,
    /// The timed command, as GNU `-v` prints it (not redacted yet).
    pub command: Option<String>,
    /// Wall-clock time, milliseconds.
    pub wall_ms: Option<f64>,
    /// User CPU time, milliseconds.
    pub user_ms: Option<f64>,
    /// System CPU time, milliseconds.
    pub sys_ms: Option<f64>,
    /// CPU percentage as printed.
    pub cpu_percent: Option<f64>,
    /// Peak RSS of the largest process, bytes.
    pub max_rss_bytes: Option<i64>,
    /// Major page faults.
    pub major_page_faults: Option<i64>,
    /// Minor page faults.
    pub minor_page_faults: Option<i64>,
    /// Voluntary context switches.
    pub voluntary_ctx_switches: Option<i64>,
    /// Involuntary context switches.
    pub involuntary_ctx_switches: Option<i64>,
    /// File-system inputs.
    pub fs_inputs: Option<i64>,
    /// File-system outputs.
    pub fs_outputs: Option<i64>,
    /// Exit status.
    pub exit_code: Option<i32>,
    /// Terminating signal.
    pub signal: Option<i32>,
    /// Whether the report stopped before its last line.
    pub truncated: bool,
}

impl TimeReport {
    /// The report as a `runs` row (ids and provenance are the caller's).
    pub fn to_run_row(&self) -> RunRow {
        RunRow {
            source: "time".into(),
            time_format: Some(self.format.to_string()),
            command: self.command.as_deref().map(redact_command),
            wall_ms: self.wall_ms,
            user_ms: self.user_ms,
            sys_ms: self.sys_ms,
            cpu_percent: self.cpu_percent,
            max_rss_bytes: self.max_rss_bytes,
            major_page_faults: self.major_page_faults,
            minor_page_faults: self.minor_page_faults,
            voluntary_ctx_switches: self.voluntary_ctx_switches,
            involuntary_ctx_switches: self.involuntary_ctx_switches,
            fs_inputs: self.fs_inputs,
            fs_outputs: self.fs_outputs,
            exit_code: self.exit_code,
            signal: self.signal,
            truncated: self.truncated,
            source_line: Some(self.first_line as i64),
            ..RunRow::default()
        }
    }
}

/// The `time` format: a file of one or more time reports and nothing else of interest.
pub struct TimeOutput;

impl Format for TimeOutput {
    fn name(&self) -> &'static str {
        "time"
    }

    fn description(&self) -> &'static str {
        "/usr/bin/time output: GNU -v, default and -f formats, POSIX -p, BSD -l (macOS, FreeBSD)"
    }

    fn detect(&self, sniff: &Sniff<'_>) -> bool {
        let mut scanner = TimeScanner::new(sniff.options.time_format.as_ref());
        for (i, line) in sniff.head.lines().enumerate() {
            if !scanner.feed(i as u64 + 1, line).is_empty() {
                return true;
            }
            if !matches!(scanner.state, State::Idle) {
                return true;
            }
        }
        false
    }

    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext<'_>,
        sink: &mut RowSink<'_>,
    ) -> Result<(), ParseError> {
        let mut scanner = TimeScanner::new(ctx.options.time_format.as_ref());
        let mut reports = Vec::new();
        for_each_line(input, sink, &mut |line, _| {
            reports.extend(scanner.feed(line.number, &line.text));
            Ok(())
        })?;
        reports.extend(scanner.finish());
        if reports.is_empty() {
            return Err(Rejection::file("no time report found").into());
        }
        for (index, report) in reports.iter().enumerate() {
            if report.truncated {
                sink.issue(Rejection::at(
                    report.last_line,
                    format!(
                        "{} time report cut off after this line; figures after it are missing",
                        report.format
                    ),
                ));
            }
            let mut row = report.to_run_row();
            row.run_id = format!("{}-r{index}", ctx.file_id);
            row.run_index = index as i32;
            sink.rows.runs.push(row);
            sink.checkpoint()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
